"""``seg2amp send``: translate's output lines delivered to the APIs of the rule set's delivery
description (``delivery``), by ``sender.Sender`` over an HTTP client (httpx), with a checkpoint to
resume from (``checkpoint``) and a failed file. Settings, the region and the endpoint are read
and checked before anything is sent."""

from __future__ import annotations

import argparse
import asyncio
import gc
import gzip
import itertools
import os
import signal
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .checkpoint import Checkpoint, CheckpointError
from .errors import RuleError, SettingsError

EXIT_OK, EXIT_FAILED, EXIT_STOPPED = 0, 1, 2

SEND_HELP = """\
Send translate's output lines (NDJSON of {"target", "body"}) to the APIs they are for, as the rule
set's delivery description (rules/<set>/delivery.yaml) says: each target to its API, in requests
within the API's limits, the keys from the settings put where each API wants them.

  seg2amp translate -p server -s settings.json archive.ndjson.gz | seg2amp send -s settings.json \\
      --checkpoint replay.ckpt --failed failed.ndjson

What becomes of each line: delivered; or in the failed file (--failed) with the reason (a refusal
the API names, a daily quota, an answer that never came after every retry); or, when the run
stops, not sent and not in the checkpoint. The same command with the same --checkpoint resumes
where it stopped (killed, Ctrl-C, a wrong key fixed): what the API acknowledged is not sent
again, and an item sent twice (its answer was lost) is dropped by the API by its dedup field
(the description's `dedup`; an item without it is not sent). A failed file can be sent again
once the cause is fixed: seg2amp send ... failed.ndjson.

Exit status: 0 every line delivered (or finished before); 1 some lines failed; 2 the run stopped
(a refused key, a target no API receives, a usage error); 128+N stopped by signal N. Ctrl-C
once stops sending and waits for the answers of the requests in flight; twice, it stops at once
(those lines are sent again on resuming)."""


def add_send_parser(commands: Any, folders: Any) -> None:
    send = commands.add_parser(
        "send", help="deliver translate's outputs (cloud mode) to the APIs: batched, throttled, resumable",
        description=SEND_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="The README's 'Sending' section replays the bundled samples to the local fake server the tests use.")
    send.add_argument("inputs", nargs="*", metavar="INPUT",
                      help="translate output files (NDJSON; .gz ok), or a failed file; '-' or none: stdin")
    send.add_argument("--settings", "-s", metavar="FILE", required=True,
                      help="destination settings as exported (the API key, and the secret key for deletions)")
    send.add_argument("--region", metavar="NAME",
                      help="the region whose hosts requests go to (the bundled rules: us, eu); default: the "
                           "one the settings name, else the description's default")
    send.add_argument("--endpoint", metavar="URL",
                      help="base URL in place of the region's hosts (a proxy, or a local test server)")
    send.add_argument("--batch-api", action="store_true",
                      help="each target's alternate API where it has one (the bundled rules: events to the "
                           "batch endpoint, for backfills; also turned on by the setting the description names)")
    send.add_argument("--checkpoint", metavar="FILE",
                      help="record what has finished here, and resume from it when it exists")
    send.add_argument("--failed", metavar="FILE",
                      help="write the lines that failed here, with the reason (default: standard error)")
    send.add_argument("--concurrency", "-c", type=_positive_int, default=4, metavar="N",
                      help="requests in flight at once, each for other identities (default: 4)")
    send.add_argument("--throttle-wait", type=_seconds, metavar="S",
                      help="seconds a throttled identity waits (default: the delivery description's, 30)")
    send.add_argument("--retry-wait", type=_seconds, metavar="S",
                      help="first wait before a retry, doubled each time (default: the description's, 0.5)")
    send.add_argument("--give-up-after", type=_seconds, metavar="S",
                      help="seconds of retries after which a request's lines fail (default: 600)")
    send.add_argument("--timeout", type=_seconds, default=30.0, metavar="S",
                      help="seconds to wait for an answer before retrying (default: 30)")
    folders(send)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def run_send(args: argparse.Namespace) -> int:
    """The ``send`` command; raises ``RuleError``, ``SettingsError`` or ``OSError`` for what stops
    it before anything is sent."""
    import httpx

    from .delivery import load_delivery
    from .resources import bundled_dir, default_rules_dir, find_rule_set
    from .sender import Sender, SendStop, failed_record, show_progress
    from .settings import load_catalog, read_settings_file
    from .validation import SchemaStore

    folder = find_rule_set(Path(args.rules)) if args.rules else default_rules_dir()
    schemas = SchemaStore(Path(args.schemas) if args.schemas else bundled_dir("schemas"))
    delivery = load_delivery(folder, schemas)
    given = read_settings_file(args.settings)
    catalog_path = folder / "settings.yaml"
    settings = load_catalog(catalog_path).resolve(given)[0] if catalog_path.is_file() else given
    region = delivery.region(args.region, settings)
    routes = delivery.routes(settings, region, delivery.alternate(args.batch_api, settings), args.endpoint)
    key, secret = delivery.credentials(settings)
    secrets = tuple(s for s in (key, secret) if s)
    for path in args.inputs:
        if path != "-" and not os.access(path, os.R_OK):
            raise OSError(f"cannot read input {path!r}")

    failed_out: IO[bytes] = open(args.failed, "ab") if args.failed else sys.stderr.buffer  # noqa: SIM115
    checkpoint = Checkpoint(args.checkpoint) if args.checkpoint else None
    try:
        chunks = _numbered_chunks(args.inputs or ["-"])
        first = next((chunk for chunk in chunks if chunk), None)  # the checkpoint knows the input by it
        if checkpoint is not None:
            checkpoint.begin(first[0][1] if first else b"")

        def failed(item: Any, reason: str) -> None:
            failed_out.write(failed_record(item, reason))
            failed_out.flush()

        finished = checkpoint.record if checkpoint is not None else (lambda numbers: None)
        progress = show_progress() if sys.stderr.isatty() else None
        timeout = httpx.Timeout(args.timeout)
        limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
        skipped = [0]

        def unfinished() -> Iterator[list[tuple[int, bytes]]]:
            every = itertools.chain([first] if first else [], chunks)
            if checkpoint is None or not checkpoint.resumed:
                yield from every
                return
            finished = checkpoint.finished
            for chunk in every:
                left = [entry for entry in chunk if not finished(entry[0])]
                skipped[0] += len(chunk) - len(left)
                yield left

        async def main() -> tuple[Sender, int, int | None]:
            async with httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=False) as client:
                sender = Sender(delivery, routes, client, failed=failed, finished=finished, secrets=secrets,
                                basic=httpx.BasicAuth(key, secret) if key and secret else None,
                                concurrency=args.concurrency, throttle_wait=args.throttle_wait,
                                retry_first_wait=args.retry_wait, give_up_after=args.give_up_after,
                                progress=progress, warn=lambda text: print(f"\nseg2amp send: warning: {text}"
                                                                           if progress else
                                                                           f"seg2amp send: warning: {text}",
                                                                           file=sys.stderr, flush=True))
                loop = asyncio.get_running_loop()
                caught: list[int] = []

                def on_signal(signum: int) -> None:  # the first: finish what is in flight; the second: now
                    caught.append(signum)
                    if len(caught) > 1:
                        sender.abandon()
                    sender.stop(f"stopped by signal {signum}")

                for signum in (signal.SIGINT, signal.SIGTERM):
                    try:
                        loop.add_signal_handler(signum, on_signal, signum)
                    except (NotImplementedError, RuntimeError, ValueError):
                        pass
                unsent = await sender.run(unfinished())
                return sender, unsent, caught[0] if caught else None

        # The items waiting for their requests (up to 50,000) are young objects the collector
        # would walk at every 700 allocations: measured, creating an item and its identity costs
        # 4.4-4.9 µs with the default thresholds, 1.6 with these (a cycle of asyncio's is still
        # collected, later).
        thresholds = gc.get_threshold()
        gc.set_threshold(50_000, 20, 20)
        # The reading thread gets the interpreter within 1 ms instead of 5 while the loop works,
        # so the pipe is drained before its writer has to wait (see _widen_pipe).
        switch = sys.getswitchinterval()
        sys.setswitchinterval(0.001)
        try:
            sender, unsent, signum = asyncio.run(main())
        except SendStop as stop:  # pragma: no cover - the sender turns its stops into stop_reason
            raise RuleError(str(stop)) from None
        finally:
            gc.set_threshold(*thresholds)
            sys.setswitchinterval(switch)
    finally:
        if checkpoint is not None:
            checkpoint.close()
        if args.failed:
            failed_out.close()
    counts = sender.counts
    counts.skipped = skipped[0]
    counts.read += skipped[0]
    if progress is not None:
        sys.stderr.write("\n")
    if sender.stop_reason and signum is None:
        print(f"seg2amp: error: {sender.stop_reason}", file=sys.stderr)
    print(counts.summary(unsent), file=sys.stderr)
    if signum is not None:
        return 128 + signum
    if sender.stop_reason:
        return EXIT_STOPPED
    return EXIT_FAILED if counts.failed else EXIT_OK


