"""The constructs of the rule language, one class each, built once by the compiler.

Each class holds everything the construct means:

- ``evaluate(scope)`` (a value) or ``test(scope)`` (a condition): the reference semantics. A value
  is a JSON value or ``MISSING`` (a field whose value is missing is left out of its output);
- ``explain(scope)``: the same answer with the reason for it, for ``explain``;
- ``write(w, ...)``: the Python the generated plan runs for it (``plan.Writer`` provides the
  helpers); a value construct without one is called as itself from the plan, slower but the same;
- ``children()``: the constructs directly inside it, for lint, the plan's hoisting and sharing.

Conditions also know whether settings alone decide them (``decided``: True, False or None):
settings are fixed when rules compile, so the plan leaves such tests out.

Every construct knows the rule file and line it was written on (``origin``), so errors and
explanations can say where. ``Emit`` and ``Rule`` are the statements: what a rule makes and when.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from typing import Any

from jmespath.visitor import TreeInterpreter

from .planruntime import MISSING, Scope, fresh, same, table_key, truthy  # noqa: F401 - the values' meanings
from .validation import first_error

#: The JSON types, each as a Python test of ``{v}`` (``type:`` keeps a value of one; JMESPath
#: function signatures name them too). ``JSON_TYPES`` holds the same tests as functions.
JSON_TYPE_TESTS = {
    "string": "isinstance({v}, str)",
    "number": "(isinstance({v}, (int, float)) and not isinstance({v}, bool))",
    "integer": "((isinstance({v}, int) and not isinstance({v}, bool))"
               " or (isinstance({v}, float) and {v}.is_integer()))",
    "boolean": "isinstance({v}, bool)",
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
    "null": "{v} is None",
}
JSON_TYPES = {name: eval(f"lambda v: {test.format(v='v')}") for name, test in JSON_TYPE_TESTS.items()}  # noqa: S307


def shown(value: Any, width: int = 80) -> str:
    """A value as an explanation shows it."""
    return "missing" if value is MISSING else json.dumps(value, ensure_ascii=False, default=str)[:width]


@dataclass(frozen=True)
class Origin:
    """Where a construct was written."""

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

    @property
    def short(self) -> str:
        """The file's name and line, as explanations show them."""
        name = self.file.rsplit("/", 1)[-1]
        return f"{name}:{self.line}" if self.line else name


# ---------------------------------------------------------------- values


class Node:
    """A value construct. ``pure``: its value depends on the message and settings alone (given
    that its children's do), never on the foreach element, the vars, the outputs made so far or
    the rules fired."""

    __slots__ = ("origin",)
    pure = True

    def evaluate(self, scope: Scope) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def explain(self, scope: Scope) -> tuple[Any, str]:
        return self.evaluate(scope), self.origin.short

    def write(self, w: Any, out: str) -> list[str]:
        return w.call(self, out)

    def children(self) -> list:
        return []


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

    def explain(self, scope: Scope) -> tuple[Any, str]:
        if self.setting:
            return self.evaluate(scope), f"setting {self.setting} ({self.origin.short})"
        if self.value is MISSING:
            return MISSING, f"nothing ({self.origin.short})"
        return self.evaluate(scope), f"constant ({self.origin.short})"

    def write(self, w: Any, out: str) -> list[str]:
        if type(self.value) in (dict, list):
            return [f"{out} = _fresh({w.const(self.value)})"]
        return [f"{out} = {w.const(self.value)}"]


class _Reader(Node):
    """A selector: reads the message, the foreach element (``from: item``) or the vars."""

    __slots__ = ("text", "source")

    @property
    def pure(self) -> bool:  # type: ignore[override]
        return self.source == "message"

    def explain(self, scope: Scope) -> tuple[Any, str]:
        value = self.evaluate(scope)
        source = "" if self.source == "message" else f" on {self.source}"
        state = "" if value is not MISSING else " (missing)"
        how = f"selector `{self.text}`{source}{state} ({self.origin.short})"
        settings = self.settings_read()
        if settings:
            functions = self.options.custom_functions  # only a Select reads settings
            how += " with " + ", ".join(
                f"setting {name} = {_shown(name, functions.settings.get(name), functions.secrets)}"
                for name in settings)
        var = self.var_name()
        if var in scope.var_how:
            how += f"; vars.{var} <- {scope.var_how[var]}"
        return value, how

    def settings_read(self) -> list[str]:
        """The settings it reads through ``setting('name')``, in order."""
        return []

    def var_name(self) -> str | None:
        """The var it reads, when it is a plain path ``from: vars``."""
        return None


def _shown(name: str, value: Any, secrets: Any) -> str:
    """A setting's value as explain shows it: a secret one only as set or not set."""
    if name in secrets:
        return "(set)" if truthy(value) else "(not set)"
    return json.dumps(value)


