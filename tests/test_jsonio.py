"""Fast JSON in and out (orjson) gives exactly what the standard library gives: the same values
read, the same values written (the same text too, but for floats below 1e-4), the same refusals."""

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


def _same_written(fast, reference) -> bool:
    """Two outcomes of writing: the same refusal, or texts of the same value (floats read back
    the same, to the bit)."""
    if fast[0] != reference[0] or fast[0] == "error":
        return fast == reference
    return repr(json.loads(fast[1])) == repr(json.loads(reference[1]))


def test_written_values_are_the_standard_librarys_and_the_text_too_but_for_tiny_floats():
    for number in _numbers(3000, 5):
        value = {"n": number, "list": [number, {"deep": number}], "text": "é \u2028 \x00 \" \\ / 😀"}
        fast, reference = _outcome(jsonio.dumps, value), _outcome(_reference_dumps, value)
        assert _same_written(fast, reference), number
        fast_bytes = _outcome(jsonio.dumps_bytes, value)
        assert _same_written(fast_bytes, _outcome(lambda v: _reference_dumps(v).encode(), value)), number
        tiny = isinstance(number, float) and 0 < abs(number) < 1e-4
        if not tiny:  # the very text json.dumps writes
            assert fast == reference, number


def test_tiny_floats_are_written_by_orjson_as_the_same_numbers():
    assert jsonio.dumps({"a": 1e-05}) == '{"a":0.00001}'
    assert json.loads(jsonio.dumps({"a": 1e-05}))["a"] == 1e-05


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), {"a": [None, {"b": float("nan")}]},
                                   [None, float("-inf")]])
def test_nan_and_infinity_are_refused_as_the_standard_library_refuses_them(value):
    with pytest.raises(ValueError):
        jsonio.dumps_bytes(value)
    assert _outcome(jsonio.dumps, value) == _outcome(_reference_dumps, value)


def test_null_and_the_text_null_are_written_as_they_are():
    assert jsonio.dumps_bytes({"a": None, "b": "null", "c": [1.5, None]}) == b'{"a":null,"b":"null","c":[1.5,null]}'


def test_read_values_are_the_standard_librarys():
    texts = [json.dumps({"n": number}) for number in _numbers(2000, 6)]
    texts += ['{"a":NaN}', '{"a":1e400}', '{"a":"\\ud800"}', "[1,2", '{"a":1,"a":2}', '"\\u0000"', ' {"a" : 1 } ',
              '{"id":"12345678901234567890123"}', "123456789012345678901234567890", "-9223372036854775809",
              "18446744073709551616", "1.00000000000000000001", "5e-324", "2.2250738585072014e-308",
              "1.7976931348623157e308", "1.7976931348623159e308", "0.1e1", "-0", "-0.0", "1E+2", "1e-400",
              '"\\u00e9"', '{"a":"\\ud83d\\ude00"}', '{"a":"\\udc80x"}', '{"a":"\\u0000"}', "[1,]", "{}",
              '{"a":[1,2,{"b":null}]}', "  7  ", "\ufeff{}", '{"a":1e}', '"\t"']
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
