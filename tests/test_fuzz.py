"""Fuzzing the command: 10,000 mutated messages (wrong types, dropped fields, odd ids, huge numbers
and strings, deep nesting, broken lines, stray bytes), translated on every platform with one
process and with two workers. Every non-blank line ends as a message translated or rejected, the
summary says so, ``--jobs`` changes nothing, and no output breaks a limit Amplitude sets."""

from __future__ import annotations

import copy
import json
import os
import random
import re
import subprocess
import sys

import pytest

from support import API_KEY, ROOT

sys.path.insert(0, str(ROOT / "bench"))
import corpus  # noqa: E402

COUNT = 10_000
ODD = [None, "", " ", "     ", "null", "NULL", "abc", 0, -1, 1.5e12, 1500000000000.0, -0.0, 10 ** 30, 10 ** 400,
       1e308, True, [], {}, [1, "x"], {"a": {"b": None}}, "x" * 1100, "\u2028", "é" * 600, "2016-13-45T00:00:00Z"]
BYTE_LINES = [b'{"type":"track",', b"[1,2]", b'{"type":"track","event":"E","userId":"user-12345"} 5',
              b'{"type":"track","event":"\xff","userId":"user-12345"}', b"\xc2\xa0", b"\x0b", b"NaN",
              b'{"type":"track","event":"E","userId":"user-12345","properties":{"v":NaN}}',
              b'{"type":"track",\r"event":"E","userId":"user-12345"}', b"\x00", b"\xef\xbb\xbf{}"]


def _mutated(message: dict, rng: random.Random) -> dict:
    """The message with one to three things changed somewhere in it."""
    message = copy.deepcopy(message)
    for _ in range(rng.randint(1, 3)):
        target, key = message, None
        while isinstance(target, dict) and target:
            key = rng.choice(sorted(target))
            if not isinstance(target[key], dict) or rng.random() < 0.4:
                break
            target = target[key]
        if not isinstance(target, dict) or key is None:
            continue
        roll = rng.random()
        if roll < 0.25:
            target.pop(key, None)
        elif roll < 0.85:
            target[key] = copy.deepcopy(rng.choice(ODD))
        elif roll < 0.95:
            target[key] = f"@deep{rng.choice([39, 41, 600, 2000])}@"  # written out by _deep
        else:
            target[key] = {f"k{number}": "v" * 100 for number in range(300)}
    return message


def _deep(text: str, rng: random.Random) -> str:
    """The line with each ``"@deepN@"`` written as a value nested N levels deep (objects and arrays
    mixed), which json.dumps could not write."""
    while '"@deep' in text:
        start = text.index('"@deep')
        end = text.index('@"', start + 2) + 2
        levels = int(text[start + 6:end - 2])
        opening = [rng.choice(['{"a":', "["]) for _ in range(levels)]
        closing = "".join("}" if part.startswith("{") else "]" for part in reversed(opening))
        text = text[:start] + "".join(opening) + '"leaf"' + closing + text[end:]
    return text


def _corpus(path, seed: int) -> int:
    """Write the fuzz corpus; the number of its non-blank lines."""
    rng = random.Random(seed)
    lines = []
    for message in corpus.messages(COUNT, seed=seed):
        roll = rng.random()
        if roll < 0.02:
            lines.append(rng.choice(BYTE_LINES))
        elif roll < 0.03:
            lines.append(b"")
        elif roll < 0.0315:  # properties or traits of about a megabyte, around one Amplitude request
            big = {f"k{number}": "v" * 1000 for number in range(rng.choice([990, 1010]))}
            lines.append(json.dumps({**message, "properties": big, "traits": big}).encode())
        else:
            lines.append(_deep(json.dumps(_mutated(message, rng) if roll < 0.8 else message), rng).encode())
    path.write_bytes(b"\n".join(lines) + b"\n")
    return sum(1 for line in lines if line.strip(b" \t\r"))


