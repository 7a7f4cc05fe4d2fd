"""A fast yes/no JSON Schema check: a schema compiled once into plain Python closures.

Valid messages are the common case, so they are checked here; only an instance this check
refuses goes through jsonschema, which finds the located error. The keywords of draft 2020-12
that rule sets use are compiled (type, enum, const, properties, required, additionalProperties,
propertyNames, items, min/maxItems, min/maxLength, pattern, minimum, maximum, min/maxProperties,
allOf, anyOf, oneOf, not, if/then/else, $ref); a subschema with any other keyword is checked by
jsonschema itself, so the answer is always jsonschema's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

_ANNOTATIONS = {"$schema", "$id", "$defs", "definitions", "title", "description", "examples", "default",
                "$comment", "x-error", "x-missing", "deprecated", "readOnly", "writeOnly"}
_COMPILED = {"type", "enum", "const", "properties", "required", "additionalProperties", "propertyNames",
             "items", "minItems", "maxItems", "minLength", "maxLength", "pattern", "minimum", "maximum",
             "minProperties", "maxProperties", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "$ref"}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": _is_number,
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON means it: true is not 1, and 1 equals 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


class FastCheck:
    """Compiles schemas (and the ones they reference) into closures, once."""

    def __init__(self, validator_for: Callable[[dict, Any], Any]) -> None:
        # validator_for(schema, resolver) -> an object with is_valid(), for subschemas not compiled here
        self._fallback = validator_for
        self._cache: dict[int, Check] = {}

    def compile(self, schema: Any, resolver: Any) -> Check:
        if schema is True or schema == {}:
            return lambda value: True
        if schema is False:
            return lambda value: False
        key = id(schema)
        if key in self._cache:
            return self._cache[key]
        cell: list[Check] = []
        self._cache[key] = lambda value: cell[0](value)  # for schemas that reference themselves
        check = self._build(schema, resolver)
        cell.append(check)
        self._cache[key] = check
        return check

    def _build(self, schema: dict, resolver: Any) -> Check:
        if set(schema) - _COMPILED - _ANNOTATIONS:
            validator = self._fallback(schema, resolver)
            return validator.is_valid
        checks: list[Check] = []
        if "type" in schema:
            names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            tests = [_TYPES[name] for name in names]
            checks.append(tests[0] if len(tests) == 1 else (lambda v, ts=tuple(tests): any(t(v) for t in ts)))
        if "enum" in schema:
            choices = list(schema["enum"])
            if all(isinstance(c, str) for c in choices):
                texts = frozenset(choices)
                checks.append(lambda v: isinstance(v, str) and v in texts)
            else:
                checks.append(lambda v: any(json_equal(v, c) for c in choices))
        if "const" in schema:
            constant = schema["const"]
            checks.append(lambda v: json_equal(v, constant))
        checks += self._object_checks(schema, resolver)
        checks += self._other_checks(schema, resolver)
        if "$ref" in schema:
            resolved = resolver.lookup(schema["$ref"])
            checks.append(self.compile(resolved.contents, resolved.resolver))
        for keyword in ("allOf", "anyOf", "oneOf"):
            if keyword in schema:
                parts = [self.compile(part, resolver) for part in schema[keyword]]
                if keyword == "allOf":
                    checks.extend(parts)
                elif keyword == "anyOf":
                    checks.append(lambda v, ps=parts: any(p(v) for p in ps))
                else:
                    checks.append(lambda v, ps=parts: sum(1 for p in ps if p(v)) == 1)
        if "not" in schema:
            negated = self.compile(schema["not"], resolver)
            checks.append(lambda v: not negated(v))
        if "if" in schema:
            condition = self.compile(schema["if"], resolver)
            then = self.compile(schema.get("then", True), resolver)
            otherwise = self.compile(schema.get("else", True), resolver)
            checks.append(lambda v: then(v) if condition(v) else otherwise(v))
        if not checks:
            return lambda value: True
        if len(checks) == 1:
            return checks[0]
        checks_tuple = tuple(checks)

        def all_hold(value: Any) -> bool:
            for check in checks_tuple:
                if not check(value):
                    return False
            return True

        return all_hold

    def _object_checks(self, schema: dict, resolver: Any) -> list[Check]:
        checks: list[Check] = []
        properties = {name: self.compile(sub, resolver) for name, sub in (schema.get("properties") or {}).items()}
        required = tuple(schema.get("required") or ())
        extra = schema.get("additionalProperties", True)
        extra_check = None if extra is True else self.compile(extra, resolver)
        names = self.compile(schema["propertyNames"], resolver) if "propertyNames" in schema else None
        low, high = schema.get("minProperties"), schema.get("maxProperties")
        if not (properties or required or extra_check or names or low is not None or high is not None):
            return checks
        property_items = tuple(properties.items())

        def object_check(value: Any) -> bool:
            if type(value) is not dict and not isinstance(value, dict):
                return True
            for name in required:
                if name not in value:
                    return False
            for name, check in property_items:
                if name in value and not check(value[name]):
                    return False
            if extra_check is not None:
                for name, item in value.items():
                    if name not in properties and not extra_check(item):
                        return False
            if names is not None:
                for name in value:
                    if not names(name):
                        return False
            if low is not None and len(value) < low:
                return False
            return not (high is not None and len(value) > high)

        checks.append(object_check)
        return checks

    def _other_checks(self, schema: dict, resolver: Any) -> list[Check]:
        checks: list[Check] = []
        if "items" in schema or "minItems" in schema or "maxItems" in schema:
            items = self.compile(schema["items"], resolver) if "items" in schema else None
            low, high = schema.get("minItems"), schema.get("maxItems")

            def array_check(value: Any) -> bool:
                if not isinstance(value, list):
                    return True
                if low is not None and len(value) < low or high is not None and len(value) > high:
                    return False
                return items is None or all(items(item) for item in value)

            checks.append(array_check)
        if "minLength" in schema or "maxLength" in schema or "pattern" in schema:
            low, high = schema.get("minLength"), schema.get("maxLength")
            pattern = re.compile(schema["pattern"]) if "pattern" in schema else None

            def string_check(value: Any) -> bool:
                if not isinstance(value, str):
                    return True
                if low is not None and len(value) < low or high is not None and len(value) > high:
                    return False
                return pattern is None or pattern.search(value) is not None

            checks.append(string_check)
        if "minimum" in schema or "maximum" in schema:
            low, high = schema.get("minimum"), schema.get("maximum")

            def number_check(value: Any) -> bool:
                if not _is_number(value):
                    return True
                return not (low is not None and value < low or high is not None and value > high)

            checks.append(number_check)
        return checks
