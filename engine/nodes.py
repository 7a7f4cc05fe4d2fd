"""The compiled form of rules: plain objects, built once by the compiler, evaluated per message.

A value node's ``evaluate(scope)`` gives a value or ``MISSING`` (a field whose value is missing
is left out of its output). A condition node's ``test(scope)`` gives a bool. Every node knows the
rule file and line it was written on (``origin``), so errors and explanations can say where.

This module is the whole evaluation semantics of the rule language; the compiler only builds
these objects and the evaluator only walks rules. A faster evaluation path can replace this
module's ``evaluate``/``test`` methods without any rule file changing.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from jmespath.visitor import TreeInterpreter

from .textfast import UNDEFINED as _UNDEFINED
from .textfast import _NeedJinja


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def truthy(value: Any) -> bool:
    """JMESPath truthiness: not null, false, empty text, an empty list or an empty object."""
    if value is None or value is False or value == "":
        return False
    return not (isinstance(value, (list, dict)) and not value)


def is_missing(value: Any) -> bool:
    """Missing means: absent, null, or empty text."""
    return value is MISSING or value is None or value == ""


@dataclass(frozen=True)
class Origin:
    """Where a node was written."""

    file: str
    line: int | None
    rule: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.rule:
            where += f" rule {self.rule!r}"
        if self.field:
            where += f" field {self.field}"
        return where


class Scope:
    """What one evaluation sees: the message, the current foreach element, and bookkeeping."""

    __slots__ = ("message", "item", "index", "seq", "fired", "vars")

    def __init__(self, message: dict) -> None:
        self.message = message
        self.item: Any = None
        self.index: int | None = None
        self.seq = 0
        self.fired: set[str] = set()
        self.vars: dict = {}


def source_of(scope: Scope, source: str) -> Any:
    """What a selector reads: the message, the current foreach element, or the rule's vars."""
    if source == "item":
        return scope.item
    if source == "vars":
        return scope.vars
    return scope.message


# ---------------------------------------------------------------- values


class Node:
    __slots__ = ("origin",)

    def evaluate(self, scope: Scope) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


class Const(Node):
    """A constant: a literal (``value: null`` is an explicit null), a setting's value (settings are
    fixed when rules compile; an empty setting is missing), or ``MISSING``."""

    __slots__ = ("value", "setting")

    def __init__(self, value: Any, origin: Origin, setting: str | None = None) -> None:
        self.value = value
        self.setting = setting
        self.origin = origin

    def evaluate(self, scope: Scope) -> Any:
        return fresh(self.value)


def fresh(value: Any) -> Any:
    """A constant as an output gets it: an object or a list is a copy of its own, so that changing
    one output (the Python API hands them out) changes no rule and no later output."""
    return copy.deepcopy(value) if type(value) in (dict, list) else value


class Path(Node):
    """A selector that is a plain dotted path (``context.device.id``): a direct lookup, with
    the same result JMESPath would give."""

    __slots__ = ("text", "keys", "source")

    def __init__(self, text: str, keys: tuple[str, ...], source: str, origin: Origin) -> None:
        self.text = text
        self.keys = keys
        self.source = source
        self.origin = origin

    def evaluate(self, scope: Scope) -> Any:
        value = scope.message if self.source == "message" else source_of(scope, self.source)
        for key in self.keys:
            if type(value) is not dict:
                return MISSING
            value = value.get(key)
        if value is None or value == "":
            return MISSING
        return value


class Select(Node):
    """A JMESPath selector, compiled once."""

    __slots__ = ("text", "parsed", "options", "source", "fast", "interpreter")

    def __init__(self, text: str, parsed: Any, options: Any, source: str, origin: Origin,
                 fast: Any = None) -> None:
        self.text = text
        self.parsed = parsed
        self.options = options
        self.source = source
        self.origin = origin
        self.fast = fast  # the same selector compiled to a closure, when it can be
        self.interpreter = Interpreter(options)  # made once: it keeps nothing between messages

    def evaluate(self, scope: Scope) -> Any:
        data = scope.message if self.source == "message" else source_of(scope, self.source)
        if self.fast is not None:
            value = self.fast(data)
        else:
            value = self.interpreter.visit(self.parsed.parsed, data)
        if value is None or value == "":
            return MISSING
        return value


class Interpreter(TreeInterpreter):
    """jmespath's interpreter, but a literal object or list (`{}`, or a call of literals folded
    into one) is a new one each time it is read, as if the selector were read anew: what one
    output holds is no part of the rules or of another message's outputs."""

    def visit_literal(self, node: dict, value: Any) -> Any:
        return fresh(node["value"])