class Path(_Reader):
    """A selector that is a plain dotted path (``context.device.id``): a direct lookup, with
    the same result JMESPath would give."""

    __slots__ = ("keys",)

    def __init__(self, text: str, keys: tuple[str, ...], source: str, origin: Origin) -> None:
        self.text = text
        self.keys = keys
        self.source = source
        self.origin = origin

    def evaluate(self, scope: Scope) -> Any:
        value = scope.message if self.source == "message" else scope.source(self.source)
        for key in self.keys:
            if type(value) is not dict:
                return MISSING
            value = value.get(key)
        if value is None or value == "":
            return MISSING
        return value

    def write(self, w: Any, out: str) -> list[str]:
        return w.path(self, out) + [f"if {out} is None or {out} == '': {out} = MISSING"]

    def chains(self) -> list[tuple[str, ...]]:
        """The key chains it reads from the message."""
        return [self.keys] if self.source == "message" else []

    def var_name(self) -> str | None:
        return self.keys[0] if self.source == "vars" else None


class Select(_Reader):
    """A JMESPath selector, parsed once. ``parsed`` is the selector as written (what explain and
    lint read); ``folded`` the same with every part that reads only settings and literals
    computed when rules compile (what runs)."""

    __slots__ = ("parsed", "folded", "options", "interpreter")

    def __init__(self, text: str, parsed: Any, folded: dict, options: Any, source: str, origin: Origin) -> None:
        self.text = text
        self.parsed = parsed
        self.folded = folded
        self.options = options
        self.source = source
        self.origin = origin
        self.interpreter = Interpreter(options)  # made once: it keeps nothing between messages

    def evaluate(self, scope: Scope) -> Any:
        data = scope.message if self.source == "message" else scope.source(self.source)
        value = self.interpreter.visit(self.folded, data)
        if value is None or value == "":
            return MISSING
        return value

    def write(self, w: Any, out: str) -> list[str]:
        return w.select(self, out)

    def chains(self) -> list[tuple[str, ...]]:
        """The field chains it reads from the message (not inside projections)."""
        return [tuple(chain) for chain in root_chains(self.folded)] if self.source == "message" else []

    def settings_read(self) -> list[str]:
        """The settings it reads through ``setting('name')``, in order."""
        return list(dict.fromkeys(setting_calls(self.parsed.parsed)))


class Interpreter(TreeInterpreter):
    """jmespath's interpreter, but a literal object or list (`{}`, or a call of literals folded
    into one) is a new one each time it is read, as if the selector were read anew: what one
    output holds is no part of the rules or of another message's outputs."""

    def visit_literal(self, node: dict, value: Any) -> Any:
        return fresh(node["value"])


def setting_calls(ast: Any) -> list[str]:
    """The names of ``setting('name')`` calls in a JMESPath AST."""
    found = []
    if isinstance(ast, dict):
        if ast.get("type") == "function_expression" and ast.get("value") == "setting":
            args = ast.get("children") or []
            if args and args[0].get("type") == "literal":
                found.append(args[0]["value"])
        for child in ast.get("children") or []:
            found.extend(setting_calls(child))
    return found


_KEEPS_ROOT = {"function_expression", "comparator", "or_expression", "and_expression", "not_expression",
               "multi_select_list", "multi_select_dict", "key_val_pair"}
_LEFT_ONLY = {"pipe", "projection", "value_projection", "filter_projection", "index_expression", "flatten"}


def root_chains(ast: Any) -> list[list[str]]:
    """The field chains of a JMESPath AST that are read from the data it is applied to (not those
    inside projections, or right of a pipe)."""
    if not isinstance(ast, dict):
        return []
    kind = ast.get("type")
    if kind == "field":
        return [[ast["value"]]]
    if kind == "subexpression":
        chain = _chain(ast)
        if chain:
            return [chain]
        return root_chains(ast["children"][0])
    if kind in _KEEPS_ROOT:
        return [c for child in ast.get("children") or [] for c in root_chains(child)]
    if kind in _LEFT_ONLY and ast.get("children"):
        return root_chains(ast["children"][0])
    return []


def _chain(ast: dict) -> list[str] | None:
    if ast.get("type") == "field":
        return [ast["value"]]
    if ast.get("type") == "subexpression":
        chain: list[str] = []
        for child in ast["children"]:
            part = _chain(child)
            if part is None:
                return None
            chain.extend(part)
        return chain
    return None




class Valued(str):
    """Text a template's ``{{ }}`` wrote: a value's, which tidying never changes (the template
    environment's ``finalize`` makes every value written one; the rest is the template's own)."""

    __slots__ = ()

    def __str__(self) -> str:  # Jinja applies str() to what finalize gives: it stays marked
        return self


class TemplateText:
    """A piece of a template's own text, as tidying sees it: whether it starts and ends with white
    space, and its words joined by single spaces."""

    __slots__ = ("lead", "inner", "trail")

    def __init__(self, text: str) -> None:
        self.lead = text[:1].isspace()
        self.inner = " ".join(text.split())
        self.trail = text[-1:].isspace()

    def __repr__(self) -> str:
        return f"TemplateText({self.lead}, {self.inner!r}, {self.trail})"


