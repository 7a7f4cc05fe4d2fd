"""The generated plan (rules compiled to Python, ``engine.plan``) builds exactly what the walk of
the compiled constructs (``engine.run.walk``) builds: on every documented example, and on a
generated corpus under many settings on every platform. Where the plan gives up on a message, the
walk translates or rejects it."""

from __future__ import annotations

import copy
import itertools
import sys

import pytest

import engine
from engine.run import translate, walk
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
        return [(output["target"], output["body"]) for output in function(ruleset, message, 1)]
    except engine.Rejected as rejected:
        return ("rejected", rejected.as_record())


def _plan_outcome(ruleset, message):
    """What the plan gives a message whose input is valid (as translate runs it), and whether it
    took the message to the end."""
    try:
        if not ruleset.input_check(message):
            return None, False
        built = ruleset.plan(message)
    except Exception:  # the plan gives up: the nodes take the message
        return None, False
    if built is False:  # an output its checks refuse: the stages take the message and say where
        return None, False
    return [(target, body) for _rule, target, body in built], True


def _check(ruleset, message, label):
    before = copy.deepcopy(message)
    walked = _outcome(walk, ruleset, message)
    planned, finished = _plan_outcome(ruleset, message)
    assert message == before, f"{label}: a rule changed the message"
    if finished:
        assert planned == walked, label
        for _rule, target, body in ruleset.plan(message):  # what the plan gives has passed its checks
            assert ruleset.targets[target].accepts(body), label
    else:  # translate falls back to the walk: same outcome
        assert _outcome(translate, ruleset, message) == walked, label
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


GENERIC_RULES = """
platform: g
input: {schema: g/any.schema.json}
settings: settings.yaml
targets: {out: {schema: g/any.schema.json}}
rules:
  - name: r
    emit:
      - target: out
        body:
          literal: {select: "`1`.a || 'none'"}
          piped: {select: "`1` | [@, a]"}
          x: {select: "context.x || 'none'"}
          y: {select: "context.y || 'none'"}
          plain: context.x
      - target: out
        foreach: lines
        body:
          sku: {select: sku, from: item}
          plain_sku: {select: sku, from: item, type: string}
"""


@pytest.fixture
def generic(tmp_path):
    from collections import OrderedDict

    rules, schemas = tmp_path / "rules", tmp_path / "schemas" / "g"
    rules.mkdir()
    schemas.mkdir(parents=True)
    (schemas / "any.schema.json").write_text('{"type": "object"}')
    (rules / "settings.yaml").write_text("settings: {}\n")
    (rules / "g.yaml").write_text(GENERIC_RULES)
    without_literals = "\n".join(line for line in GENERIC_RULES.splitlines() if "`1`" not in line)
    (rules / "h.yaml").write_text(without_literals.replace("platform: g", "platform: h"))
    return (lambda platform: engine.load(platform, {}, rules_dir=rules, schemas_dir=tmp_path / "schemas")), OrderedDict


def test_literals_in_selectors_compile_and_agree(generic):
    load, _ = generic
    translator = load("g")
    message = {"context": {"x": 1}, "lines": [{"sku": "A"}]}
    assert [o["body"] for o in translator.translate(message)] == [
        output["body"] for output in walk(translator.ruleset, message)]
    assert translator.translate(message)[0]["body"]["literal"] == "none"


def test_mappings_that_are_not_plain_dicts_are_translated_as_the_nodes_do(generic):
    """The Python API may pass OrderedDicts and other dict subclasses: plain paths do not step into
    them, selectors do; the plan leaves such messages to the nodes."""
    load, ordered = generic
    translator = load("h")
    for message in ({"context": ordered(x=1, y=2)}, ordered(context={"x": 1, "y": 2}),
                    {"lines": [ordered(sku="A")]}, {"context": {"x": 1}, "lines": [{"sku": "B"}]}):
        walked = [output["body"] for output in walk(translator.ruleset, message)]
        assert [o["body"] for o in translator.translate(message)] == walked, message


def test_an_output_its_checks_refuse_gives_the_message_up_to_the_located_stages():
    ruleset = translator("server", {"minIdLength": 5}).ruleset
    message = {"type": "track", "event": "Signed In", "userId": "abc", "messageId": "m-1"}
    assert ruleset.plan(message) is False  # user_id shorter than minIdLength: a target check
    with pytest.raises(engine.Rejected) as info:
        translator("server", {"minIdLength": 5}).translate(message, 4)
    assert info.value.path == "$.user_id" and info.value.index == 4 and "shorter than 5" in info.value.message
    message = {"type": "track", "event": "x" * 1025, "userId": "abcdef"}
    assert ruleset.plan(message) is False  # event_type longer than the schema allows
    with pytest.raises(engine.Rejected) as info:
        translator("server").translate(message, 1)
    assert info.value.path.startswith("$.event_type")


def _one_rule(folder, platform: str, body: str, schema: str = "g/strict.schema.json"):
    """A rule set of one rule emitting one output with ``body`` (YAML), beside the generic one."""
    (folder / "rules" / f"{platform}.yaml").write_text(
        f"platform: {platform}\ninput: {{schema: g/any.schema.json}}\nsettings: settings.yaml\n"
        f"targets: {{out: {{schema: {schema}}}}}\nrules:\n  - name: r\n    emit: {{target: out, body: {body}}}\n")


