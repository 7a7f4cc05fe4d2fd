"""Simple Jinja templates rendered without Jinja: text, variables, `a.b` lookups on objects and
`{% if %}` on a variable. They render exactly as the sandboxed Jinja environment of the compiler
would (missing and null are empty text); any other template is left to Jinja, and the rules
compiled without folding (used to explain) always use Jinja.

A name the lookup does not find is undefined here, but Jinja may still know it: its globals
(``range``, ``dict``, ``lipsum``, ``cycler``, ``joiner``, ``namespace``) and ``self`` are always
there. A template naming one of them is left to Jinja."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from jinja2 import nodes
from jinja2.defaults import DEFAULT_NAMESPACE

UNDEFINED: Any = object()
Lookup = Callable[[str], Any]
Render = Callable[[Lookup], str]
JINJA_NAMES: frozenset[str] = frozenset(DEFAULT_NAMESPACE) | {"self"}  # what Jinja resolves without the context


class _Unsupported(Exception):
    pass


class _NeedJinja(Exception):
    """Raised while rendering a value the simple path does not handle the way Jinja would."""


def compile_text(tree: nodes.Template, jinja_names: Collection[str] = JINJA_NAMES) -> Render | None:
    """A renderer for the template's AST, or None when it needs Jinja. ``jinja_names`` are the
    names Jinja resolves by itself (Jinja's default globals and ``self``; add any global the
    environment has that the lookup does not answer): a template naming one needs Jinja."""
    if any(node.name in jinja_names for node in tree.find_all(nodes.Name)):
        return None
    try:
        parts = [_statement(node) for node in tree.body]
    except _Unsupported:
        return None
    return lambda lookup: "".join(part(lookup) for part in parts)


def _statement(node: nodes.Node) -> Render:
    if isinstance(node, nodes.Output):
        parts = [_output(child) for child in node.nodes]
        return lambda lookup: "".join(part(lookup) for part in parts)
    if isinstance(node, nodes.If) and not node.elif_ and isinstance(node.test, (nodes.Name, nodes.Getattr)):
        test = _expression(node.test)
        body = [_statement(child) for child in node.body]
        otherwise = [_statement(child) for child in node.else_]

        def branch(lookup: Lookup) -> str:
            value = test(lookup)
            chosen = body if value is not UNDEFINED and value else otherwise
            return "".join(part(lookup) for part in chosen)

        return branch
    raise _Unsupported(type(node).__name__)


def _output(node: nodes.Node) -> Render:
    if isinstance(node, nodes.TemplateData):
        text = node.data
        return lambda lookup: text
    expression = _expression(node)

    def text_of(lookup: Lookup) -> str:
        value = expression(lookup)
        if value is UNDEFINED or value is None:
            return ""
        if isinstance(value, (str, int, float, bool)):
            return str(value)
        raise _NeedJinja

    return text_of


def _expression(node: nodes.Node) -> Callable[[Lookup], Any]:
    if isinstance(node, nodes.Name):
        name = node.name
        return lambda lookup: lookup(name)
    if isinstance(node, nodes.Getattr):
        inner = _expression(node.node)
        attribute = node.attr
        if hasattr(dict, attribute) or attribute.startswith("_"):
            raise _Unsupported(attribute)

        def get(lookup: Lookup) -> Any:
            value = inner(lookup)
            if value is UNDEFINED or value is None:
                return UNDEFINED
            if isinstance(value, dict):
                return value.get(attribute, UNDEFINED)
            raise _NeedJinja

        return get
    raise _Unsupported(type(node).__name__)