def tidy(parts: list) -> str:
    """A template's text from its pieces in order: ``TemplateText`` (the template's own) and text
    (what its values wrote, kept as it is). Each run of the template's own white space, joined
    with the runs next to it where values left nothing (a missing part), is one space between
    what was written, and nothing at the start or end; a value's own text, white space included,
    is never changed."""
    out: list[str] = []
    pending = started = False
    for part in parts:
        if type(part) is TemplateText:
            if part.lead:
                pending = True
            text, after = part.inner, part.trail
            if not text:
                continue
        else:
            if not part:
                continue  # a missing part: the white space on both sides of it meets
            text, after = part, False
        if pending and started:
            out.append(" ")
        out.append(text)
        started, pending = True, after
    return "".join(out)


class Template(Node):
    """A Jinja template, compiled once. The message's top-level fields are its variables (only
    those it names are passed), with ``message``, ``item``, ``index``, ``seq`` and ``vars``;
    ``settings`` is a global of the rule set. With ``collapse`` (``collapse_spaces``, the
    default) the template's own white space is tidied (``tidy``): what its values write is kept
    as it is."""

    __slots__ = ("text", "template", "collapse", "names", "settings")
    pure = False  # it may read the element, the output count or the vars

    def __init__(self, text: str, template: Any, collapse: bool, origin: Origin,
                 names: tuple[str, ...] = (), settings: dict | None = None) -> None:
        self.text = text
        self.template = template
        self.collapse = collapse
        self.names = names
        self.origin = origin
        self.settings = settings or {}

    def evaluate(self, scope: Scope) -> Any:
        from .sandbox import DEADLINE, MAX_TEMPLATE_SECONDS, MAX_TEMPLATE_TEXT  # Jinja's: loaded with the rules

        message = scope.message
        context = {name: message[name] for name in self.names if name in message}
        context["message"] = message
        context["item"] = scope.item
        context["index"] = scope.index
        context["seq"] = scope.seq
        context["vars"] = scope.vars
        parts, size = [], 0
        deadline = DEADLINE.set(time.monotonic() + MAX_TEMPLATE_SECONDS)  # the sandbox checks it as it runs
        try:
            for part in self.template.generate(context):  # what it writes, bounded as it is written
                size += len(part)
                if size > MAX_TEMPLATE_TEXT:
                    raise ValueError(f"the template's text would be longer than {MAX_TEMPLATE_TEXT} characters")
                parts.append(part)
        finally:
            DEADLINE.reset(deadline)
        if self.collapse:  # the template's own white space tidied, the values' text kept
            text = tidy([part if type(part) is Valued else TemplateText(part) for part in parts])
        else:
            text = "".join(parts)
        return text if text else MISSING

    def explain(self, scope: Scope) -> tuple[Any, str]:
        how = f"template `{self.text}` ({self.origin.short})"
        settings = self.settings_read()
        if settings:  # templates only see the settings that are not secret
            how += " with " + ", ".join(
                f"setting {name} = {json.dumps(self.settings[name]) if name in self.settings else '(not available)'}"
                for name in settings)
        return self.evaluate(scope), how

    def settings_read(self) -> list[str]:
        """The settings it reads (``settings.name``, ``settings['name']``), in order."""
        from jinja2 import nodes as jinja_nodes

        found: list[str] = []
        for node in self.template.environment.parse(self.text).find_all((jinja_nodes.Getattr, jinja_nodes.Getitem)):
            if isinstance(node.node, jinja_nodes.Name) and node.node.name == "settings":
                key = node.attr if isinstance(node, jinja_nodes.Getattr) else getattr(node.arg, "value", None)
                if isinstance(key, str) and key not in found:
                    found.append(key)
        return found

    def write(self, w: Any, out: str) -> list[str]:
        return w.jinja(self, out)


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

    def explain(self, scope: Scope) -> tuple[Any, str]:
        return self.evaluate(scope), f"object ({self.origin.short})"

    def write(self, w: Any, out: str) -> list[str]:
        obj = w.temp()
        lines = [f"{obj} = {{}}"]
        for key, child in self.fields:
            if not self.drop_empty:
                lines += w.field(child, obj, key)
                continue
            value = w.temp()
            lines += w.value(child, value)
            lines.append(f"if {value} is not MISSING and {value} != {{}} and {value} != []: {obj}[{key!r}] = {value}")
        if self.drop_empty:
            return lines + [f"{out} = {obj} if {obj} else MISSING"]
        return lines + [f"{out} = {obj}"]

    def children(self) -> list:
        return [child for _, child in self.fields]


