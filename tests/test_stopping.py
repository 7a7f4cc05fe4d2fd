"""A run stopped by a signal (SIGINT, SIGTERM, SIGHUP) or killed: its outputs end with a whole line,
its summary counts what was written, and nothing it leaves behind outlives the next run."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import termios
import time

import pytest

from support import API_KEY, ROOT

sys.path.insert(0, str(ROOT / "bench"))
import corpus  # noqa: E402


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stopping")
    source = folder / "in.ndjson"
    source.write_text("".join(json.dumps(message) + "\n" for message in corpus.messages(6000, seed=7)))
    settings = folder / "settings.json"
    settings.write_text(json.dumps({"apiKey": API_KEY}))
    return source, settings


def _start(inputs, spool, *options, **streams):
    source, settings = inputs
    env = {**os.environ, "SEG2AMP_SPOOL": str(spool), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "engine.cli", "translate", "-p", "server", "-s", str(settings),
                             *options, str(source)], cwd=ROOT, env=env, start_new_session=True, **streams)


def _wait_until(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _waiting(pipe) -> int:
    return int.from_bytes(fcntl.ioctl(pipe.fileno(), termios.FIONREAD, b"\0\0\0\0"), sys.byteorder)


def _pipe_full(pipe) -> bool:
    """Whether the run's stdout pipe is full (what it holds no longer grows): the run waits in a
    write that this test does not read."""
    before = _waiting(pipe)
    time.sleep(0.2)
    return before > 32768 and _waiting(pipe) == before


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("signame, status, said", [("SIGINT", 130, "(interrupted)"),
                                                   ("SIGTERM", 143, "(stopped by SIGTERM)"),
                                                   ("SIGHUP", 129, "(stopped by SIGHUP)")])
def test_a_signal_while_writing_to_a_pipe_leaves_whole_lines_and_a_summary_that_counts_them(
        inputs, tmp_path, jobs, signame, status, said):
    process = _start(inputs, tmp_path / "spool", "--jobs", jobs, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_until(lambda: _pipe_full(process.stdout))  # the run waits in a write: this test reads nothing yet
        process.send_signal(getattr(signal, signame))
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == status, err
    summary = err.decode().strip().splitlines()[-1]
    assert summary.endswith(f"outputs written {said}") and "Traceback" not in err.decode()
    lines = out.decode().splitlines(keepends=True)
    assert lines and all(line.endswith("\n") for line in lines)
    outputs = [json.loads(line) for line in lines]
    read = int(summary.split()[1])
    assert f" {len(outputs)} outputs written" in summary and 0 < read < 6000
    assert outputs[-1]["input"] <= read  # rejected messages may end what was read


def test_a_killed_run_leaves_no_traceback_and_the_next_run_removes_its_spool(inputs, tmp_path):
    spool = tmp_path / "spool"
    target = tmp_path / "out.ndjson"
    with (tmp_path / "err.txt").open("wb") as err:
        process = _start(inputs, spool, "--jobs", "2", "-o", str(target), stderr=err)
        try:
            _wait_until(lambda: target.exists() and target.stat().st_size > 100_000)
            left = [path.name for path in spool.iterdir()]
            process.kill()
            process.wait(timeout=60)
        finally:
            process.kill()
        source = str(inputs[0])
        _wait_until(lambda: not subprocess.run(["pgrep", "-f", source], capture_output=True).stdout, 30)
    assert "Traceback" not in (tmp_path / "err.txt").read_text()
    assert [name.startswith(f"seg2amp-{process.pid}-") for name in left] == [True]
    assert [path.name for path in spool.iterdir()] == left  # SIGKILL: nothing could clean up
    again = _start(inputs, spool, "--jobs", "2", "-o", str(tmp_path / "again.ndjson"), stderr=subprocess.PIPE)
    assert again.wait(timeout=120) == 0 and list(spool.iterdir()) == []


def test_spool_folders_without_a_lock_are_removed_once_their_run_is_gone(inputs, tmp_path):
    """A folder killed before its lock was taken (``seg2amp-<pid>-*`` whose process is gone), or made
    by a version without locks (``seg2amp-*`` unchanged for over an hour), is removed by the next run
    with workers; one whose process lives, a recent one, and anything not named so are left."""
    spool = tmp_path / "spool"
    spool.mkdir()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    hour_ago = time.time() - 3700
    folders = {f"seg2amp-{gone.pid}-abc": True, f"seg2amp-{os.getpid()}-def": False, "seg2amp-old12345": True,
               "seg2amp-new12345": False, "other-old": False}
    for name in folders:
        (spool / name).mkdir()
        (spool / name / "1.ndjson").write_text("{}\n")
        if name in ("seg2amp-old12345", "other-old"):
            os.utime(spool / name, (hour_ago, hour_ago))
    (spool / f"seg2amp-{gone.pid}-abc" / ".owner-new").write_text("")
    run = _start(inputs, spool, "--jobs", "2", "-o", str(tmp_path / "out.ndjson"), stderr=subprocess.PIPE)
    assert run.wait(timeout=120) == 0
    assert sorted(path.name for path in spool.iterdir()) == sorted(name for name, removed in folders.items()
                                                                  if not removed)


_STOP_WHILE_HANDING_OVER = """
import multiprocessing, sys, time
from collections import deque
from engine import batches

def batch(i):
    time.sleep(0.01 * (i % 10))
    return b"x" * (8 * 1024 * 1024)  # a result that takes several writes to hand over

if __name__ == "__main__":
    for attempt in range(10):
        pool = multiprocessing.get_context("fork").Pool(4, initializer=batches._worker_signals, initargs=(None,))
        pending = deque(pool.apply_async(batch, (i,)) for i in range(24))
        time.sleep(0.05 + 0.01 * attempt)  # the run stops while workers hand results over
        batches._stop(pool, pending)
    print("stopped")
"""


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="forked workers")
def test_stopping_workers_while_they_hand_results_over_never_hangs(tmp_path):
    """A run stopped early (a failed write, a signal) stops its workers; one stopped in the middle
    of handing a result over used to leave the results queue locked and the stop waiting forever
    (3 stops in 10 hung). Ten stops at different moments must all end."""
    script = tmp_path / "stop.py"
    script.write_text(_STOP_WHILE_HANDING_OVER)
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "stopped", done.stderr
