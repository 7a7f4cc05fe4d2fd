"""A fast yes/no JSON Schema check: a schema compiled once into generated Python code.

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

Simple subschemas (types, text constants, required keys) in ``if``, ``anyOf`` and ``not`` are
written in place as one expression rather than called. ``FastCheck.fields`` takes an object
schema apart by property (``FieldChecks``), for a generated plan that checks each output field
where it sets it.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jsonschema.validators
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from .pysource import Namespace

Check = Callable[[Any], bool]

_ANNOTATIONS = {"$schema", "$id", "$defs", "definitions", "title", "description", "examples", "default",
                "$comment", "x-error", "x-missing", "deprecated", "readOnly", "writeOnly"}
_COMPILED = {"type", "enum", "const", "properties", "required", "additionalProperties", "propertyNames",
             "items", "minItems", "maxItems", "minLength", "maxLength", "pattern", "minimum", "maximum",
             "minProperties", "maxProperties", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "$ref"}




def json_equal(one: Any, two: Any) -> bool:
    """Equality as jsonschema decides it for ``enum`` and ``const``: true is not 1, 1 equals 1.0,
    text compares as text, lists and objects item by item."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return one == two
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(json_equal(x, y) for x, y in zip(one, two))  # noqa: B905
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(key in two and json_equal(value, two[key]) for key, value in one.items())
    return _unbool(one) == _unbool(two)


_TRUE, _FALSE = object(), object()


def _unbool(value: Any) -> Any:
    return _TRUE if value is True else _FALSE if value is False else value


