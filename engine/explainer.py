"""Explaining a translation: for each output, the rule that made it and, for each field, the
selector, template, fallback, case and setting behind its value; then every rule that did not
fire, and why.

This is the slow, talkative twin of ``evaluator``: it walks the rules compiled without folding
(``compile_rule_set(..., fold=False)``, where every setting test is still there to be reported)
and gives the same outputs.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from . import nodes as n
from .compiler import Emit, Rule, RuleSet
from .errors import Rejected
from .evaluator import _check_output
from .validation import first_error


@dataclass
class FieldTrace:
    """How one output field got its value (or why it was left out)."""

    name: str
    value: Any
    how: str
    present: bool = True
    fields: list[FieldTrace] = field(default_factory=list)


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

    def as_dict(self) -> dict:
        return _jsonable(asdict(self))


def explain(ruleset: RuleSet, message: Any, index: int | None = None) -> Explanation:
    """Translate ``message`` with ``ruleset`` (compiled with ``fold=False`` for full reasons),
    recording why."""
    result = Explanation(ruleset.platform, index, None, [], [])
    if not isinstance(message, dict):
        result.rejected = Rejected(f"a message must be a JSON object, not {type(message).__name__}", "$",
                                   index).as_record()
        return result
    problem = first_error(ruleset.input_validator, message)
    if problem is not None:
        result.rejected = Rejected(problem[0], problem[1], index).as_record()
        return result
    scope = n.Scope(message)
    key = ruleset.dispatch.evaluate(scope) if ruleset.dispatch is not None else None
    result.dispatch = None if key is n.MISSING else key
    built: list[tuple[Rule, Any, dict, OutputTrace]] = []
    stopped_by = None
    for rule in ruleset.rules:
        trace = RuleTrace(rule.name, _where(rule.origin), rule.spec, "", "")
        result.rules.append(trace)
        if stopped_by is not None:
            trace.status, trace.why = "not tried", f"rule {stopped_by} fired and stops the message"
            continue
        if rule.on is not None and key not in rule.on:
            trace.status, trace.why = "not for this message", f"on: {', '.join(rule.on)} (this is {key!r})"
            continue
        holds, why = _condition(rule.condition, scope)
        if not holds:
            trace.status, trace.why = "did not fire", why
            continue
        trace.why = why
        if rule.reject is not None:
            reason = rule.reject[0].evaluate(scope)
            trace.status = "refused the message"
            result.rejected = Rejected(reason if reason is not n.MISSING else f"refused by rule {rule.name}",
                                       rule.reject[1], index, rule.name).as_record()
            return result
        trace.status = "fired"
        try:
            if rule.vars:
                scope.vars = {}
                _VAR_HOW.clear()
                for name, node in rule.vars:
                    value, how = _value(node, scope)
                    _VAR_HOW[name] = how
                    if value is not n.MISSING:
                        scope.vars[name] = value
            for emit in rule.emits:
                _emit(emit, rule, scope, built, trace)
        except Exception as exc:  # the same failure the evaluator reports as a rejection
            result.rejected = {"input": index, "error": f"rule {rule.name} could not be applied: {exc}",
                               "path": "$", "rule": rule.name}
            return result
        scope.vars = {}
        scope.fired.add(rule.name)
        if rule.stop:
            stopped_by = rule.name
    for number, (rule, target, body, output) in enumerate(built, 1):
        output.number = number
        result.outputs.append(output)
        if result.rejected is None:
            try:
                _check_output(ruleset, rule, target, body, number, index)
            except Rejected as rejected:  # the first invalid output, as translate reports it
                result.rejected = rejected.as_record()
    return result


def _emit(emit: Emit, rule: Rule, scope: n.Scope, built: list, trace: RuleTrace) -> None:
    holds, why = _condition(emit.condition, scope)
    if not holds:
        made = emit.target.name if emit.target is not None else "a group of outputs"
        element = f" (element {scope.index})" if scope.index is not None else ""
        trace.skipped.append(f"{made}{element} not made: {why}")
        return
    if emit.foreach is None:
        _make(emit, rule, scope, built, trace)
        return
    items = emit.foreach.evaluate(scope)
    if items is n.MISSING:
        return
    saved = scope.item, scope.index
    try:
        for position, item in enumerate(items if isinstance(items, list) else [items]):
            scope.item, scope.index = item, position
            _make(emit, rule, scope, built, trace)
    finally:
        scope.item, scope.index = saved


def _make(emit: Emit, rule: Rule, scope: n.Scope, built: list, trace: RuleTrace) -> None:
    if emit.target is None:
        for child in emit.children:
            _emit(child, rule, scope, built, trace)
        return
    fields = [_field(name, node, scope) for name, node in emit.fields]
    body = {f.name: f.value for f in fields if f.present}
    output = OutputTrace(0, emit.target.name, body, rule.name, _where(rule.origin), rule.spec, scope.index, fields)
    built.append((rule, emit.target, body, output))
    trace.outputs.append(len(built))
    scope.seq += 1


def _field(name: str, node: n.Node, scope: n.Scope) -> FieldTrace:
    value, how = _value(node, scope)
    trace = FieldTrace(name, None if value is n.MISSING else value, how, value is not n.MISSING)
    if isinstance(node, n.Object) and value is not n.MISSING:
        trace.fields = [_field(key, child, scope) for key, child in node.fields]
    return trace


# ---------------------------------------------------------------- values

_VAR_HOW: dict[str, str] = {}  # how each var of the rule being explained got its value


def _value(node: n.Node, scope: n.Scope) -> tuple[Any, str]:
    """A node's value and how it was found."""
    where = _where(node.origin)
    if isinstance(node, (n.Path, n.Select)):
        value = node.evaluate(scope)
        source = "" if node.source == "message" else f" on {node.source}"
        state = "" if value is not n.MISSING else " (missing)"
        how = f"selector `{node.text}`{source}{state} ({where})"
        settings = _settings_read(node, scope)
        if settings:
            how += f" with {settings}"
        if node.source == "vars":
            name = node.keys[0] if isinstance(node, n.Path) else None
            if name in _VAR_HOW:
                how += f"; vars.{name} <- {_VAR_HOW[name]}"
        return value, how
    if isinstance(node, n.Template):
        return node.evaluate(scope), f"template `{node.text}` ({where})"
    if isinstance(node, n.Const):
        if node.setting:
            return node.value, f"setting {node.setting} ({where})"
        return node.value, f"constant ({where})" if node.value is not n.MISSING else f"nothing ({where})"
    if isinstance(node, n.First):
        missing = []
        for number, option in enumerate(node.options_, 1):
            value, how = _value(option, scope)
            if value is not n.MISSING:
                before = f"; missing before it: {'; '.join(missing)}" if missing else ""
                return value, f"fallback {number} of {len(node.options_)}: {how}{before}"
            missing.append(how)
        return n.MISSING, f"every fallback missing: {'; '.join(missing)}"
    if isinstance(node, n.Cases):
        skipped = []
        for number, (condition, option) in enumerate(node.cases, 1):
            holds, why = _condition(condition, scope)
            if holds:
                value, how = _value(option, scope)
                return value, f"case {number} ({why}): {how}"
            skipped.append(f"case {number}: {why}")
        return n.MISSING, f"no case held ({'; '.join(skipped)})"
    if isinstance(node, n.Guarded):
        holds, why = _condition(node.condition, scope)
        if not holds:
            return n.MISSING, f"left out: {why}"
        value, how = _value(node.node, scope)
        return value, f"{how}, when {why}"
    if isinstance(node, (n.Mapped, n.Typed, n.NonEmpty)):
        value, how = _value(node.node, scope)
        final = node.evaluate(scope)
        shown = json.dumps(None if value is n.MISSING else value, ensure_ascii=False, default=str)[:60]
        if isinstance(node, n.Mapped):
            label = f"{shown} looked up in a table ({'found' if final is not n.MISSING else 'not in it'})"
        elif isinstance(node, n.Typed):
            label = f"kept if {node.type_name}"
        else:
            label = "left out when empty"
        return final, f"{how}, {label}"
    if isinstance(node, n.Object):
        return node.evaluate(scope), f"object ({where})"
    return node.evaluate(scope), where


