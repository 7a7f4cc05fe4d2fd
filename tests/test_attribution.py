"""Attribution as user properties: UTM parameters and the referrer in cloud mode (trackUtmProperties,
trackReferrer), and mapQueryParams keys that target user_properties on web track and page calls."""

from __future__ import annotations

import pytest

from support import outcome

CAMPAIGN = {"source": "newsletter", "medium": "email", "name": "spring_sale", "term": "shoes", "content": "top"}
REFERRER = "https://news.example.org/item?id=1"
CONTEXT = {"campaign": CAMPAIGN, "page": {"referrer": REFERRER}, "traits": {"email": "a@example.com"}}

SET = {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring_sale", "utm_term": "shoes",
       "utm_content": "top", "referrer": REFERRER, "referring_domain": "news.example.org"}
SET_ONCE = {"initial_utm_source": "newsletter", "initial_utm_medium": "email", "initial_utm_campaign": "spring_sale",
            "initial_utm_term": "shoes", "initial_utm_content": "top", "initial_referrer": REFERRER,
            "initial_referring_domain": "news.example.org"}

PAGES_ON = {"trackAllPages": True}

MESSAGES = {
    "track": {"type": "track", "event": "Song Played", "userId": "user-12345", "context": CONTEXT},
    "page": {"type": "page", "userId": "user-12345", "name": "Home", "context": CONTEXT},
    "screen": {"type": "screen", "userId": "user-12345", "name": "Home", "context": CONTEXT},
}


def _bodies(message, settings=None):
    return [o["body"] for o in outcome("server", {**PAGES_ON, **(settings or {})}, message)]


# ------------------------------------------------------------------ cloud mode: UTM and referrer
@pytest.mark.parametrize("kind", ["track", "page", "screen"])
def test_cloud_events_set_utm_and_referrer_and_set_them_once_as_initial(kind):
    [body] = _bodies(MESSAGES[kind])
    # The context traits go under $set with them: an object of operations holds only operations
    # (amplitude-api.md 1.5).
    assert body["user_properties"] == {"$set": {**SET, "email": "a@example.com"}, "$setOnce": SET_ONCE}


def test_cloud_identify_sets_utm_and_referrer_beside_the_traits():
    identify = {"type": "identify", "userId": "user-12345", "traits": {"plan": "pro"}, "context": CONTEXT}
    [body] = _bodies(identify)
    assert body["user_properties"] == {"$set": {**SET, "plan": "pro"}, "$setOnce": SET_ONCE}


def test_cloud_identify_with_trait_operations_adds_to_them():
    identify = {"type": "identify", "userId": "user-12345", "traits": {"plan": "pro", "logins": 3, "first": "x"},
                "context": CONTEXT}
    [body] = _bodies(identify, {"traitsToIncrement": ["logins"], "traitsToSetOnce": ["first"]})
    assert body["user_properties"] == {"$set": {**SET, "plan": "pro"}, "$setOnce": {**SET_ONCE, "first": "x"},
                                       "$add": {"logins": 3}}


def test_cloud_order_completed_and_its_products_carry_the_attribution():
    order = {"type": "track", "event": "Order Completed", "userId": "user-12345", "context": CONTEXT,
             "properties": {"revenue": 10, "products": [{"productId": "p1", "price": 10, "quantity": 1}]}}
    bodies = _bodies(order)
    assert [b["event_type"] for b in bodies] == ["Order Completed", "Product Purchased"]
    for body in bodies:
        assert body["user_properties"]["$set"]["utm_campaign"] == "spring_sale"
        assert body["user_properties"]["$setOnce"]["initial_referrer"] == REFERRER
    [once] = _bodies(order, {"trackProductsOnce": True})
    assert once["user_properties"]["$setOnce"]["initial_utm_source"] == "newsletter"


def test_cloud_utm_only_what_the_campaign_gives():
    message = {**MESSAGES["track"], "context": {"campaign": {"source": "ads", "name": 2024, "medium": ""}}}
    [body] = _bodies(message)
    assert body["user_properties"] == {"$set": {"utm_source": "ads", "utm_campaign": "2024"},
                                       "$setOnce": {"initial_utm_source": "ads", "initial_utm_campaign": "2024"}}


def test_cloud_referrer_without_a_domain_part_sets_no_domain():
    message = {**MESSAGES["track"], "context": {"page": {"referrer": "direct"}}}
    [body] = _bodies(message)
    assert body["user_properties"] == {"$set": {"referrer": "direct"}, "$setOnce": {"initial_referrer": "direct"}}


def test_cloud_track_utm_properties_off_leaves_utm_out():
    [body] = _bodies(MESSAGES["track"], {"trackUtmProperties": False})
    assert body["user_properties"] == {
        "$set": {"referrer": REFERRER, "referring_domain": "news.example.org", "email": "a@example.com"},
        "$setOnce": {"initial_referrer": REFERRER, "initial_referring_domain": "news.example.org"}}