def _numbered_chunks(inputs: list[str]) -> Iterator[list[tuple[int, bytes]]]:
    """Every line that is not blank, numbered from 1 over all the inputs, a list of them for each
    block read (up to 1 MB: what a pipe holds now, not waiting for more), so that reading takes
    little of the interpreter from the requests."""
    number = 0
    for name in inputs:
        if name == "-":
            stream: IO[bytes] = sys.stdin.buffer
            close = False
            _widen_pipe(stream)
        else:
            stream = gzip.open(name, "rb") if name.endswith(".gz") else open(name, "rb")  # noqa: SIM115
            close = True
        read = getattr(stream, "read1", stream.read)
        rest = b""
        try:
            while True:
                block = read(_BLOCK)
                if not block:
                    break
                lines = (rest + block).split(b"\n") if rest else block.split(b"\n")
                rest = lines.pop()
                kept = [line for line in lines if line.strip()]
                yield list(zip(range(number + 1, number + 1 + len(kept)), kept, strict=True))
                number += len(kept)
            if rest.strip():
                number += 1
                yield [(number, rest)]
        finally:
            if close:
                stream.close()


_BLOCK = 1 << 18
_PIPE_BYTES = 1 << 20


def _widen_pipe(stream: IO[bytes]) -> None:
    """Stdin's pipe holds 1 MB instead of 64 KB where the system allows it (Linux), so that the
    writer (translate) runs ahead while send works, instead of waiting each time send's reading
    thread waits for the interpreter. Measured together with the switch interval ``run_send``
    sets, translate --jobs 1 | send on 100,000 messages: 12.1-13.0 s with 64 KB and 5 ms,
    8.1-8.8 s with 1 MB and 1 ms (translate alone 6.3-8.1 s)."""
    try:
        import fcntl

        if stat.S_ISFIFO(os.fstat(stream.fileno()).st_mode):
            fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_BYTES)
    except (OSError, ValueError, ImportError, AttributeError):
        pass  # not a pipe, or a system that keeps its size: slower, not wrong


__all__ = ["CheckpointError", "SettingsError", "add_send_parser", "run_send"]
