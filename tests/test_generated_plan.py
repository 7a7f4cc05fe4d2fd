"""The generated plan (rules compiled to Python, ``engine.codegen``) builds exactly what walking
the compiled nodes builds: on every documented example, and on a generated corpus under many
settings on every platform. Where the plan gives up on a message, the nodes translate or reject it."""

from __future__ import annotations

import copy
import itertools
import sys

import pytest

import engine
from engine.evaluator import run_rules, walk_rules
from support import FIXTURES, ROOT, documented_cases, translator

sys.path.insert(0, str(ROOT / "bench"))
import corpus  # noqa: E402

SETTINGS = [
    {},
    {"trackNamedPages": True, "trackCategorizedPages": True, "trackAllPages": True, "trackAllPagesV2": True,
     "traitsToIncrement": ["logins"], "traitsToSetOnce": ["plan"], "preferAnonymousIdForDeviceId": True},
    {"trackRevenuePerProduct": True, "useLogRevenueV2": True, "groupTypeTrait": "kind", "groupValueTrait": "name",
     "sendAlias": True, "mapQueryParams": {"utm": "event_properties"}, "minIdLength": 3},
]


def _outcome(function, ruleset, message):
    try:
        return [(rule.name, target.name, body) for rule, target, body in function(ruleset, message, 1)]
    except engine.Rejected as rejected:
        return ("rejected", rejected.as_record())


def _plan_outcome(ruleset, message):
    try:
        return [(rule.name, target.name, body) for rule, target, body in ruleset.plan(message)], True
    except Exception:  # the plan gives up: the nodes take the message
        return None, False


def _check(ruleset, message, label):
    before = copy.deepcopy(message)
    walked = _outcome(walk_rules, ruleset, message)
    planned, finished = _plan_outcome(ruleset, message)
    assert message == before, f"{label}: a rule changed the message"
    if finished:
        assert planned == walked, label
    else:  # run_rules falls back to the nodes: same outcome
        assert _outcome(run_rules, ruleset, message) == walked, label
    return finished


def test_every_rule_set_has_a_plan():
    for platform in engine.platforms():
        assert engine.load(platform, {"apiKey": "0123456789abcdef0123456789abcdef"}).ruleset.plan is not None


def test_plan_agrees_with_the_nodes_on_every_documented_example():
    stems = sorted(p.stem for p in FIXTURES.glob("*.yaml"))
    finished = 0
    cases = [param.values[0] for param in documented_cases(*stems)]
    for case in cases:
        finished += _check(translator(case.platform, case.settings).ruleset, case.message, case.id)
    assert len(cases) > 100 and finished > len(cases) / 2


@pytest.mark.parametrize("platform, settings", list(itertools.product(
    ["server", "web", "ios", "android"], range(len(SETTINGS)))))
def test_plan_agrees_with_the_nodes_on_a_generated_corpus(platform, settings):
    ruleset = translator(platform, SETTINGS[settings]).ruleset
    messages = list(corpus.messages(400, seed=settings + 11))
    finished = sum(_check(ruleset, message, f"{platform} message {number}")
                   for number, message in enumerate(messages, 1))
    assert finished >= len(messages) * 0.9  # the plan itself takes nearly every message
