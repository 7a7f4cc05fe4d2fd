"""Explaining a translation: for each output, the rule that made it and, for each field, the
selector, template, fallback, case and setting behind its value; then every rule that did not
fire, and why.

It is the walk of ``run`` with a ``Tracer``: each construct says how it got its value
(``explain`` in ``nodes``); this module records it and renders it as text or JSON.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from . import nodes as n
from .batches import output_lines
from .errors import Rejected
from .nodes import RuleSet
from .run import walk


@dataclass
class FieldTrace:
    """How one output field got its value (or why it was left out)."""

    name: str
    value: Any
    how: str
    present: bool = True
    fields: list[FieldTrace] = field(default_factory=list)
    # left out only because the message has none of the fields it reads (shown with --all)
    unread: bool = False


@dataclass
class OutputTrace:
    number: int
    target: str
    body: dict
    rule: str
    where: str
    spec: str
    element: int | None
    fields: list[FieldTrace]


@dataclass
class RuleTrace:
    name: str
    where: str
    spec: str
    status: str  # fired | did not fire | not for this message | not tried | refused the message
    why: str
    outputs: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass
class Explanation:
    platform: str
    index: int | None
    dispatch: Any
    outputs: list[OutputTrace]
    rules: list[RuleTrace]
    rejected: dict | None = None
    file: str | None = None  # where the message was read, when it was read from an input
    line: int | None = None
    # the optional fields the message was translated without: {path, warning, declared, note}
    dropped: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return _jsonable(asdict(self))


def explain(ruleset: RuleSet, message: Any, index: int | None = None) -> Explanation:
    """Translate ``message`` by walking ``ruleset``, recording why."""
    tracer = Tracer(Explanation(ruleset.platform, index, None, [], []))
    try:
        walk(ruleset, message, index, tracer)
        # what translate refuses to write (text that is not valid Unicode), explain refuses too
        output_lines([{"target": o.target, "body": o.body} for o in tracer.result.outputs], index or 0)
    except Rejected as rejected:
        tracer.result.rejected = rejected.as_record()
    return tracer.result


def printable(text: str, encoding: str | None) -> str:
    """``text`` as a stream of ``encoding`` (UTF-8 when unknown) can take it: what it cannot
    encode (a lone surrogate from bytes that were not UTF-8, or a character outside an ASCII
    terminal's encoding) as a backslash escape."""
    encoding = encoding or "utf-8"
    return text.encode(encoding, "backslashreplace").decode(encoding)


class Tracer:
    """What the walk tells as it goes, kept as an ``Explanation``."""

    def __init__(self, result: Explanation) -> None:
        self.result = result
        self.current: RuleTrace | None = None

    def dropped(self, warnings: list, fields: list) -> None:
        """Optional fields left out of the message (``input.optional``), before any rule ran."""
        for warning, declared in zip(warnings, fields, strict=True):
            self.result.dropped.append({"path": warning.path, "warning": warning.message,
                                        "declared": declared.origin.short, "note": declared.note})

    def dispatch(self, key: Any) -> None:
        self.result.dispatch = None if key is n.MISSING else key

    def rule(self, rule: Any, status: str, why: str) -> None:
        self.current = RuleTrace(rule.name, rule.origin.short, rule.spec, status, why)
        self.result.rules.append(self.current)

    def skipped(self, emit: Any, scope: n.Scope, why: str) -> None:
        made = emit.target.name if emit.target is not None else "a group of outputs"
        element = f" (element {scope.index})" if scope.index is not None else ""
        self.current.skipped.append(f"{made}{element} not made: {why}")

    def output(self, rule: Any, emit: Any, scope: n.Scope, number: int, fields: list) -> None:
        """An output made: its fields as (name, construct, (value, how))."""
        variables = dict(rule.vars)
        traces = [_field(name, node, value, how, scope, variables) for name, node, (value, how) in fields]
        body = {trace.name: trace.value for trace in traces if trace.present}
        self.result.outputs.append(OutputTrace(number, emit.target.name, body, rule.name, rule.origin.short,
                                               rule.spec, scope.index, traces))
        self.current.outputs.append(number)


def _field(name: str, node: n.Node, value: Any, how: str, scope: n.Scope, variables: dict) -> FieldTrace:
    trace = FieldTrace(name, None if value is n.MISSING else value, how, value is not n.MISSING)
    if value is n.MISSING:
        paths = _message_paths(node, variables, set())
        trace.unread = bool(paths) and not any(_has(scope.message, keys) for keys in paths)
    if isinstance(node, n.Object) and value is not n.MISSING:
        trace.fields = [_field(key, child, *child.explain(scope), scope, variables) for key, child in node.fields]
    return trace


def _message_paths(node: Any, variables: dict, seen: set) -> list[tuple[str, ...]]:
    """The message fields a construct reads (through the vars it reads, too)."""
    if id(node) in seen:
        return []
    seen.add(id(node))
    found: list[tuple[str, ...]] = []
    source = getattr(node, "source", "message")
    if isinstance(node, n.Path):
        if source == "message":
            found.append(tuple(node.keys))
        elif source == "vars" and node.keys and node.keys[0] in variables:
            found += _message_paths(variables[node.keys[0]], variables, seen)
    elif isinstance(node, n.Select) and source == "message":
        found += [tuple(chain) for chain in n.root_chains(node.parsed.parsed)]
    elif isinstance(node, n.Template):
        found += [(name,) for name in node.names]
    children = node.children() if hasattr(node, "children") else []
    for child in children:
        found += _message_paths(child, variables, seen)
    return found


def _has(message: Any, keys: tuple[str, ...]) -> bool:
    """Whether the message holds a value (not null) at ``keys``."""
    for key in keys:
        if not isinstance(message, dict) or message.get(key) is None:
            return False
        message = message[key]
    return True


def _jsonable(value: Any) -> Any:
    if value is n.MISSING:
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


# ---------------------------------------------------------------- text


def render(explanation: Explanation, every_field: bool = False) -> str:
    """The human-readable explanation. A field left out only because the message has none of the
    fields it reads is counted, not shown, unless ``every_field``."""
    lines = []
    head = f"message {explanation.index}" if explanation.index is not None else "message"
    about = [str(explanation.dispatch)] if explanation.dispatch is not None else []
    if explanation.file is not None:
        about.append(f"{explanation.file}:{explanation.line}")
    kind = f" ({', '.join(about)})" if about else ""
    lines.append(f"{head}{kind} on platform {explanation.platform}")
    if explanation.dropped and not (explanation.rejected and not explanation.rules):
        lines.append("")
        lines.append("left out: optional fields the input schema refuses (input.optional)")
        for dropped in explanation.dropped:
            lines.append(f"  dropped {dropped['path']}: {dropped['warning']}")
            note = f": {dropped['note']}" if dropped["note"] else ""
            lines.append(f"      <- input.optional ({dropped['declared']}){note}")
    if explanation.rejected and not explanation.outputs and not explanation.rules:
        lines.append(f"  rejected before any rule: {explanation.rejected['path']}: {explanation.rejected['error']}")
        return "\n".join(lines)
    lines.append("")
    if explanation.outputs and explanation.rejected:
        lines.append(f"outputs the rules built ({len(explanation.outputs)}; none is sent: the message is rejected):")
    else:
        lines.append(f"outputs ({len(explanation.outputs)}):" if explanation.outputs else "outputs: none")
    for output in explanation.outputs:
        element = f", element {output.element}" if output.element is not None else ""
        spec = f" - {output.spec}" if output.spec else ""
        lines.append(f"  {output.number}. {output.target} from rule {output.rule} ({output.where}{element}){spec}")
        hidden = _render_fields(lines, output.fields, "       ", every_field)
        if hidden:
            lines.append(f"       ({hidden} more field{'s' if hidden > 1 else ''} left out: the message has none "
                         "of the fields they read; --all shows them)")
    if explanation.rejected:
        lines.append("")
        lines.append(f"rejected: {explanation.rejected['path']}: {explanation.rejected['error']}")
    lines.append("")
    lines.append("rules:")
    for rule in explanation.rules:
        made = f" -> outputs {', '.join(map(str, rule.outputs))}" if rule.outputs else ""
        lines.append(f"  {rule.status:<21} {rule.name} ({rule.where}){made}")
        if rule.status != "not for this message":
            lines.append(f"  {'':<21}   {rule.why}")
        for skipped in rule.skipped:
            lines.append(f"  {'':<21}   {skipped}")
    return "\n".join(lines)


def _render_fields(lines: list[str], fields: list[FieldTrace], indent: str, every_field: bool = True) -> int:
    """The fields' lines; how many were not shown."""
    hidden = 0
    for trace in fields:
        if trace.unread and not every_field:
            hidden += 1
            continue
        if trace.present:
            shown = json.dumps(trace.value, ensure_ascii=False)
            if len(shown) > 70:
                shown = shown[:67] + "..."
            lines.append(f"{indent}{trace.name} = {shown}")
            lines.append(f"{indent}    <- {trace.how}")
        else:
            lines.append(f"{indent}{trace.name}: left out <- {trace.how}")
        if trace.fields:
            hidden += _render_fields(lines, trace.fields, indent + "    ", every_field)
    return hidden
