"""A write that fails (a full disk, a file size limit, /dev/full) stops the run with exit 2, an error
that names the file, and the summary of how far it got; an output file keeps whole lines only."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import pytest

from support import API_KEY, ROOT

sys.path.insert(0, str(ROOT / "bench"))
import corpus  # noqa: E402


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("full")
    source = folder / "in.ndjson"
    lines = [json.dumps(message) for message in corpus.messages(3000, seed=11)]
    lines[5] = json.dumps({"type": "group", "userId": "user-12345"})  # rejected: no groupId
    source.write_text("\n".join(lines) + "\n")
    settings = folder / "settings.json"
    settings.write_text(json.dumps({"apiKey": API_KEY}))
    return source, settings


def _run(inputs, *options, limit=None, **streams):
    source, settings = inputs

    def limited():
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-m", "engine.cli", "translate", "-p", "server", "-s", str(settings),
                           *options, str(source)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          preexec_fn=limited, text=True, timeout=120,
                          **{"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **streams})


def _summary(err: str) -> str:
    return err.strip().splitlines()[-1]


def _check_whole(path, err: str) -> None:
    text = path.read_text()
    assert text and text.endswith("\n")
    outputs = [json.loads(line) for line in text.splitlines()]
    assert f" {len(outputs)} outputs written (stopped: the write failed)" in _summary(err)
    read = int(_summary(err).split()[1])
    assert 0 < read < 3000 and outputs[-1]["input"] <= read


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_file_size_limit_reached_inside_a_line_leaves_whole_lines(inputs, tmp_path, jobs):
    target = tmp_path / "out.ndjson"
    result = _run(inputs, "--jobs", jobs, "-o", str(target), limit=100_000)
    assert result.returncode == 2 and f"seg2amp: error: {target}: File too large" in result.stderr
    assert "Traceback" not in result.stderr
    _check_whole(target, result.stderr)


def test_a_full_disk_leaves_whole_lines_and_names_the_file(inputs, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    place = tmp_path / "tiny"
    place.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(place)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"mounting a small tmpfs is not permitted here: {mounted.stderr.decode().strip()}")
    try:
        target = place / "out.ndjson"
        result = _run(inputs, "-o", str(target))
        assert result.returncode == 2 and f"seg2amp: error: {target}: No space left on device" in result.stderr
        _check_whole(target, result.stderr)
    finally:
        subprocess.run(["umount", str(place)], check=True)


@pytest.mark.parametrize("where", ["-o", "stdout", "--rejects"])
def test_dev_full_stops_the_run_with_the_file_named_and_a_summary(inputs, where):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    if where == "stdout":
        with open("/dev/full", "wb") as full:
            result = _run(inputs, stdout=full)
        name = "standard output"
    else:
        result = _run(inputs, where, "/dev/full")
        name = "/dev/full"
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"seg2amp: error: {name}: No space left on device" in result.stderr
    assert _summary(result.stderr).endswith("(stopped: the write failed)")
