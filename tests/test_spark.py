"""Translating on Spark (engine/spark.py) gives what `seg2amp translate` gives: the same outputs and
rejects for the same lines, on every platform, with a local Spark session (local[2]) the tests
start. CI installs the spark extra, so these run there; a checkout without it skips them."""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from support import FIXTURES, KEY, ROOT, Fake

try:
    import pyspark  # noqa: F401
except ImportError:
    if os.environ.get("SEG2AMP_REQUIRE_SPARK"):  # CI: the spark extra is installed, and these must run
        raise
    pytest.skip("the spark extra is not installed (pip install -e '.[spark]')", allow_module_level=True)

SETTINGS = json.loads((FIXTURES / "samples" / "settings.json").read_text())
PLATFORMS = ["server", "web", "ios", "android"]


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("seg2amp-tests")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "2").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The bundled samples, generated messages, and lines the translator rejects, no blank line
    (so that a line's row id in one partition is its place in the file)."""
    sys.path.insert(0, str(ROOT / "bench"))
    import corpus as generated

    rng = random.Random(5)
    lines = (FIXTURES / "samples" / "messages.ndjson").read_text().splitlines()
    for number, message in enumerate(generated.messages(1500)):
        if number % 97 == 0:
            lines.append("not json at all")
        elif number % 89 == 0:
            lines.append(json.dumps({"type": "track", "messageId": f"bad-{number}"}))  # no event, no ids
        elif number % 83 == 0:
            message["userId"] = "abc"  # shorter than minIdLength: an output refused
            lines.append(json.dumps(message))
        else:
            lines.append(json.dumps(message, ensure_ascii=rng.random() < 0.5))
    path = tmp_path_factory.mktemp("spark") / "corpus.ndjson"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def spaced(corpus) -> Path:
    """The corpus's first 600 lines with blank and white-space lines between some of them: a
    message's number is then not its line's."""
    lines = []
    for number, line in enumerate(corpus.read_text().splitlines()[:600]):
        lines.append(line)
        if number % 7 == 0:
            lines.append("" if number % 2 else " \t ")
    path = corpus.parent / "spaced.ndjson"
    path.write_text("\n".join(lines) + "\n")
    return path


def _translated(platform: str, path: Path, tmp_path: Path) -> tuple[list[dict], list[dict], str]:
    """`seg2amp translate`'s output records, reject records and summary line for one file."""
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps(SETTINGS))
    rejects = tmp_path / f"rejects-{platform}-{path.name}.ndjson"
    done = subprocess.run([sys.executable, "-m", "engine.cli", "translate", "-p", platform, "-s", str(settings),
                           str(path), "--jobs", "1", "--rejects", str(rejects)], capture_output=True, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr.decode()
    return ([json.loads(line) for line in done.stdout.splitlines()],
            [json.loads(line) for line in rejects.read_text().splitlines()], done.stderr.decode().splitlines()[-1])


def _by_line(platform: str, paths: list[Path], tmp_path: Path) -> tuple[Counter, list[dict]]:
    """The command's outputs as (file, line, target, body) and its reject records without their
    message number, over several files (each translated alone)."""
    outputs, records = Counter(), []
    for path in paths:
        text = (gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()).decode()
        numbers = [number for number, line in enumerate(text.split("\n"), 1) if line.strip()]
        found, refused, _ = _translated(platform, path, tmp_path)
        for record in found:
            outputs[(str(path), numbers[record["input"] - 1], record["target"],
                     json.dumps(record["body"], sort_keys=True))] += 1
        for record in refused:
            del record["input"]
            records.append(record)
    return outputs, records


def _cli(platform: str, path: Path, tmp_path: Path) -> tuple[Counter, Counter]:
    found, refused, _ = _translated(platform, path, tmp_path)
    outputs = Counter((record["input"] - 1, record["target"], json.dumps(record["body"], sort_keys=True))
                      for record in found)
    rejected = Counter((record["input"] - 1, record.get("error") or record.get("warning"), record["path"])
                       for record in refused)
    return outputs, rejected


@pytest.mark.parametrize("platform", PLATFORMS)
def test_spark_gives_the_commands_outputs_and_rejects(spark, corpus, tmp_path, platform):
    from engine.spark import translate

    outputs, rejects = translate(spark.read.text(str(corpus)), platform, SETTINGS)
    got = Counter((row.row, row.target, json.dumps(json.loads(row.body), sort_keys=True))
                  for row in outputs.collect())
    refused = Counter((row.row, row.error, row.path) for row in rejects.collect())
    assert all(json.loads(row.record)["file"] == str(corpus) for row in rejects.collect())
    expected, expected_refused = _cli(platform, corpus, tmp_path)
    assert got == expected, (f"{platform}: {sum(got.values())} outputs from Spark, {sum(expected.values())} from "
                             f"the command; only Spark: {list(got - expected)[:3]}; only the command: "
                             f"{list(expected - got)[:3]}")
    assert refused == expected_refused, (platform, sum(refused.values()), sum(expected_refused.values()),
                                         list(refused - expected_refused)[:3])
    assert sum(expected_refused.values()) > 10 and sum(expected.values()) > 1500, (expected_refused, len(expected))


def test_outputs_keep_the_commands_bytes_and_say_where_they_came_from(spark, corpus):
    from engine.spark import translate

    outputs, _ = translate(spark.read.text(str(corpus)), "server", SETTINGS)
    first = outputs.orderBy("row").first()
    assert first.source.endswith("corpus.ndjson") and first.row == 0
    assert first.body.startswith('{"event_type":"Loaded Merchant Settings Page"'), first.body


def test_a_bad_rule_set_fails_on_the_driver_with_the_commands_located_message(spark, corpus, tmp_path):
    import shutil

    from engine import RuleError
    from engine.spark import translate

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules" / "amplitude", rules)
    server = rules / "server.yaml"
    server.write_text(server.read_text().replace("        event_type: event\n", "        event_type: event[\n", 1))
    jobs_before = len(spark.sparkContext.statusTracker().getJobIdsForGroup(None))
    with pytest.raises(RuleError) as caught:
        translate(spark.read.text(str(corpus)), "server", SETTINGS, rules=str(rules))
    assert "server.yaml:" in str(caught.value), str(caught.value)
    assert len(spark.sparkContext.statusTracker().getJobIdsForGroup(None)) == jobs_before  # no task ran


def test_a_rule_set_of_ones_own_travels_to_the_executors(spark, corpus, tmp_path):
    import shutil

    from engine.spark import translate

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules" / "amplitude", rules)
    pages = rules / "_pages.yaml"
    text = pages.read_text()
    assert text.count("Loaded {{") >= 1
    pages.write_text(text.replace("Loaded {{", "Opened {{"))
    outputs, _ = translate(spark.read.text(str(corpus)), "server", SETTINGS, rules=str(rules))
    first = outputs.orderBy("row").first()
    assert first.body.startswith('{"event_type":"Opened Merchant Settings Page"'), first.body


def _file_line(path: Path, offset: int, line: int) -> int:
    """The file's line number of the ``line``-th line of the part of ``path`` from byte ``offset``:
    a later part's first line is the one after the first newline at or after its first byte
    (Spark's text reader gives the line it cuts into, or starts at, to the part before)."""
    if not offset:
        return line
    return path.read_bytes().count(b"\n", 0, offset) + 1 + line


def test_every_line_is_located_in_its_file_across_files_parts_and_gzip(spark, corpus, spaced, tmp_path):
    """Four files read together, the plain one split into parts of 64 kB, a gzip copy (never
    split), the samples and a file with blank lines: each output and reject says its file and
    line, as the command does file by file."""
    from engine.spark import translate

    packed = tmp_path / "corpus.ndjson.gz"
    packed.write_bytes(gzip.compress(corpus.read_bytes()))
    samples = FIXTURES / "samples" / "messages.ndjson"
    from pyspark.sql import functions as F

    spark.conf.set("spark.sql.files.maxPartitionBytes", "65536")
    spark.conf.set("spark.sql.files.openCostInBytes", "1")  # small files and parts share partitions
    try:
        lines = spark.read.text([str(corpus), str(packed), str(samples), str(spaced)])
        assert lines.rdd.getNumPartitions() > 10
        shared = (lines.select(F.spark_partition_id().alias("task"), F.input_file_name().alias("file"),
                               F.input_file_block_start().alias("start")).distinct().groupBy("task").count()
                  .where("count > 1").count())
        assert shared > 0  # some task reads parts of two files (or two parts) one after another
        outputs, rejects = translate(lines, "server", SETTINGS)
        found, refused = outputs.collect(), rejects.collect()
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
        spark.conf.unset("spark.sql.files.openCostInBytes")
    names = {row.source: Path(row.source[len("file://"):]) for row in found}
    assert set(names.values()) == {corpus, packed, samples, spaced}
    assert {row.offset for row in found if names[row.source] == packed} == {0}
    assert len({row.offset for row in found if names[row.source] == corpus}) > 10  # split into parts
    got = Counter((str(names[row.source]), _file_line(names[row.source], row.offset, row.line), row.target,
                   json.dumps(json.loads(row.body), sort_keys=True)) for row in found)
    expected, expected_records = _by_line("server", [corpus, packed, samples, spaced], tmp_path)
    assert got == expected, (list(got - expected)[:3], list(expected - got)[:3])
    located, renamed = [], 0
    for row in refused:
        record = json.loads(row.record)
        path = Path(record["file"])
        assert (record.get("offset", 0), record["line"]) == (row.offset, row.line)
        if row.offset:  # a text that names the line names the part and the line counted in it
            named = f"{path}[from byte {row.offset}]:{row.line})"
            renamed += named in record["error"]
            record["error"] = record["error"].replace(named, f"{path}:{_file_line(path, row.offset, row.line)})")
            assert "[from byte" not in record["error"], record["error"]
            del record["offset"]
        record["line"] = _file_line(path, row.offset, row.line)
        located.append(json.dumps(record, sort_keys=True))
    assert sorted(located) == sorted(json.dumps(record, sort_keys=True) for record in expected_records)
    assert renamed > 3 and len(located) > 20, (renamed, len(located))


def _spark_translate(*words: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine.cli", "spark-translate", "--master", "local[2]", *words],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_the_command_writes_ndjson_part_files_equal_to_translates(corpus, spaced, tmp_path):
    samples = FIXTURES / "samples" / "messages.ndjson"
    out = tmp_path / "out"
    done = _spark_translate("-p", "web", "-s", str(FIXTURES / "samples" / "settings.json"), str(samples),
                            str(corpus), str(spaced), str(out))
    assert done.returncode == 1, done.stderr  # some messages are rejected
    parts = sorted(out.glob("part-*.ndjson"))
    assert parts and not list(out.glob("kind=*")), sorted(out.iterdir())
    records = [json.loads(line) for part in parts for line in part.read_text().splitlines()]
    assert all(list(record)[:2] == ["target", "body"] for record in records)  # what `seg2amp send` reads
    got = Counter((record["file"], record["line"], record["target"], json.dumps(record["body"], sort_keys=True))
                  for record in records)
    expected, expected_records = _by_line("web", [samples, corpus, spaced], tmp_path)
    assert got == expected, (list(got - expected)[:3], list(expected - got)[:3])
    refused = [json.loads(line) for part in (out / "_rejects").glob("part-*.ndjson")
               for line in part.read_text().splitlines()]
    assert sorted(map(json.dumps, refused)) == sorted(map(json.dumps, expected_records)) and refused
    written = sum(len(_translated("web", path, tmp_path)[0]) for path in (samples, corpus, spaced))
    summary = done.stderr.strip().splitlines()[-1]
    numbers = [int(word) for word in re.findall(r"\b\d+\b", summary)]
    messages = sum(1 for path in (samples, corpus, spaced) for line in path.read_text().splitlines() if line.strip())
    errors = sum(1 for record in refused if "error" in record)
    assert numbers[:4] == [messages, messages - errors, errors, written], summary


def test_the_command_writes_parquet_and_its_rejects_where_told(spark, corpus, tmp_path):
    out, rejects = tmp_path / "out", tmp_path / "rejects"
    done = _spark_translate("-p", "server", "-s", str(FIXTURES / "samples" / "settings.json"), "--format",
                            "parquet", "--rejects", str(rejects), str(corpus), str(out))
    assert done.returncode == 1, done.stderr
    outputs = spark.read.parquet(str(out)).collect()
    expected, expected_records = _by_line("server", [corpus], tmp_path)
    got = Counter((row.source[len("file://"):], row.line, row.target, json.dumps(json.loads(row.body), sort_keys=True))
                  for row in outputs)
    assert got == expected
    refused = spark.read.parquet(str(rejects)).collect()
    assert sorted(json.loads(row.record)["line"] for row in refused) == sorted(r["line"] for r in expected_records)
    assert all(row.error and row.path and row.target is None for row in refused)


def test_mistakes_are_said_before_spark_starts(corpus, tmp_path):
    settings = str(FIXTURES / "samples" / "settings.json")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    for words, said in (((str(corpus), str(busy)), "is not empty (--overwrite replaces it)"),
                        ((str(tmp_path / "missing-*.ndjson"), str(tmp_path / "o")), "nothing matches it"),
                        ((str(corpus),), "give at least one INPUT and the OUTPUT_DIR"),
                        (("--conf", "spark.executor.memory", str(corpus), str(tmp_path / "o")), "KEY=VALUE"),
                        (("--conf", "spark.hadoop.fs.s3a.secret.key:s3cr3t-value", str(corpus), str(tmp_path / "o")),
                         "--conf spark.hadoop.fs.s3a.secret.key...: write KEY=VALUE")):
        done = _spark_translate("-p", "server", "-s", settings, *words)
        assert done.returncode == 2 and said in done.stderr, (words, done.stderr)
        assert "Spark" not in done.stderr.replace("spark.executor", "")  # no session was started
        assert "s3cr3t" not in done.stderr  # a value typed after a wrong separator is not printed
    assert (busy / "keep.txt").read_text() == "mine"
    done = _spark_translate("-p", "server", str(corpus), str(tmp_path / "o"))  # no settings: the apiKey
    assert done.returncode == 2 and "apiKey" in done.stderr and not (tmp_path / "o").exists()


def test_a_spark_that_cannot_start_is_said_in_a_line(corpus, tmp_path):
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "no-java")}
    done = subprocess.run([sys.executable, "-m", "engine.cli", "spark-translate", "-p", "server", "-s",
                           str(FIXTURES / "samples" / "settings.json"), str(corpus), str(tmp_path / "o")],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert done.returncode == 2, done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("seg2amp: error:")]
    assert said and "Spark could not start" in said[0] and "Java 17" in said[0], done.stderr
    assert "Traceback" not in done.stderr


