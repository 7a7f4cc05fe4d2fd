"""Translating on Spark (engine/spark.py) gives what `seg2amp translate` gives: the same outputs and
rejects for the same lines, on every platform, with a local Spark session (local[2]) the tests
start. CI installs the spark extra, so these run there; a checkout without it skips them."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from support import FIXTURES, ROOT

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


def _cli(platform: str, path: Path, tmp_path: Path) -> tuple[Counter, Counter]:
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps(SETTINGS))
    rejects = tmp_path / f"rejects-{platform}.ndjson"
    done = subprocess.run([sys.executable, "-m", "engine.cli", "translate", "-p", platform, "-s", str(settings),
                           str(path), "--jobs", "1", "--rejects", str(rejects)], capture_output=True, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr.decode()
    outputs = Counter()
    for line in done.stdout.splitlines():
        record = json.loads(line)
        outputs[(record["input"] - 1, record["target"], json.dumps(record["body"], sort_keys=True))] += 1
    refused = Counter()
    for line in rejects.read_text().splitlines():
        record = json.loads(line)
        refused[(record["input"] - 1, record.get("error") or record.get("warning"), record["path"])] += 1
    return outputs, refused


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