UNSPLIT_SCHEMA = """{"type": "object", "required": ["n"], "unevaluatedProperties": false,
                     "properties": {"n": {"type": "integer"}}}"""


def test_a_target_schema_that_does_not_come_apart_is_checked_whole(generic, tmp_path):
    load, _ = generic
    (tmp_path / "schemas" / "g" / "strict.schema.json").write_text(UNSPLIT_SCHEMA)
    _one_rule(tmp_path, "s", "{n: count, extra: other}")
    translator = load("s")
    assert translator.translate({"count": 3}) == [{"target": "out", "body": {"n": 3}}]
    assert translator.ruleset.plan({"count": 3, "other": 1}) is False
    with pytest.raises(engine.Rejected):
        translator.translate({"count": 3, "other": 1})
    assert translator.ruleset.plan({"count": "3"}) is False


CONSTANTS = "{p: {value: {k: a}}, q: {select: kind, map: {x: [1, 2]}}}"


@pytest.mark.parametrize("fast", [True, False], ids=["plan", "nodes"])
def test_changing_an_output_changes_no_later_output(generic, tmp_path, fast):
    load, _ = generic
    (tmp_path / "schemas" / "g" / "strict.schema.json").write_text(
        '{"properties": {"p": {"properties": {"k": {"type": "string"}}}, "q": {"items": {"type": "integer"}}}}')
    _one_rule(tmp_path, "c", CONSTANTS)
    translator = load("c")
    if not fast:
        translator.ruleset.plan = None  # the nodes alone
    first = translator.translate({"kind": "x"})
    first[0]["body"]["p"]["k"] = 5
    first[0]["body"]["q"].append("text")
    assert translator.translate({"kind": "x"}) == [{"target": "out", "body": {"p": {"k": "a"}, "q": [1, 2]}}]


def test_a_target_schema_that_refers_to_itself_leaves_a_plan(generic, tmp_path):
    load, _ = generic
    (tmp_path / "schemas" / "g" / "strict.schema.json").write_text(
        '{"properties": {"p": {"$ref": "#/properties/p"}, "n": {"type": "integer"}}}')
    _one_rule(tmp_path, "c", "{p: {value: {k: a}}, n: count}")
    translator = load("c")
    assert translator.ruleset.plan is not None


LITERALS = ("{pair: {select: \"{x: kind, y: upper('b')}\"}, "
            "listed: {select: '[kind, from_items(`[[\"a\", 1]]`)]'}, plain: {select: '`[1, 2]`'}}")


@pytest.mark.parametrize("fast", [True, False], ids=["plan", "nodes"])
def test_literal_objects_in_selectors_are_new_for_every_message(generic, tmp_path, fast):
    load, _ = generic
    _one_rule(tmp_path, "l", LITERALS, schema="g/any.schema.json")
    translator = load("l")  # a call of literals inside an object selector folds without breaking it
    if not fast:
        translator.ruleset.plan = None
    first = translator.translate({"kind": "k"})[0]["body"]
    assert first == {"pair": {"x": "k", "y": "B"}, "listed": ["k", {"a": 1}], "plain": [1, 2]}
    first["listed"][1]["a"] = 2
    first["plain"].append(3)
    assert translator.translate({"kind": "k"})[0]["body"] == {
        "pair": {"x": "k", "y": "B"}, "listed": ["k", {"a": 1}], "plain": [1, 2]}


@pytest.mark.parametrize("platform", ["server", "web", "ios", "android"])
def test_messages_with_several_outputs_are_finished_by_the_plan(platform):
    """Page and screen events and orders share fields between their outputs (computed by the
    first, copied by the next): the plan itself must take them, and agree with the nodes."""
    ruleset = translator(platform, SETTINGS[1] | {"trackRevenuePerProduct": True}).ruleset
    several = 0
    for number, message in enumerate(corpus.messages(300, seed=5), 1):
        walked = _outcome(walk, ruleset, message)
        if isinstance(walked, tuple) or len(walked) < 2:
            continue
        several += 1
        planned, finished = _plan_outcome(ruleset, message)
        assert finished and planned == walked, f"{platform} message {number}"
    assert several > 50


def test_a_function_call_several_selectors_make_alike_is_made_once_a_message():
    from engine.functions import user_agent

    ruleset = engine.load("server", {"apiKey": "0123456789abcdef0123456789abcdef"}).ruleset
    names = ruleset.plan.__globals__
    [constant] = [name for name, value in names.items() if value is user_agent]
    calls = []

    def counted(text):
        calls.append(text)
        return user_agent(text)

    message = {"type": "track", "event": "Signed In", "userId": "user-12345", "timestamp": "2026-11-01T10:00:00Z",
               "context": {"userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
                                        "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"}}
    expected = walk(ruleset, message, 1)
    names[constant] = counted
    try:
        built = ruleset.plan(message)
    finally:
        names[constant] = user_agent
    assert [{"target": target, "body": body} for _rule, target, body in built] == expected
    body = expected[0]["body"]
    assert body["os_name"] == "iOS" and body["device_model"] == "iPhone"  # four fields read from the agent
    assert len(calls) == 1