def test_the_readmes_command_runs_on_the_bundled_samples(tmp_path):
    """The README's command, as written (its output folder made this test's own): exit 0, the
    part files' lines as the README shows them."""
    import shlex

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Translating an archive with Spark"):]
    command = next(line for line in section.splitlines() if "seg2amp spark-translate" in line)
    words = shlex.split(command.split("&&", 1)[1])
    assert words[:2] == ["seg2amp", "spark-translate"] and words[-1] == "spark-out", words
    out = tmp_path / "spark-out"
    done = subprocess.run([sys.executable, "-m", "engine.cli", *words[1:-1], str(out)], capture_output=True,
                          text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = sorted((line for part in out.glob("part-*.ndjson") for line in part.read_text().splitlines()),
                   key=lambda line: json.loads(line)["line"])
    shown = section[section.index("{\"target\""):].split("\n", 1)[0]
    head, tail = shown.split("...", 1)
    assert lines[0].startswith(head), (lines[0][:120], head)
    assert lines[0].endswith(tail.replace("/home/me/seg2amp", str(ROOT))), (lines[0][-120:], tail)
    samples = FIXTURES / "samples" / "messages.ndjson"
    assert "seg2amp: 8 messages read, 8 translated, 0 rejected" in done.stderr
    assert len(samples.read_text().splitlines()) == 8
    fake = Fake()  # and `seg2amp send` takes the part files as they are
    try:
        settings = tmp_path / "settings.json"
        settings.write_text(json.dumps({**SETTINGS, "apiKey": KEY}))
        sent = subprocess.run([sys.executable, "-m", "engine.cli", "send", "-s", str(settings), "--endpoint",
                               fake.url, *map(str, sorted(out.glob("part-*.ndjson")))], capture_output=True,
                              text=True, cwd=ROOT, timeout=300)
        assert sent.returncode == 0, sent.stderr
        assert f"{len(lines)} delivered" in sent.stderr, sent.stderr
        assert fake.stats()["events"] == sum(json.loads(line)["target"] == "httpapi" for line in lines) > 0
    finally:
        fake.stop()
