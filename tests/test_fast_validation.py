"""The fast schema check answers exactly as jsonschema does: on every documented message and
output, and on many variants of them that break one thing at a time."""

from __future__ import annotations

import copy
import itertools
import json
import random

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from engine.evaluator import run_rules
from engine.fastcheck import FastCheck
from engine.translator import schema_store
from engine.validation import SchemaStore
from support import FIXTURES, documented_cases, translator

STEMS = sorted(p.stem for p in FIXTURES.glob("*.yaml"))
ODD_VALUES = [None, "", "null", 0, -1, 1.5, True, "x" * 1100, [], {}, ["a"], {"a": 1}, "2016-13-45", 10 ** 20]


def _variants(instance, rng):
    yield instance
    if not isinstance(instance, dict):
        return
    for _ in range(25):
        variant = copy.deepcopy(instance)
        target = variant
        path = []
        while isinstance(target, dict) and target and rng.random() < 0.6:
            key = rng.choice(sorted(target))
            if not isinstance(target[key], dict):
                break
            path.append(key)
            target = target[key]
        if not isinstance(target, dict) or not target:
            continue
        key = rng.choice(sorted(target))
        if rng.random() < 0.3:
            del target[key]
        else:
            target[key] = rng.choice(ODD_VALUES)
        yield variant


def _pairs():
    store = schema_store()
    for param in documented_cases(*STEMS):
        case = param.values[0]
        compiled = translator(case.platform, case.settings)
        yield case.id, compiled.ruleset.input_validator, case.message
        try:
            built = run_rules(compiled.ruleset, case.message, 1)
        except Exception:
            continue
        for _rule, target, body in built:
            yield case.id, store.validator(target.schema), body


def test_fast_check_agrees_with_jsonschema():
    rng = random.Random(3)
    compared = disagreements = 0
    for case_id, validator, instance in _pairs():
        for variant in _variants(instance, rng):
            compared += 1
            fast = validator.is_valid(variant)
            slow = next(iter(validator.slow.iter_errors(variant)), None) is None
            if fast != slow:
                disagreements += 1
                pytest.fail(f"{case_id}: fast says {fast}, jsonschema says {slow} for {variant!r}"[:2000])
    assert compared > 5000 and disagreements == 0


# Schemas where a subschema's own $id is the base URI of the references inside it (relative to the file,
# absolute, embedded in $defs, under items / allOf / not / if), and schemas where the dynamic scope or
# another dialect decides: the fast check must still answer as jsonschema.
NESTED_ID_SCHEMAS = {
    "a/common.schema.json": {"$defs": {"s": {"type": "string"}}},
    "a/b/common.schema.json": {"$defs": {"s": {"type": "integer"}}},
    "a/root.schema.json": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {"s": {"type": "string"},
                  "e": {"$id": "https://example.com/e.json", "$defs": {"v": {"type": "boolean"}}, "$ref": "#/$defs/v"}},
        "properties": {
            "p": {"$id": "b/inner.schema.json", "$ref": "common.schema.json#/$defs/s"},
            "q": {"$id": "sub/", "$defs": {"s": {"type": "integer"}}, "$ref": "#/$defs/s"},
            "r": {"$ref": "sub/#/$defs/s"},
            "s": {"$ref": "https://example.com/e.json"},
            "t": {"items": {"$id": "b/t.json", "$ref": "common.schema.json#/$defs/s"}},
            "u": {"allOf": [{"$id": "b/x.json", "$ref": "common.schema.json#/$defs/s"}, {"$ref": "#/$defs/s"}]},
            "v": {"not": {"$id": "b/v.json", "$ref": "common.schema.json#/$defs/s"}},
            "w": {"if": {"$id": "b/w.json", "$ref": "common.schema.json#/$defs/s"}, "then": {"minimum": 3},
                  "else": {"$ref": "common.schema.json#/$defs/s"}},
            "x": {"$id": "https://example.com/x/", "$defs": {"n": {"type": "null"}}, "$ref": "#/$defs/n"},
            "o": {"oneOf": [{"$id": "b/o1.json", "$ref": "common.schema.json#/$defs/s"},
                            {"$id": "b/o2.json", "$ref": "common.schema.json#/$defs/s"}, {"minimum": 4}]},
        },
    },
    "a/mixed.schema.json": {"properties": {
        "y": {"$ref": "old.schema.json"},
        "z": {"$schema": "http://json-schema.org/draft-07/schema#", "$ref": "common.schema.json#/$defs/s",
              "minLength": 3},
        "n": {"not": {"$schema": "http://json-schema.org/draft-07/schema#", "$ref": "common.schema.json#/$defs/s",
                      "minLength": 3}}}},
    "a/declared.schema.json": {"$id": "a/declared.schema.json", "$ref": "root.schema.json",
                               "properties": {"d": {"$id": "b/d.json", "$ref": "common.schema.json#/$defs/s"}}},
    "a/elsewhere.schema.json": {"$id": "c/moved.schema.json", "$ref": "../a/b/common.schema.json#/$defs/s"},
    "a/uses-moved.schema.json": {"$ref": "../c/moved.schema.json"},
    "a/old.schema.json": {"$schema": "http://json-schema.org/draft-07/schema#",  # $ref siblings ignored
                          "properties": {"a": {"$ref": "b/common.schema.json#/$defs/s", "maximum": 3}}},
}
# Where the dynamic scope decides what a reference means, or another dialect is declared.
SCOPED_SCHEMAS = {
    "dyn/tree.schema.json": {"$dynamicAnchor": "node", "type": "object",
                             "properties": {"children": {"type": "array", "items": {"$dynamicRef": "#node"}}}},
    "dyn/strict.schema.json": {"$ref": "tree.schema.json",
                               "$defs": {"n": {"$dynamicAnchor": "node", "$ref": "tree.schema.json",
                                               "unevaluatedProperties": False}}},
    "d7/old.schema.json": {"$schema": "http://json-schema.org/draft-07/schema#",
                           "definitions": {"s": {"type": "string"}},
                           "properties": {"a": {"$ref": "#/definitions/s", "minLength": 3}}},
}
NESTED_ID_VALUES = [None, True, 0, 1, 5, {"a": 7}, {"a": "x"},
                    "x", "long text", [], [1], ["x"], {}, {"children": [{"extra": 1}]}]


