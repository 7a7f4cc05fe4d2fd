"""Identify on every platform: user id, device id, traits as user properties and their
operations, legacy user groups."""

from __future__ import annotations

import pytest

from support import assert_documented, documented_cases, outcome


@pytest.mark.parametrize("case", documented_cases("identify", "device-id", "identify-legacy-groups"))
def test_documented_identify_examples(case, snapshot):
    assert_documented(case, snapshot)


MESSAGE = {"type": "identify", "userId": "user-12345",
           "traits": {"plan": "pro", "logins": 3, "first_seen": "2020-01-01", "tags": ["a"], "badges": ["b"]}}


def _props(settings, message=MESSAGE):
    [output] = outcome("server", settings, message)
    assert output["target"] == "identify"
    return output["body"].get("user_properties")


def test_traits_as_given_when_no_operation_lists():
    assert _props({}) == MESSAGE["traits"]


def test_trait_in_increment_and_set_once_goes_under_add_only():
    props = _props({"traitsToIncrement": ["logins"], "traitsToSetOnce": ["logins", "first_seen"]})
    assert props == {"$set": {"plan": "pro", "tags": ["a"], "badges": ["b"]}, "$setOnce": {"first_seen": "2020-01-01"},
                     "$add": {"logins": 3}}


def test_append_and_prepend_lists():
    props = _props({"traitsToAppend": ["tags"], "traitsToPrepend": ["badges"]})
    assert props == {"$set": {"plan": "pro", "logins": 3, "first_seen": "2020-01-01"},
                     "$append": {"tags": ["a"]}, "$prepend": {"badges": ["b"]}}


def test_empty_operations_are_left_out():
    props = _props({"traitsToIncrement": ["visits"]})
    assert props == {"$set": MESSAGE["traits"]}


def test_identify_without_traits():
    assert _props({}, {"type": "identify", "userId": "user-12345"}) == {}
    assert _props({"traitsToIncrement": ["x"]}, {"type": "identify", "userId": "user-12345"}) is None


def test_user_properties_get_no_injected_id():
    assert "id" not in _props({})


def test_identify_carries_context_fields_and_timing():
    message = {**MESSAGE, "messageId": "m-77", "timestamp": "2021-03-04T05:06:07Z",
               "context": {"ip": "1.2.3.4", "app": {"version": "2.0"}, "library": {"name": "analytics-ios"}}}
    [output] = outcome("server", {}, message)
    body = output["body"]
    assert (body["ip"], body["app_version"], body["platform"]) == ("1.2.3.4", "2.0", "iOS")
    assert body["time"] == 1614834367000
    assert body["insert_id"] == "m-77"



@pytest.mark.parametrize("platform", ["ios", "android"])
def test_mobile_anonymous_identify_logs_out_first(platform):
    calls = outcome(platform, {}, {"type": "identify", "anonymousId": "anon-1", "traits": {"plan": "pro"}})
    assert calls == [{"target": "sdk.setUserId", "body": {"userId": None}},
                     {"target": "sdk.setUserProperties", "body": {"userProperties": {"plan": "pro"}}}]


@pytest.mark.parametrize("platform", ["web", "ios", "android"])
def test_device_identify_without_traits_only_sets_the_user(platform):
    assert outcome(platform, {"traitsToIncrement": ["x"]}, {"type": "identify", "userId": "user-12345"}) == [
        {"target": "sdk.setUserId", "body": {"userId": "user-12345"}}]


@pytest.mark.parametrize("platform", ["web", "ios", "android"])
def test_device_identify_keeps_every_json_value_in_one_call(platform):
    traits = {"plan": "pro", "address": {"city": "Paris"}, "tags": ["a", "b"], "vip": True, "logins": 4}
    calls = outcome(platform, {"traitsToIncrement": ["logins"]}, {"type": "identify", "userId": "user-12345",
                                                                   "traits": traits})
    identify = [c for c in calls if c["target"] == "sdk.identify"]
    assert identify == [{"target": "sdk.identify", "body": {"identify": {
        "$set": {"plan": "pro", "address": {"city": "Paris"}, "tags": ["a", "b"], "vip": True},
        "$add": {"logins": 4}}}}]


def test_web_identify_map_query_params_become_traits():
    message = {"type": "identify", "userId": "user-12345", "traits": {"plan": "pro"},
               "context": {"page": {"search": "?ref=mail"}}}
    calls = outcome("web", {"mapQueryParams": {"landing": "user_properties", "q": "event_properties"}}, message)
    assert calls[1]["body"]["identify"]["$set"] == {"plan": "pro", "landing": "?ref=mail"}


@pytest.mark.parametrize("message_type", ["page", "identify", "track", "group"])
def test_web_prefer_anonymous_id_sets_the_device_id_once_first(message_type):
    message = {"type": message_type, "anonymousId": "anon-12345", "userId": "user-12345", "event": "x",
               "groupId": "g-1", "name": "Home", "traits": {"a": 1}}
    calls = outcome("web", {"preferAnonymousIdForDeviceId": True, "trackAllPages": True,
                            "trackNamedPages": True}, message)
    assert calls[0] == {"target": "sdk.setDeviceId", "body": {"deviceId": "anon-12345"}}
    assert [c["target"] for c in calls].count("sdk.setDeviceId") == 1 and len(calls) > 1


@pytest.mark.parametrize("platform", ["web", "ios", "android"])
def test_device_increment_of_a_non_number_is_refused_with_the_reason(platform):
    result = outcome(platform, {"traitsToIncrement": ["logins"]},
                     {"type": "identify", "userId": "user-12345", "traits": {"logins": "many"}})
    assert "numbers only" in result["rejected"]["error"]
