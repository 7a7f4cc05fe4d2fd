"""A fast yes/no JSON Schema check: a schema compiled once into plain Python closures.

Valid messages are the common case, so they are checked here; only an instance this check
refuses goes through jsonschema, which finds the located error. The keywords of draft 2020-12
that rule sets use are compiled (type, enum, const, properties, required, additionalProperties,
propertyNames, items, min/maxItems, min/maxLength, pattern, minimum, maximum, min/maxProperties,
allOf, anyOf, oneOf, not, if/then/else, $ref); a subschema with any other keyword is checked by
jsonschema itself, so the answer is always jsonschema's.

References resolve as jsonschema resolves them: a subschema with its own ``$id`` is a new base URI
for the references inside it (except, as in jsonschema, the subschema of ``not`` and ``if`` and the
branches of ``oneOf`` after the first that holds), and a schema is compiled once per base URI it is
reached under. A schema that reaches a subschema whose ``$schema`` names another draft is checked
by jsonschema as a whole. The dynamic scope is no part of the compiled checks: schemas that declare
``$dynamicAnchor`` or ``$recursiveAnchor`` (where it decides what a reference means) are not for
this module. A subschema it cannot compile (an unknown type name, a pattern that is not a regular
expression, a ``$ref`` that resolves to nothing) raises ``SchemaProblem``, which names it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jsonschema.validators
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

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


class SchemaProblem(Exception):
    """A subschema that cannot be compiled: ``schema`` is that subschema (the object itself, so the
    caller can say where it is) and ``keyword`` the keyword at fault."""

    def __init__(self, message: str, schema: Any, keyword: str) -> None:
        self.message = message
        self.schema = schema
        self.keyword = keyword
        super().__init__(message)


class _OtherDialect(Exception):
    """A schema reaches a subschema whose ``$schema`` is another draft than 2020-12."""


def _base_uri(resolver: Any) -> str:
    # referencing keeps a resolver's base URI private and offers no accessor; it is part of the cache key
    return str(getattr(resolver, "_base_uri", ""))


class FastCheck:
    """Compiles schemas (and the ones they reference) into closures, once per base URI."""

    def __init__(self, validator_for: Callable[[dict, Any], Any]) -> None:
        # validator_for(schema, resolver) -> an object with is_valid(), for subschemas not compiled here
        self._fallback = validator_for
        self._cache: dict[tuple[int, str], Check] = {}

    def compile(self, schema: Any, resolver: Any) -> Check:
        """The check of a root schema; ``resolver`` (a ``referencing`` resolver) has the schema's
        own base URI, as jsonschema's validator of that schema has."""
        before = dict(self._cache)
        try:
            return self._compile(schema, resolver)
        except _OtherDialect:
            self._cache = before
            return self._fallback(schema, resolver).is_valid  # jsonschema mixes the dialects its own way
        except BaseException:
            self._cache = before  # nothing half-built stays cached
            raise

    def _descend(self, schema: Any, resolver: Any) -> Check:
        """The check of a subschema met in place: its own ``$id``, if any, is the new base URI."""
        if isinstance(schema, dict) and "$id" in schema:
            resolver = resolver.in_subresource(DRAFT202012.create_resource(schema))
        return self._compile(schema, resolver)

    def _compile(self, schema: Any, resolver: Any) -> Check:
        if schema is True or schema == {}:
            return lambda value: True
        if schema is False:
            return lambda value: False
        key = (id(schema), _base_uri(resolver))
        if key in self._cache:
            return self._cache[key]
        cell: list[Check] = []
        self._cache[key] = lambda value: cell[0](value)  # for schemas that reference themselves
        check = self._build(schema, resolver)
        cell.append(check)
        self._cache[key] = check
        return check

    def _build(self, schema: Any, resolver: Any) -> Check:
        if not isinstance(schema, dict):
            raise SchemaProblem(f"a schema is an object or a boolean, not {type(schema).__name__}", schema, "")
        if "$schema" in schema and _dialect(schema) is not jsonschema.Draft202012Validator:
            raise _OtherDialect
        if set(schema) - _COMPILED - _ANNOTATIONS:
            validator = self._fallback(schema, resolver)
            return validator.is_valid
        checks: list[Check] = []
        if "type" in schema:
            names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            unknown = [name for name in names if not isinstance(name, str) or name not in _TYPES]
            if unknown:
                raise SchemaProblem(f"unknown type {unknown[0]!r} (types: {', '.join(sorted(_TYPES))})", schema,
                                    "type")
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
            try:
                resolved = resolver.lookup(schema["$ref"])
            except Unresolvable as exc:
                raise SchemaProblem(f"$ref {schema['$ref']!r} cannot be resolved ({type(exc).__name__})", schema,
                                    "$ref") from None
            checks.append(self._compile(resolved.contents, resolved.resolver))
        for keyword in ("allOf", "anyOf"):
            if keyword in schema:
                parts = [self._descend(part, resolver) for part in schema[keyword]]
                if keyword == "allOf":
                    checks.extend(parts)
                else:
                    checks.append(lambda v, ps=parts: any(p(v) for p in ps))
        if "oneOf" in schema:
            checks.append(self._one_of(schema["oneOf"], resolver))
        # jsonschema checks the subschemas of `not` and `if` (and the later branches of oneOf) in the base
        # URI of the schema holding them, without their own $id: so does this, to answer as it does
        if "not" in schema:
            negated = self._compile(schema["not"], resolver)
            checks.append(lambda v: not negated(v))
        if "if" in schema:
            condition = self._compile(schema["if"], resolver)
            then = self._descend(schema.get("then", True), resolver)
            otherwise = self._descend(schema.get("else", True), resolver)
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

    def _one_of(self, branches: list, resolver: Any) -> Check:
        """Valid when one branch holds and none after it: the first that holds is found with each
        branch's own base URI, the others are tried in the base URI of the schema holding them."""
        found = [self._descend(branch, resolver) for branch in branches]
        others = [self._compile(branch, resolver) for branch in branches]

        def one_of(value: Any) -> bool:
            for index, check in enumerate(found):
                if check(value):
                    return not any(other(value) for other in others[index + 1:])
            return False

        return one_of

    def _object_checks(self, schema: dict, resolver: Any) -> list[Check]:
        checks: list[Check] = []
        properties = {name: self._descend(sub, resolver) for name, sub in (schema.get("properties") or {}).items()}
        required = tuple(schema.get("required") or ())
        extra = schema.get("additionalProperties", True)
        extra_check = None if extra is True else self._descend(extra, resolver)
        names = self._descend(schema["propertyNames"], resolver) if "propertyNames" in schema else None
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
            items = self._descend(schema["items"], resolver) if "items" in schema else None
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
            pattern = _pattern(schema) if "pattern" in schema else None

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


def _dialect(schema: dict) -> Any:
    """The jsonschema validator class that checks ``schema`` (by its ``$schema``) inside a 2020-12 one."""
    return jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)


def _pattern(schema: dict) -> re.Pattern:
    try:
        return re.compile(schema["pattern"])
    except (re.error, TypeError) as exc:
        raise SchemaProblem(f"pattern {schema['pattern']!r} is not a regular expression: {exc}", schema,
                            "pattern") from None
