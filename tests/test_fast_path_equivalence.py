"""What the command's fast path gives is what the reference gives, message for message: the same
output values and the same refusal and warning reasons.

The fast path is the one ``seg2amp translate`` takes: the reader's parser (orjson, with its
guards), the input schema's yes/no (jsonschema-rs), the generated plan with its output checks
written in, and orjson writing. The reference is the standard library's strict parser, the walk
of the rule nodes (``engine.run.walk``: jsonschema's reasons, each construct's ``evaluate``) and
``json.dumps``. Compared on the bench corpus, an edge-case corpus (big integers, tiny and huge
floats, timestamps with offsets and fractions, non-ASCII digits, text ending in newlines) and
every documented example's message. Values are compared, not bytes: orjson writes floats below
1e-4 as other text for the same number (``0.00001`` for ``1e-05``)."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest

from engine.cli import main
from engine.errors import Rejected
from engine.examples import load_example
from engine.reader import _loads as reference_loads
from engine.run import walk
from support import FIXTURES, ROOT, translator

sys.path.insert(0, str(ROOT / "bench"))
import corpus  # noqa: E402

PLATFORMS = ["server", "web", "ios", "android"]
SETTINGS = {"trackNamedPages": True, "trackAllPages": True, "traitsToIncrement": ["logins"], "minIdLength": 5,
            "trackRevenuePerProduct": True}

TIMESTAMPS = ["2026-11-01T10:00:00+05:30", "2026-11-01T10:00:00.123456Z", "2026-11-01T10:00:00.1-08:00",
              "2026-11-01T10:00:00.123456789Z", "2026-11-01 10:00:00Z", "2026-11-01", "20261101T100000Z",
              "2026-13-01T00:00:00Z", "2026-11-01T10:00:00z", "2026-11-01T24:00:00Z", "\u0662026-11-01T10:00:00Z",
              "1762000000000", "2026-11-01T10:00:00.5+00:00"]
NUMBERS = [2**70, -(2**64), 12345678901234567890, 10**30, 1e-7, 5e-324, 1e-5, 1e308, 1.7e308, -0.0, "\u0661\u0662",
           "\uff11\uff12", "\u0663.5", "1e400", "12\n", " 7 "]
TEXTS = ["Signed In\n", "ab", "Pricing\n\n", "user-0001\n", "caf\u00e9\r\n", "\u2028line", "x" * 1100]


def _set(message: dict, path: tuple[str, ...], value) -> dict:
    changed = copy.deepcopy(message)
    place = changed
    for key in path[:-1]:
        place = place.setdefault(key, {}) if isinstance(place.get(key, {}), dict) else {}
    place[path[-1]] = value
    return changed


def edge_messages() -> list[dict]:
    base = list(corpus.messages(60, seed=3))
    found = []
    for number, message in enumerate(base):
        kind = message["type"]
        for value in NUMBERS[number % len(NUMBERS)::7]:
            if kind == "track":
                found.append(_set(message, ("properties", "revenue"), value))
                found.append(_set(message, ("properties", "price"), value))
                products = message["properties"].get("products")
                if products:
                    changed = copy.deepcopy(message)
                    changed["properties"]["products"][0]["quantity"] = value
                    changed["properties"]["products"][-1]["price"] = value
                    found.append(changed)
            elif kind == "identify":
                found.append(_set(message, ("traits", "logins"), value))
            found.append(_set(message, ("context", "location", "latitude"), value))
            found.append(_set(message, ("properties", "count"), value) if kind != "identify" else
                         _set(message, ("traits", "big"), value))
        for stamp in TIMESTAMPS[number % len(TIMESTAMPS)::5]:
            found.append(_set(message, ("timestamp",), stamp))
            found.append(_set(message, ("originalTimestamp",), stamp))
        for text in TEXTS[number % len(TEXTS)::4]:
            field = {"track": ("event",), "page": ("name",), "screen": ("name",), "identify": ("traits", "email")}
            found.append(_set(message, field[kind], text))
            found.append(_set(message, ("userId",), text))
    return base + found


def _reference(platform: str, lines: list[bytes]) -> tuple[dict, dict]:
    """Per message number: its outputs' values, or its refusal; and its warnings."""
    ruleset = translator(platform, SETTINGS).ruleset
    outputs, refusals = {}, {}
    for index, line in enumerate(lines, 1):
        message = reference_loads(line.decode("utf-8"))
        warnings: list = []
        try:
            made = walk(ruleset, message, index, warnings=warnings)
        except Rejected as rejected:
            refusals[index] = ("error", rejected.message, rejected.path)
            continue
        try:
            text = [json.dumps(dict(output, input=index), ensure_ascii=False, allow_nan=False) for output in made]
        except ValueError:
            refusals[index] = ("error", "not valid JSON", "$")
            continue
        if text:  # a message with no outputs writes no line
            outputs[index] = [json.loads(item) for item in text]
        if warnings:
            refusals[index] = ("warnings", tuple((w.message, w.path) for w in warnings))
    return outputs, refusals


def _command(platform: str, path: Path, tmp_path: Path) -> tuple[dict, dict]:
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({**json.loads((FIXTURES / "base-settings.json").read_text()), **SETTINGS}))
    out, rejects = tmp_path / f"{platform}.out", tmp_path / f"{platform}.rejects"
    main(["translate", "-p", platform, "-s", str(settings), "--jobs", "1", "-o", str(out), "--rejects", str(rejects),
          str(path)])
    outputs: dict = {}
    for line in out.read_text(encoding="utf-8").split("\n")[:-1]:
        output = json.loads(line)
        outputs.setdefault(output["input"], []).append(output)
    refusals: dict = {}
    for line in rejects.read_text(encoding="utf-8").split("\n")[:-1]:
        record = json.loads(line)
        if "error" in record:
            reason = "not valid JSON" if "is not valid JSON" in record["error"] else record["error"]
            refusals[record["input"]] = ("error", reason, record["path"])
        else:
            found = refusals.setdefault(record["input"], ("warnings", ()))
            refusals[record["input"]] = ("warnings", (*found[1], (record["warning"], record["path"])))
    return outputs, refusals


def _compare(platform: str, messages: list, tmp_path: Path) -> int:
    path = tmp_path / f"{platform}.ndjson"
    lines = [json.dumps(message, ensure_ascii=False).encode("utf-8") for message in messages]
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    fast, fast_refusals = _command(platform, path, tmp_path)
    reference, reference_refusals = _reference(platform, lines)
    assert fast_refusals == reference_refusals
    assert set(fast) == set(reference)
    for index, outputs in reference.items():
        assert repr(fast[index]) == repr(outputs), f"message {index}: {messages[index - 1]}"
    return len(reference)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_bench_corpus_translates_as_the_reference_translates_it(platform, tmp_path):
    assert _compare(platform, list(corpus.messages(1500, seed=11)), tmp_path) > 1000


@pytest.mark.parametrize("platform", PLATFORMS)
def test_edge_cases_translate_and_are_refused_as_the_reference_does(platform, tmp_path):
    messages = edge_messages()
    translated = _compare(platform, messages, tmp_path)
    assert 0 < translated < len(messages)  # some are refused, most are not


@pytest.mark.parametrize("platform", PLATFORMS)
def test_documented_messages_translate_as_the_reference_translates_them(platform, tmp_path):
    messages = [case.message for example in sorted(FIXTURES.glob("*.yaml"))
                for case in load_example(example).cases if isinstance(case.message, dict)]
    assert len(messages) > 100
    assert _compare(platform, messages, tmp_path) > 0
