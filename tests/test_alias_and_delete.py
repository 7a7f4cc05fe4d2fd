"""Alias (user mapping, unmapping: cloud mode only) and user deletion."""

from __future__ import annotations

import pytest

from support import assert_documented, documented_cases, outcome


@pytest.mark.parametrize("case", documented_cases("alias", "delete"))
def test_documented_alias_and_delete_examples(case, snapshot):
    assert_documented(case, snapshot)


def test_alias_without_previous_id_is_rejected_with_the_reason():
    result = outcome("server", {"sendAlias": True}, {"type": "alias", "userId": "user-12345"})
    assert result["rejected"]["path"] == "$.user_id"
    assert "previousId" in result["rejected"]["error"]


def test_unmap_without_enable_alias_sends_nothing():
    message = {"type": "alias", "userId": "456", "integrations": {"Amplitude": {"unmap": "123"}}}
    assert outcome("server", {}, message) == []


def test_delete_body_never_carries_keys():
    secret = "fedcba9876543210fedcba9876543210"
    [output] = outcome("server", {"secretKey": secret}, {"type": "delete", "userId": "user-12345"})
    assert output["body"] == {"user_ids": ["user-12345"], "requester": "segment"}



@pytest.mark.parametrize("platform", ["web", "ios", "android"])
def test_delete_is_not_a_device_mode_call(platform):
    result = outcome(platform, {"secretKey": "s"}, {"type": "delete", "userId": "user-12345"})
    assert result == []
