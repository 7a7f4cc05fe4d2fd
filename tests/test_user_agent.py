"""User-agent parsing in cloud mode (setting userAgentParsing): os and device fields from
context.userAgent where the library gave none; the generic user_agent(text) function behind it."""

from __future__ import annotations

import jmespath
import pytest

from engine.functions import RuleFunctions
from support import outcome

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.1 Mobile/15E148 Safari/604.1")
ANDROID = ("Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/119.0.6045.163 Mobile Safari/537.36")
WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Safari/537.36")
UA_FIELDS = ("os_name", "os_version", "device_manufacturer", "device_model")


def _search(expression, data):
    return jmespath.search(expression, data, jmespath.Options(custom_functions=RuleFunctions()))


def test_user_agent_function_gives_os_device_and_browser():
    parsed = _search("user_agent(ua)", {"ua": IPHONE})
    assert parsed == {"os": {"family": "iOS", "version": "17.1"},
                      "device": {"family": "iPhone", "brand": "Apple", "model": "iPhone"},
                      "browser": {"family": "Mobile Safari", "version": "17.1"}}


def test_user_agent_function_leaves_out_what_it_cannot_tell():
    assert _search("user_agent(ua)", {"ua": WINDOWS}) == {
        "os": {"family": "Windows", "version": "10"}, "device": {},
        "browser": {"family": "Chrome", "version": "120.0.0.0"}}
    assert _search("user_agent(ua)", {"ua": "nothing anyone knows"}) == {"os": {}, "device": {}, "browser": {}}
    assert _search("user_agent(ua)", {}) is None
    assert _search("user_agent(ua)", {"ua": 42}) is None


def test_user_agent_function_gives_each_call_its_own_object():
    first = _search("user_agent(ua)", {"ua": IPHONE})
    first["os"]["family"] = "changed"
    assert _search("user_agent(ua)", {"ua": IPHONE})["os"]["family"] == "iOS"


TRACK = {"type": "track", "event": "Song Played", "userId": "user-12345"}
KINDS = {
    "track": TRACK,
    "page": {"type": "page", "userId": "user-12345", "name": "Home"},
    "screen": {"type": "screen", "userId": "user-12345", "name": "Home"},
    "identify": {"type": "identify", "userId": "user-12345", "traits": {"plan": "pro"}},
}


def _body(message, settings=None):
    [output] = outcome("server", {"trackAllPages": True, **(settings or {})}, message)
    return output["body"]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_cloud_fields_from_the_user_agent(kind):
    body = _body({**KINDS[kind], "context": {"userAgent": IPHONE}})
    assert {k: body.get(k) for k in UA_FIELDS} == {
        "os_name": "iOS", "os_version": "17.1", "device_manufacturer": "Apple", "device_model": "iPhone"}


def test_cloud_android_and_desktop_user_agents():
    android = _body({**TRACK, "context": {"userAgent": ANDROID}})
    assert {k: android.get(k) for k in UA_FIELDS} == {
        "os_name": "Android", "os_version": "13", "device_manufacturer": "Samsung", "device_model": "SM-S911B"}
    desktop = _body({**TRACK, "context": {"userAgent": WINDOWS}})
    assert {k: desktop.get(k) for k in UA_FIELDS} == {
        "os_name": "Windows", "os_version": "10", "device_manufacturer": None, "device_model": None}


def test_cloud_context_fields_win_over_the_user_agent():
    message = {**TRACK, "context": {"userAgent": IPHONE, "os": {"name": "iPadOS", "version": "17.2"},
                                    "device": {"model": "iPad13,1", "manufacturer": "Apple Inc."}}}
    body = _body(message)
    assert {k: body.get(k) for k in UA_FIELDS} == {
        "os_name": "iPadOS", "os_version": "17.2", "device_manufacturer": "Apple Inc.", "device_model": "iPad13,1"}
    partial = _body({**TRACK, "context": {"userAgent": IPHONE, "os": {"name": "iPadOS"}}})
    assert partial["os_name"] == "iPadOS" and partial["device_model"] == "iPhone"


def test_cloud_user_agent_parsing_off_or_unknown_agent_adds_nothing():
    off = _body({**TRACK, "context": {"userAgent": IPHONE}}, {"userAgentParsing": False})
    assert not set(UA_FIELDS) & set(off)
    unknown = _body({**TRACK, "context": {"userAgent": "curl/8.4.0"}})
    assert not {"os_version", "device_manufacturer", "device_model"} & set(unknown)


def test_cloud_output_without_user_agent_is_unchanged_by_the_setting():
    assert _body(TRACK) == _body(TRACK, {"userAgentParsing": False})


@pytest.mark.parametrize("platform", ["web", "ios", "android"])
def test_device_mode_ignores_the_user_agent(platform):
    """The SDKs read the device themselves; device-mode calls carry no os or device fields."""
    assert outcome(platform, {}, {**TRACK, "context": {"userAgent": IPHONE}}) == outcome(platform, {}, TRACK)


def test_user_agent_function_memoises_only_agents_of_reasonable_length():
    from engine import functions

    long_agent = IPHONE + " x" * 3000
    before = functions._parsed_agent.cache_info().currsize
    assert _search("user_agent(ua)", {"ua": long_agent})["os"] == {"family": "iOS", "version": "17.1"}
    assert functions._parsed_agent.cache_info().currsize == before
