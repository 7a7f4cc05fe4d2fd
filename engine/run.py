"""Running a compiled rule set over one message.

``translate`` takes the fast path first: the input schema's yes/no, then the generated plan,
whose outputs are checked already. Any message it does not take to the end goes through
``walk``, the reference: the input checked against its schema, the rules that apply walked in
order (each construct's ``evaluate``), each output checked as it is made. A message either gives
all its outputs or is rejected with one located reason (the first refused output, or the first
rule that rejects or fails, whichever comes first); nothing is half-emitted.

``walk`` takes an optional tracer, told what happens at each step: ``explain`` is this same walk
with a tracer that records why (``explain.Tracer``).
"""

from __future__ import annotations

from typing import Any

from .errors import Rejected
from .nodes import MISSING, Emit, Rule, RuleSet, Scope, Target, explain_condition
from .validation import first_error


def translate(ruleset: RuleSet, message: Any, index: int | None = None) -> list[dict]:
    """The ordered outputs ``[{"target": ..., "body": ...}]`` of one message; raises ``Rejected``."""
    plan = ruleset.plan
    if plan is not None and type(message) is dict:
        try:
            if ruleset.input_check(message):
                built = plan(message)  # its outputs checked, or False
                if built is not False:
                    return [{"target": target.name, "body": body} for _rule, target, body in built]
        except Exception:  # noqa: BLE001 - the walk gives the located reason
            pass
    return walk(ruleset, message, index)


def walk(ruleset: RuleSet, message: Any, index: int | None = None, tracer: Any = None) -> list[dict]:
    """The reference translation of one message: its outputs, or ``Rejected`` with the located
    reason. ``tracer`` (optional) is told the dispatch value, each rule's fate, each output and
    each emit not made."""
    check_input(ruleset, message, index)
    scope = Scope(message)
    try:
        key = ruleset.dispatch.evaluate(scope) if ruleset.dispatch is not None else None
    except Exception as exc:  # a message must never stop the run
        origin = ruleset.dispatch.origin
        raise Rejected(f"the dispatch selector ({origin.file}) could not be applied: {_reason(exc)}", "$",
                       index) from None
    if tracer is not None:
        tracer.dispatch(key)
    built: list[tuple[Rule, Target, dict]] = []
    # every rule is looked at when explaining; else only those that can apply (settings rule some out)
    rules = ruleset.rules if tracer is not None else ruleset.rules_for(key)
    stopped = None
    for rule in rules:
        if stopped is not None:
            tracer.rule(rule, "not tried", f"rule {stopped} fired and stops the message")
            continue
        if rule.on is not None and key not in rule.on:
            if tracer is not None:
                tracer.rule(rule, "not for this message", f"on: {', '.join(rule.on)} (this is {key!r})")
            continue
        try:
            if _apply(rule, scope, built, index, tracer, ruleset.max_outputs) is False:
                continue
        except Rejected:
            raise
        except _FieldFailed as failed:
            origin = failed.origin
            raise Rejected(f"rule {rule.name}: field {origin.field} ({origin.file}:{origin.line}) could not be "
                           f"computed: {_reason(failed.cause)}", "$", index, rule.name) from None
        except Exception as exc:  # a message must never stop the run: any failure is its rejection
            raise Rejected(f"rule {rule.name} ({rule.origin.file}:{rule.origin.line}) could not be applied: "
                           f"{_reason(exc)}", "$", index, rule.name) from None
        scope.fired.add(rule.name)
        if rule.stop:
            if tracer is None:
                break
            stopped = rule.name
    return [{"target": target.name, "body": body} for _rule, target, body in built]


def _apply(rule: Rule, scope: Scope, built: list, index: int | None, tracer: Any, most: int | None) -> bool:
    """One rule that applies to the message's dispatch value: False when its condition does not
    hold; else its rejection (raised), or its vars and outputs (at most ``most`` in all)."""
    if tracer is None:
        if rule.condition is not True and not rule.condition.test(scope):
            return False
    else:
        holds, why = explain_condition(rule.condition, scope)
        if not holds:
            tracer.rule(rule, "did not fire", why)
            return False
        tracer.rule(rule, "refused the message" if rule.reject is not None else "fired", why)
    if rule.reject is not None:
        template, path = rule.reject
        reason = template.evaluate(scope)
        raise Rejected(reason if reason is not MISSING else f"refused by rule {rule.name}", path, index, rule.name)
    scope.vars = {}
    scope.var_how = {}
    for key, node in rule.vars:  # each computed once; later vars can read earlier ones
        value = _value(node, scope, tracer)
        if tracer is not None:
            value, scope.var_how[key] = value
        if value is not MISSING:
            scope.vars[key] = value

    def make(emit: Emit, scope: Scope) -> None:
        if most is not None and len(built) >= most:
            raise Rejected(f"the message would make more than {most} outputs (rule {rule.name} makes output "
                           f"{most + 1}), more than one message may give", "$", index, rule.name)
        body = {}
        if tracer is None:
            for key, node in emit.fields:
                value = _value(node, scope, None)
                if value is not MISSING:
                    body[key] = value
        else:
            fields = [(key, node, _value(node, scope, tracer)) for key, node in emit.fields]
            body = {key: value for key, _, (value, _how) in fields if value is not MISSING}
            tracer.output(rule, emit, scope, len(built) + 1, fields)
        # checked when made: the first output refused is the message's rejection, and nothing after
        # it is made (a message's outputs are never all held before one is refused)
        _check_output(rule, emit.target, body, len(built) + 1, index)
        built.append((rule, emit.target, body))

    for emit in rule.emits:
        emit.run(scope, make, tracer)
    scope.vars = {}
    return True


def _value(node: Any, scope: Scope, tracer: Any) -> Any:
    """A node's value (with how it was found, when explaining); a failure names the field."""
    try:
        return node.evaluate(scope) if tracer is None else node.explain(scope)
    except Exception as exc:
        raise _FieldFailed(node.origin, exc) from None


def check_input(ruleset: RuleSet, message: Any, index: int | None = None) -> None:
    """The message against the input schema; raises ``Rejected``."""
    if not isinstance(message, dict):
        raise Rejected(f"a message must be a JSON object, not {type(message).__name__}", "$", index)
    try:
        problem = first_error(ruleset.input_validator, message)
    except RecursionError:
        problem = ("the message is nested too deeply to check", "$")
    if problem is not None:
        raise Rejected(problem[0], problem[1], index)


def _check_output(rule: Rule, target: Target, body: dict, number: int, index: int | None) -> None:
    """One output against its target's schema and checks; raises ``Rejected`` saying where."""
    problem = target.problem(body)
    if problem is not None:
        reason, path = problem
        raise Rejected(f"output {number} ({target.name}, from rule {rule.name}) would be invalid: {reason}",
                       path, index, rule.name, output=target.name)


class _FieldFailed(Exception):
    def __init__(self, origin: Any, cause: Exception) -> None:
        super().__init__(str(cause))
        self.origin = origin
        self.cause = cause


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:300]
