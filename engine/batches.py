"""Translating input batches to NDJSON text, in this process or in worker processes (``--jobs``),
with the results handed back in input order and only a few batches in flight, so memory stays
flat whatever the input size."""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import jsonio
from .errors import Rejected
from .reader import BadInput, Lines, Span, Text, parse_line, positions


@dataclass
class BatchResult:
    """What one batch of messages gave: the outputs' NDJSON text (UTF-8: ``data``, or in the file ``spooled``
    when a worker wrote it there), the rejection records, and counts, in all and message by message
    (so that a run stopped inside a batch can say what it wrote). ``write_result`` writes it."""

    data: bytes = b""
    rejects: list[dict] = field(default_factory=list)  # rejection records, and warning records ("warning")
    read: int = 0
    translated: int = 0
    written: int = 0
    spooled: str | None = None
    first: int = 1  # the number of the batch's first message
    ends: list[int] = field(default_factory=list)  # per message: where its lines end in ``data``
    outputs: list[int] = field(default_factory=list)  # per message: outputs up to its own, included


def write_result(out: Any, result: BatchResult) -> None:
    """Write a batch's outputs to ``out`` (a binary stream): a spooled file is copied by the
    kernel where it can be, then removed."""
    if result.spooled is None:
        out.write(result.data)
        return
    try:
        with open(result.spooled, "rb") as spooled:
            if not _send(out, spooled):
                out.write(spooled.read())  # one batch: a few MB
    finally:
        os.unlink(result.spooled)


def _send(out: Any, spooled: Any) -> bool:
    """Copy a whole file to ``out`` with sendfile; False (nothing written) where it cannot."""
    if not hasattr(os, "sendfile"):  # not on every system
        return False
    try:
        target = out.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False
    out.flush()
    size, offset = os.fstat(spooled.fileno()).st_size, 0
    while offset < size:
        try:
            sent = os.sendfile(target, spooled.fileno(), offset, size - offset)
        except OSError:
            if offset == 0:
                return False  # this kind of output takes no sendfile
            raise
        if sent == 0:
            raise OSError(f"could not write the outputs of {spooled.name}")
        offset += sent
    return True


def default_jobs() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on every system
        return max(1, os.cpu_count() or 1)


_HEADS: dict[str, bytes] = {}  # target name -> the start of its output lines


def output_lines(outputs: list[dict], index: int) -> bytes:
    """The NDJSON text (UTF-8) of one message's outputs, all or nothing: an output that is not
    valid JSON text (a lone surrogate from undecodable bytes, NaN) rejects the message."""
    lines = []
    tail = b',"input":%d}' % index
    for number, output in enumerate(outputs, 1):
        output["input"] = index
        try:
            # {"target": ..., "body": ..., "input": N}, its body's text made once where its size
            # was checked (jsonio.measured), else the whole output written
            text = None
            target = output.get("target")
            if len(output) == 3 and type(target) is str and next(iter(output)) == "target":
                head = _HEADS.get(target)
                if head is None:
                    if len(_HEADS) > 1024:
                        _HEADS.clear()
                    head = _HEADS[target] = b'{"target":' + jsonio.dumps_bytes(target) + b',"body":'
                text = jsonio.line_with(head, output["body"], tail)
            if text is None:
                text = jsonio.dumps_bytes(output)
        except UnicodeEncodeError:
            raise Rejected(f"output {number} ({output['target']}) would hold text that is not valid Unicode "
                           "(the input had bytes that are not UTF-8, or a lone surrogate escape)", "$", index,
                           output=output["target"]) from None
        except ValueError as exc:
            raise Rejected(f"output {number} ({output['target']}) is not valid JSON: {exc}", "$", index,
                           output=output["target"]) from None
        except RecursionError:
            raise Rejected(f"output {number} ({output['target']}) is nested too deeply to write", "$", index,
                           output=output["target"]) from None
        lines.append(text)
    jsonio.forget()
    return b"".join(line + b"\n" for line in lines)


def batch_size(batch: list | Lines | Text | Span) -> int:
    """How many messages a batch holds."""
    if isinstance(batch, (Text, Span)):
        return batch.count
    return len(batch.entries) if isinstance(batch, Lines) else len(batch)


