"""Throughput benchmark: the throughput targets as ratios, measured in one run, and where the time
of one message goes.

    python bench/run.py                              # 100,000 generated messages, platform server
    python bench/run.py --messages 30000 --rounds 5
    python bench/run.py --million                    # also --jobs 2 against one process on 1,000,000
    python bench/run.py --corpus my.ndjson --settings settings.json

It prints:
- whole processes, run in interleaved rounds (each round runs every command once, in an order
  that alternates from round to round; medians of wall time, and ratios taken within a round so
  that a machine slower in one round slows both sides): the ``json.loads`` + ``json.dumps`` loop
  over the file (``bench/json_loop.py``), ``seg2amp translate`` with one process, with the default
  ``--jobs`` on 30,000 messages, on an empty input against ``python -c pass``, and in device mode
  (web); peak memory of each;
- the targets (issue 15) with the ratio measured and whether it is met;
- the stages in process, timed as the command's loop runs them: passes over the same messages,
  each adding one stage to the one before (parse; + input check; + rules; the plan with its output
  checks in place of the plan without; + writing; the command's own loop, reading included), CPU
  time, the fastest of ``--repeats`` per chunk of 2,000 messages. A stage's cost is its pass less
  the pass before: what it adds to the loop, not what it costs on a message alone and warm;
- the hand-written yardstick (``bench/handwritten.py``, cloud mode, its own settings).

Figures, not a test: run it on the machine you care about. The corpus is ``bench/corpus.py``'s.
Where the generated plan is kept between runs (``SEG2AMP_CACHE``), the first round fills it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
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
from engine.batches import default_jobs, output_lines, translate_batch  # noqa: E402
from engine.plan import compile_plan  # noqa: E402
from engine.reader import _parse_line_bytes, read_batches  # noqa: E402

DEFAULT_SETTINGS = {"apiKey": "0123456789abcdef0123456789abcdef", "trackNamedPages": True,
                    "trackAllPages": True, "traitsToIncrement": ["logins"], "minIdLength": 5}
_CHUNK = 2_000
_SMALL = 30_000  # target 3's corpus
# Commands run as an installed package runs: with its modules' bytecode kept (an environment that
# turns that off would have every start compile the engine's source again, about 0.1 s).
_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000, help="size of the generated corpus")
    parser.add_argument("--corpus", help="an NDJSON file to use instead of a generated corpus")
    parser.add_argument("--platform", default="server", help="the platform timed (device mode: web besides)")
    parser.add_argument("--settings", help="settings JSON (default: a few page and identify settings on)")
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="worker processes for the --jobs run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the whole-process runs")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each in-process pass")
    parser.add_argument("--stage-messages", type=int, default=20_000, help="messages the stages are timed on")
    parser.add_argument("--million", action="store_true",
                        help="also time --jobs against one process on 1,000,000 messages (target 4; minutes)")
    parser.add_argument("--skip-end-to-end", action="store_true", help="time the stages only")
    args = parser.parse_args()

    settings = json.loads(Path(args.settings).read_text()) if args.settings else DEFAULT_SETTINGS
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        path = Path(args.corpus) if args.corpus else _write_corpus(scratch / "corpus.ndjson", args.messages)
        settings_path = scratch / "settings.json"
        settings_path.write_text(json.dumps(settings))
        count = _count_lines(path)
        print(f"corpus: {count:,} messages, {path.stat().st_size / max(count, 1):.0f} bytes each; "
              f"platform {args.platform}; python {sys.version.split()[0]}; {os.cpu_count()} cpus; "
              f"default --jobs {default_jobs()}")
        if not args.skip_end_to_end:
            # Before this process holds the corpus: its children's memory is their own.
            _whole_processes(args, path, count, settings_path, scratch)
        _stages(args, path, settings, scratch)
        yardstick = _yardstick(args, path)
        if yardstick:
            print(yardstick)
    return 0


def _write_corpus(path: Path, count: int) -> Path:
    with path.open("w") as out:
        for message in corpus.messages(count):
            out.write(json.dumps(message, separators=(",", ":")) + "\n")
    return path


def _count_lines(path: Path) -> int:
    with path.open("rb") as lines:
        return sum(1 for line in lines if line.strip())


def _head(path: Path, count: int, out: Path) -> Path:
    with path.open("rb") as lines, out.open("wb") as cut:
        for number, line in enumerate(lines):
            if number >= count:
                break
            cut.write(line)
    return out


# ------------------------------------------------------------------ whole processes

def _whole_processes(args: argparse.Namespace, path: Path, count: int, settings_path: Path, scratch: Path) -> None:
    small = _head(path, _SMALL, scratch / "small.ndjson") if count > _SMALL else path
    small_count = min(count, _SMALL)
    empty = scratch / "empty.ndjson"
    empty.write_bytes(b"")
    python = sys.executable

    def seg2amp(source: Path, *extra: str, platform: str = args.platform) -> list[str]:
        return [python, "-m", "engine.cli", "translate", "--platform", platform, "--settings", str(settings_path),
                str(source), "--output", os.devnull, "--rejects", os.devnull, *extra]

    commands = {
        "json loop": [python, str(HERE / "json_loop.py"), str(path)],
        "seg2amp --jobs 1": seg2amp(path, "--jobs", "1"),
        f"seg2amp --jobs {args.jobs}": seg2amp(path, "--jobs", str(args.jobs)),
        "json loop, 30k": [python, str(HERE / "json_loop.py"), str(small)],
        "seg2amp default --jobs, 30k": seg2amp(small),
        "python -c pass": [python, "-c", "pass"],
        "seg2amp, empty input": seg2amp(empty, "--jobs", "1"),
    }
    device = "web" if args.platform == "server" else None
    if device:
        commands[f"seg2amp --jobs 1, {device}"] = seg2amp(path, "--jobs", "1", platform=device)
    if args.jobs <= 1:
        del commands[f"seg2amp --jobs {args.jobs}"]
    walls, peaks = _rounds(commands, args.rounds)

    def ratio(a: str, b: str) -> float:  # the median of a/b taken round by round
        return statistics.median(x / y for x, y in zip(walls[a], walls[b], strict=True))

    print(f"\nwhole processes: wall time, median of {args.rounds} interleaved rounds (min to max), peak RSS")
    for label, times in walls.items():
        messages = small_count if "30k" in label else 0 if "empty" in label or "pass" in label else count
        rate = f"{messages / statistics.median(times):>10,.0f} msg/s" if messages else " " * 16
        print(f"  {label:<30}{statistics.median(times):>8.3f} s ({min(times):.3f} to {max(times):.3f}) "
              f"{rate}   {peaks[label] / 1024:>5.0f} MB")
    startup = statistics.median(a - b for a, b in zip(walls["seg2amp, empty input"], walls["python -c pass"],
                                                        strict=True))
    rows = [
        ("1. one process (--jobs 1) / json loop", ratio("seg2amp --jobs 1", "json loop"), 1.25, "<="),
        ("2. start-up: empty input - python -c pass (s)", startup, 0.12, "<="),
        ("3. default --jobs / json loop, 30k", ratio("seg2amp default --jobs, 30k", "json loop, 30k"), 1.0, "<="),
    ]
    if args.jobs > 1:
        rows.append((f"4. --jobs {args.jobs} speed-up over one process ({count:,} messages)",
                     ratio("seg2amp --jobs 1", f"seg2amp --jobs {args.jobs}"), 1.8, ">="))
    if device:
        rows.append((f"4. device ({device}) / cloud, one process", ratio(f"seg2amp --jobs 1, {device}",
                                                                        "seg2amp --jobs 1"), 1.5, "<="))
    rows.append(("4. memory: peak RSS --jobs 1, full corpus / 30k", peaks["seg2amp --jobs 1"] /
                 max(peaks["seg2amp default --jobs, 30k"], 1), 1.2, "<="))
    if args.million:
        rows += _million(args, seg2amp, scratch)
    print("\ntargets")
    for label, value, bound, sense in rows:
        met = value <= bound if sense == "<=" else value >= bound
        print(f"  {label:<58}{value:>7.2f}   target {sense} {bound:<5} {'met' if met else 'NOT MET'}")


def _rounds(commands: dict[str, list[str]], rounds: int) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Wall seconds of each command in each round, after one warm-up round; the order of the
    commands alternates from round to round. And each command's largest peak RSS (KB) in those
    rounds."""
    labels = list(commands)
    walls: dict[str, list[float]] = {label: [] for label in labels}
    peaks = dict.fromkeys(labels, 0)
    for round_number in range(rounds + 1):
        order = labels if round_number % 2 else labels[::-1]
        for label in order:
            elapsed, peak = _run(commands[label])
            if round_number:  # the first round warms caches (files, the kept plan) and is not counted
                walls[label].append(elapsed)
                peaks[label] = max(peaks[label], peak)
    return walls, peaks