class Template(Node):
    """A Jinja template, compiled once. The message's top-level fields are its variables (only
    those it names are passed), with ``message``, ``item``, ``index``, ``seq`` and ``vars``;
    ``settings`` is a global of the rule set. ``fast``, when set, renders a simple template the
    same way without Jinja."""

    __slots__ = ("text", "template", "collapse", "names", "fast", "settings")

    def __init__(self, text: str, template: Any, collapse: bool, origin: Origin,
                 names: tuple[str, ...] = (), fast: Any = None, settings: dict | None = None) -> None:
        self.text = text
        self.template = template
        self.collapse = collapse
        self.names = names
        self.origin = origin
        self.fast = fast
        self.settings = settings or {}

    def evaluate(self, scope: Scope) -> Any:
        message = scope.message
        text = None
        if self.fast is not None:
            specials = {"message": message, "item": scope.item, "index": scope.index, "seq": scope.seq,
                        "vars": scope.vars}

            names = self.names

            def lookup(name: str) -> Any:
                if name in specials:
                    return specials[name]
                if name in names and name in message:  # the message fields a template may see
                    return message[name]
                return self.settings if name == "settings" else _UNDEFINED

            try:
                text = self.fast(lookup)
            except _NeedJinja:
                text = None
        if text is None:
            context = {name: message[name] for name in self.names if name in message}
            context["message"] = message
            context["item"] = scope.item
            context["index"] = scope.index
            context["seq"] = scope.seq
            context["vars"] = scope.vars
            text = self.template.render(context)
        if self.collapse:
            text = " ".join(text.split())
        return text if text else MISSING


class Object(Node):
    """An object built field by field; missing fields are left out. With ``drop_empty``, fields
    whose value is an empty object or list are left out too, and an object left empty is missing."""

    __slots__ = ("fields", "drop_empty")

    def __init__(self, fields: list[tuple[str, Node]], drop_empty: bool, origin: Origin) -> None:
        self.fields = fields
        self.drop_empty = drop_empty
        self.origin = origin

    def evaluate(self, scope: Scope) -> Any:
        result = {}
        for key, node in self.fields:
            value = node.evaluate(scope)
            if value is MISSING:
                continue
            if self.drop_empty and (value == {} or value == []):
                continue
            result[key] = value
        if self.drop_empty and not result:
            return MISSING
        return result


class First(Node):
    """Fallbacks: the first present value."""

    __slots__ = ("options_",)

    def __init__(self, options: list[Node], origin: Origin) -> None:
        self.options_ = options
        self.origin = origin

    def evaluate(self, scope: Scope) -> Any:
        for node in self.options_:
            value = node.evaluate(scope)
            if value is not MISSING:
                return value
        return MISSING


class Cases(Node):
    """The value of the first case whose condition holds."""

    __slots__ = ("cases",)

    def __init__(self, cases: list[tuple[Any, Node]], origin: Origin) -> None:
        self.cases = cases
        self.origin = origin

    def evaluate(self, scope: Scope) -> Any:
        for condition, node in self.cases:
            if condition is True or (condition is not False and condition.test(scope)):
                return node.evaluate(scope)
        return MISSING


class Guarded(Node):
    """A value present only when a condition holds."""

    __slots__ = ("condition", "node")

    def __init__(self, condition: Any, node: Node, origin: Origin) -> None:
        self.condition = condition
        self.node = node
        self.origin = origin

    def evaluate(self, scope: Scope) -> Any:
        if self.condition.test(scope):
            return self.node.evaluate(scope)
        return MISSING


class Mapped(Node):
    """A value looked up in a table; a value not in the table is missing."""

    __slots__ = ("node", "table")

    def __init__(self, node: Node, table: dict, origin: Origin) -> None:
        self.node = node
        self.table = table
        self.origin = origin

    def evaluate(self, scope: Scope) -> Any:
        value = self.node.evaluate(scope)
        if value is MISSING or not isinstance(value, (str, int, float, bool)):
            return MISSING
        found = self.table.get(table_key(value), MISSING)
        return MISSING if found is None else fresh(found)