def translate_batch(translator: Any, batch: list | Lines | Text | Span, first_index: int) -> BatchResult:
    """Translate the messages of one batch, numbered from ``first_index``."""
    if isinstance(batch, (Text, Span)):
        messages: Iterable = batch.messages()
    elif isinstance(batch, Lines):
        label = batch.label
        messages = (entry if isinstance(entry, BadInput) else parse_line(entry, label, line_no)
                              for line_no, entry in batch.entries)
    else:
        messages = batch
    result = BatchResult(first=first_index)
    texts = []
    size = 0
    where = None  # where each message was read: looked up at the first reject
    translate = getattr(translator, "translate_parsed", None) or translator.translate  # parsed: only JSON types
    for index, message in enumerate(messages, first_index):
        result.read += 1
        warnings: list = []  # optional fields the message is translated without: records beside rejects
        try:
            if isinstance(message, BadInput):
                raise Rejected(f"{message.reason} ({message.source})", "$", index)
            outputs = translate(message, index, warnings=warnings)
            text = output_lines(outputs, index)
        except Rejected as exc:
            if where is None:
                where = list(positions(batch))
            if where[index - first_index] is not None:
                exc.file, exc.line = where[index - first_index]
            result.rejects.append(exc.as_record())
        else:
            if warnings:
                if where is None:
                    where = list(positions(batch))
                for warning in warnings:
                    if where[index - first_index] is not None:
                        warning.file, warning.line = where[index - first_index]
                    result.rejects.append(warning.as_record())
            texts.append(text)
            size += len(text)
            result.translated += 1
            result.written += len(outputs)
        result.ends.append(size)
        result.outputs.append(result.written)
    result.data = b"".join(texts)
    return result


SPOOL_VARIABLE = "SEG2AMP_SPOOL"


def spool_place() -> str | None:
    """The folder where a run with workers makes its spool folder: the one the environment
    variable ``SEG2AMP_SPOOL`` names (made if missing), else ``/dev/shm`` (memory) where it can be
    written, else None: the system's temporary folder (``TMPDIR``)."""
    named = os.environ.get(SPOOL_VARIABLE)
    if named:
        os.makedirs(named, exist_ok=True)
        return named
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def translate_batches(batches: Iterable[list | Lines | Text | Span], translator: Any, jobs: int = 1,
                      make: Callable[[], Any] | None = None) -> Iterator[BatchResult]:
    """The results of ``batches`` in order, translated by ``translator`` (anything with
    ``translate(message, index, warnings=list)``). With ``jobs`` > 1, from the second batch on,
    batches go to that many worker processes. Forked workers inherit ``translator``. Where processes can only be
    spawned, each worker builds its own by calling ``make``, a picklable callable that gives the
    same translator (a ``functools.partial`` of the loading function, say)."""
    index = 1
    pool = None
    restore: dict = {}
    spool = None  # where workers leave their outputs: handed over as files, not through pipes
    lock = None  # held while the spool is in use (see _make_spool)
    pending: deque = deque()
    try:
        for batch in batches:
            size = batch_size(batch)
            if jobs <= 1 or index == 1:
                while pending:
                    yield pending.popleft().get()
                yield translate_batch(translator, batch, index)
            else:
                if pool is None:
                    spool, lock = _make_spool()
                    pool = _start(jobs, translator, make, spool, lock)
                    restore = _exit_cleanly_on_signals()
                pending.append(pool.apply_async(_work, (batch, index)))
                if len(pending) >= 2 * jobs:
                    yield pending.popleft().get()
            index += size
        while pending:
            yield pending.popleft().get()
        if pool is not None:
            pool.close()
            pool.join()
            pool = None
    finally:
        if pool is not None:
            _stop(pool, pending)
        if spool is not None:
            _remove(spool)
        if lock is not None:
            os.close(lock)
        for signum, handler in restore.items():
            signal.signal(signum, handler)


_STOP_WAIT = 30.0  # seconds a stopped run waits for the batches its workers are translating


def _stop(pool: Any, pending: deque) -> None:
    """Stop the workers of a run that ends early (a failed write, a signal, an error): first let
    them finish the batches they hold (each is bounded: a few seconds at most), so that none is
    stopped while it hands its result over. A worker stopped then would leave the results
    queue's lock held and a result cut short in its pipe, and the pool's own stop would wait for
    both forever (seen with --jobs 2 when a write failed under load). Past ``_STOP_WAIT`` (a
    worker that died and whose batch will never come), the workers are stopped anyway."""
    deadline = time.monotonic() + _STOP_WAIT
    for result in pending:
        result.wait(max(0.0, deadline - time.monotonic()))
    pool.terminate()