def _write_schemas(folder, schemas):
    for name, schema in schemas.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema))


@pytest.mark.parametrize("schemas", [NESTED_ID_SCHEMAS, SCOPED_SCHEMAS], ids=["nested-ids", "dynamic-or-draft7"])
def test_fast_check_agrees_with_jsonschema_under_nested_ids(tmp_path, schemas):
    _write_schemas(tmp_path, schemas)
    store = SchemaStore(tmp_path)
    names = list(schemas)
    fields = sorted({key for schema in schemas.values() for key in schema.get("properties", {})} | {"children"})
    compared = 0
    for name in names + names[::-1]:  # in both orders: what one schema compiled must not change another
        validator = store.validator(name)
        if schemas is NESTED_ID_SCHEMAS and name not in ("a/old.schema.json", "a/mixed.schema.json"):
            assert getattr(validator.is_valid, "__self__", None) is not validator.slow, f"{name}: not compiled"
        for field, value in itertools.product(fields, NESTED_ID_VALUES):
            for instance in ({field: value}, value):
                compared += 1
                assert validator.is_valid(instance) == validator.slow.is_valid(instance), (name, instance)
    assert compared > 100


def test_one_subschema_reached_under_two_base_uris_is_checked_under_each():
    shared = {"$ref": "#/$defs/s"}
    schema = {"$id": "https://example.com/root.json", "$defs": {"s": {"type": "string"}},
              "properties": {"a": shared,
                             "b": {"$id": "https://example.com/other/", "$defs": {"s": {"type": "integer"}},
                                   "items": shared}}}
    registry = Registry().with_resource(schema["$id"], DRAFT202012.create_resource(schema))
    slow = Draft202012Validator(schema, registry=registry)
    fast = FastCheck(lambda sub, resolver: Draft202012Validator(sub, registry=registry, _resolver=resolver))
    check = fast.compile(schema, registry.resolver(base_uri=schema["$id"]))
    for instance in ({"a": "x"}, {"a": 1}, {"b": [1]}, {"b": ["x"]}, {"a": "x", "b": [1, 2]}):
        assert check(instance) == slow.is_valid(instance), instance


class _Text(str):
    pass


def test_values_of_other_python_types_are_never_accepted_where_jsonschema_refuses_them(tmp_path):
    """Subclasses of str and numbers that are not int or float (the Python API can pass them):
    the fast check may send them to jsonschema, but never says yes where it says no."""
    from decimal import Decimal
    from fractions import Fraction

    schemas = {"odd/s.schema.json": {"properties": {
        "placeholder": {"not": {"enum": ["null", "anonymous"]}},
        "exact": {"not": {"const": "x"}},
        "count": {"minimum": 0, "maximum": 10},
        "whole": {"if": {"type": "integer"}, "then": {"minimum": 5}, "else": {"type": "string"}},
        "one": {"oneOf": [{"type": "number"}, {"type": "string"}]}}}}
    _write_schemas(tmp_path, schemas)
    validator = SchemaStore(tmp_path).validator("odd/s.schema.json")
    values = [_Text("null"), _Text("anonymous"), _Text("x"), _Text("ok"), Decimal(-5), Decimal(3), Fraction(-1, 2),
              Fraction(21, 2), Decimal("7.5"), 3, 7, -1, 11.0, "text"]
    for field, value in itertools.product(["placeholder", "exact", "count", "whole", "one"], values):
        instance = {field: value}
        slow = validator.slow.is_valid(instance)
        assert not validator.is_valid(instance) or slow, (field, value)


