"""Fast JSON in and out (orjson) gives exactly what the standard library gives: the same values
read, the same text written, the same refusals."""

from __future__ import annotations

import json
import random

import pytest

from engine import jsonio


def _reference_dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _outcome(function, value):
    try:
        return ("value", function(value))
    except Exception as exc:  # the same kind of refusal
        return ("error", type(exc).__name__)


def _numbers(count: int, seed: int) -> list:
    rnd = random.Random(seed)
    numbers = [0.0, -0.0, 1e16, 9999999999999998.0, 1e-4, 0.00009999, 5e-324, 1.7976931348623157e308, 0.1,
               2**63 - 1, 2**63, -(2**63) - 1, 2**64, 2**70, float("nan"), float("inf"), -float("inf")]
    for _ in range(count):
        numbers.append(rnd.random() * 10 ** rnd.randint(-30, 30) * rnd.choice([1, -1]))
        numbers.append(float(rnd.randint(-10**17, 10**17)))
        numbers.append(rnd.randint(-10**25, 10**25))
    return numbers


def test_written_text_is_the_standard_librarys():
    for number in _numbers(3000, 5):
        value = {"n": number, "list": [number, {"deep": number}], "text": "é \u2028 \x00 \" \\ / 😀"}
        assert _outcome(jsonio.dumps, value) == _outcome(_reference_dumps, value), number
        assert _outcome(jsonio.dumps_bytes, value) == _outcome(lambda v: _reference_dumps(v).encode(), value)


@pytest.mark.parametrize("value", [{"lone": "\ud800"}, {1: "int key"}, {"set": {1}}, [1.5, ("tuple",)]])
def test_values_orjson_refuses_or_writes_differently_are_written_by_the_reference(value):
    assert _outcome(jsonio.dumps, value) == _outcome(_reference_dumps, value)
    assert _outcome(jsonio.dumps_bytes, value) == _outcome(lambda v: _reference_dumps(v).encode(), value)


def test_read_values_are_the_standard_librarys():
    texts = [json.dumps({"n": number}) for number in _numbers(2000, 6)]
    texts += ['{"a":NaN}', '{"a":1e400}', '{"a":"\\ud800"}', "[1,2", '{"a":1,"a":2}', '"\\u0000"', ' {"a" : 1 } ',
              '{"id":"12345678901234567890123"}', "123456789012345678901234567890", "-9223372036854775809",
              "18446744073709551616", "1.00000000000000000001"]
    for text in texts:
        fast = _outcome(jsonio.loads, text)
        reference = _outcome(json.loads, text)
        assert fast == reference and repr(fast) == repr(reference), text


def test_deep_nesting_is_read_as_the_reference_reads_it():
    from engine.reader import _loads

    for depth in (400, 600, 980, 990, 1000, 1024, 1030):
        text = "[" * depth + "]" * depth
        assert _outcome(lambda t: jsonio.loads(t, _loads), text) == _outcome(_loads, text), depth


def test_an_output_too_deep_to_write_rejects_its_message_instead_of_stopping_the_run():
    from engine.batches import output_lines
    from engine.errors import Rejected

    deep: list = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(Rejected) as info:
        output_lines([{"target": "t", "body": {"deep": deep}}], 7)
    assert "nested too deeply" in info.value.message and info.value.index == 7