def test_cloud_track_referrer_off_leaves_the_referrer_out():
    [body] = _bodies(MESSAGES["track"], {"trackReferrer": False})
    assert "referrer" not in body["user_properties"]["$set"]
    assert body["user_properties"]["$setOnce"]["initial_utm_term"] == "shoes"


@pytest.mark.parametrize("kind", ["track", "page", "screen"])
def test_cloud_both_off_or_nothing_to_attribute_keeps_the_context_traits_as_they_are(kind):
    [off] = _bodies(MESSAGES[kind], {"trackUtmProperties": False, "trackReferrer": False})
    assert off["user_properties"] == {"email": "a@example.com"}
    plain = {**MESSAGES[kind], "context": {"traits": {"email": "a@example.com"}}}
    [body] = _bodies(plain)
    assert body["user_properties"] == {"email": "a@example.com"}


@pytest.mark.parametrize("platform", ["web", "ios", "android"])
def test_device_mode_sends_no_campaign_attribution(platform):
    """The SDKs capture UTM parameters themselves (web: trackUtmProperties is its start-up option);
    the calls of a track are the same with or without context.campaign."""
    plain = {"type": "track", "event": "Song Played", "userId": "user-12345"}
    with_campaign = {**plain, "context": {"campaign": CAMPAIGN}}
    assert outcome(platform, {}, with_campaign) == outcome(platform, {}, plain)


# ------------------------------------------------------------------ web: mapQueryParams to user_properties
QUERY = {"page": {"search": "?utm_source=x&ref=y"}}
MAP_BOTH = {"mapQueryParams": {"landing_query": "user_properties", "query": "event_properties"}}


def test_web_track_sets_query_params_mapped_to_user_properties_before_the_event():
    track = {"type": "track", "event": "Song Played", "userId": "user-12345", "context": QUERY}
    calls = outcome("web", MAP_BOTH, track)
    assert calls == [
        {"target": "sdk.setUserProperties", "body": {"userProperties": {"landing_query": "?utm_source=x&ref=y"}}},
        {"target": "sdk.logEvent", "body": {"eventType": "Song Played",
                                            "eventProperties": {"query": "?utm_source=x&ref=y"}}}]


def test_web_page_sets_query_params_mapped_to_user_properties_once_before_its_events():
    page = {"type": "page", "anonymousId": "anon-12345", "name": "Home", "context": QUERY}
    calls = outcome("web", {**MAP_BOTH, "trackAllPages": True, "trackNamedPages": True}, page)
    assert [c["target"] for c in calls] == ["sdk.setUserProperties", "sdk.logEvent", "sdk.logEvent"]
    assert calls[0]["body"] == {"userProperties": {"landing_query": "?utm_source=x&ref=y"}}
    # No page event sent, no user properties either (the integration sets them on the way to an event).
    assert outcome("web", MAP_BOTH, page) == []


def test_web_order_completed_sets_query_params_mapped_to_user_properties_first():
    order = {"type": "track", "event": "Order Completed", "userId": "user-12345", "context": QUERY,
             "properties": {"products": [{"productId": "p1"}]}}
    calls = outcome("web", MAP_BOTH, order)
    assert calls[0]["target"] == "sdk.setUserProperties"
    assert [c["target"] for c in calls].count("sdk.setUserProperties") == 1


def test_web_query_params_mapped_only_to_event_properties_or_no_search_set_no_user_properties():
    track = {"type": "track", "event": "Song Played", "userId": "user-12345", "context": QUERY}
    assert [c["target"] for c in outcome("web", {"mapQueryParams": {"q": "event_properties"}}, track)] \
        == ["sdk.logEvent"]
    no_search = {"type": "track", "event": "Song Played", "userId": "user-12345"}
    assert [c["target"] for c in outcome("web", MAP_BOTH, no_search)] == ["sdk.logEvent"]


def test_web_identify_still_takes_query_params_as_traits_and_no_separate_call():
    identify = {"type": "identify", "userId": "user-12345", "context": QUERY}
    calls = outcome("web", MAP_BOTH, identify)
    assert [c["target"] for c in calls] == ["sdk.setUserId", "sdk.identify"]
    assert calls[1]["body"]["identify"]["$set"]["landing_query"] == "?utm_source=x&ref=y"


@pytest.mark.parametrize("platform", ["ios", "android"])
def test_mobile_ignores_map_query_params(platform):
    """mapQueryParams is an analytics.js setting (settings.md: read by web and cloud only)."""
    track = {"type": "track", "event": "Song Played", "userId": "user-12345", "context": QUERY}
    assert outcome(platform, MAP_BOTH, track) == outcome(platform, {}, track)
