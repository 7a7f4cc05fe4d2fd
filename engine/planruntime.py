"""What a generated plan's code runs with: the names every plan reads (sentinels and helpers),
importable without the compiler, so that a plan kept between runs (``plancache``) starts
without loading what compiles rules."""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from jmespath.visitor import TreeInterpreter

from . import nodes as n

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
        "MISSING": n.MISSING, "UNDEFINED": UNDEFINED, "UNSET": UNSET, "EMPTY": EMPTY, "Scope": n.Scope,
        "_same": n.same, "_table_key": n.table_key, "_fresh": n.fresh, "_truthy": n.truthy,
        "_ordered": ordered_compare, "_eq": TreeInterpreter.COMPARATOR_FUNC["eq"],
        "_ne": TreeInterpreter.COMPARATOR_FUNC["ne"],
    }