def table_key(value: Any) -> str:
    """How a value is looked up in a ``map`` table, whose keys are text: 1.0 finds the key 1."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_JSON_TYPES = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


class NonEmpty(Node):
    """A value left out when it is an empty object or list."""

    __slots__ = ("node",)

    def __init__(self, node: Node, origin: Origin) -> None:
        self.node = node
        self.origin = origin

    def evaluate(self, scope: Scope) -> Any:
        value = self.node.evaluate(scope)
        if value == {} or value == []:
            return MISSING
        return value


class Typed(Node):
    """A value kept only when it has the given JSON type."""

    __slots__ = ("node", "type_name", "check")

    def __init__(self, node: Node, type_name: str, origin: Origin) -> None:
        self.node = node
        self.type_name = type_name
        self.check = _JSON_TYPES[type_name]
        self.origin = origin

    def evaluate(self, scope: Scope) -> Any:
        value = self.node.evaluate(scope)
        if value is MISSING or not self.check(value):
            return MISSING
        return value


# ---------------------------------------------------------------- conditions
# A condition that depends only on settings is folded to True or False by the compiler; the
# classes below are the ones that depend on the message.


class Condition:
    __slots__ = ("origin",)

    def test(self, scope: Scope) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError


class Truthy(Condition):
    """The value is present and not false, 0, [] or {} (JMESPath truthiness)."""

    __slots__ = ("node",)

    def __init__(self, node: Node, origin: Origin) -> None:
        self.node = node
        self.origin = origin

    def test(self, scope: Scope) -> bool:
        value = self.node.evaluate(scope)
        if value is MISSING or value is False:
            return False
        return not (isinstance(value, (list, dict)) and not value)


class Present(Condition):
    """The value is present (``present: true``) or missing (``present: false``)."""

    __slots__ = ("node", "wanted")

    def __init__(self, node: Node, wanted: bool, origin: Origin) -> None:
        self.node = node
        self.wanted = wanted
        self.origin = origin

    def test(self, scope: Scope) -> bool:
        return (self.node.evaluate(scope) is not MISSING) is self.wanted


class Equals(Condition):
    __slots__ = ("node", "expected")

    def __init__(self, node: Node, expected: Any, origin: Origin) -> None:
        self.node = node
        self.expected = expected
        self.origin = origin

    def test(self, scope: Scope) -> bool:
        value = self.node.evaluate(scope)
        return same(value, self.expected)


class OneOf(Condition):
    __slots__ = ("node", "choices")

    def __init__(self, node: Node, choices: list, origin: Origin) -> None:
        self.node = node
        self.choices = choices
        self.origin = origin

    def test(self, scope: Scope) -> bool:
        value = self.node.evaluate(scope)
        return any(same(value, choice) for choice in self.choices)


class All(Condition):
    __slots__ = ("parts",)

    def __init__(self, parts: list[Condition], origin: Origin) -> None:
        self.parts = parts
        self.origin = origin

    def test(self, scope: Scope) -> bool:
        for part in self.parts:
            if not part.test(scope):
                return False
        return True


class AnyOf(Condition):
    __slots__ = ("parts",)

    def __init__(self, parts: list[Condition], origin: Origin) -> None:
        self.parts = parts
        self.origin = origin

    def test(self, scope: Scope) -> bool:
        for part in self.parts:
            if part.test(scope):
                return True
        return False


class Not(Condition):
    __slots__ = ("part",)

    def __init__(self, part: Condition, origin: Origin) -> None:
        self.part = part
        self.origin = origin

    def test(self, scope: Scope) -> bool:
        return not self.part.test(scope)


class SettingTest(Condition):
    """A test of a setting. Settings are fixed when rules compile, so the result is known then;
    the optimising compiler folds these away, the explaining one keeps them to say why."""

    __slots__ = ("name", "value", "op", "operand", "result")

    def __init__(self, name: str, value: Any, op: str, operand: Any, result: bool, origin: Origin) -> None:
        self.name = name
        self.value = value
        self.op = op
        self.operand = operand
        self.result = result
        self.origin = origin

    def test(self, scope: Scope) -> bool:
        return self.result


class Fired(Condition):
    """True when one of the named rules emitted for this message already."""

    __slots__ = ("names",)

    def __init__(self, names: tuple[str, ...], origin: Origin) -> None:
        self.names = names
        self.origin = origin

    def test(self, scope: Scope) -> bool:
        return any(name in scope.fired for name in self.names)


def same(value: Any, expected: Any) -> bool:
    if value is MISSING:
        return expected is None
    if isinstance(value, bool) or isinstance(expected, bool):
        return value is expected
    return value == expected
