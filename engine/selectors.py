"""JMESPath selectors compiled to Python closures, for the expressions rules commonly write
(fields, function calls, comparisons, and/or/not, multi-selects, indexes, pipes). They give the
same values and raise the same errors as jmespath's own interpreter, which remains the reference:
an expression with anything else (projections, filters, flattening, expression references) is
left to it, and the rules compiled without folding (used to explain) always use it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jmespath.visitor import TreeInterpreter

from .nodes import fresh

Selector = Callable[[Any], Any]

_COMPARE = TreeInterpreter.COMPARATOR_FUNC
_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
}


class _Unsupported(Exception):
    pass


def compile_selector(ast: dict, functions: Any) -> Selector | None:
    """A closure computing ``ast`` on a value, or None when the expression needs jmespath."""
    try:
        return _compile(ast, functions)
    except _Unsupported:
        return None


def is_false(value: Any) -> bool:
    """JMESPath falsiness: null, false, empty text, list or object."""
    return value == "" or value == [] or value == {} or value is None or value is False


_is_false = is_false


def ordered_compare(compare: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    """An ordering comparison as jmespath makes it: null unless both sides are numbers or text."""
    comparable = (int, float, str)
    if not (isinstance(a, comparable) and not isinstance(a, bool)
            and isinstance(b, comparable) and not isinstance(b, bool)):
        return None
    return compare(a, b)


def _compile(node: dict, functions: Any) -> Selector:
    kind = node["type"]
    children = node.get("children") or []
    if kind == "field":
        name = node["value"]
        return lambda value: value.get(name) if isinstance(value, dict) else None
    if kind in ("subexpression", "index_expression"):
        parts = [_compile(child, functions) for child in children]

        def chain(value: Any) -> Any:
            for part in parts:
                value = part(value)
            return value

        return chain
    if kind in ("current", "identity"):
        return lambda value: value
    if kind == "literal":
        constant = node["value"]
        if type(constant) in (dict, list):  # a new one each time, as nodes.Interpreter reads it
            return lambda value: fresh(constant)
        return lambda value: constant
    if kind == "index":
        position = node["value"]

        def index(value: Any) -> Any:
            if not isinstance(value, list):
                return None
            try:
                return value[position]
            except IndexError:
                return None

        return index
    if kind == "pipe":
        left, right = (_compile(child, functions) for child in children)
        return lambda value: right(left(value))
    if kind == "comparator":
        left, right = (_compile(child, functions) for child in children)
        compare = _COMPARE[node["value"]]
        if node["value"] in ("eq", "ne"):
            return lambda value: compare(left(value), right(value))

        return lambda value: ordered_compare(compare, left(value), right(value))
    if kind == "or_expression":
        left, right = (_compile(child, functions) for child in children)

        def either(value: Any) -> Any:
            matched = left(value)
            return right(value) if _is_false(matched) else matched

        return either
    if kind == "and_expression":
        left, right = (_compile(child, functions) for child in children)

        def both(value: Any) -> Any:
            matched = left(value)
            return matched if _is_false(matched) else right(value)

        return both
    if kind == "not_expression":
        inner = _compile(children[0], functions)
        return lambda value: _is_false(inner(value))
    if kind == "multi_select_dict":
        pairs = [(child["value"], _compile(child["children"][0], functions)) for child in children]
        return lambda value: None if value is None else {key: part(value) for key, part in pairs}
    if kind == "multi_select_list":
        parts = [_compile(child, functions) for child in children]
        return lambda value: None if value is None else [part(value) for part in parts]
    if kind == "function_expression":
        return _function(node, functions)
    raise _Unsupported(kind)


def _function(node: dict, functions: Any) -> Selector:
    name = node["value"]
    entry = functions.FUNCTION_TABLE.get(name)
    if entry is None:
        raise _Unsupported(name)
    signature = entry["signature"]
    tests = []
    for spec in signature:
        types = spec.get("types") or []
        if any(t not in _TYPE_TESTS for t in types):
            raise _Unsupported(f"{name}() argument types {types}")
        tests.append(tuple(_TYPE_TESTS[t] for t in types))
    variadic = bool(signature) and signature[-1].get("variadic")
    arguments = [_compile(child, functions) for child in node.get("children") or []]
    method = getattr(functions, "_func_" + name)

    def call(value: Any) -> Any:
        args = [argument(value) for argument in arguments]
        for position, arg in enumerate(args):
            allowed = tests[min(position, len(tests) - 1)] if variadic else tests[position]
            if allowed and not any(test(arg) for test in allowed):
                return functions.call_function(name, args)  # raises jmespath's own type error
        return method(*args)

    return call
