"""Track on every platform: event fields, the context fields of the spec's example (cloud), timing
and deduplication, event-level groups, session ids and out-of-session events."""

from __future__ import annotations

import pytest

from support import assert_documented, documented_cases, outcome, translator


@pytest.mark.parametrize("case", documented_cases("track", "event-level-groups", "session-id", "out-of-session"))
def test_documented_track_examples(case, snapshot):
    assert_documented(case, snapshot)


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
        assert "outOfSession" not in result[0]["body"]
        if value is not False:  # not a boolean: left out with a warning (issue 13 item 4), not the message
            warnings: list = []
            translator(platform).translate(message, 1, warnings=warnings)
            assert [w.path for w in warnings] == ["$.integrations.Amplitude.outOfSession"]


@pytest.mark.parametrize("platform", ["web", "ios", "android"])
def test_device_track_leaves_out_arguments_without_value(platform):
    assert outcome(platform, {}, TRACK) == [{"target": "sdk.logEvent", "body": {"eventType": "Song Played"}}]


@pytest.mark.parametrize("platform", ["server", "ios", "android"])
def test_empty_event_level_groups_are_left_out(platform):
    result = outcome(platform, {}, {**TRACK, "integrations": {"Amplitude": {"groups": {}}}})
    assert "groups" not in result[0]["body"]


# ---------------------------------------------------------------- issue 13: what Amplitude receives
@pytest.mark.parametrize("device_type, platform", [
    ("ios", "iOS"), ("android", "Android"), ("web", "Web"), ("IOS", "iOS"), ("Android", "Android"),
    ("server", "server"), ("tvOS", "tvOS")])
def test_platform_from_device_type_is_normalised_for_known_values(device_type, platform):
    """Item 2: Segment's integrations send "iOS" / "Android" / "Web"; a device type of another
    case would make a second platform in Amplitude. Unknown values go as given."""
    body = _body({**TRACK, "context": {"library": {"name": "analytics-node"}, "device": {"type": device_type}}})
    assert body["platform"] == platform


@pytest.mark.parametrize("given, sent", [
    (("37.7672319", "-122.4021353"), (37.7672319, -122.4021353)),
    ((37.5, -122), (37.5, -122)),
    (("north", "far west"), (None, None)),
    ((True, None), (None, None)),
    ((91, -181), (None, None)),
    (("-90", "180"), (-90, 180)),
])
def test_coordinates_are_numbers_and_what_is_not_one_is_dropped(given, sent):
    """Item 7: Amplitude's HTTP API takes location_lat / location_lng as floats (amplitude-api.md
    1.2): numeric text is converted, anything that is not a coordinate is left out."""
    location = {"latitude": given[0], "longitude": given[1]}
    body = _body({**TRACK, "context": {"location": location}})
    assert (body.get("location_lat"), body.get("location_lng")) == sent


def test_output_schema_says_coordinates_are_numbers():
    import json

    from support import ROOT

    shapes = json.loads((ROOT / "schemas/amplitude/ids.schema.json").read_text())["$defs"]
    event = json.loads((ROOT / "schemas/amplitude/httpapi-event.schema.json").read_text())["properties"]
    for field, limit in (("location_lat", 90), ("location_lng", 180)):
        ref = event[field]["$ref"].split("/")[-1]
        assert shapes[ref]["type"] == "number" and shapes[ref]["maximum"] == limit


def test_cloud_outputs_name_the_segment_library():
    """Item 11: every event, identification and group identification says library "segment", as
    Segment's destinations send it; usermap and deletions have no such field."""
    settings = {"groupTypeTrait": "plan", "groupValueTrait": "org", "sendAlias": True, "secretKey": "s" * 32,
                "trackAllPages": True}
    messages = [TRACK, {"type": "page", "userId": "user-12345"}, {"type": "screen", "userId": "user-12345"},
                {"type": "identify", "userId": "user-12345"},
                {"type": "group", "userId": "user-12345", "groupId": "g-1", "traits": {"plan": "pro", "org": "acme"}},
                {**TRACK, "event": "Order Completed", "properties": {"products": [{"productId": "p-1"}]}}]
    targets = set()
    for message in messages:
        for output in outcome("server", settings, message):
            assert output["body"]["library"] == "segment", output
            targets.add(output["target"])
    assert targets == {"httpapi", "identify", "groupidentify"}
    for message in ({"type": "alias", "userId": "user-12345", "previousId": "user-00001"},
                    {"type": "delete", "userId": "user-12345"}):
        [output] = outcome("server", settings, message)
        assert "library" not in output["body"]


@pytest.mark.parametrize("os_name, field", [("iOS", "idfa"), ("Android", "adid")])
def test_legacy_idfa_key_of_older_libraries(os_name, field):
    """Item 12: older Segment mobile libraries send context.device.idfa; advertisingId wins."""
    body = _body({**TRACK, "context": {"os": {"name": os_name}, "device": {"idfa": "old-ad-id"}}})
    assert body[field] == "old-ad-id"
    body = _body({**TRACK, "context": {"os": {"name": os_name}, "device": {"idfa": "old", "advertisingId": "new"}}})
    assert body[field] == "new"


def test_session_id_also_read_as_session_id_in_camel_case():
    """Item 12: integrations.Amplitude.sessionId as well as session_id (session_id wins)."""
    assert _body({**TRACK, "integrations": {"Amplitude": {"sessionId": 1476664208276}}})["session_id"] == 1476664208276
    both = {"session_id": 1500000000000, "sessionId": 1476664208276}
    assert _body({**TRACK, "integrations": {"Amplitude": both}})["session_id"] == 1500000000000
    iso = {"sessionId": "2016-10-17T00:30:08.276Z"}
    assert _body({**TRACK, "integrations": {"Amplitude": iso}})["session_id"] == 1476664208276


def test_event_id_option_is_passed_on_events_only():
    """Item 12: integrations.Amplitude.event_id goes out as event_id (an integer) on events."""
    options = {"integrations": {"Amplitude": {"event_id": 42}}}
    assert _body({**TRACK, **options})["event_id"] == 42
    assert _body({**TRACK, "integrations": {"Amplitude": {"event_id": "43"}}})["event_id"] == 43
    [identification] = outcome("server", {}, {"type": "identify", "userId": "user-12345", **options})
    assert "event_id" not in identification["body"]


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