def _run(command: list[str]) -> tuple[float, int]:
    """Wall seconds of one command and its peak RSS (KB); exits when it fails."""
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=HERE.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_ENV)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    error = child.stderr.read().decode(errors="replace") if child.stderr else ""
    child.stderr and child.stderr.close()
    if child.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed ({child.returncode}):\n{error}")
    return elapsed, usage.ru_maxrss


def _million(args: argparse.Namespace, seg2amp, scratch: Path) -> list[tuple[str, float, float, str]]:
    big = _write_corpus(scratch / "million.ndjson", 1_000_000)
    try:
        walls, peaks = _rounds({"one": seg2amp(big, "--jobs", "1"), "jobs": seg2amp(big, "--jobs", str(args.jobs))},
                               1)
    finally:
        big.unlink()
    print(f"\n1,000,000 messages: --jobs 1 {walls['one'][0]:.1f} s ({peaks['one'] / 1024:.0f} MB), "
          f"--jobs {args.jobs} {walls['jobs'][0]:.1f} s ({peaks['jobs'] / 1024:.0f} MB)")
    return [(f"4. --jobs {args.jobs} speed-up over one process (1,000,000)", walls["one"][0] / walls["jobs"][0],
             1.8, ">=")]


# ------------------------------------------------------------------ stages, in process

