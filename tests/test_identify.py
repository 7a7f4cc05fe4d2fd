"""Identify in cloud mode: user id, device id, traits as user properties and their operations,
legacy user groups."""

from __future__ import annotations

import pytest

from support import assert_stated_outcome, documented_cases, outcome, run_case


@pytest.mark.parametrize("case", documented_cases("identify", "device-id", "identify-legacy-groups",
                                                  platform="server"))
def test_documented_identify_examples(case, snapshot):
    result = run_case(case)
    assert_stated_outcome(case, result)
    assert result == snapshot


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
