"""Group on every platform: type/value traits (with group properties server side and on Android),
the legacy fallback, and the refusal of an empty group id."""

from __future__ import annotations

import pytest

from support import assert_documented, documented_cases, outcome


@pytest.mark.parametrize("case", documented_cases("group"))
def test_documented_group_examples(case, snapshot):
    assert_documented(case, snapshot)


def test_missing_group_id_is_rejected_with_its_path():
    result = outcome("server", {}, {"type": "group", "userId": "user-12345"})
    assert result["rejected"]["path"] == "$.groupId"
    assert "groupId" in result["rejected"]["error"]


def test_numeric_group_value_trait_is_sent_as_text():
    message = {"type": "group", "groupId": "g-12345", "userId": "user-12345", "traits": {"plan": "pro", "seats": 12}}
    results = outcome("server", {"groupTypeTrait": "plan", "groupValueTrait": "seats"}, message)
    assert results[0]["body"]["groups"] == {"pro": "12"}
    assert results[1]["body"]["group_value"] == "12"
