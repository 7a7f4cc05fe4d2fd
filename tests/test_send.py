"""Delivery: `seg2amp send` against a local fake of Amplitude's ingestion APIs (tests/fake_amplitude.py,
a real server process on 127.0.0.1 that each test starts and stops). No test reaches Amplitude.
Each assertion message carries the figures it compares."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import KEY, ROOT, SECRET, Fake

SAMPLES = ROOT / "fixtures" / "samples"


@pytest.fixture
def fake_factory():
    made: list[Fake] = []

    def make(*options: str) -> Fake:
        fake = Fake(*options)
        made.append(fake)
        return fake

    yield make
    for fake in made:
        fake.stop()


@pytest.fixture
def settings_file(tmp_path) -> Path:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({**json.loads((SAMPLES / "settings.json").read_text()), "apiKey": KEY,
                                "secretKey": SECRET}))
    return path


def send(fake: Fake | None, settings: Path, *args: str, stdin: bytes | None = None, endpoint: bool = True,
         timeout: float = 300) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "engine.cli", "send", "--settings", str(settings), "--retry-wait", "0.01",
               "--throttle-wait", "0.2"]
    if endpoint and fake is not None:
        command += ["--endpoint", fake.url]
    return subprocess.run(command + list(args), input=stdin, capture_output=True, cwd=ROOT, timeout=timeout)


def line(target: str, body: dict, number: int | None = None) -> str:
    record = {"target": target, "body": body}
    if number is not None:
        record["input"] = number
    return json.dumps(record, separators=(",", ":")) + "\n"


def event(i: int, device: str | None = None, **more) -> dict:
    body = {"event_type": f"Viewed {i % 5}", "device_id": device or f"device-{i % 200:04d}", "time": 1793610900000 + i,
            "insert_id": f"ins-{i}", "library": "segment", "event_properties": {"n": i}}
    body.update(more)
    return body


def write_events(path: Path, bodies: list[dict]) -> Path:
    path.write_text("".join(line("httpapi", body, i + 1) for i, body in enumerate(bodies)))
    return path


def failed_lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


# ---------------------------------------------------------------- the pipeline

def test_the_bundled_samples_reach_each_api_in_its_format(fake_factory, settings_file, tmp_path):
    fake = fake_factory()
    translated = subprocess.run([sys.executable, "-m", "engine.cli", "translate", "-p", "server", "-s",
                                 str(settings_file), str(SAMPLES / "messages.ndjson")], capture_output=True,
                                cwd=ROOT, check=True).stdout
    outputs = [json.loads(x) for x in translated.splitlines()]
    result = send(fake, settings_file, "-", stdin=translated)
    assert result.returncode == 0, result.stderr.decode()
    stats, store = fake.stats(), fake.get("/_store")
    sent = {t: [o["body"] for o in outputs if o["target"] == t] for t in {o["target"] for o in outputs}}
    assert stats["events"] == len(sent["httpapi"]), (stats, len(sent["httpapi"]))
    assert sorted(e["insert_id"] for e in fake.get("/_events")) == sorted(b["insert_id"] for b in sent["httpapi"])
    assert store["identify"] == sent["identify"], (store["identify"], sent["identify"])
    assert store["groupidentify"] == sent["groupidentify"]
    assert store["usermap"] == sent["usermap"]
    summary = result.stderr.decode().strip().splitlines()[-1]
    assert summary.startswith(f"seg2amp send: {len(outputs)} lines read, {len(outputs)} delivered, 0 failed"), summary
    assert "\r" not in result.stderr.decode()  # no progress display where stderr is not a terminal


def test_the_progress_line_says_what_is_sent_and_held():
    import io

    from engine.sender import Counts, show_progress

    counts = Counts()
    counts.delivered, counts.failed, counts.retries, counts.throttled = 12_000, 3, 7, 2
    counts.started -= 2.0
    out = io.StringIO()
    show_progress(out)(counts)
    text = out.getvalue()
    assert text.startswith("\rseg2amp send: 12,000 delivered (") and "/s), 3 failed, 7 retries, 2 identities " \
        "throttled" in text, text


def test_the_readmes_replay_of_the_samples_prints_what_it_shows(fake_factory, tmp_path):
    readme = (ROOT / "README.md").read_text()
    shown = readme[readme.index("## Sending to Amplitude"):]
    shown = shown[shown.index("# seg2amp send: ") + 2:].splitlines()[0]
    fake = fake_factory()
    settings = SAMPLES / "settings.json"
    translated = subprocess.run([sys.executable, "-m", "engine.cli", "translate", "-p", "server", "-s", str(settings),
                                 str(SAMPLES / "messages.ndjson")], capture_output=True, cwd=ROOT, check=True).stdout
    result = send(fake, settings, stdin=translated)
    assert result.stderr.decode().strip().splitlines()[-1] == shown, (result.stderr.decode(), shown)
    stats = fake.stats()
    assert (stats["events"], stats["stored"]["identify"], stats["stored"]["groupidentify"],
            stats["stored"]["usermap"]) == (7, 2, 1, 1), stats


def test_paths_of_each_target_and_of_the_batch_api(fake_factory, settings_file, tmp_path):
    fake = fake_factory()
    lines = (line("httpapi", event(1)) + line("identify", {"user_id": "user-12345", "user_properties": {"a": 1}})
             + line("groupidentify", {"group_type": "org", "group_value": "acme", "group_properties": {"n": 1}})
             + line("usermap", {"user_id": "user-12345", "global_user_id": "global-1"})
             + line("deletions", {"user_ids": ["user-12345"], "requester": "segment"}))
    assert send(fake, settings_file, "-", stdin=lines.encode()).returncode == 0
    assert send(fake, settings_file, "--batch-api", "-", stdin=line("httpapi", event(2)).encode()).returncode == 0
    paths = [r["path"] for r in fake.get("/_requests") if r["method"] == "POST"]
    assert sorted(paths) == sorted(["/2/httpapi", "/identify", "/groupidentify", "/usermap", "/api/2/deletions/users",
                                    "/batch"]), paths
    assert fake.get("/_store")["deletions"] == [{"user_ids": ["user-12345"], "requester": "segment"}]


def test_eu_region_and_endpoint_make_the_right_urls(settings_file):
    from engine.delivery import load_delivery
    from engine.resources import bundled_dir, default_rules_dir
    from engine.validation import SchemaStore

    delivery = load_delivery(default_rules_dir(), SchemaStore(bundled_dir("schemas")))
    settings = {"apiKey": KEY, "secretKey": SECRET, "minIdLength": 5}
    eu = delivery.routes(settings, delivery.region("eu", settings), False, None)
    assert {name: route.url for name, route in eu.items()} == {
        "httpapi": "https://api.eu.amplitude.com/2/httpapi", "identify": "https://api.eu.amplitude.com/identify",
        "groupidentify": "https://api.eu.amplitude.com/groupidentify", "usermap": "https://api.eu.amplitude.com/usermap",
        "deletions": "https://analytics.eu.amplitude.com/api/2/deletions/users"}
    # the settings' endpoint as Segment names it, and the batch setting
    europe = {**settings, "endpoint": "europe", "sendToBatchEndpoint": True}
    routes = delivery.routes(europe, delivery.region(None, europe), delivery.alternate(False, europe), None)
    assert routes["httpapi"].url == "https://api.eu.amplitude.com/batch"
    us = delivery.routes(settings, delivery.region(None, settings), False, None)
    assert us["httpapi"].url == "https://api2.amplitude.com/2/httpapi"
    assert us["usermap"].url == "https://api.amplitude.com/usermap"
    proxied = delivery.routes(settings, "eu", False, "http://127.0.0.1:9/base/")
    assert proxied["deletions"].url == "http://127.0.0.1:9/base/api/2/deletions/users"


def test_device_mode_outputs_are_refused_before_anything_is_sent(fake_factory, settings_file):
    fake = fake_factory()
    lines = line("sdk.logEvent", {"eventType": "Viewed"}) + line("httpapi", event(1))
    result = send(fake, settings_file, "-", stdin=lines.encode())
    assert result.returncode == 2
    assert "sdk.logEvent" in result.stderr.decode() and "device-mode" in result.stderr.decode()
    assert fake.stats()["requests"] == 1, fake.stats()  # the /_stats call itself: nothing was sent


# ---------------------------------------------------------------- answers, each on its own

def test_413_splits_the_request_and_a_single_event_too_large_fails(fake_factory, settings_file, tmp_path):
    fake = fake_factory("--max-bytes", "20000")
    bodies = [event(i) for i in range(300)] + [event(300, event_properties={"blob": "x" * 30000})]
    result = send(fake, settings_file, "--failed", str(tmp_path / "failed.ndjson"),
                  str(write_events(tmp_path / "in.ndjson", bodies)))
    failed = failed_lines(tmp_path / "failed.ndjson")
    stats = fake.stats()
    assert stats["events"] == 300 and stats["statuses"].get("413", 0) >= 1, stats
    assert [f["body"]["insert_id"] for f in failed] == ["ins-300"], failed
    assert "413" in failed[0]["failed"], failed[0]
    assert result.returncode == 1


def test_429_holds_only_the_throttled_devices_and_keeps_their_order(fake_factory, settings_file, tmp_path):
    fake = fake_factory("--eps", "25")
    hot = [event(i, device="device-hot-1") for i in range(120)]
    cool = [event(1000 + i) for i in range(400)]
    bodies = [b for pair in zip(hot, cool[:120], strict=True) for b in pair] + cool[120:]
    started = time.monotonic()
    result = send(fake, settings_file, str(write_events(tmp_path / "in.ndjson", bodies)))
    stored = fake.get("/_events")
    stats = fake.stats()
    assert result.returncode == 0, result.stderr.decode()
    assert stats["events"] == len(bodies) and stats["statuses"].get("429", 0) >= 1, stats
    order = [e["insert_id"] for e in stored if e["device_id"] == "device-hot-1"]
    assert order == [b["insert_id"] for b in hot], order[:10]
    assert time.monotonic() - started < 120


def test_daily_quota_events_go_to_the_failed_file(fake_factory, settings_file, tmp_path):
    fake = fake_factory("--daily-quota", "3")
    first = [event(i, device=f"device-{i:04d}", user_id="user-quota") for i in range(3)]
    assert send(fake, settings_file, str(write_events(tmp_path / "first.ndjson", first))).returncode == 0
    later = [event(10 + i, device=f"device-{10 + i:04d}", user_id="user-quota") for i in range(2)]
    later += [event(20 + i, device=f"device-{20 + i:04d}", user_id="user-other") for i in range(2)]
    result = send(fake, settings_file, "--failed", str(tmp_path / "failed.ndjson"),
                  str(write_events(tmp_path / "in.ndjson", later)))
    failed = failed_lines(tmp_path / "failed.ndjson")
    stats = fake.stats()
    assert stats["events"] == 5, stats  # 3 of user-quota before, 2 of user-other
    assert sorted(f["body"]["insert_id"] for f in failed) == ["ins-10", "ins-11"], failed
    assert all("daily event quota" in f["failed"] for f in failed), failed
    assert result.returncode == 1


def test_400_partial_refusals_fail_those_events_and_resend_the_rest(fake_factory, settings_file, tmp_path):
    fake = fake_factory("--silence", "device-silent")
    bodies = [event(i) for i in range(50)]
    bodies[7] = event(7, device="abc")  # shorter than 5: events_with_invalid_id_lengths
    bodies[20] = event(20, device="device-silent")
    result = send(fake, settings_file, "--failed", str(tmp_path / "failed.ndjson"),
                  str(write_events(tmp_path / "in.ndjson", bodies)))
    failed = {f["body"]["insert_id"]: f["failed"] for f in failed_lines(tmp_path / "failed.ndjson")}
    assert set(failed) == {"ins-7", "ins-20"}, failed
    assert "device_id shorter than the minimum id length" in failed["ins-7"], failed
    assert "silenced" in failed["ins-20"], failed
    assert fake.stats()["events"] == 48, fake.stats()
    assert result.returncode == 1
    # each failed line is translate's line again (target, body, input): the file can be sent again
    first = failed_lines(tmp_path / "failed.ndjson")[0]
    assert {"target", "body", "input", "line", "failed"} <= set(first), first


def test_an_invalid_api_key_stops_the_run_and_says_so(fake_factory, tmp_path):
    fake = fake_factory()
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"apiKey": "wrongwrongwrongwrongwrong1234567"}))
    bodies = [event(i) for i in range(5000)]
    result = send(fake, wrong, "--concurrency", "1", str(write_events(tmp_path / "in.ndjson", bodies)))
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert "refuses the API key" in stderr and "wrongwrongwrongwrongwrong1234567" not in stderr, stderr
    assert "wrongwro" not in stderr, stderr  # the fake echoes the key's first 8 characters: not printed either
    assert "not sent" in stderr.splitlines()[-1], stderr
    posts = [r for r in fake.get("/_requests") if r["method"] == "POST"]
    assert len(posts) == 1, len(posts)  # nothing more was sent after the refusal


def test_5xx_and_dropped_connections_are_retried_until_delivered(fake_factory, settings_file, tmp_path):
    fake = fake_factory("--fail-rate", "0.3", "--drop-rate", "0.15", "--seed", "5")
    bodies = [event(i) for i in range(20_000)]
    result = send(fake, settings_file, "--concurrency", "2", str(write_events(tmp_path / "in.ndjson", bodies)))
    stats = fake.stats()
    summary = result.stderr.decode().strip().splitlines()[-1]
    retries = int(re.search(r"(\d+) retries", summary).group(1))
    posts = sum(1 for r in fake.get("/_requests") if r["method"] == "POST")
    answered = sum(stats["statuses"].values()) - 1  # the /_stats call's own 200 is not yet counted there
    assert result.returncode == 0, result.stderr.decode()
    assert stats["events"] == 20_000, stats
    assert stats["statuses"].get("500", 0) + stats["statuses"].get("503", 0) >= 1 and posts > answered, (stats, posts)
    assert retries >= 1 and f"{posts} requests" in summary, (summary, posts)  # the faults, retried


def test_retries_are_bounded_and_then_the_lines_fail(fake_factory, settings_file, tmp_path):
    fake = fake_factory("--fail-rate", "1.0", "--seed", "1")
    result = send(fake, settings_file, "--give-up-after", "0.5", "--failed", str(tmp_path / "failed.ndjson"),
                  str(write_events(tmp_path / "in.ndjson", [event(1), event(2)])))
    failed = failed_lines(tmp_path / "failed.ndjson")
    assert result.returncode == 1
    assert len(failed) == 2 and all(f["failed"].startswith("gave up after") for f in failed), failed


def test_an_event_without_insert_id_is_not_sent(fake_factory, settings_file, tmp_path):
    fake = fake_factory()
    body = event(1)
    del body["insert_id"]
    result = send(fake, settings_file, "--failed", str(tmp_path / "failed.ndjson"),
                  str(write_events(tmp_path / "in.ndjson", [body, event(2)])))
    failed = failed_lines(tmp_path / "failed.ndjson")
    assert fake.stats()["events"] == 1 and len(failed) == 1 and "insert_id" in failed[0]["failed"], failed
    assert result.returncode == 1


def test_a_failed_file_is_sent_again_once_the_cause_is_fixed(fake_factory, tmp_path):
    fake = fake_factory()
    keyless = tmp_path / "no-secret.json"
    keyless.write_text(json.dumps({"apiKey": KEY}))
    lines = line("deletions", {"user_ids": ["user-12345"], "requester": "segment"}) + line("httpapi", event(1))
    failed = tmp_path / "failed.ndjson"
    first = send(fake, keyless, "--failed", str(failed), "-", stdin=lines.encode())
    assert first.returncode == 1 and "secretKey" in failed_lines(failed)[0]["failed"], failed.read_text()
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps({"apiKey": KEY, "secretKey": SECRET}))
    again = send(fake, fixed, str(failed))
    assert again.returncode == 0, again.stderr.decode()
    assert fake.get("/_store")["deletions"] == [{"user_ids": ["user-12345"], "requester": "segment"}]


def test_secrets_appear_only_in_the_request_fields_that_carry_them(fake_factory, settings_file, tmp_path):
    fake = fake_factory("--silence", "device-silent")
    lines = (line("httpapi", event(1)) + line("httpapi", event(2, device="device-silent"))
             + line("identify", {"user_id": "user-12345", "user_properties": {"a": 1}})
             + line("deletions", {"user_ids": ["user-12345"], "requester": "segment"}))
    failed, checkpoint = tmp_path / "failed.ndjson", tmp_path / "run.ckpt"
    result = send(fake, settings_file, "--failed", str(failed), "--checkpoint", str(checkpoint), "-",
                  stdin=lines.encode())
    written = result.stdout + result.stderr + failed.read_bytes() + checkpoint.read_bytes()
    assert KEY.encode() not in written and SECRET.encode() not in written
    for request in fake.get("/_requests"):
        if request["method"] != "POST":
            continue
        authorization = request["headers"].get("Authorization", "")
        if request["path"] == "/api/2/deletions/users":
            assert authorization.startswith("Basic "), request
        else:
            assert authorization == "", request  # the key travels in the body only
    assert KEY not in json.dumps([r for r in fake.get("/_requests") if r["path"] != "/api/2/deletions/users"])


# ---------------------------------------------------------------- nothing lost, nothing counted twice

def _replay(count: int, devices: int) -> list[dict]:
    bodies = [event(i, device=f"device-{i % devices:05d}", user_id=f"user-{i % devices:05d}") for i in range(count)]
    for i in range(0, count, 997):  # some the fake refuses: ids too short
        bodies[i] = event(i, device="abc")
    return bodies


def test_a_100k_replay_with_faults_arrives_complete(fake_factory, settings_file, tmp_path):
    fake = fake_factory("--fail-rate", "0.1", "--drop-rate", "0.05", "--slow-rate", "0.02", "--slow", "0.3",
                        "--eps", "400", "--seed", "7")
    bodies = _replay(100_000, 3000)
    refused = {b["insert_id"] for b in bodies if b["device_id"] == "abc"}
    started = time.monotonic()
    result = send(fake, settings_file, "--failed", str(tmp_path / "failed.ndjson"),
                  str(write_events(tmp_path / "in.ndjson", bodies)), timeout=600)
    elapsed = time.monotonic() - started
    stored = {e["insert_id"] for e in fake.get("/_events")}
    failed = {f["body"]["insert_id"] for f in failed_lines(tmp_path / "failed.ndjson")}
    stats = fake.stats()
    expected = {b["insert_id"] for b in bodies} - refused
    assert stored == expected, (f"stored {len(stored)}, expected {len(expected)}, missing "
                                f"{len(expected - stored)}, extra {len(stored - expected)}; {stats}")
    assert failed == refused, (len(failed), len(refused))
    assert len(stored) + len(failed) == 100_000
    summary = result.stderr.decode().strip().splitlines()[-1]
    assert f"100000 lines read, {len(expected)} delivered, {len(refused)} failed" in summary, (summary, elapsed)


def test_a_run_killed_midway_resumes_from_its_checkpoint(fake_factory, settings_file, tmp_path):
    fake = fake_factory("--slow-rate", "1.0", "--slow", "0.05", "--seed", "2")
    bodies = _replay(40_000, 2000)
    refused = {b["insert_id"] for b in bodies if b["device_id"] == "abc"}
    source = write_events(tmp_path / "in.ndjson", bodies)
    checkpoint, failed = tmp_path / "replay.ckpt", tmp_path / "failed.ndjson"
    command = [sys.executable, "-m", "engine.cli", "send", "--settings", str(settings_file), "--endpoint", fake.url,
               "--checkpoint", str(checkpoint), "--failed", str(failed), "--concurrency", "2", str(source)]
    run = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while fake.stats()["events"] < 8000 and time.monotonic() < deadline:
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.wait(10)
    before = fake.stats()["events"]
    assert 0 < before < 40_000 - len(refused), before
    result = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=300)
    assert result.returncode == 1, result.stderr.decode()  # the refused ones failed
    stored = {e["insert_id"] for e in fake.get("/_events")}
    expected = {b["insert_id"] for b in bodies} - refused
    assert stored == expected, (f"stored {len(stored)} of {len(expected)}; killed at {before}", fake.stats())
    summary = result.stderr.decode().strip().splitlines()[-1]
    assert "skipped (finished before: the checkpoint)" in summary, summary
    stats = fake.stats()
    assert stats["duplicates"] < 40_000 - before, stats  # resumed: what was acknowledged was not sent again


def test_a_checkpoint_of_other_input_is_refused(fake_factory, settings_file, tmp_path):
    fake = fake_factory()
    checkpoint = tmp_path / "c.ckpt"
    assert send(fake, settings_file, "--checkpoint", str(checkpoint),
                str(write_events(tmp_path / "a.ndjson", [event(1)]))).returncode == 0
    other = send(fake, settings_file, "--checkpoint", str(checkpoint),
                 str(write_events(tmp_path / "b.ndjson", [event(2)])))
    assert other.returncode == 2 and "other input" in other.stderr.decode(), other.stderr.decode()


def test_sigint_stops_sending_and_the_checkpoint_resumes(fake_factory, settings_file, tmp_path):
    fake = fake_factory("--slow-rate", "1.0", "--slow", "0.1")
    bodies = [event(i) for i in range(20_000)]
    source, checkpoint = write_events(tmp_path / "in.ndjson", bodies), tmp_path / "c.ckpt"
    command = [sys.executable, "-m", "engine.cli", "send", "--settings", str(settings_file), "--endpoint", fake.url,
               "--checkpoint", str(checkpoint), "--concurrency", "1", str(source)]
    run = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE)
    while fake.stats()["events"] < 2000:
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, stderr.decode()
    assert "not sent" in stderr.decode().strip().splitlines()[-1], stderr.decode()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=300)
    assert result.returncode == 0
    stats = fake.stats()
    assert stats["events"] == 20_000 and stats["duplicates"] == 0, stats


if os.name != "posix":  # pragma: no cover
    pytestmark = pytest.mark.skip("signals as POSIX has them")


def test_a_checkpoint_cut_short_by_a_kill_keeps_its_whole_lines(tmp_path):
    from engine.checkpoint import Checkpoint, CheckpointError

    path = tmp_path / "c.ckpt"
    first = line("httpapi", event(1)).encode()
    made = Checkpoint(path)
    made.begin(first)
    made.record([1, 2, 3, 5])
    made.record([4, 9])
    made.close()
    with path.open("ab") as torn:
        torn.write(b"d 6-8")  # the write a SIGKILL cut short: no newline
    resumed = Checkpoint(path)
    assert [n for n in range(1, 11) if resumed.finished(n)] == [1, 2, 3, 4, 5, 9], path.read_text()
    assert resumed.resumed == 6
    resumed.begin(first)  # rewritten merged
    resumed.close()
    assert path.read_text().splitlines()[-1] == "d 1-5,9", path.read_text()
    (tmp_path / "other").write_text("not a checkpoint\n")
    with pytest.raises(CheckpointError, match="not a seg2amp send checkpoint"):
        Checkpoint(tmp_path / "other")


def test_lines_that_are_not_outputs_fail_alone(fake_factory, settings_file, tmp_path):
    fake = fake_factory()
    text = line("httpapi", event(1)) + "not json\n" + '{"target": "httpapi", "body": [1]}\n' + line("httpapi", event(2))
    failed = tmp_path / "failed.ndjson"
    result = send(fake, settings_file, "--failed", str(failed), "-", stdin=text.encode())
    records = failed_lines(failed)
    assert [r["line"] for r in records] == [2, 3], records
    assert all(r["failed"].startswith("not a translate output line") for r in records), records
    assert records[0]["text"] == "not json", records
    assert fake.stats()["events"] == 2 and result.returncode == 1


def test_several_inputs_gzip_blank_lines_and_a_last_line_without_newline(fake_factory, settings_file, tmp_path):
    import gzip

    fake = fake_factory()
    first = tmp_path / "a.ndjson.gz"
    with gzip.open(first, "wt") as out:
        out.write(line("httpapi", event(1)) + "\n\n" + line("httpapi", event(2)))
    second = tmp_path / "b.ndjson"
    second.write_text("  \n" + line("httpapi", event(3)) + "not json")  # no newline at the end
    failed = tmp_path / "failed.ndjson"
    result = send(fake, settings_file, "--failed", str(failed), str(first), str(second))
    assert fake.stats()["events"] == 3, fake.stats()
    assert [r["line"] for r in failed_lines(failed)] == [4], failed.read_text()  # blank lines are not counted
    assert "4 lines read, 3 delivered, 1 failed" in result.stderr.decode()


def test_a_second_ctrl_c_stops_at_once_and_the_lines_are_sent_on_resuming(fake_factory, settings_file, tmp_path):
    fake = fake_factory("--slow-rate", "1.0", "--slow", "20")
    source, checkpoint = write_events(tmp_path / "in.ndjson", [event(i) for i in range(50)]), tmp_path / "c.ckpt"
    command = [sys.executable, "-m", "engine.cli", "send", "--settings", str(settings_file), "--endpoint", fake.url,
               "--checkpoint", str(checkpoint), str(source)]
    run = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not any(r["method"] == "POST" for r in fake.get("/_requests")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    run.send_signal(signal.SIGINT)
    time.sleep(0.3)
    started = time.monotonic()
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=15)
    assert run.returncode == 130 and time.monotonic() - started < 10, (run.returncode, stderr.decode())
    assert "50 not sent" in stderr.decode().strip().splitlines()[-1], stderr.decode()
    fast = fake_factory()
    again = subprocess.run([*command[:-3], "--endpoint", fast.url, "--checkpoint", str(checkpoint), str(source)],
                           cwd=ROOT, capture_output=True, timeout=60)
    assert again.returncode == 0 and fast.stats()["events"] == 50, (again.stderr.decode(), fast.stats())


def test_an_endpoint_that_never_answers_is_said_at_once_and_its_lines_fail_when_retries_end(settings_file, tmp_path):
    import socket

    failed = tmp_path / "failed.ndjson"
    with socket.socket() as held:  # a port of this test's own, bound and not listening: connections refused
        held.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{held.getsockname()[1]}"
        result = send(None, settings_file, "--endpoint", url, "--give-up-after", "1",
                      "--failed", str(failed), str(write_events(tmp_path / "in.ndjson", [event(1), event(2)])))
    stderr = result.stderr.decode()
    assert f"warning: no answer from {url}/2/httpapi (ConnectError): retrying" in stderr, stderr
    assert result.returncode == 1 and [f["failed"][:13] for f in failed_lines(failed)] == ["gave up after"] * 2