# ---------------------------------------------------------------- conditions


def _condition(condition: Any, scope: n.Scope) -> tuple[bool, str]:
    """Whether a condition holds, and a short reason."""
    if condition is True:
        return True, "no condition"
    if condition is False:
        return False, "decided by settings"
    if isinstance(condition, n.SettingTest):
        shown = json.dumps(condition.value)
        if condition.op == "set":
            return condition.result, f"setting {condition.name} is {'on' if condition.result else 'off'} ({shown})"
        return condition.result, f"setting {condition.name} is {shown} ({condition.op} {json.dumps(condition.operand)})"
    if isinstance(condition, n.Fired):
        fired = [name for name in condition.names if name in scope.fired]
        if fired:
            return True, f"rule {fired[0]} fired"
        return False, f"{' / '.join(condition.names)} did not fire"
    if isinstance(condition, n.All):
        reasons = []
        for part in condition.parts:
            holds, why = _condition(part, scope)
            if not holds:
                return False, why
            reasons.append(why)
        return True, "; ".join(reasons)
    if isinstance(condition, n.AnyOf):
        reasons = []
        for part in condition.parts:
            holds, why = _condition(part, scope)
            if holds:
                return True, why
            reasons.append(why)
        return False, "none of: " + "; ".join(reasons)
    if isinstance(condition, n.Not):
        holds, why = _condition(condition.part, scope)
        if isinstance(condition.part, (n.SettingTest, n.Fired)):
            return not holds, why  # these reasons already say on/off, fired/did not fire
        return not holds, f"not ({why})"
    node = condition.node
    value = node.evaluate(scope)
    label = f"`{node.text}`" if hasattr(node, "text") else "value"
    shown = "missing" if value is n.MISSING else json.dumps(value, ensure_ascii=False, default=str)[:80]
    holds = condition.test(scope)
    if isinstance(condition, n.Present):
        return holds, f"{label} is {'missing' if value is n.MISSING else 'present'}"
    if isinstance(condition, n.Equals):
        return holds, f"{label} is {shown}" + ("" if holds else f", not {json.dumps(condition.expected)}")
    if isinstance(condition, n.OneOf):
        return holds, f"{label} is {shown}" + ("" if holds else f", not one of {json.dumps(condition.choices)}")
    return holds, f"{label} is {shown}" + ("" if holds else " (false or empty)")


