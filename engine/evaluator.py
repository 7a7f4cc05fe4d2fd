"""Running a compiled rule set over one message: validate the input, walk the rules that apply
in order, build each output, validate every output. A message either gives all its outputs or
is rejected with one located reason; nothing is half-emitted."""

from __future__ import annotations

from typing import Any

from .compiler import Emit, Rule, RuleSet, Target
from .errors import Rejected
from .nodes import MISSING, Scope, truthy
from .validation import first_error


def translate(ruleset: RuleSet, message: Any, index: int | None = None) -> list[dict]:
    """The ordered outputs ``[{"target": ..., "body": ...}]`` of one message; raises ``Rejected``.

    A valid message that translates is taken straight through the fast checks and the generated
    plan; any other goes through the three stages below, which say where and why."""
    plan = ruleset.plan
    refused = False
    if plan is not None and type(message) is dict:
        try:
            if ruleset.input_check(message):
                built = plan(message)  # its outputs checked, or False
                if built is not False:
                    return [{"target": target.name, "body": body} for _rule, target, body in built]
                refused = True  # an output its checks refuse: the nodes build them, the checks say where
        except Exception:  # noqa: BLE001 - the stages below give the located reason
            pass
    check_input(ruleset, message, index)
    built = walk_rules(ruleset, message, index) if refused else run_rules(ruleset, message, index)
    return check_outputs(ruleset, built, index)


def check_input(ruleset: RuleSet, message: Any, index: int | None = None) -> None:
    """Stage 1: the message against the input schema; raises ``Rejected``."""
    if not isinstance(message, dict):
        raise Rejected(f"a message must be a JSON object, not {type(message).__name__}", "$", index)
    try:
        problem = first_error(ruleset.input_validator, message)
    except RecursionError:
        problem = ("the message is nested too deeply to check", "$")
    if problem is not None:
        raise Rejected(problem[0], problem[1], index)


def run_rules(ruleset: RuleSet, message: dict, index: int | None = None) -> list[tuple[Rule, Target, dict]]:
    """Stage 2: the rules that apply, in order; the outputs they build (not yet validated).

    The rule set's generated plan builds them when it can; a message it cannot take to the end
    (an error, a rule that rejects) is walked through the nodes, which say where and why."""
    if ruleset.plan is not None:
        try:
            built = ruleset.plan(message)
            if built is not False:  # False: an output the checks refuse, located by the stages below
                return built
        except Exception:  # noqa: BLE001 - the nodes below give the located reason
            pass
    return walk_rules(ruleset, message, index)


def walk_rules(ruleset: RuleSet, message: dict, index: int | None = None) -> list[tuple[Rule, Target, dict]]:
    """Stage 2 by walking the compiled nodes: the reference the generated plan must agree with."""
    scope = Scope(message)
    try:
        key = ruleset.dispatch.evaluate(scope) if ruleset.dispatch is not None else None
    except Exception as exc:  # a message must never stop the run
        origin = ruleset.dispatch.origin
        raise Rejected(f"the dispatch selector ({origin.file}) could not be applied: {_reason(exc)}", "$",
                       index) from None
    built: list[tuple[Rule, Target, dict]] = []
    for rule in ruleset.rules_for(key):
        try:
            if rule.condition is not True and not rule.condition.test(scope):
                continue
            if rule.reject is not None:
                template, path = rule.reject
                reason = template.evaluate(scope)
                raise Rejected(reason if reason is not MISSING else f"refused by rule {rule.name}", path, index,
                               rule.name)
            if rule.vars:
                scope.vars = _vars(rule, scope)
            for emit in rule.emits:
                if emit.condition is True or (emit.condition is not False and emit.condition.test(scope)):
                    _run_emit(emit, rule, scope, built)
            scope.vars = {}
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
            break
    return built


def check_outputs(ruleset: RuleSet, built: list, index: int | None = None) -> list[dict]:
    """Stage 3: every output against its target's schema and checks; the outputs, or ``Rejected``."""
    outputs = []
    for number, (rule, target, body) in enumerate(built, 1):
        _check_output(ruleset, rule, target, body, number, index)
        outputs.append({"target": target.name, "body": body})
    return outputs


def _run_emit(emit: Emit, rule: Rule, scope: Scope, built: list) -> None:
    if emit.foreach is None:
        _make(emit, rule, scope, built)
        return
    items = emit.foreach.evaluate(scope)
    if items is MISSING:
        return
    if not isinstance(items, list):
        items = [items]
    saved = scope.item, scope.index
    try:
        for position, item in enumerate(items):
            scope.item = item
            scope.index = position
            _make(emit, rule, scope, built)
    finally:
        scope.item, scope.index = saved


def _make(emit: Emit, rule: Rule, scope: Scope, built: list) -> None:
    """The output of an emit, or the outputs of its group, for the current scope."""
    if emit.target is not None:
        built.append((rule, emit.target, _body(emit, scope)))
        scope.seq += 1
        return
    for child in emit.children:
        if child.condition is True or (child.condition is not False and child.condition.test(scope)):
            _run_emit(child, rule, scope, built)


class _FieldFailed(Exception):
    def __init__(self, origin, cause: Exception) -> None:
        super().__init__(str(cause))
        self.origin = origin
        self.cause = cause


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:300]


def _vars(rule: Rule, scope: Scope) -> dict:
    """The rule's vars, each computed once; later vars can read earlier ones."""
    scope.vars = {}
    return _fill(scope.vars, rule.vars, scope)


def _body(emit: Emit, scope: Scope) -> dict:
    return _fill({}, emit.fields, scope)


def _fill(into: dict, fields: list, scope: Scope) -> dict:
    """Evaluate (name, node) pairs into ``into``, leaving missing values out."""
    for key, node in fields:
        try:
            value = node.evaluate(scope)
        except Exception as exc:
            raise _FieldFailed(node.origin, exc) from None
        if value is not MISSING:
            into[key] = value
    return into


def _check_output(ruleset: RuleSet, rule: Rule, target: Target, body: dict, number: int,
                  index: int | None) -> None:
    try:
        problem = first_error(target.validator, body)
    except RecursionError:
        problem = ("the output is nested too deeply to check", "$")
    if problem is None:
        for check in target.checks:
            try:
                if truthy(check.assertion(body)):
                    continue
                reason = check.error.render({"body": body})
            except Exception as exc:  # a message must never stop the run
                reason = f"the check {check.text!r} ({check.origin.file}:{check.origin.line}) failed: {_reason(exc)}"
            problem = (" ".join(reason.split()), check.path)
            break
    if problem is not None:
        reason, path = problem
        raise Rejected(f"output {number} ({target.name}, from rule {rule.name}) would be invalid: {reason}",
                       path, index, rule.name, output=target.name)

