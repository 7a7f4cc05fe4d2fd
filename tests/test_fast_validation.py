"""The fast schema check answers exactly as jsonschema does: on every documented message and
output, and on many variants of them that break one thing at a time."""

from __future__ import annotations

import copy
import random

import pytest

from engine.evaluator import run_rules
from engine.translator import schema_store
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