class First(Node):
    """Fallbacks: the first present value."""

    __slots__ = ("options",)

    def __init__(self, options: list[Node], origin: Origin) -> None:
        self.options = options
        self.origin = origin

    def evaluate(self, scope: Scope) -> Any:
        for node in self.options:
            value = node.evaluate(scope)
            if value is not MISSING:
                return value
        return MISSING

    def explain(self, scope: Scope) -> tuple[Any, str]:
        missing = []
        for number, option in enumerate(self.options, 1):
            value, how = option.explain(scope)
            if value is not MISSING:
                before = f"; missing before it: {'; '.join(missing)}" if missing else ""
                return value, f"fallback {number} of {len(self.options)}: {how}{before}"
            missing.append(how)
        return MISSING, f"every fallback missing: {'; '.join(missing)}"

    def write(self, w: Any, out: str) -> list[str]:
        lines: list[str] = []
        depth = ""
        for position, option in enumerate(self.options):
            if position:
                lines.append(f"{depth}if {out} is MISSING:")
                depth += "    "
            lines += [depth + line for line in w.value(option, out)]
        return lines

    def children(self) -> list:
        return list(self.options)


class Cases(Node):
    """The value of the first case whose condition holds (a case without ``when`` always holds)."""

    __slots__ = ("cases",)

    def __init__(self, cases: list[tuple[Any, Node]], origin: Origin) -> None:
        self.cases = cases
        self.origin = origin

    def evaluate(self, scope: Scope) -> Any:
        for condition, node in self.cases:
            if condition is True or condition.test(scope):
                return node.evaluate(scope)
        return MISSING

    def explain(self, scope: Scope) -> tuple[Any, str]:
        skipped = []
        for number, (condition, option) in enumerate(self.cases, 1):
            holds, why = explain_condition(condition, scope)
            if holds:
                value, how = option.explain(scope)
                return value, f"case {number} ({why}): {how}"
            skipped.append(f"case {number}: {why}")
        return MISSING, f"no case held ({'; '.join(skipped)})"

    def write(self, w: Any, out: str) -> list[str]:
        lines: list[str] = []
        depth = ""
        for condition, child in self.cases:
            test, var = w.condition(condition)
            if var == "False":
                continue
            if var == "True":
                return lines + [depth + line for line in w.value(child, out)]
            lines += [depth + line for line in test]
            lines.append(f"{depth}if {var}:")
            lines += [depth + "    " + line for line in w.value(child, out)]
            lines.append(f"{depth}else:")
            depth += "    "
        return lines + [f"{depth}{out} = MISSING"]

    def children(self) -> list:
        return [part for case in self.cases for part in case if part is not True]


class Guarded(Node):
    """A value present only when a condition holds (``when:`` on a value)."""

    __slots__ = ("condition", "node")

    def __init__(self, condition: Any, node: Node, origin: Origin) -> None:
        self.condition = condition
        self.node = node
        self.origin = origin

    def evaluate(self, scope: Scope) -> Any:
        if self.condition.test(scope):
            return self.node.evaluate(scope)
        return MISSING

    def explain(self, scope: Scope) -> tuple[Any, str]:
        holds, why = self.condition.explain(scope)
        if not holds:
            return MISSING, f"left out: {why}"
        value, how = self.node.explain(scope)
        return value, f"{how}, when {why}"

    def write(self, w: Any, out: str) -> list[str]:
        test, var = w.condition(self.condition)
        if var in ("True", "False"):
            return w.value(self.node, out) if var == "True" else [f"{out} = MISSING"]
        return test + [f"if {var}:"] + ["    " + line for line in w.value(self.node, out)] + [
            "else:", f"    {out} = MISSING"]

    def children(self) -> list:
        return [self.condition, self.node]


class _Modifier(Node):
    """A value made from another (``node``): what ``map:``, ``type:`` and ``drop_empty:`` do."""

    __slots__ = ("node",)
    label = ""

    def explain(self, scope: Scope) -> tuple[Any, str]:
        value, how = self.node.explain(scope)
        final = self.evaluate(scope)
        return final, f"{how}, {self.describe(value, final)}"

    def describe(self, value: Any, final: Any) -> str:
        return self.label

    def children(self) -> list:
        return [self.node]


class Mapped(_Modifier):
    """A value looked up in a table (``map:``); a value not in the table is missing."""

    __slots__ = ("table",)

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

    def describe(self, value: Any, final: Any) -> str:
        looked = json.dumps(None if value is MISSING else value, ensure_ascii=False, default=str)[:60]
        return f"{looked} looked up in a table ({'found' if final is not MISSING else 'not in it'})"

    def write(self, w: Any, out: str) -> list[str]:
        table = w.const(self.table)
        return w.value(self.node, out) + [
            f"if {out} is not MISSING and isinstance({out}, (str, int, float, bool)):",
            f"    {out} = {table}.get({out} if type({out}) is str else _table_key({out}), MISSING)",
            f"    if {out} is None: {out} = MISSING",
            f"    elif type({out}) is dict or type({out}) is list: {out} = _fresh({out})",
            "else:", f"    {out} = MISSING"]


class NonEmpty(_Modifier):
    """A value left out when it is an empty object or list (``drop_empty:``)."""

    __slots__ = ()
    label = "left out when empty"

    def __init__(self, node: Node, origin: Origin) -> None:
        self.node = node
        self.origin = origin

    def evaluate(self, scope: Scope) -> Any:
        value = self.node.evaluate(scope)
        if value == {} or value == []:
            return MISSING
        return value

    def write(self, w: Any, out: str) -> list[str]:
        return w.value(self.node, out) + [f"if {out} == {{}} or {out} == []: {out} = MISSING"]


