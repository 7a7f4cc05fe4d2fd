"""The mobile libraries' flush and reset calls."""

from __future__ import annotations

import pytest

from support import assert_documented, documented_cases, outcome


@pytest.mark.parametrize("case", documented_cases("flush-and-reset"))
def test_documented_flush_and_reset(case, snapshot):
    assert_documented(case, snapshot)


@pytest.mark.parametrize("platform", ["server", "web"])
@pytest.mark.parametrize("kind", ["flush", "reset"])
def test_other_platforms_refuse_them_with_a_clear_reason(platform, kind):
    rejected = outcome(platform, {}, {"type": kind})["rejected"]
    assert rejected["path"] == "$.type" and "only the ios and android platforms" in rejected["error"]


def test_reset_then_identify_logs_the_new_user_in():
    assert outcome("ios", {}, {"type": "identify", "userId": "user-2"})[0]["body"] == {"userId": "user-2"}


@pytest.mark.parametrize("platform", ["ios", "android"])
def test_unknown_type_on_mobile_lists_flush_and_reset(platform):
    rejected = outcome(platform, {}, {"type": "FLUSH"})["rejected"]
    assert rejected["path"] == "$.type" and "flush or reset" in rejected["error"]
