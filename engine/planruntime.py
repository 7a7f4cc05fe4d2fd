"""What a generated plan's code runs with: the values' meanings the rule language is built on
(``MISSING``, JMESPath truthiness, JSON equality, fresh constants, map-table keys, the ``Scope``
an evaluation sees), the names every plan reads beside its constants, and ``planned``, a plan
run on one message. ``nodes`` takes these meanings from here; this module imports nothing of the
compiler, so that a plan kept between runs (``plancache``) starts without loading it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from jmespath.visitor import TreeInterpreter


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def truthy(value: Any) -> bool:
    """JMESPath truthiness: not null, false, empty text, an empty list or an empty object (and not
    missing)."""
    kind = type(value)
    if kind is str or kind is dict or kind is list or kind is bool:  # the usual values, at once
        return bool(value)
    if value is None or value is MISSING:
        return False
    if isinstance(value, (str, list, dict)):  # a subclass (the Python API can pass one)
        return len(value) > 0
    return True  # numbers (0 too), and anything else


def same(value: Any, expected: Any) -> bool:
    """Equality as JSON means it: true is not 1, 1 is 1.0, missing is null; objects and lists item
    by item."""
    if value is MISSING:
        return expected is None
    if isinstance(value, bool) or isinstance(expected, bool):
        return type(value) is type(expected) and value == expected
    if isinstance(value, dict) and isinstance(expected, dict):
        return value.keys() == expected.keys() and all(same(value[k], expected[k]) for k in value)
    if isinstance(value, list) and isinstance(expected, list):
        return len(value) == len(expected) and all(same(a, b) for a, b in zip(value, expected))  # noqa: B905
    return value == expected


def fresh(value: Any) -> Any:
    """A constant as an output gets it: an object or a list is a copy of its own, so that changing
    one output (the Python API hands them out) changes no rule and no later output."""
    return copy.deepcopy(value) if type(value) in (dict, list) else value


def table_key(value: Any) -> str:
    """How a value is looked up in a ``map`` table, whose keys are text: 1.0 finds the key 1."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Scope:
    """What one evaluation sees: the message, the current foreach element, and bookkeeping."""

    __slots__ = ("message", "item", "index", "seq", "fired", "vars", "var_how")

    def __init__(self, message: dict) -> None:
        self.message = message
        self.item: Any = None
        self.index: int | None = None
        self.seq = 0
        self.fired: set[str] = set()
        self.vars: dict = {}
        self.var_how: dict[str, str] = {}  # how each var got its value, when explaining

    def source(self, name: str) -> Any:
        """What a selector reads: the message, the current foreach element, or the rule's vars."""
        if name == "item":
            return self.item
        if name == "vars":
            return self.vars
        return self.message


UNSET = object()
EMPTY = MappingProxyType({})  # a hoisted message object that is not there: read-only, like the message
UNDEFINED = object()  # a template's name that has no value


def ordered_compare(compare: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    """An ordering comparison as jmespath makes it: null unless both sides are numbers or text."""
    comparable = (int, float, str)
    if not (isinstance(a, comparable) and not isinstance(a, bool)
            and isinstance(b, comparable) and not isinstance(b, bool)):
        return None
    return compare(a, b)


def base_names() -> dict[str, Any]:
    """The names a plan's code reads beside its constants."""
    return {
        "MISSING": MISSING, "UNDEFINED": UNDEFINED, "UNSET": UNSET, "EMPTY": EMPTY, "Scope": Scope,
        "_same": same, "_table_key": table_key, "_fresh": fresh, "_truthy": truthy,
        "_ordered": ordered_compare, "_eq": TreeInterpreter.COMPARATOR_FUNC["eq"],
        "_ne": TreeInterpreter.COMPARATOR_FUNC["ne"],
    }


def planned(plan: Any, input_check: Any, message: dict) -> list[dict] | None:
    """The outputs of a message the plan takes to the end (the input schema's yes, then the plan,
    its outputs checked); None where it does not (the walk then says what happens): the fast
    path, for ``translate`` and for a plan kept between runs (``plancache``)."""
    try:
        if input_check(message):
            built = plan(message)
            if built is not False:
                return [{"target": target, "body": body} for _rule, target, body in built]
    except Exception:  # noqa: BLE001 - the walk gives the located reason
        pass
    return None
