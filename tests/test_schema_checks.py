"""The fast schema check (jsonschema-rs) answers exactly as jsonschema does: on every documented
message and output, on many variants of them that break one thing at a time, under nested
``$id``s, the dynamic scope and other drafts, and on Python values of no JSON type."""

from __future__ import annotations

import copy
import itertools
import json
import random

import pytest

from engine.run import walk
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
            built = walk(compiled.ruleset, case.message, 1)
        except Exception:
            continue
        for output in built:
            yield case.id, store.validator(compiled.ruleset.targets[output["target"]].schema), output["body"]


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
# Under `not`, `if` and a `oneOf` branch after the first that holds, jsonschema resolves a `$ref` from
# the outer base URI instead of the subschema's own `$id`; jsonschema-rs follows the specification (and
# passes the whole official draft 2020-12 suite). The engine's answer there is jsonschema-rs's yes and
# jsonschema's reasons; the project's schemas declare no nested `$id`. Likewise `$schema` in a subschema
# that is not a resource of its own (no `$id`), whose meaning the specification leaves open: jsonschema-rs
# switches dialect there, jsonschema does not.
JSONSCHEMA_KEEPS_THE_OUTER_BASE = {"v", "w", "o", "z", "n"}
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
    fields = sorted(({key for schema in schemas.values() for key in schema.get("properties", {})} | {"children"})
                    - JSONSCHEMA_KEEPS_THE_OUTER_BASE)
    compared = 0
    for name in names + names[::-1]:  # in both orders: what one schema compiled must not change another
        validator = store.validator(name)
        assert validator.fast is not None, f"{name}: jsonschema-rs could not build it"
        for field, value in itertools.product(fields, NESTED_ID_VALUES):
            for instance in ({field: value}, value):
                compared += 1
                assert validator.is_valid(instance) == validator.slow.is_valid(instance), (name, instance)
    assert compared > 100


class _Text(str):
    pass


def test_values_of_other_python_types_are_never_accepted_where_jsonschema_refuses_them(tmp_path):
    """Subclasses of str and numbers that are not int or float (the Python API can pass them):
    jsonschema-rs may leave them to jsonschema, but never says yes where it says no."""
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