def _number(value: Any) -> bool:
    """jsonschema's number: any number but a boolean."""
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _integer(value: Any) -> bool:
    """jsonschema's integer (draft 4 on): an int but a boolean, or a float with no fraction."""
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())


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
    """Compiles schemas (and the ones they reference) into generated Python functions, once per
    base URI: a schema's checks are straight-line code, its literal subschemas (properties, items,
    allOf, then/else) written inline, and a ``$ref`` a call of the referenced schema's function."""

    def __init__(self, validator_for: Callable[[dict, Any], Any]) -> None:
        # validator_for(schema, resolver) -> an object with is_valid(), for subschemas not compiled here
        self._fallback = validator_for
        self._cache: dict[tuple[int, str], str] = {}  # (schema, base URI) -> its function's name
        space = Namespace({"_ABSENT": _ABSENT, "_json_equal": json_equal, "_one_of": _one_of, "_always": _always,
                           "_never": _never, "_number": _number, "_integer": _integer}, "x", "S")
        self._namespace, self._const, self._temp = space.names, space.const, space.temp
        self._run = space.run
        self._source: list[str] = []  # functions generated and not yet made
        self.source = ""  # every function generated so far, for reading
        self._inlining: set[tuple[int, str]] = set()  # referenced schemas being written inline

    def compile(self, schema: Any, resolver: Any) -> Check:
        """The check of a root schema; ``resolver`` (a ``referencing`` resolver) has the schema's
        own base URI, as jsonschema's validator of that schema has."""
        cache, source = dict(self._cache), list(self._source)
        try:
            name = self._function(schema, resolver)
            self._flush()
            return self._namespace[name]
        except _OtherDialect:
            self._cache, self._source = cache, source
            return self._fallback(schema, resolver).is_valid  # jsonschema mixes the dialects its own way
        except BaseException:
            self._cache, self._source = cache, source  # nothing half-built stays
            raise

    def fields(self, schema: Any, resolver: Any) -> FieldChecks | None:
        """An object schema taken apart for code that builds such objects key by key (see
        ``FieldChecks``); None when its keywords do not come apart (a keyword this module does not
        compile, another draft)."""
        if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
            return None
        if set(schema) - _COMPILED - _ANNOTATIONS or ("$schema" in schema and _dialect(schema) is not
                                                       jsonschema.Draft202012Validator):
            return None
        # The rest: every keyword but the properties' own subschemas. The property names stay,
        # for additionalProperties, which is about the keys that are not among them.
        rest = {**schema, "properties": dict.fromkeys(schema["properties"], True)}
        try:
            return FieldChecks(self, schema, rest, self.compile(rest, resolver), resolver)
        except (_OtherDialect, SchemaProblem):
            return None

    def _flush(self) -> None:
        """Make the functions generated since the last call."""
        if self._source:
            text = "\n".join(self._source) + "\n"
            self._run(text, "<schema checks>")
            self.source += text
            self._source = []

    # ------------------------------------------------------------ functions

    def _function(self, schema: Any, resolver: Any) -> str:
        """The name of the function checking ``schema`` under ``resolver``'s base URI."""
        if schema is True or (isinstance(schema, dict) and not schema):
            return "_always"
        if schema is False:
            return "_never"
        key = (id(schema), _base_uri(resolver))
        name = self._cache.get(key)
        if name is None:
            name = f"c{len(self._cache)}"
            self._cache[key] = name  # before the body: a schema may reference itself
            body = self._body(schema, resolver, "v", 0)
            self._source.append("\n".join([f"def {name}(v):", *_indent(body), "    return True", ""]))
        return name

    def _descend_function(self, schema: Any, resolver: Any) -> str:
        """A subschema met in place: its own ``$id``, if any, is the new base URI."""
        return self._function(schema, _entered(schema, resolver))

    def _descend(self, schema: Any, resolver: Any, var: str, depth: int) -> list[str]:
        """A subschema met in place, written inline (or called, when deep)."""
        resolver = _entered(schema, resolver)
        if depth >= _MAX_INLINE:
            return [f"if not {self._function(schema, resolver)}({var}): return False"]
        return self._body(schema, resolver, var, depth + 1)

    # ------------------------------------------------------------ one schema

    def _body(self, schema: Any, resolver: Any, var: str, depth: int) -> list[str]:
        """Lines that ``return False`` when ``var`` fails ``schema`` and fall through when it holds."""
        if schema is True:
            return []
        if schema is False:
            return ["return False"]
        if not isinstance(schema, dict):
            raise SchemaProblem(f"a schema is an object or a boolean, not {type(schema).__name__}", schema, "")
        if "$schema" in schema and _dialect(schema) is not jsonschema.Draft202012Validator:
            raise _OtherDialect
        if set(schema) - _COMPILED - _ANNOTATIONS:
            check = self._const(self._fallback(schema, resolver).is_valid)
            return [f"if not {check}({var}): return False"]
        lines: list[str] = []
        known = None  # the Python type ``var`` is known to have once the type check passed
        if "type" in schema:
            names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            unknown = [name for name in names if not isinstance(name, str) or name not in _TYPE_TESTS]
            if unknown:
                raise SchemaProblem(f"unknown type {unknown[0]!r} (types: {', '.join(sorted(_TYPE_TESTS))})", schema,
                                    "type")
            tests = " or ".join(_TYPE_TESTS[name].format(v=var) for name in names)
            lines.append(f"if not ({tests}): return False")
            if names in (["object"], ["array"], ["string"]):
                known = names[0]
        if "enum" in schema:
            choices = list(schema["enum"])
            if all(isinstance(c, str) for c in choices):
                lines.append(f"if not isinstance({var}, str) or {var} not in {self._const(frozenset(choices))}: "
                             "return False")
            else:
                lines.append(f"if not any(_json_equal({var}, c) for c in {self._const(choices)}): return False")
        if "const" in schema:
            constant = schema["const"]
            if type(constant) is str:  # the common case: text equals text only, as json_equal decides
                lines.append(f"if {var} != {self._const(constant)}: return False")
            else:
                lines.append(f"if not _json_equal({var}, {self._const(constant)}): return False")
        lines += self._object(schema, resolver, var, depth, known == "object")
        lines += self._array(schema, resolver, var, depth, known == "array")
        lines += self._string(schema, var, known == "string")
        if "minimum" in schema or "maximum" in schema:
            tests = []
            if schema.get("minimum") is not None:
                tests.append(f"{var} < {self._const(schema['minimum'])}")
            if schema.get("maximum") is not None:
                tests.append(f"{var} > {self._const(schema['maximum'])}")
            if tests:
                lines.append(f"if (type({var}) is int or type({var}) is float or _number({var})) "
                             f"and ({' or '.join(tests)}): return False")
        if "$ref" in schema:
            try:
                resolved = resolver.lookup(schema["$ref"])
            except Unresolvable as exc:
                raise SchemaProblem(f"$ref {schema['$ref']!r} cannot be resolved ({type(exc).__name__})", schema,
                                    "$ref") from None
            target, target_resolver = resolved.contents, resolved.resolver
            key = (id(target), _base_uri(target_resolver))
            if depth < _MAX_INLINE and key not in self._inlining and isinstance(target, dict) and len(target) <= 4:
                self._inlining.add(key)  # a small target written in place, unless it is being written already
                try:
                    lines += self._body(target, target_resolver, var, depth + 1)
                finally:
                    self._inlining.discard(key)
            else:
                lines.append(f"if not {self._function(target, target_resolver)}({var}): return False")
        for part in schema.get("allOf") or ():
            lines += self._descend(part, resolver, var, depth)
        if "anyOf" in schema:
            calls = " or ".join(self._test(part, resolver, var, True) for part in schema["anyOf"])
            lines.append(f"if not ({calls or 'False'}): return False")
        if "oneOf" in schema:
            # the first branch that holds is found with each branch's own base URI; the later ones are
            # tried in the base URI of the schema holding them (as jsonschema does)
            found = ", ".join(self._descend_function(part, resolver) for part in schema["oneOf"])
            others = ", ".join(self._function(part, resolver) for part in schema["oneOf"])
            lines.append(f"if not _one_of({var}, ({found},), ({others},)): return False")
        # jsonschema checks the subschemas of `not` and `if` in the base URI of the schema holding them,
        # without their own $id: so does this, to answer as it does
        if "not" in schema:
            lines.append(f"if {self._test(schema['not'], resolver, var, False)}: return False")
        if "if" in schema:
            condition = self._test(schema["if"], resolver, var, False)
            then = self._descend(schema.get("then", True), resolver, var, depth)
            otherwise = self._descend(schema.get("else", True), resolver, var, depth)
            if then or otherwise:
                lines.append(f"if {condition}:")
                lines += _indent(then or ["pass"])
                if otherwise:
                    lines.append("else:")
                    lines += _indent(otherwise)
        return lines

    def _test(self, schema: Any, resolver: Any, var: str, enter: bool) -> str:
        """An expression true when ``var`` holds ``schema``: the schema written in place when it
        is a simple one (types, constants and required keys, as in ``if`` and ``anyOf`` branches
        that tell messages apart), else a call of its function (``enter``: under the subschema's
        own ``$id``, as a subschema met in place is)."""
        expression = _expression(schema, var)
        if expression is not None:
            return expression
        if enter:
            return f"{self._descend_function(schema, resolver)}({var})"
        return f"{self._function(schema, resolver)}({var})"

    def _object(self, schema: dict, resolver: Any, var: str, depth: int, is_dict: bool) -> list[str]:
        properties = schema.get("properties") or {}
        required = list(schema.get("required") or ())
        extra = schema.get("additionalProperties", True)
        low, high = schema.get("minProperties"), schema.get("maxProperties")
        lines: list[str] = []
        if required:
            lines.append(f"if {' or '.join(f'{name!r} not in {var}' for name in required)}: return False")
        for name, sub in properties.items():
            value = self._temp()
            body = self._descend(sub, resolver, value, depth)
            if body:
                lines.append(f"if {name!r} in {var}:")
                lines.append(f"    {value} = {var}[{name!r}]")
                lines += _indent(body)
        if extra is False:
            lines.append(f"if not {self._const(frozenset(properties))}.issuperset({var}): return False")
        elif extra is not True:
            key, value = self._temp(), self._temp()
            body = self._descend(extra, resolver, value, depth)
            if body:
                lines.append(f"for {key}, {value} in {var}.items():")
                lines.append(f"    if {key} not in {self._const(frozenset(properties))}:")
                lines += _indent(_indent(body))
        if "propertyNames" in schema:
            lines += self._each(var, schema["propertyNames"], resolver, depth)
        lines += self._sizes(var, low, high)
        return _guarded(lines, var, "dict", is_dict)

    def _array(self, schema: dict, resolver: Any, var: str, depth: int, is_list: bool) -> list[str]:
        lines = self._sizes(var, schema.get("minItems"), schema.get("maxItems"))
        if "items" in schema:
            lines += self._each(var, schema["items"], resolver, depth)
        return _guarded(lines, var, "list", is_list)

    def _each(self, var: str, schema: Any, resolver: Any, depth: int) -> list[str]:
        """``schema`` checked on every element of ``var`` (the items of a list, the keys of an object)."""
        element = self._temp()
        body = self._descend(schema, resolver, element, depth)
        return [f"for {element} in {var}:", *_indent(body)] if body else []

    def _sizes(self, var: str, low: Any, high: Any) -> list[str]:
        """Bounds on ``len(var)`` (properties of an object, items of an array, characters of text)."""
        lines = []
        if low is not None:
            lines.append(f"if len({var}) < {self._const(low)}: return False")
        if high is not None:
            lines.append(f"if len({var}) > {self._const(high)}: return False")
        return lines

    def _string(self, schema: dict, var: str, is_str: bool) -> list[str]:
        lines = self._sizes(var, schema.get("minLength"), schema.get("maxLength"))
        if "pattern" in schema:
            lines.append(f"if {self._const(_pattern(schema))}.search({var}) is None: return False")
        return _guarded(lines, var, "str", is_str)