def _by_fields(checks, instance):
    """What the checks taken apart by property (``FieldChecks``, as a generated plan uses them)
    answer: each present key's lines, then the rest on the whole object; None when a key's
    subschema cannot be written so (the plan then checks the whole body)."""
    lines = ["def check(v):", "    if not isinstance(v, dict): return rest(v)"]
    for key in sorted(instance) if isinstance(instance, dict) else ():
        more = checks.lines(key, "x")
        if more is None:
            return None
        lines += [f"    x = v[{key!r}]", *("    " + line for line in more)]
    lines.append("    return rest(v)")
    names = {**checks.names, "rest": checks.rest}
    exec("\n".join(lines), names)  # noqa: S102 - the test's own generated check
    return names["check"](instance)


def test_checks_taken_apart_by_property_answer_as_the_whole_schema():
    rng = random.Random(4)
    store = schema_store()
    compared = 0
    for param in documented_cases(*STEMS):
        case = param.values[0]
        try:
            built = run_rules(translator(case.platform, case.settings).ruleset, case.message, 1)
        except Exception:
            continue
        for _rule, target, body in built:
            validator, checks = store.validator(target.schema), store.field_checks(target.schema)
            if checks is None:
                continue
            for variant in _variants(body, rng):
                compared += 1
                assert _by_fields(checks, variant) == validator.slow.is_valid(variant), (case.id, variant)
    assert compared > 2000


def test_checks_taken_apart_by_property_follow_nested_ids_and_other_drafts(tmp_path):
    _write_schemas(tmp_path, NESTED_ID_SCHEMAS)
    store = SchemaStore(tmp_path)
    fields = sorted({key for schema in NESTED_ID_SCHEMAS.values() for key in schema.get("properties", {})})
    written = 0
    for name in NESTED_ID_SCHEMAS:
        validator = store.validator(name)
        checks = store.field_checks(name)
        if checks is None:
            continue
        for field, value in itertools.product(fields, NESTED_ID_VALUES):
            answer = _by_fields(checks, {field: value})
            if answer is not None:
                written += 1
                assert answer == validator.slow.is_valid({field: value}), (name, field, value)
    # a property that reaches another draft cannot be written in place (the plan checks the whole body)
    assert _by_fields(store.field_checks("a/mixed.schema.json"), {"z": "x"}) is None
    assert written > 100


def test_a_literal_is_checked_once_when_the_plan_is_made(tmp_path):
    _write_schemas(tmp_path, {"l/s.schema.json": {"properties": {"n": {"type": "integer"}, "s": {"maxLength": 2}}}})
    store = SchemaStore(tmp_path)
    store.validator("l/s.schema.json")
    checks = store.field_checks("l/s.schema.json")
    assert checks.value_ok("n", 3) and not checks.value_ok("n", "3") and not checks.value_ok("s", "abc")
    assert checks.value_ok("other", object())  # no property: the rest decides


SIMPLE_BRANCHES = [True, False, {}, {"type": "integer"}, {"type": ["string", "null"]}, {"const": "track"},
                   {"enum": ["a", "b"]}, {"required": ["a"]}, {"required": ["a"], "properties": {"a": {"const": "x"}}},
                   {"properties": {"a": {"type": "number"}, "b": {"enum": ["x"]}}}, {"type": "object", "required": []},
                   {"properties": {"a": {"properties": {"b": {"type": "string"}}}}}, {"const": 1}, {"minimum": 2}]
SIMPLE_VALUES = [None, True, 1, 1.0, 2.5, "a", "x", "track", [], ["a"], {}, {"a": "x"}, {"a": 1}, {"a": True},
                 {"a": None}, {"b": "x"}, {"a": 2, "b": "y"}, {"a": {"b": 1}}, {"a": {"b": "s"}}]


@pytest.mark.parametrize("keyword", ["if", "anyOf", "not"])
def test_simple_branches_written_in_place_answer_as_jsonschema(keyword):
    for branch in SIMPLE_BRANCHES:
        if keyword == "if":
            schema = {"if": branch, "then": {"required": ["then"]}, "else": {"required": ["else"]}}
        elif keyword == "anyOf":
            schema = {"anyOf": [branch, {"required": ["other"]}]}
        else:
            schema = {"not": branch}
        schema["$id"] = "https://example.com/s.json"
        registry = Registry().with_resource(schema["$id"], DRAFT202012.create_resource(schema))
        slow = Draft202012Validator(schema, registry=registry)
        fast = FastCheck(lambda sub, resolver, r=registry: Draft202012Validator(sub, registry=r, _resolver=resolver))
        check = fast.compile(schema, registry.resolver(base_uri=schema["$id"]))
        for value in SIMPLE_VALUES:
            for instance in (value, {"then": 1, **value} if isinstance(value, dict) else value):
                assert check(instance) == slow.is_valid(instance), (branch, instance)
