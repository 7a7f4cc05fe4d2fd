"""Track on every platform: event fields, the context fields of the spec's example (cloud), timing
and deduplication, event-level groups, session ids and out-of-session events."""

from __future__ import annotations

import pytest

from support import assert_stated_outcome, documented_cases, outcome, run_case


@pytest.mark.parametrize("case", documented_cases("track", "event-level-groups", "session-id", "out-of-session"))
def test_documented_track_examples(case, snapshot):
    result = run_case(case)
    assert_stated_outcome(case, result)
    assert result == snapshot


def _body(message, settings=None):
    [output] = outcome("server", settings or {}, message)
    assert output["target"] == "httpapi"
    return output["body"]


TRACK = {"type": "track", "event": "Song Played", "userId": "user-12345"}


@pytest.mark.parametrize("timestamp, millis", [
    ("2016-10-17T00:30:08.276Z", 1476664208276),
    ("2016-10-17T02:30:08.276+02:00", 1476664208276),
    ("2016-10-17T00:30:08.276123456Z", 1476664208276),
    ("2016-10-17T00:30:08Z", 1476664208000),
    ("2016-10-17T00:30:08.276", 1476664208276),
    ("2016-10-17T00:30:08-0530", 1476684008000),
    ("2014", 1388534400000),
])
def test_time_is_epoch_millis_of_timestamp(timestamp, millis):
    assert _body({**TRACK, "timestamp": timestamp})["time"] == millis


def test_no_timestamp_no_time_and_no_message_id_no_insert_id():
    body = _body(TRACK)
    assert "time" not in body and "insert_id" not in body


def test_insert_id_is_message_id():
    assert _body({**TRACK, "messageId": "abc-123"})["insert_id"] == "abc-123"


def test_event_properties_keep_nested_values_and_user_properties_are_context_traits():
    message = {**TRACK, "properties": {"song": {"title": "x", "tags": [1, 2]}},
               "context": {"traits": {"email": "a@example.com"}}}
    body = _body(message)
    assert body["event_properties"] == {"song": {"title": "x", "tags": [1, 2]}}
    assert body["user_properties"] == {"email": "a@example.com"}


@pytest.mark.parametrize("locale, language", [("en-US", "en-US"), ({"language": "en-us"}, "en-us")])
def test_language_from_string_or_object_locale(locale, language):
    assert _body({**TRACK, "context": {"locale": locale}})["language"] == language


@pytest.mark.parametrize("os_name, field", [("iOS", "idfa"), ("Android", "adid")])
def test_advertising_id_by_os(os_name, field):
    body = _body({**TRACK, "context": {"os": {"name": os_name}, "device": {"advertisingId": "ad-id-1"}}})
    assert body[field] == "ad-id-1"
    assert {"idfa", "adid"} - {field} & set(body) == set()


@pytest.mark.parametrize("library, device_type, platform", [
    ("analytics.js", None, "Web"), ("analytics-ios", None, "iOS"), ("analytics-android", None, "Android"),
    ("analytics-node", "server", "server"), ("analytics-node", None, None)])
def test_platform_from_library_else_device_type(library, device_type, platform):
    context = {"library": {"name": library}}
    if device_type:
        context["device"] = {"type": device_type}
    assert _body({**TRACK, "context": context}).get("platform") == platform


def test_session_id_from_iso_start_time():
    body = _body({**TRACK, "integrations": {"Amplitude": {"session_id": "2016-10-17T00:30:08.276Z"}}})
    assert body["session_id"] == 1476664208276


def test_map_query_params_to_event_properties():
    message = {**TRACK, "properties": {"a": 1}, "context": {"page": {"search": "?utm=x"}}}
    body = _body(message, {"mapQueryParams": {"query": "event_properties", "other": "user_properties"}})
    assert body["event_properties"] == {"a": 1, "query": "?utm=x"}


def test_integrations_amplitude_true_is_accepted():
    assert "groups" not in _body({**TRACK, "integrations": {"Amplitude": True}})



