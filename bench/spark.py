"""Translating on Spark against the command line: the same corpus (bench/corpus.py, split into
--files NDJSON files) through `seg2amp translate --jobs 1` and `--jobs 2` and through
`seg2amp spark-translate`'s job on `local[1]` and `local[2]`, each writing its NDJSON outputs and
rejects to files; messages/s for each, in one run.

    python bench/spark.py [--messages 1000000] [--files 8] [--rounds 1]
    python bench/spark.py --apis [--messages 100000] [--rounds 2]   # mapInArrow against other ways

The command line's times are whole processes (start-up included: about 0.15 s). Spark's are its
job (read, translate, write, arrange the part files) in a session that has run a first job (on
the first file alone): the rate an archive's job runs at. The session's start (the JVM, 5-10 s)
and the first job's rate (the JVM compiling its code, the Python workers starting) are printed
apart.

Targets (issue 17): local[2] at least 1.7x local[1]; Spark's per-core rate at least 70% of the
command line's per-core rate (local[1] against --jobs 1, local[2] against --jobs 2)."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import corpus  # noqa: E402

SETTINGS = {"apiKey": "0123456789abcdef0123456789abcdef", "trackNamedPages": True, "trackAllPages": True,
            "traitsToIncrement": ["logins"], "minIdLength": 5}
_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
_QUIET = {"spark.ui.enabled": "false"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=None, help="default: 1,000,000 (100,000 with --apis)")
    parser.add_argument("--files", type=int, default=8, help="input files the corpus is split into (default: 8)")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds; medians printed (default: 1)")
    parser.add_argument("--platform", default="server")
    parser.add_argument("--scratch", metavar="DIR",
                        help="where the corpus and outputs go (default: a temporary folder)")
    parser.add_argument("--apis", action="store_true",
                        help="compare how Spark runs the translation on local[1]: mapInArrow (engine.spark), "
                             "mapInPandas, an RDD's mapPartitions, a Python UDF a row, an Arrow UDF a row")
    parser.add_argument("--job", nargs=3, metavar=("MASTER", "OUTPUT", "INPUTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job:
        return _job(*args.job, args.platform)
    messages = args.messages or (100_000 if args.apis else 1_000_000)
    with tempfile.TemporaryDirectory(dir=args.scratch, prefix="seg2amp-bench-spark-") as scratch_name:
        scratch = Path(scratch_name)
        inputs, settings = _corpus(scratch, messages, args.files)
        if args.apis:
            return _apis(inputs, messages, max(args.rounds, 2))
        return _compare(scratch, inputs, settings, messages, args)


def _corpus(scratch: Path, messages: int, files: int) -> tuple[list[Path], Path]:
    settings = scratch / "settings.json"
    settings.write_text(json.dumps(SETTINGS))
    inputs = [scratch / f"corpus-{number:02d}.ndjson" for number in range(files)]
    outs = [path.open("w") for path in inputs]
    for number, message in enumerate(corpus.messages(messages)):
        outs[number * files // messages].write(json.dumps(message, separators=(",", ":")) + "\n")
    for out in outs:
        out.close()
    return inputs, settings


def _compare(scratch: Path, inputs: list[Path], settings: Path, messages: int, args: argparse.Namespace) -> int:
    python = sys.executable
    runs = {"translate --jobs 1": 1, "spark local[1]": 1, "translate --jobs 2": 2, "spark local[2]": 2}
    walls: dict[str, list[float]] = {label: [] for label in runs}
    cpus: dict[str, list[float]] = {label: [] for label in runs}
    starts: list[float] = []
    firsts: dict[str, list[float]] = {label: [] for label in runs if label.startswith("spark")}
    outputs = set()
    for _ in range(args.rounds):
        for label, cores in runs.items():
            out = scratch / "out"
            before = _children_cpu()
            if label.startswith("translate"):
                command = [python, "-m", "engine.cli", "translate", "-p", args.platform, "-s", str(settings),
                           *map(str, inputs), "--jobs", str(cores), "--output", str(out) + ".ndjson",
                           "--rejects", str(out) + ".rejects"]
                start = time.perf_counter()
                done = subprocess.run(command, cwd=ROOT, env=_ENV, capture_output=True, text=True)
                walls[label].append(time.perf_counter() - start)
                outputs.add(_summary(done.stderr))
            else:
                command = [python, str(HERE / "spark.py"), "--platform", args.platform,
                           "--job", f"local[{cores}]", str(out), ",".join(map(str, inputs))]
                done = subprocess.run(command, cwd=ROOT, env=_ENV, capture_output=True, text=True)
                if done.returncode != 0:
                    print(done.stderr[-3000:], file=sys.stderr)
                    return 2
                figures = json.loads(done.stdout.strip().splitlines()[-1])
                walls[label].append(figures["job"])
                starts.append(figures["start"])
                firsts[label].append(figures["first_read"] / figures["first"])
                counts = figures["counts"]
                outputs.add(f"{counts['read']} read, {counts['written']} outputs")
            cpus[label].append(_children_cpu() - before)
            for place in (out, Path(str(out) + ".ndjson"), Path(str(out) + ".rejects")):
                shutil.rmtree(place, ignore_errors=True) if place.is_dir() else place.unlink(missing_ok=True)
    print(f"corpus: {messages:,} messages in {len(inputs)} files ({sum(p.stat().st_size for p in inputs) / 1e6:,.0f}"
          f" MB), platform {args.platform}; python {sys.version.split()[0]}; {os.cpu_count()} cpus; "
          f"{args.rounds} round(s), medians")
    print(f"what each run gave: {' | '.join(sorted(outputs))}")
    print(f"Spark: the session's start {statistics.median(starts):.1f} s; a session's first job (the first file "
          "alone, the JVM compiling its code and the Python workers starting), messages/s: "
          + ", ".join(f"{label} {statistics.median(rates):,.0f}" for label, rates in firsts.items()))
    print("Spark's figures below: the job on every file, next in the same session\n")
    rate = {}
    for label, cores in runs.items():
        wall = statistics.median(walls[label])
        rate[label] = messages / wall
        cpu = (f"{statistics.median(cpus[label]):>8.1f} s CPU" if label.startswith("translate")
               else "")  # Spark's Python workers are the JVM's children, not counted here
        print(f"  {label:<20}{wall:>8.2f} s{rate[label]:>10,.0f} messages/s{rate[label] / cores:>10,.0f} per core{cpu}")
    scaling = rate["spark local[2]"] / rate["spark local[1]"]
    one = rate["spark local[1]"] / rate["translate --jobs 1"]
    two = (rate["spark local[2]"] / 2) / (rate["translate --jobs 2"] / 2)
    print(f"\ntarget: local[2] at least 1.7x local[1]: {scaling:.2f}x  {'met' if scaling >= 1.7 else 'NOT MET'}")
    print(f"target: Spark's per-core rate at least 70% of the command's: local[1] / --jobs 1 {one:.0%}, "
          f"local[2] / --jobs 2 {two:.0%}  {'met' if min(one, two) >= 0.7 else 'NOT MET'}")
    return 0


def _summary(stderr: str) -> str:
    line = stderr.strip().splitlines()[-1] if stderr.strip() else "?"
    words = line.split()
    try:
        return f"{words[1]} read, {words[words.index('outputs') - 1]} outputs"
    except (IndexError, ValueError):
        return line


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _job(master: str, output: str, inputs: str, platform: str) -> int:
    """One Spark run, in its own process (its own JVM): the session's start, a first job on the
    first input file alone (what the first job of a session pays: the JVM compiling its code, the
    Python workers starting and loading the rules), then the job on every file, timed apart."""
    from engine.sparkcommand import session, translate_files

    files = inputs.split(",")
    start = time.perf_counter()
    spark = session(master, _QUIET)
    started = time.perf_counter()
    first = translate_files(spark, files[:1], output + "-first", output + "-first/_rejects", platform, SETTINGS)
    warmed = time.perf_counter()
    shutil.rmtree(output + "-first", ignore_errors=True)
    begun = time.perf_counter()
    counts = translate_files(spark, files, output, output + "/_rejects", platform, SETTINGS)
    done = time.perf_counter()
    spark.stop()
    print(json.dumps({"start": started - start, "first": warmed - started, "first_read": first["read"],
                      "job": done - begun, "counts": counts}))
    return 0


def _apis(inputs: list[Path], messages: int, rounds: int) -> int:
    """The same translation run by each way Spark runs Python, on local[1], to the noop sink;
    each way ``rounds`` times, alternately (after a first job to warm the session up)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from engine import spark as translating
    from engine.sparkcommand import JOB_SETTINGS, session

    spark = session("local[1]", {**_QUIET, **JOB_SETTINGS})  # as spark-translate runs its job
    lines = spark.read.text([str(path) for path in inputs])
    ways = {
        "mapInArrow (engine.spark)": lambda: translating.translate_lines(lines, "server", SETTINGS),
        "mapInPandas": lambda: _by_pandas(lines),
        "RDD mapPartitions": None,
        "Python UDF, a row a call": lambda: _by_udf(lines, F, T, arrow=False),
        "Arrow UDF, a row a call": lambda: _by_udf(lines, F, T, arrow=True),
    }
    times: dict[str, list[float]] = {label: [] for label in ways}
    translating.translate_lines(spark.read.text(str(inputs[0])), "server", SETTINGS).write.format("noop") \
        .mode("overwrite").save()  # the JVM's first job, the Python worker's start
    for _ in range(rounds):
        for label, make in ways.items():
            start = time.perf_counter()
            if make is None:
                _by_rdd(lines)
            else:
                make().write.format("noop").mode("overwrite").save()
            times[label].append(time.perf_counter() - start)
    spark.stop()
    print(f"{messages:,} messages in {len(inputs)} files, local[1], to Spark's noop sink; {rounds} runs each, "
          "interleaved: median (best)\n")
    arrow = statistics.median(times["mapInArrow (engine.spark)"])
    for label, runs in times.items():
        middle = statistics.median(runs)
        print(f"  {label:<28}{middle:>8.2f} s ({min(runs):.2f}){messages / middle:>10,.0f} messages/s"
              f"{middle / arrow:>8.2f}x mapInArrow's time")
    return 0


