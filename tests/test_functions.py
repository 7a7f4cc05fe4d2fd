"""The generic helpers rules use: JMESPath functions and conversions."""

from __future__ import annotations

import random
import re

import jmespath
import pytest

from engine import functions
from engine.functions import RuleFunctions, epoch_millis, to_number

OPTIONS = jmespath.Options(custom_functions=RuleFunctions({"keys": ["a", "b"], "n": 3}))


def search(expression, data):
    return jmespath.search(expression, data, OPTIONS)


@pytest.mark.parametrize("text, millis", [
    ("1970-01-01T00:00:00Z", 0),
    ("2016-10-17T00:30:08.276Z", 1476664208276),
    ("2016-10-17T00:30:08,276Z", 1476664208276),
    ("2016-10-17 00:30:08.276+00:00", 1476664208276),
    ("2016-10-17T00:30:08.2Z", 1476664208200),
    ("2016-10-17T06:00:08.276+0530", 1476664208276),
    ("2016-10-17", 1476662400000),
    ("2016-10", 1475280000000),
    ("1969-12-31T23:59:59.999Z", -1),
    ("not a date", None),
    (1476664208276, 1476664208276),
    (True, None),
    (None, None),
])
def test_epoch_millis(text, millis):
    assert epoch_millis(text) == millis


def test_epoch_millis_fast_paths_agree_with_the_general_path(monkeypatch):
    """The fast paths for the usual timestamp shapes (datetime.fromisoformat in one call, then the
    arithmetic of the common shape) give what the general path gives, including refusing days that
    do not exist, leap seconds and impossible offsets, and taking the other ISO 8601 forms."""
    rnd = random.Random(3)
    samples = ["2024-02-29T12:00:00Z", "2023-02-29T12:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T23:59:60Z",
               "2024-01-01T10:00:00+2400", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999-23:59",
               "20240101T101010Z", "2024-W01-1", "2024-032", "2024-01-01T10:00", "2024-01-01T10:00:00+05:30:15",
               "2024-01-01T10:00:00.1234567Z", "\uff12024-01-01T00:00:00Z", "2024-01-01T10:00:00 Z", " 2024-01-01 "]
    for _ in range(5000):
        samples.append(f"{rnd.choice([1, 1969, 2000, 2024, 9999]):04d}-{rnd.randint(0, 13):02d}-"
                       f"{rnd.randint(0, 32):02d}{rnd.choice('T t')}{rnd.randint(0, 25):02d}:{rnd.randint(0, 61):02d}:"
                       f"{rnd.randint(0, 61):02d}{rnd.choice(['', '.5', '.123456789', ',42'])}"
                       f"{rnd.choice(['', 'Z', 'z', '+00:00', '-05:30', '+2359', '+24:00', '-23:61'])}")
    fast = [epoch_millis(text) for text in samples]

    def refuse(text):
        raise ValueError(text)

    monkeypatch.setattr(functions, "_fast_parse", refuse)
    assert fast == [epoch_millis(text) for text in samples]  # the arithmetic, then the general path
    monkeypatch.setattr(functions, "_COMMON", re.compile(r"(?!)"))  # the general path only
    assert fast == [epoch_millis(text) for text in samples]
    assert any(value is None for value in fast) and any(value is not None for value in fast)


@pytest.mark.parametrize("value, number", [("32", 32), ("-2.5", -2.5), (" 7 ", 7), (4, 4), ("1e3", 1000.0),
                                           ("$32", None), ("nan", None), (True, None), (None, None), ([], None)])
def test_to_number(value, number):
    assert to_number(value) == number and type(to_number(value)) is type(number)


def test_object_helpers():
    data = {"obj": {"a": 1, "b": "", "c": None, "d": 4}, "k": "d"}
    assert search("pick(obj, setting('keys'))", data) == {"a": 1, "b": ""}
    assert search("omit(obj, [setting('keys'), 'c'])", data) == {"d": 4}
    assert search("compact(obj)", data) == {"a": 1, "d": 4}
    assert search("get(obj, k)", data) == 4
    assert search("from_items([[k, obj.a], ['x', obj.c], [obj.c, `1`]])", data) == {"d": 1}
    assert search("keys_with_value(`{\"p\": \"e\", \"q\": \"u\", \"r\": \"e\"}`, 'e')", data) == ["p", "r"]
    assert search("with_value(['p', 'q'], k)", data) == {"p": "d", "q": "d"}
    assert search("with_value(['p'], obj.c)", data) == {}
    assert search("setting('n')", data) == 3
    assert search("rename_keys(obj, `{\"a\": \"A\", \"d\": \"D\"}`)", data) == {"A": 1, "b": "", "c": None, "D": 4}
    assert search("pick(nothing, setting('keys'))", data) is None


def test_text_lower_upper():
    assert search("text(`12`)", {}) == "12" and search("text(`true`)", {}) is None
    assert search("lower('iOS')", {}) == "ios" and search("upper(missing)", {}) is None


def test_lookup_and_path_helpers():
    data = {"props": {"Revenue": 3, "total": 4}, "context": {"page": {"path": "/a"}}, "url": "https://x.org/p?q"}
    assert search("get_ignore_case(props, 'revenue')", data) == 3
    assert search("get_ignore_case(props, 'TOTAL')", data) == 4
    assert search("get_ignore_case(props, 'price')", data) is None
    assert search("entries(props)", data) == [["Revenue", 3], ["total", 4]]
    assert search("select_paths(@, `{\"context.page.path\": \"pagePath\", \"context.nope\": \"n\"}`)", data) == {
        "pagePath": "/a"}
    assert search("split(url, '/')[2]", data) == "x.org"
    assert search("split(missing, '/')", data) is None