class FieldChecks:
    """An object schema's checks for code that builds the object one key at a time (a generated
    plan): ``lines(key, var)`` check the value of one property where it is set, ``value_ok(key,
    value)`` decides a value known in advance, and ``rest`` checks the whole object once built
    against everything else (type, required, additionalProperties, allOf, ...). Together they
    answer what the whole schema answers: the ``properties`` keyword checks each present key's
    value alone, whatever the other keywords say. ``names`` are the globals the lines use (their
    names never meet those of ``pysource`` generators with other prefixes)."""

    def __init__(self, fast: FastCheck, schema: dict, rest: dict, rest_check: Check, resolver: Any) -> None:
        self._fast = fast
        self._properties = schema["properties"]
        self._rest_schema = rest  # kept alive: compiled checks are cached by the schema's identity
        self.rest = rest_check
        self._resolver = resolver
        self.names = fast._namespace

    def lines(self, key: str, var: str) -> list[str] | None:
        """Lines that ``return False`` when ``var``, the value of ``key``, breaks the property's
        subschema (none for a key the schema has no property for: ``rest`` decides); None when
        the subschema cannot be written so (it reaches another draft)."""
        if key not in self._properties:
            return []
        return self._generated(lambda fast: fast._descend(self._properties[key], self._resolver, var, 0))

    def value_ok(self, key: str, value: Any) -> bool:
        """Whether ``value`` passes the subschema of property ``key`` (true for other keys; false
        when that cannot be decided now)."""
        if key not in self._properties:
            return True
        name = self._generated(lambda fast: fast._descend_function(self._properties[key], self._resolver))
        return name is not None and bool(self.names[name](value))

    def _generated(self, generate: Callable[[FastCheck], Any]) -> Any:
        fast = self._fast
        cache, source = dict(fast._cache), list(fast._source)
        try:
            made = generate(fast)
            fast._flush()
            return made
        except _OtherDialect:
            fast._cache, fast._source = cache, source
            return None
        except BaseException:
            fast._cache, fast._source = cache, source  # nothing half-built stays
            raise