def _by_pandas(lines):
    """mapInPandas: each batch converted to pandas and back around the same translation."""
    import pyarrow as pa
    from pyspark.sql import functions as F

    from engine import spark as translating

    payload = json.dumps({"platform": "server", "settings": SETTINGS, "rules": None, "schemas": None},
                         sort_keys=True)
    located = lines.select("value", F.input_file_name().alias("source"), F.input_file_block_start().alias("offset"),
                           F.monotonically_increasing_id().alias("row"))

    def run(frames):
        batches = (pa.RecordBatch.from_pandas(frame, preserve_index=False) for frame in frames)
        for batch in translating._translate_batches(payload, batches, "lines", None):
            yield batch.to_pandas()

    return located.mapInPandas(run, translating.LINES_SCHEMA)


def _by_rdd(lines) -> int:
    """An RDD's mapPartitions: rows pickled to Python, lines made by the same code."""
    from engine.batches import translate_batch
    from engine.reader import Lines
    from engine.translator import load

    def run(rows):
        translator = load("server", SETTINGS)  # once a partition: what an RDD job can do without a cache
        kept = [(number, row.value) for number, row in enumerate(rows, 1) if row.value.strip()]
        for start in range(0, len(kept), 1000):
            result = translate_batch(translator, Lines("rdd", kept[start:start + 1000]), 1)
            yield from result.data.split(b"\n")[:-1]

    return lines.rdd.mapPartitions(run).count()


def _by_udf(lines, F, T, arrow: bool):
    """A UDF called for each row: the translator loaded once a worker, a message at a time."""
    from engine.batches import translate_batch
    from engine.reader import Lines
    from engine.translator import load

    loaded: dict = {}

    def one(value: str) -> list[str]:
        translator = loaded.get("t") or loaded.setdefault("t", load("server", SETTINGS))
        result = translate_batch(translator, Lines("udf", [(1, value)]), 1)
        return result.data.decode().split("\n")[:-1]

    udf = F.udf(one, T.ArrayType(T.StringType()), useArrow=arrow)
    return lines.select(F.explode(udf("value")).alias("value"))


if __name__ == "__main__":
    sys.exit(main())
