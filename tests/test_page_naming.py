"""Page and screen naming on every platform: the spec's "Client and Server", "iOS" and "Android"
tables, row by row, and the names and properties around them."""

from __future__ import annotations

import pytest

from support import assert_documented, documented_case, documented_cases, outcome


@pytest.mark.parametrize("case", documented_cases("page-and-screen"))
def test_documented_page_and_screen_examples(case, snapshot):
    assert_documented(case, snapshot)


def _names(settings, message):
    return [o["body"]["event_type"] for o in outcome("server", settings, message)]


def _stated_name(case_name: str, message: dict) -> str:
    """The name a case of fixtures/page-and-screen.yaml states for the spec's page or screen, made
    for ``message``'s own name and category: the spec's "Settings" and "Merchant" in the stated
    name stand for them, a part the message lacks leaves no double space, and the message's text
    goes in as given. A rule change that renames pages changes the fixture, and these follow."""
    case = documented_case("page-and-screen", case_name)
    body = case.expect[-1]["body"]
    stated = body.get("event_type", body.get("eventType"))
    for key in ("category", "name"):
        stated = stated.replace(case.message[key], "{" + key + "}") if key in case.message else stated
    pattern = " ".join(stated.replace("{category}", "{category}" if message.get("category") else "").split())
    return pattern.format(name=message.get("name", ""), category=message.get("category", ""))


def test_missing_category_leaves_no_double_space():
    page = {"type": "page", "userId": "user-12345", "name": "Pricing"}
    assert _names({"trackNamedPages": True}, page) == [_stated_name("server-page-track-named-pages", page)]
    screen = {**page, "type": "screen"}
    assert _names({"trackNamedPages": True}, screen) == [_stated_name("server-screen-track-named-pages", screen)]
    assert "  " not in _names({"trackNamedPages": True}, page)[0]


def test_conditions_of_named_and_categorized_settings():
    anonymous_page = {"type": "page", "userId": "user-12345"}
    on = {"trackNamedPages": True, "trackCategorizedPages": True}
    assert _names(on, anonymous_page) == []
    docs = {**anonymous_page, "category": "Docs"}
    assert _names(on, docs) == [_stated_name("server-page-track-categorized-pages", docs)]
    intro = {**anonymous_page, "name": "Intro"}
    assert _names(on, intro) == [_stated_name("server-page-track-named-pages", intro)]
    assert _names({**on, "trackAllPages": True}, anonymous_page) == [
        _stated_name("server-page-track-all-pages", anonymous_page)]


def test_page_event_properties_carry_name_and_category():
    page = {"type": "page", "userId": "user-12345", "name": "Settings", "category": "Merchant",
            "properties": {"url": "https://example.com/settings"}}
    [event] = outcome("server", {"trackAllPages": True}, page)
    assert event["body"]["event_properties"] == {"url": "https://example.com/settings", "name": "Settings",
                                                 "category": "Merchant"}


def test_page_with_revenue_gets_revenue_fields():
    page = {"type": "page", "userId": "user-12345", "properties": {"revenue": "9.5"}}
    [event] = outcome("server", {"trackAllPages": True}, page)
    assert event["body"]["revenue"] == 9.5


def test_several_events_of_one_page_get_distinct_insert_ids():
    page = {"type": "page", "userId": "user-12345", "name": "Settings", "category": "Merchant",
            "messageId": "msg-1"}
    settings = {"trackAllPages": True, "trackCategorizedPages": True, "trackNamedPages": True}
    ids = [o["body"]["insert_id"] for o in outcome("server", settings, page)]
    assert ids == ["msg-1", "msg-1-1", "msg-1-2"]
    assert ids == [o["body"]["insert_id"] for o in outcome("server", settings, page)]



def _device_calls(platform, settings, message):
    return [(o["target"], o["body"].get("eventType")) for o in outcome(platform, settings, message)]


def test_web_page_properties_and_missing_category():
    page = {"type": "page", "anonymousId": "anon-1", "name": "Pricing", "properties": {"url": "u"}}
    [event] = outcome("web", {"trackNamedPages": True}, page)
    assert event == {"target": "sdk.logEvent", "body": {"eventType": "Loaded Pricing Page",
                                                        "eventProperties": {"url": "u", "name": "Pricing"}}}


def test_web_page_referrer_identify_comes_first():
    page = {"type": "page", "anonymousId": "anon-1", "name": "Home",
            "context": {"page": {"referrer": "https://news.example.org/item?id=1"}}}
    calls = outcome("web", {"trackNamedPages": True}, page)
    assert calls[0] == {"target": "sdk.identify", "body": {"identify": {
        "$setOnce": {"initial_referrer": "https://news.example.org/item?id=1",
                     "initial_referring_domain": "news.example.org"},
        "$set": {"referrer": "https://news.example.org/item?id=1", "referring_domain": "news.example.org"}}}}
    assert calls[1]["body"]["eventType"] == "Loaded Home Page"
    off = outcome("web", {"trackNamedPages": True, "trackReferrer": False}, page)
    assert [c["target"] for c in off] == ["sdk.logEvent"]
    amplitude_referral = outcome("web", {"trackNamedPages": True, "useAmplitudeReferral": True}, page)
    assert [c["target"] for c in amplitude_referral] == ["sdk.logEvent"]