class Typed(_Modifier):
    """A value kept only when it has the given JSON type (``type:``)."""

    __slots__ = ("type_name", "check")

    def __init__(self, node: Node, type_name: str, origin: Origin) -> None:
        self.node = node
        self.type_name = type_name
        self.check = JSON_TYPES[type_name]
        self.origin = origin

    def evaluate(self, scope: Scope) -> Any:
        value = self.node.evaluate(scope)
        if value is MISSING or not self.check(value):
            return MISSING
        return value

    def describe(self, value: Any, final: Any) -> str:
        return f"kept if {self.type_name}"

    def write(self, w: Any, out: str) -> list[str]:
        test = JSON_TYPE_TESTS[self.type_name].format(v=out)
        return w.value(self.node, out) + [f"if {out} is not MISSING and not {test}: {out} = MISSING"]


# ---------------------------------------------------------------- conditions


def explain_condition(condition: Any, scope: Scope) -> tuple[bool, str]:
    """Whether a condition (or ``True``, no condition) holds, and a short reason."""
    if condition is True:
        return True, "no condition"
    return condition.explain(scope)


class Condition:
    """A condition construct: ``test(scope)`` gives a bool."""

    __slots__ = ("origin",)
    pure = True

    @property
    def decided(self) -> bool | None:
        """True or False when settings alone decide it, else None."""
        return None

    def test(self, scope: Scope) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def explain(self, scope: Scope) -> tuple[bool, str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def write(self, w: Any) -> tuple[list[str], str]:
        """Lines computing what it tests, and the test: an expression (in parentheses) or a
        variable holding its truth."""
        return [], f"{w.const(self)}.test(s)"

    def children(self) -> list:
        return []


class _ValueTest(Condition):
    """A test of one value (``select:`` with ``present``, ``equals``, ``in``, or truthiness)."""

    __slots__ = ("node",)

    @property
    def decided(self) -> bool | None:
        if type(self.node) is Const:  # a constant's test is decided when rules compile
            return self.test(Scope({}))
        return None

    def explain(self, scope: Scope) -> tuple[bool, str]:
        value = self.node.evaluate(scope)
        label = f"`{self.node.text}`" if hasattr(self.node, "text") else "value"
        holds = self.test(scope)
        return holds, self.reason(label, value, holds)

    def reason(self, label: str, value: Any, holds: bool) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def children(self) -> list:
        return [self.node]


class Truthy(_ValueTest):
    """The value is present and not false, 0, [] or {} (JMESPath truthiness)."""

    __slots__ = ()

    def __init__(self, node: Node, origin: Origin) -> None:
        self.node = node
        self.origin = origin

    def test(self, scope: Scope) -> bool:
        return truthy(self.node.evaluate(scope))

    def reason(self, label: str, value: Any, holds: bool) -> str:
        return f"{label} is {shown(value)}" + ("" if holds else " (false or empty)")

    def write(self, w: Any) -> tuple[list[str], str]:
        value = w.temp()
        return w.value(self.node, value), f"_truthy({value})"


class Present(_ValueTest):
    """The value is present (``present: true``) or missing (``present: false``)."""

    __slots__ = ("wanted",)

    def __init__(self, node: Node, wanted: bool, origin: Origin) -> None:
        self.node = node
        self.wanted = wanted
        self.origin = origin

    def test(self, scope: Scope) -> bool:
        return (self.node.evaluate(scope) is not MISSING) is self.wanted

    def reason(self, label: str, value: Any, holds: bool) -> str:
        return f"{label} is {'missing' if value is MISSING else 'present'}"

    def write(self, w: Any) -> tuple[list[str], str]:
        value = w.temp()
        return w.value(self.node, value), f"({value} {'is not' if self.wanted else 'is'} MISSING)"


class Equals(_ValueTest):
    """The value equals a constant (``equals:``), as JSON means it; null equals a missing value."""

    __slots__ = ("expected",)

    def __init__(self, node: Node, expected: Any, origin: Origin) -> None:
        self.node = node
        self.expected = expected
        self.origin = origin

    def test(self, scope: Scope) -> bool:
        return same(self.node.evaluate(scope), self.expected)

    def reason(self, label: str, value: Any, holds: bool) -> str:
        return f"{label} is {shown(value)}" + ("" if holds else f", not {json.dumps(self.expected)}")

    def write(self, w: Any) -> tuple[list[str], str]:
        value, expected = w.temp(), self.expected
        if isinstance(expected, bool):
            test = f"{value} is {expected!r}"
        elif expected is None:
            test = f"{value} is MISSING or {value} is None"
        elif type(expected) is str:
            test = f"{value} == {w.const(expected)}"
        else:
            test = f"_same({value}, {w.const(expected)})"
        return w.value(self.node, value), f"({test})"


class In(_ValueTest):
    """The value equals one of a list of constants (``in:``)."""

    __slots__ = ("choices",)

    def __init__(self, node: Node, choices: list, origin: Origin) -> None:
        self.node = node
        self.choices = choices
        self.origin = origin

    def test(self, scope: Scope) -> bool:
        value = self.node.evaluate(scope)
        return any(same(value, choice) for choice in self.choices)

    def reason(self, label: str, value: Any, holds: bool) -> str:
        return f"{label} is {shown(value)}" + ("" if holds else f", not one of {json.dumps(self.choices)}")

    def write(self, w: Any) -> tuple[list[str], str]:
        value = w.temp()
        if all(type(choice) is str for choice in self.choices):
            texts = w.const(frozenset(self.choices))
            return w.value(self.node, value), f"(type({value}) is str and {value} in {texts})"
        return w.value(self.node, value), f"any(_same({value}, choice) for choice in {w.const(self.choices)})"


class _Chain(Condition):
    """Parts tested in order until one decides the whole: ``All`` needs every part to hold,
    ``AnyOf`` one. Where settings decide the whole (a part decided against it, or every part
    decided), no part is tested on the message: what settings rule out is never run, by the walk
    as by the plan."""

    __slots__ = ("parts", "known")
    every = True

    def __init__(self, parts: list[Condition], origin: Origin) -> None:
        self.parts = parts
        self.origin = origin
        known = [part.decided for part in parts]  # settings are fixed when rules compile
        if (not self.every) in known:
            self.known = not self.every
        else:
            self.known = self.every if all(k is self.every for k in known) else None

    @property
    def decided(self) -> bool | None:
        return self.known

    def test(self, scope: Scope) -> bool:
        if self.known is not None:
            return self.known
        for part in self.parts:
            if bool(part.test(scope)) is not self.every:
                return not self.every
        return self.every

    def explain(self, scope: Scope) -> tuple[bool, str]:
        deciding = [part for part in self.parts if part.decided is (not self.every)]
        if deciding:  # the settings' reason alone
            return not self.every, deciding[0].explain(scope)[1]
        reasons = []
        for part in self.parts:
            holds, why = part.explain(scope)
            if bool(holds) is not self.every:
                return not self.every, why
            reasons.append(why)
        return self.every, self.summary(reasons)

    def summary(self, reasons: list[str]) -> str:
        return "; ".join(reasons)

    def write(self, w: Any) -> tuple[list[str], str]:
        return w.chain(self.parts, every=self.every)

    def children(self) -> list:
        return list(self.parts)


class All(_Chain):
    """Every part holds (a list of conditions, or ``all:``)."""

    __slots__ = ()


class AnyOf(_Chain):
    """At least one part holds (``any:``)."""

    __slots__ = ()
    every = False

    def summary(self, reasons: list[str]) -> str:
        return "none of: " + "; ".join(reasons)


class Not(Condition):
    """The part does not hold (``not:``)."""

    __slots__ = ("part",)

    def __init__(self, part: Condition, origin: Origin) -> None:
        self.part = part
        self.origin = origin

    @property
    def decided(self) -> bool | None:
        known = self.part.decided
        return None if known is None else not known

    def test(self, scope: Scope) -> bool:
        return not self.part.test(scope)

    def explain(self, scope: Scope) -> tuple[bool, str]:
        holds, why = self.part.explain(scope)
        if isinstance(self.part, (SettingTest, Fired)):
            return not holds, why  # these reasons already say on/off, fired/did not fire
        return not holds, f"not ({why})"

    def write(self, w: Any) -> tuple[list[str], str]:
        test, result = w.condition(self.part)
        return test, f"(not {result})"

    def children(self) -> list:
        return [self.part]


class SettingTest(Condition):
    """A test of a setting (``setting:`` alone, or with ``equals`` or ``in``). Settings are fixed
    when rules compile, so the result is known then."""

    __slots__ = ("name", "value", "op", "operand", "result", "secret")

    def __init__(self, name: str, value: Any, op: str, operand: Any, origin: Origin, secret: bool = False) -> None:
        self.name = name
        self.secret = secret  # its value is never shown
        self.value = value
        self.op = op
        self.operand = operand
        if op == "equals":
            self.result = same(value, operand)
        elif op == "in":
            self.result = any(same(value, choice) for choice in operand)
        else:
            self.result = truthy(value)  # set: not null, false, empty text, [] or {}
        self.origin = origin

    @property
    def decided(self) -> bool | None:
        return self.result

    def test(self, scope: Scope) -> bool:
        return self.result

    def explain(self, scope: Scope) -> tuple[bool, str]:
        if self.secret:  # whether it is set, or passes its test; never its value (nor the operand it equals)
            if self.op == "set":
                return self.result, f"setting {self.name} is {'on (set)' if self.result else 'off (not set)'}"
            return self.result, f"setting {self.name} {'passes' if self.result else 'fails'} its {self.op} test " \
                                "(a secret: its value is not shown)"
        value = json.dumps(self.value)
        if self.op == "set":
            return self.result, f"setting {self.name} is {'on' if self.result else 'off'} ({value})"
        return self.result, f"setting {self.name} is {value} ({self.op} {json.dumps(self.operand)})"

    def write(self, w: Any) -> tuple[list[str], str]:
        return [], repr(self.result)


class Fired(Condition):
    """True when one of the named rules already fired for this message (``fired:``)."""

    __slots__ = ("names",)
    pure = False

    def __init__(self, names: tuple[str, ...], origin: Origin) -> None:
        self.names = names
        self.origin = origin

    def test(self, scope: Scope) -> bool:
        return any(name in scope.fired for name in self.names)

    def explain(self, scope: Scope) -> tuple[bool, str]:
        fired = [name for name in self.names if name in scope.fired]
        if fired:
            return True, f"rule {fired[0]} fired"
        return False, f"{' / '.join(self.names)} did not fire"

    def write(self, w: Any) -> tuple[list[str], str]:
        return [], "(" + " or ".join(f"{name!r} in s.fired" for name in self.names) + ")"


# ---------------------------------------------------------------- statements


@dataclass
class Check:
    """An assertion on an output body (``checks:`` of a target): ``assertion(body)`` gives its
    value, which must be truthy; else ``error`` (a template of ``body``) says why, at ``path``.
    ``folded`` is the JMESPath AST ``assertion`` computes (settings read as constants), which the
    plan writes as code."""

    assertion: Any
    parsed: Any
    text: str
    error: Any
    path: str
    origin: Origin
    folded: Any = None


class Target:
    """An output kind with the schema (and extra checks, ``Check``) its body must satisfy.
    ``accepts(body)`` is the fast yes/no of both (it may raise where it cannot answer), and
    ``is_valid(body)`` that of the schema alone; ``problem(body)`` the located reason of a refusal,
    or None."""

    __slots__ = ("name", "schema", "validator", "checks", "description", "origin", "accepts", "is_valid")

    def __init__(self, name: str, schema: str, validator: Any, checks: list[Check], description: str,
                 origin: Origin) -> None:
        self.name = name
        self.schema = schema
        self.validator = validator
        self.checks = checks
        self.description = description
        self.origin = origin
        # jsonschema-rs itself: a value it cannot take raises, and the plan then gives the message
        # to the walk, which asks ``problem``
        is_valid = self.is_valid = (validator.fast or validator).is_valid
        assertions = tuple(check.assertion for check in checks)

        def accepts(body: dict) -> bool:
            if not is_valid(body):
                return False
            for assertion in assertions:
                if not truthy(assertion(body)):
                    return False
            return True

        self.accepts = accepts

    def problem(self, body: dict) -> tuple[str, str] | None:
        """Why ``body`` is not a valid output, and the JSON path in it; None when it is."""
        try:
            problem = first_error(self.validator, body)
        except RecursionError:
            return "the output is nested too deeply to check", "$"
        if problem is not None:
            return problem
        for check in self.checks:
            try:
                if truthy(check.assertion(body)):
                    continue
                reason = check.error.render({"body": body})
            except Exception as exc:  # a message must never stop the run
                cause = (str(exc) or type(exc).__name__)[:300]
                reason = f"the check {check.text!r} ({check.origin.file}:{check.origin.line}) failed: {cause}"
            return " ".join(reason.split()), check.path
        return None


class Emit:
    """One output of a rule (``target`` and its ``fields``), or one per element with ``foreach``,
    or a group of emits made together (``group``, ``target`` None), each under its ``when``."""

    __slots__ = ("target", "fields", "foreach", "origin", "condition", "group")

    def __init__(self, target: Target | None, fields: list[tuple[str, Node]], foreach: Node | None,
                 origin: Origin, condition: Any = True, group: list[Emit] | None = None) -> None:
        self.target = target
        self.fields = fields
        self.foreach = foreach
        self.origin = origin
        self.condition = condition
        self.group = group or []

    def children(self) -> list:
        found = [] if self.condition is True else [self.condition]
        if self.foreach is not None:
            found.append(self.foreach)
        return found + [node for _, node in self.fields] + list(self.group)

    def targets(self, repeated: bool = False):
        """The emits inside (itself included) that make an output, each with whether it may make
        more than one per message (inside a ``foreach``)."""
        again = repeated or self.foreach is not None
        if self.target is not None:
            yield self, again
        for child in self.group:
            yield from child.targets(again)

    def run(self, scope: Scope, make: Any, tracer: Any = None) -> None:
        """Make this emit's outputs (``make(emit, scope)`` for each) when its condition holds;
        a ``tracer`` is told why one is not made."""
        if self.condition is not True:
            if tracer is None:
                holds = self.condition.test(scope)
            else:
                holds, why = self.condition.explain(scope)
                if not holds:
                    tracer.skipped(self, scope, why)
            if not holds:
                return
        if self.foreach is None:
            self._make(scope, make, tracer)
            return
        items = self.foreach.evaluate(scope)
        if items is MISSING:
            return
        saved = scope.item, scope.index
        try:
            for position, item in enumerate(items if isinstance(items, list) else [items]):
                scope.item, scope.index = item, position
                self._make(scope, make, tracer)
        finally:
            scope.item, scope.index = saved

    def _make(self, scope: Scope, make: Any, tracer: Any) -> None:
        if self.target is None:
            for child in self.group:
                child.run(scope, make, tracer)
            return
        make(self, scope)
        scope.seq += 1

    def write(self, w: Any, rule_ref: str) -> list[str]:
        if self.target is None:
            make = [line for child in self.group for line in child.write(w, rule_ref)]
        else:
            make = w.output(self, rule_ref)
        if self.foreach is not None:
            items, position, saved = w.temp(), w.temp(), w.temp()
            loop = w.value(self.foreach, items)
            loop += [f"if {items} is not MISSING:",
                     f"    if not isinstance({items}, list): {items} = [{items}]",
                     f"    {saved} = s.item, s.index",
                     f"    for {position}, s.item in enumerate({items}):",
                     f"        s.index = {position}"]
            loop += ["        " + line for line in make]
            loop += [f"    s.item, s.index = {saved}"]
            make = loop
        test, var = w.condition(self.condition)
        if var == "True":
            return make
        if var == "False":
            return []
        return test + [f"if {var}:"] + ["    " + line for line in make or ["pass"]]


@dataclass
class Rule:
    """A compiled rule: when it applies (``on`` dispatch values, ``condition``: True or a
    condition), then either a rejection (``reject``: a template of the reason and a JSON path) or
    its ``vars`` (computed in order, each seeing the earlier ones) and ``emits``; ``stop`` ends
    the message's rules when it fires."""

    name: str
    spec: str
    note: str
    on: tuple[str, ...] | None
    condition: Any
    when: Any
    emits: list[Emit]
    reject: tuple[Any, str] | None
    origin: Origin
    stop: bool = False
    vars: list[tuple[str, Node]] = dataclasses.field(default_factory=list)
    alongside: tuple[str, ...] = ()
    sends_nothing: bool = False  # `emit: nothing`: no outputs, on purpose

    def children(self) -> list:
        found = [] if self.condition is True else [self.condition]
        found += [node for _, node in self.vars]
        if self.reject is not None:
            found.append(self.reject[0])
        return found + list(self.emits)

    @property
    def decided(self) -> bool | None:
        return True if self.condition is True else self.condition.decided

    def write(self, w: Any) -> list[str]:
        """The rule as code: when its condition holds, its vars, its outputs, and the rules after
        it skipped when it stops them. A rule that rejects gives the message up to the walk,
        which says why."""
        test, var = w.condition(self.condition)
        if var == "False":
            return []
        if self.reject is not None:
            body = ["raise LookupError('a rule rejects the message')"]
        else:
            body = []
            if self.vars:
                body.append("s.vars = {}")
                for key, node in self.vars:
                    body += w.value(node, "v")
                    body.append(f"if v is not MISSING: s.vars[{key!r}] = v")
            rule_ref = repr(self.name)
            for emit in self.emits:
                body += emit.write(w, rule_ref)
            if self.vars:
                body.append("s.vars = {}")
            body.append(f"s.fired.add({self.name!r})")
            if self.stop:
                body.append("return built")
        if var == "True":
            return test + body
        return test + [f"if {var}:"] + ["    " + line for line in body]


@dataclass(frozen=True)
class OptionalField:
    """An input field the rule set declares optional (``input.optional``): a message the input
    schema refuses only for it is translated without it, with a warning. ``keys`` is its path of
    object keys, ``note`` why the message can do without it."""

    keys: tuple[str, ...]
    note: str
    origin: Origin

    @property
    def path(self) -> str:
        """Its JSON path, as warnings name it."""
        return "$" + "".join(f".{key}" if key.isidentifier() else f"[{json.dumps(key)}]" for key in self.keys)


@dataclass
class RuleSet:
    """A variant compiled for one set of settings: its targets, its rules in order (and, by dispatch
    value, those settings leave able to apply), the input schema's validator and the plan."""

    platform: str
    settings: dict
    catalog: Any  # settings.Catalog
    files: list[str]
    rules: list[Rule]
    targets: dict[str, Target]
    input_schema: str
    input_validator: Any
    dispatch: Node | None
    options: Any = None
    input_check: Any = None  # the input schema's fast yes/no, which may raise where it cannot answer
    plan: Any = None  # the rules as generated Python (``plan``), or None when it could not be written
    max_outputs: int | None = None  # the most outputs one message may make
    by_dispatch: dict[str, list[Rule]] = dataclasses.field(default_factory=dict)
    undispatched: list[Rule] = dataclasses.field(default_factory=list)
    optional: list[OptionalField] = dataclasses.field(default_factory=list)  # input.optional, outer first

    def rules_for(self, key: Any) -> list[Rule]:
        """The enabled rules that apply to a message with this dispatch value, in order."""
        found = self.by_dispatch.get(key) if isinstance(key, str) else None
        return self.undispatched if found is None else found



def walk_tree(root: Any):
    """Every construct inside ``root`` (itself included), depth first."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children()))
