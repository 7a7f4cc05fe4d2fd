"""Throughput benchmark: messages/s and µs per message for each stage of `seg2amp translate`, the
json.loads + json.dumps floor over the same file, the hand-written yardstick (bench/handwritten.py,
cloud mode with the default settings here), the end-to-end command with one process and with
--jobs, and peak memory.

    python bench/run.py                      # 20,000 generated messages, platform server
    python bench/run.py --messages 100000 --platform web
    python bench/run.py --corpus my.ndjson --settings settings.json

Figures, not a test: run it on the machine you care about. The corpus is bench/corpus.py's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import corpus  # noqa: E402

import engine  # noqa: E402
from engine import jsonio  # noqa: E402
from engine.batches import default_jobs, output_lines  # noqa: E402
from engine.plan import compile_plan  # noqa: E402

DEFAULT_SETTINGS = {"apiKey": "0123456789abcdef0123456789abcdef", "trackNamedPages": True,
                    "trackAllPages": True, "traitsToIncrement": ["logins"], "minIdLength": 5}


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>12,.0f} msg/s {seconds / count * 1e6:>9.1f} µs/msg"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000, help="size of the generated corpus")
    parser.add_argument("--corpus", help="an NDJSON file to use instead of a generated corpus")
    parser.add_argument("--platform", default="server")
    parser.add_argument("--settings", help="settings JSON (default: a few page and identify settings on)")
    parser.add_argument("--skip-end-to-end", action="store_true", help="skip timing the seg2amp command")
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="worker processes for the --jobs run")
    args = parser.parse_args()

    settings = json.loads(Path(args.settings).read_text()) if args.settings else DEFAULT_SETTINGS
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(args.corpus) if args.corpus else Path(scratch) / "corpus.ndjson"
        if not args.corpus:
            with path.open("w") as out:
                for message in corpus.messages(args.messages):
                    out.write(json.dumps(message, separators=(",", ":")) + "\n")
        count = sum(1 for _ in path.open())
        end_to_end: list[str] = []
        # First, before this process holds the corpus: a child forked later would report this
        # process's memory as its own peak.
        if not args.skip_end_to_end:
            settings_path = Path(scratch) / "settings.json"
            settings_path.write_text(json.dumps(settings))
            single = None
            for jobs in (1, args.jobs) if args.jobs > 1 else (1,):
                timed = _end_to_end(args.platform, settings_path, path, count, jobs)
                if timed is None:
                    return 1
                figures, elapsed = timed
                single = single or elapsed
                if jobs > 1:
                    figures += f"   ({single / elapsed:.2f}x one process)"
                end_to_end.append(figures)
        lines = path.read_text().splitlines()
        count = len(lines)
        print(f"corpus: {count:,} messages, {path.stat().st_size / count:.0f} bytes each; "
              f"platform {args.platform}; python {sys.version.split()[0]}; {os.cpu_count()} cpus")

        start = time.perf_counter()
        for line in lines:
            json.dumps(json.loads(line))
        floor = time.perf_counter() - start

        translator = engine.load(args.platform, settings)
        ruleset = translator.ruleset
        # Message by message, as the command runs, each stage timed on its own. The output checks
        # are written into the generated plan: their cost is the checked plan's time less that of
        # the same plan compiled without them, run on the same message.
        unchecked = compile_plan(ruleset, checked=False)
        if ruleset.plan is None or unchecked is None:
            print("the rules did not compile to a plan: every message goes through the walk", file=sys.stderr)
            return 1
        clock = time.perf_counter
        spent = [0.0] * 5
        written = timed = 0
        for index, line in enumerate(lines, 1):
            try:
                t0 = clock()
                message = jsonio.loads(line)
                t1 = clock()
                if not ruleset.input_check(message):  # the input schema's yes/no, as translate asks it
                    continue  # refused: the located stages say why (not timed here)
                t2 = clock()
                unchecked(message)
                t3 = clock()
                built = ruleset.plan(message)
                t4 = clock()
                if built is False:
                    continue  # refused: the located stages say why (not timed here)
                outputs = [{"target": target.name, "body": body} for _rule, target, body in built]
                output_lines(outputs, index)
                t5 = clock()
            except engine.Rejected:
                continue
            except Exception:  # noqa: BLE001 - a message the plan leaves to the walk (not timed here)
                continue
            spent[0] += t1 - t0
            spent[1] += t2 - t1
            spent[2] += t3 - t2
            spent[3] += (t4 - t3) - (t3 - t2)
            spent[4] += t5 - t4
            written += len(outputs)
            timed += 1
        start = clock()
        for index, line in enumerate(lines, 1):
            try:
                output_lines(translator.translate(jsonio.loads(line), index), index)
            except engine.Rejected:
                pass
        together = clock() - start

        print(f"{'json.loads + json.dumps floor':<32}{_rate(count, floor)}")
        for label, seconds in zip(["parse", "input validation", "rule evaluation", "output validation",
                                   "serialisation"], spent, strict=True):
            # output validation: written into the plan (the checked plan less the unchecked one)
            print(f"{'stage: ' + label:<32}{_rate(timed, seconds)}")
        if timed < count:
            print(f"(stages: the {timed:,} messages the plan translates; the other {count - timed:,} are refused "
                  "or left to the walk)")
        print(f"{'all stages, in process':<32}{_rate(count, together)}   ({written:,} outputs)")
        print(_json_libraries(translator, lines))
        yardstick = _yardstick(args, settings, lines)
        if yardstick:
            print(yardstick)
        for line in end_to_end:
            print(line)

    return 0


def _end_to_end(platform: str, settings_path: Path, path: Path, count: int, jobs: int) -> tuple[str, float] | None:
    """Time the seg2amp command on the corpus file, in a child process (its peak RSS is its own)."""
    command = [sys.executable, "-m", "engine.cli", "translate", "--platform", platform, "--settings",
               str(settings_path), str(path), "--output", os.devnull, "--rejects", os.devnull, "--jobs", str(jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if result.returncode not in (0, 1):
        print(result.stderr, file=sys.stderr)
        return None
    # ru_maxrss of children is the largest of any child so far: a later, smaller run shows the earlier peak
    memory = f"peak RSS {peak / 1024:.0f} MB" if peak > before or jobs == 1 else "peak RSS as above"
    label = f"end to end, --jobs {jobs}"
    return f"{label:<32}{_rate(count, elapsed)}   {memory}", elapsed


def _json_libraries(translator: engine.Translator, lines: list[str]) -> str:
    """What orjson (engine/jsonio.py) gains over the standard library, parse and write, on the
    same messages and outputs: the dependency's reason to be."""
    from engine.reader import _loads as strict  # the reader's strict standard-library decoder

    clock = time.perf_counter
    start = clock()
    for line in lines:
        strict(line)
    stdlib_parse = clock() - start
    start = clock()
    for line in lines:
        jsonio.loads(line, strict)
    fast_parse = clock() - start
    outputs = []
    for index, line in enumerate(lines[:20_000], 1):  # the outputs of the first messages, held to write
        message = jsonio.loads(line)
        try:
            outputs.extend(dict(output, input=index) for output in translator.translate(message, index))
        except engine.Rejected:
            pass
    start = clock()
    for output in outputs:
        json.dumps(output, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    stdlib_write = clock() - start
    start = clock()
    for output in outputs:
        jsonio.dumps_bytes(output)
    fast_write = clock() - start
    per_message, per_output = 1e6 / len(lines), 1e6 / max(len(outputs), 1)
    return (f"{'json: stdlib -> orjson':<32}parse {stdlib_parse * per_message:.1f} -> "
            f"{fast_parse * per_message:.1f} µs/msg, write {stdlib_write * per_output:.1f} -> "
            f"{fast_write * per_output:.1f} µs/output")


def _yardstick(args: argparse.Namespace, settings: dict, lines: list[str]) -> str:
    """The hand-written translator over the same messages, parse and write included, when it
    applies (cloud mode, the default settings)."""
    if args.platform != "server" or args.settings:
        return ""
    import handwritten

    start = time.perf_counter()
    for index, line in enumerate(lines, 1):
        try:
            outputs = handwritten.translate(jsonio.loads(line))
        except Exception:  # noqa: BLE001 - a rejected message, as the engine would reject it
            continue
        for output in outputs:
            output["input"] = index
            jsonio.dumps_bytes(output)
    elapsed = time.perf_counter() - start
    return f"{'hand-written yardstick':<32}{_rate(len(lines), elapsed)}   (parse + translate + write)"


if __name__ == "__main__":
    sys.exit(main())
