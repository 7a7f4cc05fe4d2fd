"""Page and screen naming in cloud mode: the spec's "Client and Server" table, row by row."""

from __future__ import annotations

import pytest

from support import assert_stated_outcome, documented_cases, outcome, run_case


@pytest.mark.parametrize("case", documented_cases("page-and-screen", platform="server"))
def test_documented_page_and_screen_examples(case, snapshot):
    result = run_case(case)
    assert_stated_outcome(case, result)
    assert result == snapshot


def _names(settings, message):
    return [o["body"]["event_type"] for o in outcome("server", settings, message)]


def test_missing_category_leaves_no_double_space():
    page = {"type": "page", "userId": "user-12345", "name": "Pricing"}
    assert _names({"trackNamedPages": True}, page) == ["Loaded Pricing Page"]
    screen = {**page, "type": "screen"}
    assert _names({"trackNamedPages": True}, screen) == ["Viewed Pricing Screen"]


def test_conditions_of_named_and_categorized_settings():
    anonymous_page = {"type": "page", "userId": "user-12345"}
    on = {"trackNamedPages": True, "trackCategorizedPages": True}
    assert _names(on, anonymous_page) == []
    assert _names(on, {**anonymous_page, "category": "Docs"}) == ["Loaded Docs Page"]
    assert _names(on, {**anonymous_page, "name": "Intro"}) == ["Loaded Intro Page"]
    assert _names({**on, "trackAllPages": True}, anonymous_page) == ["Loaded a Page"]


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