def _run(path, platform: str, jobs: int, folder) -> tuple[int, bytes, bytes, str]:
    settings = folder / "settings.json"
    settings.write_text(json.dumps({"apiKey": API_KEY, "secretKey": "secret-1234567890",
                                    "trackRevenuePerProduct": True, "trackAllPages": True}))
    out, rejects = folder / f"{platform}-{jobs}.out", folder / f"{platform}-{jobs}.rejects"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "engine.cli", "translate", "-p", platform, "-s", str(settings),
                             "--jobs", str(jobs), "-o", str(out), "--rejects", str(rejects), "--format", "ndjson",
                             str(path)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    return result.returncode, out.read_bytes(), rejects.read_bytes(), result.stderr


def _walk(value, depth=0):
    """Every (depth, value) inside a value."""
    yield depth, value
    if isinstance(value, dict):
        for child in value.values():
            yield from _walk(child, depth + 1)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child, depth + 1)


def _limits_broken(body: dict) -> list[str]:
    """What in a cloud-mode output body breaks a limit Amplitude sets (amplitude-api.md 1.2, 1.3, 1.6, 7)."""
    problems = []
    for key, value in body.items():
        if isinstance(value, str) and len(value) > 1024:
            problems.append(f"{key} longer than 1024")
        if isinstance(value, int) and not isinstance(value, bool) and not -2 ** 63 <= value < 2 ** 63:
            problems.append(f"{key} outside 64 bits")
        if key in ("session_id", "time") and not isinstance(value, int):
            problems.append(f"{key} not an integer")
        if key in ("user_id", "device_id") and (not isinstance(value, str) or not value.strip() or len(value) < 5):
            problems.append(f"{key} {value!r} is not an id Amplitude takes")
        if key in ("event_properties", "user_properties", "group_properties"):
            deepest = max(depth for depth, item in _walk(value) if isinstance(item, (dict, list)))
            if deepest > 40:
                problems.append(f"{key} nested {deepest} deep")
    if len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()) > 1_000_000:
        problems.append("the body is over 1,000,000 bytes")
    return problems


@pytest.fixture(scope="module")
def fuzz_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "fuzz.ndjson"
    return path, _corpus(path, seed=41), folder


@pytest.mark.parametrize("platform", ["server", "web", "ios", "android"])
def test_every_line_is_accounted_for_and_jobs_change_nothing(fuzz_file, platform):
    path, lines, folder = fuzz_file
    code, out, rejects, stderr = _run(path, platform, 1, folder)
    assert code == 1, stderr[-2000:]
    assert "Traceback" not in stderr
    outputs = [json.loads(line) for line in out.splitlines()]
    refused = [json.loads(line) for line in rejects.splitlines()]
    with_outputs = {output["input"] for output in outputs}
    rejected = {record["input"] for record in refused}
    assert not with_outputs & rejected  # no output for a rejected message
    assert len(refused) == len(rejected)  # no message rejected twice
    assert all({"input", "error", "path"} <= record.keys() for record in refused)
    summary = re.fullmatch(r"seg2amp: (\d+) messages read, (\d+) translated, (\d+) rejected, (\d+) outputs written",
                           stderr.strip().splitlines()[-1])
    read, translated, rejects_counted, written = map(int, summary.groups())
    assert read == lines  # every non-blank line is a message, translated or rejected
    assert translated + rejects_counted == read and rejects_counted == len(rejected) and written == len(outputs)
    assert rejected <= set(range(1, read + 1)) and with_outputs <= set(range(1, read + 1))
    assert [output["input"] for output in outputs] == sorted(output["input"] for output in outputs)
    assert b"secret-1234567890" not in out + rejects + stderr.encode()
    if platform == "server":
        broken = [(output["input"], problem) for output in outputs if output["target"] == "httpapi"
                  for problem in _limits_broken(output["body"])]
        assert not broken, broken[:10]
    assert (code, out, rejects) == _run(path, platform, 2, folder)[:3]  # --jobs 2: byte for byte the same