def _stages(args: argparse.Namespace, path: Path, settings: dict, scratch: Path) -> None:
    translator = engine.load(args.platform, settings)
    ruleset = translator.ruleset
    unchecked = compile_plan(ruleset, checked=False)
    if ruleset.plan is None or unchecked is None:
        print("the rules did not compile to a plan: every message goes through the walk", file=sys.stderr)
        return
    with path.open("rb") as source:
        lines = list(itertools.islice(source, args.stage_messages))
    chunks = []
    for number, start in enumerate(range(0, len(lines), _CHUNK)):
        part = lines[start:start + _CHUNK]
        file = scratch / f"chunk{number}.ndjson"
        file.write_bytes(b"".join(part))
        chunks.append((b"".join(part), part, str(file)))

    def reference(line: bytes, offset: int) -> object:
        return _parse_line_bytes(line, "<bench>", offset + 1)

    check, checked = ruleset.input_check, ruleset.plan
    loads_lines = jsonio.loads_lines

    def stdlib(chunk: tuple) -> None:
        for line in chunk[1]:
            json.dumps(json.loads(line))

    def parse(chunk: tuple) -> None:
        for _ in loads_lines(chunk[0], chunk[1], reference):
            pass

    def input_check(chunk: tuple) -> None:
        for message in loads_lines(chunk[0], chunk[1], reference):
            check(message)

    def rules(chunk: tuple) -> None:
        for message in loads_lines(chunk[0], chunk[1], reference):
            if check(message):
                unchecked(message)

    def output_checks(chunk: tuple) -> None:
        for message in loads_lines(chunk[0], chunk[1], reference):
            if check(message):
                checked(message)

    def writing(chunk: tuple) -> None:
        for index, message in enumerate(loads_lines(chunk[0], chunk[1], reference), 1):
            if check(message):
                built = checked(message)
                if built is not False:
                    output_lines([{"target": target, "body": body} for _r, target, body in built], index)

    def command(chunk: tuple) -> None:
        first = 1
        for batch in read_batches([chunk[2]], 1000):
            first += translate_batch(translator, batch, first).read

    passes = [("json loop (stdlib)", stdlib), ("parse", parse), ("input check", input_check), ("rules", rules),
              ("output checks", output_checks), ("writing", writing),
              ("reading, batching, translate's own work", command)]
    spent = dict.fromkeys(label for label, _ in passes)
    for label in spent:
        spent[label] = 0.0
    clock = time.process_time
    for chunk in chunks:
        best = {label: float("inf") for label, _ in passes}
        for _ in range(args.repeats):
            for label, run in passes:
                start = clock()
                run(chunk)
                best[label] = min(best[label], clock() - start)
        for label in best:
            spent[label] += best[label]
    count = len(lines)
    per = {label: seconds / count * 1e6 for label, seconds in spent.items()}
    print(f"\nstages in process, {count:,} messages: CPU µs a message, each stage as it adds to the loop")
    print(f"  {'json loop (stdlib), for scale':<44}{per['json loop (stdlib)']:>7.2f}")
    previous = 0.0
    for label, _ in passes[1:]:
        print(f"  {label:<44}{per[label] - previous:>7.2f}")
        previous = per[label]
    whole = per["reading, batching, translate's own work"]
    print(f"  {'the command loop, all of it':<44}{whole:>7.2f}   ({1e6 / whole:,.0f} msg/s, "
          f"{whole / per['json loop (stdlib)']:.2f}x the json loop)")


def _yardstick(args: argparse.Namespace, path: Path) -> str:
    """The hand-written translator over the same messages, parse and write included, when it
    applies (cloud mode, the default settings)."""
    if args.platform != "server" or args.settings:
        return ""
    import handwritten

    with path.open("rb") as source:
        lines = list(itertools.islice(source, args.stage_messages))
    start = time.process_time()
    for index, line in enumerate(lines, 1):
        try:
            outputs = handwritten.translate(jsonio.loads_bytes(line, _parse_line_bytes, "<bench>", index))
        except Exception:  # noqa: BLE001 - a rejected message, as the engine would reject it
            continue
        for output in outputs:
            output["input"] = index
            jsonio.dumps_bytes(output)
    elapsed = time.process_time() - start
    return (f"\nhand-written yardstick (parse + translate + write, in process): "
            f"{elapsed / len(lines) * 1e6:.2f} µs a message")


if __name__ == "__main__":
    sys.exit(main())