def _settings_read(node: Any, scope: n.Scope) -> str:
    """The settings a selector reads through setting(), with their values."""
    parsed = getattr(node, "parsed", None)
    if parsed is None:
        return ""
    names: list[str] = []

    def walk(ast: Any) -> None:
        if isinstance(ast, dict):
            if ast.get("type") == "function_expression" and ast.get("value") == "setting":
                args = ast.get("children") or []
                if args and args[0].get("type") == "literal" and args[0]["value"] not in names:
                    names.append(args[0]["value"])
            for child in ast.get("children") or []:
                walk(child)

    walk(parsed.parsed)
    settings = node.options.custom_functions.settings if names else {}
    return ", ".join(f"setting {name} = {json.dumps(settings.get(name))}" for name in names)


def _where(origin: n.Origin) -> str:
    return f"{origin.file.rsplit('/', 1)[-1]}:{origin.line}" if origin.line else origin.file.rsplit("/", 1)[-1]


def _jsonable(value: Any) -> Any:
    if value is n.MISSING:
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


# ---------------------------------------------------------------- text


def render(explanation: Explanation) -> str:
    """The human-readable explanation."""
    lines = []
    head = f"message {explanation.index}" if explanation.index is not None else "message"
    kind = f" ({explanation.dispatch})" if explanation.dispatch is not None else ""
    lines.append(f"{head}{kind} on platform {explanation.platform}")
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
        _render_fields(lines, output.fields, "       ")
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


def _render_fields(lines: list[str], fields: list[FieldTrace], indent: str) -> None:
    for trace in fields:
        if trace.present:
            shown = json.dumps(trace.value, ensure_ascii=False)
            if len(shown) > 70:
                shown = shown[:67] + "..."
            lines.append(f"{indent}{trace.name} = {shown}")
            lines.append(f"{indent}    <- {trace.how}")
        else:
            lines.append(f"{indent}{trace.name}: left out <- {trace.how}")
        if trace.fields:
            _render_fields(lines, trace.fields, indent + "    ")