def test_web_page_with_groups_uses_log_event_with_groups():
    page = {"type": "page", "anonymousId": "anon-1", "integrations": {"Amplitude": {"groups": {"org": "acme"}}}}
    [event] = outcome("web", {"trackAllPages": True}, page)
    assert event["target"] == "sdk.logEventWithGroups" and event["body"]["groups"] == {"org": "acme"}


def test_web_page_events_each_take_the_track_path_with_their_revenue():
    page = {"type": "page", "anonymousId": "anon-1", "name": "Paid", "properties": {"revenue": 4}}
    calls = _device_calls("web", {"trackAllPages": True, "trackNamedPages": True}, page)
    assert calls == [("sdk.logEvent", "Loaded a Page"), ("sdk.logRevenueV2", None),
                     ("sdk.logEvent", "Loaded Paid Page"), ("sdk.logRevenueV2", None)]


def test_mobile_page_calls_send_nothing():
    page = {"type": "page", "userId": "user-12345", "name": "Home"}
    settings = {"trackAllPages": True, "trackAllPagesV2": True, "trackNamedPages": True}
    assert outcome("ios", settings, page) == [] and outcome("android", settings, page) == []


def test_ios_screens_honour_integration_options_and_android_screens_do_not():
    screen = {"type": "screen", "userId": "user-12345", "name": "Inbox",
              "integrations": {"Amplitude": {"groups": {"org": "acme"}, "outOfSession": True}}}
    [ios] = outcome("ios", {"trackAllPages": True}, screen)
    assert ios["body"] == {"eventType": "Viewed Inbox", "groups": {"org": "acme"}, "outOfSession": True}
    [android] = outcome("android", {"trackAllPages": True}, screen)
    assert android["body"] == {"eventType": "Viewed Inbox Screen"}


def test_android_named_screen_without_category_has_single_spaces():
    screen = {"type": "screen", "userId": "user-12345", "name": "Inbox"}
    assert _device_calls("android", {"trackNamedPages": True}, screen) == [("sdk.logEvent", "Viewed Inbox Screen")]
    assert _device_calls("android", {"trackCategorizedPages": True}, screen) == []


def test_ios_screen_without_name_is_never_a_bare_viewed():
    screen = {"type": "screen", "anonymousId": "anon-1", "category": "Merchant"}
    assert _device_calls("ios", {"trackAllPages": True}, screen) == [("sdk.logEvent", "Loaded a Screen")]


@pytest.mark.parametrize(("case_name", "message"), [
    ("server-page-track-named-pages", {"type": "page", "name": "Song  Played "}),
    ("server-screen-track-named-pages", {"type": "screen", "name": " Song  Played"}),
    ("server-screen-track-categorized-pages", {"type": "screen", "category": "Music  Room"}),
    ("web-page-track-named-pages", {"type": "page", "name": "Song  Played "}),
    ("ios-screen-track-all-pages", {"type": "screen", "name": "Song  Played "}),
    ("android-screen-track-all-pages", {"type": "screen", "name": "Song  Played "}),
    ("android-screen-track-named-pages", {"type": "screen", "name": "Song  Played "}),
], ids=["server-page", "server-screen", "server-category", "web-page", "ios-screen", "android-screen",
        "android-named-screen"])
def test_names_keep_the_message_text_as_given(case_name, message):
    """Issue 13 item 6: a template tidies only its own white space (the gap a missing category
    leaves); the text of the message's name or category is never changed."""
    case = documented_case("page-and-screen", case_name)
    message = {**message, "userId": "user-12345"}
    outputs = outcome(case.platform, case.settings, message)
    names = [o["body"].get("event_type", o["body"].get("eventType")) for o in outputs]
    expected = _stated_name(case_name, message)
    assert names == [expected]
    assert (message.get("name") or message.get("category")) in expected


@pytest.mark.parametrize("message_type", ["page", "screen"])
def test_cloud_page_and_screen_events_carry_event_level_groups(message_type):
    """Issue 13 item 3: integrations.Amplitude.groups apply to page and screen events as to tracks
    (web and iOS already did; Android screens ignore integration options, as its integration does)."""
    message = {"type": message_type, "userId": "user-12345", "name": "Inbox", "category": "Mail",
               "integrations": {"Amplitude": {"groups": {"org": "acme"}}}}
    settings = {"trackAllPages": True, "trackCategorizedPages": True, "trackNamedPages": True}
    events = outcome("server", settings, message)
    assert len(events) == 3
    assert all(e["body"]["groups"] == {"org": "acme"} for e in events)
    assert all("groups" not in e["body"] for e in outcome("server", settings, {**message, "integrations": {}}))