# ------------------------------------------------------------ helpers


_MAX_INLINE = 8  # subschemas nested deeper than this are called, not written inline
_ABSENT: Any = object()
# JSON Schema types as Python tests (exact JSON types; anything else is left to jsonschema).
_TYPE_TESTS = {
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
    "string": "isinstance({v}, str)",
    "boolean": "({v} is True or {v} is False)",
    "null": "{v} is None",
    # the exact JSON types first (fast), then jsonschema's own test for anything else
    "number": "(type({v}) is int or type({v}) is float or _number({v}))",
    "integer": "(type({v}) is int or (type({v}) is float and {v}.is_integer()) or _integer({v}))",
}


_SIMPLE = {"type", "const", "enum", "required", "properties"}


def _expression(schema: Any, var: str, nested: bool = False) -> str | None:
    """``schema`` as one Python expression on ``var`` when it has only types, text constants and
    enums, required keys and properties of such (one level); None otherwise."""
    if schema is True or schema == {}:
        return "True"
    if schema is False:
        return "False"
    if not isinstance(schema, dict) or set(schema) - _SIMPLE - (_ANNOTATIONS - {"$schema", "$id", "$defs"}):
        return None
    parts = []
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not names or not all(isinstance(name, str) and name in _TYPE_TESTS for name in names):
            return None
        parts.append("(" + " or ".join(_TYPE_TESTS[name].format(v=var) for name in names) + ")")
    if "const" in schema:
        if type(schema["const"]) is not str:
            return None
        parts.append(f"{var} == {schema['const']!r}")
    if "enum" in schema:
        choices = schema["enum"]
        if not isinstance(choices, list) or not all(type(c) is str for c in choices) or len(choices) > 8:
            return None
        parts.append(f"(isinstance({var}, str) and {var} in {tuple(choices)!r})")
    inside = []
    required = schema.get("required", [])
    properties = schema.get("properties", {})
    if not isinstance(required, list) or not all(type(name) is str for name in required) or (
            not isinstance(properties, dict)):
        return None
    inside += [f"{name!r} in {var}" for name in required]
    for name, sub in properties.items():
        if nested:
            return None
        test = _expression(sub, f"{var}[{name!r}]", nested=True)
        if test is None:
            return None
        if test != "True":
            inside.append(f"({test})" if name in required else f"({name!r} not in {var} or {test})")
    if inside:
        parts.append(f"(not isinstance({var}, dict) or ({' and '.join(inside)}))")
    return "(" + " and ".join(parts) + ")" if parts else "True"


def _always(value: Any) -> bool:
    return True


def _never(value: Any) -> bool:
    return False


def _one_of(value: Any, found: tuple, others: tuple) -> bool:
    for index, check in enumerate(found):
        if check(value):
            return not any(other(value) for other in others[index + 1:])
    return False


def _entered(schema: Any, resolver: Any) -> Any:
    if isinstance(schema, dict) and "$id" in schema:
        return resolver.in_subresource(DRAFT202012.create_resource(schema))
    return resolver


def _guarded(lines: list[str], var: str, kind: str, known: bool) -> list[str]:
    """Checks that apply to one kind of value only: run when ``var`` is of that kind."""
    if not lines or known:
        return lines
    return [f"if isinstance({var}, {kind}):", *_indent(lines)]


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def _dialect(schema: dict) -> Any:
    """The jsonschema validator class that checks ``schema`` (by its ``$schema``) inside a 2020-12 one."""
    return jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)


def _pattern(schema: dict) -> re.Pattern:
    try:
        return re.compile(schema["pattern"])
    except (re.error, TypeError) as exc:
        raise SchemaProblem(f"pattern {schema['pattern']!r} is not a regular expression: {exc}", schema,
                            "pattern") from None
