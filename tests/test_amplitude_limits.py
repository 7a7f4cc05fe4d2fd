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