def _make_spool() -> tuple[str, int | None]:
    """A new spool folder ``seg2amp-<pid>-*`` and the descriptor of the lock its run holds on its
    file ``.owner`` while it lives (None where locks cannot be taken). Spool folders left by runs
    that were killed (their lock free) are removed first."""
    import tempfile

    place = spool_place()
    _remove_abandoned(place or tempfile.gettempdir())
    spool = tempfile.mkdtemp(prefix=f"seg2amp-{os.getpid()}-", dir=place)
    try:
        import fcntl

        fd = os.open(os.path.join(spool, ".owner-new"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except (ImportError, OSError):
        return spool, None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(os.path.join(spool, ".owner-new"), os.path.join(spool, ".owner"))  # named once held
    except OSError:
        os.close(fd)
        return spool, None
    return spool, fd


def _remove(folder: str) -> None:
    """Remove a spool folder and what it holds, as far as it can be."""
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


_UNLOCKED_KEPT = 3600  # seconds a spool folder without a lock or a process named is left alone


def _remove_abandoned(place: str) -> None:
    """Remove the spool folders in ``place`` whose runs were killed (SIGKILL) before they could
    clean up: those whose ``.owner`` lock no process holds; without a lock (killed before taking
    it), those whose process (``seg2amp-<pid>-*``) is gone; and folders of a version without locks
    or pids (``seg2amp-*``) unchanged for an hour."""
    try:
        import fcntl

        entries = [entry.path for entry in os.scandir(place) if entry.name.startswith("seg2amp-")]
    except (ImportError, OSError):
        return
    for path in entries:
        try:
            fd = os.open(os.path.join(path, ".owner"), os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            if _unlocked_and_abandoned(path):
                _remove(path)
            continue
        except OSError:
            continue  # not a spool folder, someone else's, or already gone
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # its run is alive
        else:
            _remove(path)
        finally:
            os.close(fd)


def _unlocked_and_abandoned(path: str) -> bool:
    name = os.path.basename(path)
    pid = re.match(r"seg2amp-(\d+)-", name)
    if pid is not None:
        try:
            os.kill(int(pid.group(1)), 0)
        except ProcessLookupError:
            return True  # its process is gone
        except (OSError, OverflowError, ValueError):
            return False
        return False  # its process lives: it may be making the folder now
    try:
        return time.time() - os.stat(path).st_mtime > _UNLOCKED_KEPT
    except OSError:
        return False


def _exit_cleanly_on_signals() -> dict:
    """While workers run, SIGTERM and SIGHUP end this process through its cleanup (workers
    stopped, spool removed) instead of at once, unless the caller handles them already. The
    handlers to restore after."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGHUP"):
            signum = getattr(signal, name, None)
            if signum is not None and signal.getsignal(signum) == signal.SIG_DFL:
                previous[signum] = signal.signal(signum, _exit_on_signal)
    return previous


def _exit_on_signal(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


_translator: Any = None  # a worker process's translator
_spool: str | None = None  # and the folder it leaves its outputs in


def _start(jobs: int, translator: Any, make: Callable[[], Any] | None, spool: str, lock: int | None = None):
    import multiprocessing  # only where workers run

    global _translator, _spool
    methods = multiprocessing.get_all_start_methods()
    watch = os.getpid() if threading.current_thread() is threading.main_thread() else None
    if "fork" in methods:  # workers inherit the compiled translator
        _translator, _spool = translator, spool
        return multiprocessing.get_context("fork").Pool(jobs, initializer=_worker_signals, initargs=(watch, lock))
    if make is None:
        raise ValueError(f"{jobs} worker processes cannot be forked on this system, and no translator factory "
                         "(make) was given to build a translator in each")
    return multiprocessing.get_context("spawn").Pool(jobs, initializer=_make_in_worker,
                                                      initargs=(make, spool, watch))


def _worker_signals(parent: int | None, lock: int | None = None) -> None:
    """Ctrl-C is for the process that feeds the workers: it stops them and cleans up. SIGTERM (how
    the pool stops its workers) and SIGHUP end a worker at once, whatever handlers it inherited.
    Where the system allows it, a worker dies with the process that started it (``parent``, when
    that process's main thread started it), rather than fail to hand its results to it and print
    why. A forked worker lets go of its copy of the spool lock, which only that process holds."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None:
            signal.signal(signum, signal.SIG_DFL)
    if lock is not None:
        with contextlib.suppress(OSError):
            os.close(lock)
    if parent is None:
        return
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (ImportError, OSError, AttributeError):  # not on every system
        return
    prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before that
        os._exit(0)


def _make_in_worker(make: Callable[[], Any], spool: str, parent: int | None = None) -> None:
    global _translator, _spool
    _worker_signals(parent)
    _translator, _spool = make(), spool


def _work(batch: list | Lines | Text | Span, first_index: int) -> BatchResult:
    result = translate_batch(_translator, batch, first_index)
    if _spool is not None and result.data:
        path = os.path.join(_spool, f"{first_index}.ndjson")
        try:
            with open(path, "wb") as spooled:
                spooled.write(result.data)
        except OSError:  # a full or missing spool: the outputs go back through the pipe instead
            with contextlib.suppress(OSError):
                os.unlink(path)
            return result
        result.data, result.spooled = b"", path
    return result
