"""What Amplitude accepts (amplitude-api.md 1.2, 1.3, 1.6 and 7): an output past one of its limits
is never sent; the message is rejected with the field's path instead. Cloud mode."""

from __future__ import annotations

import pytest

import engine
from support import translate

TRACK = {"type": "track", "event": "Played", "userId": "user-12345", "messageId": "m-1"}


def _rejected(message: dict) -> engine.Rejected:
    with pytest.raises(engine.Rejected) as info:
        translate("server", {}, message)
    return info.value


def _nested(levels: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def test_session_id_is_sent_as_whole_milliseconds():
    for given in (1500000000000.0, "1500000000000", "2017-07-14T02:40:00Z"):
        message = {**TRACK, "integrations": {"Amplitude": {"session_id": given}}}
        [output] = translate("server", {}, message)
        assert output["body"]["session_id"] == 1500000000000  # 2017-07-14T02:40:00Z is 1500000000000 ms
        assert type(output["body"]["session_id"]) is int


@pytest.mark.parametrize(("field", "value", "path"), [
    ("ip", "1" * 1025, "$.ip"),
    ("device", {"advertisingId": "x" * 2000}, "$.idfa"),
], ids=["ip", "idfa"])
def test_text_over_1024_characters_is_refused(field, value, path):
    context = {"ip": value} if field == "ip" else {"device": value, "os": {"name": "iOS"}}
    rejected = _rejected({**TRACK, "context": context})
    assert rejected.output == "httpapi" and rejected.path == path


def test_numbers_beyond_what_amplitude_reads_are_refused():
    rejected = _rejected({**TRACK, "properties": {"revenue": 10 ** 400}})
    assert rejected.path == "$.revenue"
    [output] = translate("server", {}, {**TRACK, "properties": {"revenue": 10 ** 18}})
    assert output["body"]["revenue"] == 10 ** 18


def test_an_id_of_only_white_space_is_refused():
    rejected = _rejected({**TRACK, "userId": "     "})
    assert rejected.path == "$.user_id" and "white space" in rejected.message


def test_properties_nested_deeper_than_40_levels_are_refused():
    [output] = translate("server", {}, {**TRACK, "properties": {"p": _nested(39)}})
    assert output["body"]["event_properties"]["p"]["a"]
    rejected = _rejected({**TRACK, "properties": {"p": _nested(40)}})
    assert rejected.output == "httpapi" and "40 levels" in rejected.message


def test_an_order_that_would_make_more_than_2000_events_is_rejected():
    """amplitude-api.md 1.6: one request holds at most 2,000 events (`input.max_outputs`)."""
    order = {"type": "track", "event": "Order Completed", "userId": "user-12345", "messageId": "m-1",
             "properties": {"revenue": 10}}
    settings = {"trackRevenuePerProduct": True}
    products = [{"productId": f"p{number}", "price": 1} for number in range(1999)]
    outputs = translate("server", settings, {**order, "properties": {**order["properties"], "products": products}})
    assert len(outputs) == 2000
    products.append({"productId": "p", "price": 1})
    with pytest.raises(engine.Rejected) as info:
        translate("server", settings, {**order, "properties": {**order["properties"], "products": products}})
    assert "more than 2000 outputs" in info.value.message and info.value.rule == "order-completed"


def _properties_of(size: int) -> dict:
    """Properties whose compact JSON is ``size`` bytes (values of 1,000 characters, each within
    Amplitude's limit on text)."""
    properties, left = {}, size - 2
    while left > 0:
        key = f"k{len(properties)}"
        take = min(1000, left - len(key) - 6 - (1 if properties else 0))
        properties[key] = "é" * (take // 2) + "x" * (take % 2)  # two bytes each in UTF-8
        left -= len(key) + 5 + len(properties[key].encode()) + (1 if len(properties) > 1 else 0)
    return properties


@pytest.mark.parametrize(("message", "field"), [
    (TRACK, "properties"),
    ({"type": "identify", "userId": "user-12345", "messageId": "m-1"}, "traits"),
    ({"type": "group", "userId": "user-12345", "groupId": "g-1", "messageId": "m-1"}, "traits"),
], ids=["httpapi", "identify", "groupidentify"])
def test_a_body_over_a_million_bytes_is_refused(message, field):
    """amplitude-api.md 1.6, 4 and 7: one request is under 1 MB; a body is at most 1,000,000 bytes
    (compact UTF-8 JSON), which leaves room for the request around it."""
    settings = {"groupTypeTrait": "kind", "groupValueTrait": "name"}
    near = _properties_of(999_000)
    outputs = translate("server", settings, {**message, field: {**near, "kind": "org", "name": "n"}})
    assert outputs and all(engine.functions.json_size(output["body"]) < 1_000_000 for output in outputs)
    with pytest.raises(engine.Rejected) as info:
        translate("server", settings, {**message, field: {**_properties_of(1_001_000), "kind": "org", "name": "n"}})
    assert "1,000,000 bytes" in info.value.message and info.value.path == "$"