def test_web_append_fields_and_map_query_params():
    message = {**TRACK, "anonymousId": "anon-1", "properties": {"a": 1},
               "context": {"page": {"path": "/pricing", "search": "?q=1"}}}
    settings = {"appendFieldsToEventProps": {"context.page.path": "pagePath", "context.nope": "nope"},
                "mapQueryParams": {"query": "event_properties"}}
    [event] = outcome("web", settings, message)
    assert event["body"]["eventProperties"] == {"a": 1, "query": "?q=1", "pagePath": "/pricing"}


@pytest.mark.parametrize("platform", ["ios", "android"])
def test_out_of_session_only_when_true(platform):
    for value in (False, "true", 1):
        message = {**TRACK, "integrations": {"Amplitude": {"outOfSession": value}}}
        result = outcome(platform, {}, message)
        if value is False:
            assert "outOfSession" not in result[0]["body"]
        else:
            assert result["rejected"]["path"] == "$.integrations.Amplitude.outOfSession"


@pytest.mark.parametrize("platform", ["web", "ios", "android"])
def test_device_track_leaves_out_arguments_without_value(platform):
    assert outcome(platform, {}, TRACK) == [{"target": "sdk.logEvent", "body": {"eventType": "Song Played"}}]


@pytest.mark.parametrize("platform", ["server", "ios", "android"])
def test_empty_event_level_groups_are_left_out(platform):
    result = outcome(platform, {}, {**TRACK, "integrations": {"Amplitude": {"groups": {}}}})
    assert "groups" not in result[0]["body"]


# useCustomAmplitudeProperties (cloud mode): off (the default) strips the names Segment's server
# integration keeps out of event properties; on keeps them (behaviors.md 2.1 T2, settings.md).
RESERVED = {"country": "France", "language": "fr", "event_id": 7, "amplitude_event_type": "x"}


@pytest.mark.parametrize("message", [
    {**TRACK, "properties": {**RESERVED, "plan": "pro"}},
    {"type": "page", "userId": "user-12345", "properties": {**RESERVED, "plan": "pro"}},
    {"type": "screen", "userId": "user-12345", "properties": {**RESERVED, "plan": "pro"}},
], ids=["track", "page", "screen"])
def test_cloud_custom_amplitude_properties_off_strips_reserved_names(message):
    settings = {"trackAllPages": True}
    [off] = outcome("server", settings, message)
    assert not set(RESERVED) & set(off["body"]["event_properties"])
    assert off["body"]["event_properties"]["plan"] == "pro"
    [on] = outcome("server", {**settings, "useCustomAmplitudeProperties": True}, message)
    assert RESERVED.items() <= on["body"]["event_properties"].items()


def test_cloud_custom_amplitude_properties_off_strips_them_from_order_events():
    order = {**TRACK, "event": "Order Completed",
             "properties": {**RESERVED, "revenue": 5, "products": [{"productId": "p1", "language": "fr"}]}}
    bodies = [o["body"] for o in outcome("server", {}, order)]
    assert not set(RESERVED) & set(bodies[0]["event_properties"])
    assert bodies[1]["event_properties"] == {"productId": "p1"}
    [once] = outcome("server", {"trackProductsOnce": True}, order)
    assert not set(RESERVED) & set(once["body"]["event_properties"])


def test_cloud_context_country_and_language_are_not_event_properties():
    """Stripping touches event_properties only: the top-level country and language come from context."""
    message = {**TRACK, "properties": RESERVED,
               "context": {"location": {"country": "Spain"}, "locale": "es-ES"}}
    [output] = outcome("server", {}, message)
    assert output["body"]["country"] == "Spain" and output["body"]["language"] == "es-ES"
    assert "event_properties" not in output["body"] or output["body"]["event_properties"] == {}


@pytest.mark.parametrize("platform", ["web", "ios", "android"])
def test_device_mode_keeps_reserved_names_in_event_properties(platform):
    calls = outcome(platform, {}, {**TRACK, "properties": RESERVED})
    assert calls[0]["body"]["eventProperties"] == RESERVED
