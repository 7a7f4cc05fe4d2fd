"""Running a compiled rule set over one message.

``translate`` takes the fast path first: the input schema's yes/no, then the generated plan,
whose outputs are checked already. Any message it does not take to the end goes through
``walk``, the reference: the input checked against its schema, the rules that apply walked in
order (each construct's ``evaluate``), each output checked as it is made. A message either gives
all its outputs or is rejected with one located reason (the first refused output, or the first
rule that rejects or fails, whichever comes first); nothing is half-emitted.

A message the input schema refuses only for fields the rule set declares optional
(``input.optional``) is translated without them (``admit``), by both ways alike, and each field
left out is a warning (``errors.FieldDropped``) handed to the caller with the outputs.

``walk`` takes an optional tracer, told what happens at each step: ``explain`` is this same walk
with a tracer that records why (``explain.Tracer``).
"""

from __future__ import annotations

from typing import Any

from .errors import FieldDropped, Rejected
from .nodes import MISSING, Emit, Rule, RuleSet, Scope, Target, explain_condition
from .planruntime import planned
from .validation import first_error


def translate(ruleset: RuleSet, message: Any, index: int | None = None,
              warnings: list[FieldDropped] | None = None) -> list[dict]:
    """The ordered outputs ``[{"target": ..., "body": ...}]`` of one message; raises ``Rejected``.
    The optional fields it was translated without (``admit``) are added to ``warnings`` when
    given, once the message is translated."""
    plan = ruleset.plan
    if plan is not None and type(message) is dict:
        outputs = planned(plan, ruleset.input_check, message)
        if outputs is not None:
            return outputs
        if ruleset.optional:  # the plan takes a message without its faulty optional fields too
            try:
                found = None if ruleset.input_check(message) else _drop_optional(ruleset, message, index)
                if found is not None:
                    built = plan(found[0])
                    if built is not False:
                        if warnings is not None:
                            warnings.extend(found[1])
                        return [{"target": target, "body": body} for _rule, target, body in built]
            except Exception:  # noqa: BLE001 - the walk gives the located reason
                pass
    return walk(ruleset, message, index, warnings=warnings)


def walk(ruleset: RuleSet, message: Any, index: int | None = None, tracer: Any = None,
         warnings: list[FieldDropped] | None = None) -> list[dict]:
    """The reference translation of one message: its outputs, or ``Rejected`` with the located
    reason. ``tracer`` (optional) is told the optional fields dropped, the dispatch value, each
    rule's fate, each output and each emit not made; ``warnings`` (optional) gets the optional
    fields dropped when the message is translated."""
    message, dropped, fields = _admit(ruleset, message, index)
    if tracer is not None and dropped:
        tracer.dropped(dropped, fields)
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
    if warnings is not None:
        warnings.extend(dropped)
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


def admit(ruleset: RuleSet, message: Any, index: int | None = None) -> tuple[dict, list[FieldDropped]]:
    """The message as the rules see it, and the warnings of the fields left out of it: the message
    itself when the input schema accepts it; else, when leaving out fields the rule set declares
    optional (``input.optional``) makes it fit, a copy without those of them the schema refuses
    (one ``FieldDropped`` each, with the schema's reason); else ``Rejected``, with the located
    reason the schema gives for the message as it came. The message is never changed."""
    message, dropped, _fields = _admit(ruleset, message, index)
    return message, dropped


def _admit(ruleset: RuleSet, message: Any, index: int | None) -> tuple[dict, list[FieldDropped], list]:
    if not isinstance(message, dict):
        raise Rejected(f"a message must be a JSON object, not {type(message).__name__}", "$", index)
    try:
        if ruleset.input_validator.is_valid(message):
            return message, [], []
        if ruleset.optional:
            found = _drop_optional(ruleset, message, index)
            if found is not None:
                return found
        problem = first_error(ruleset.input_validator, message)
        if problem is not None and ruleset.optional:
            problem = _elsewhere(ruleset, message, problem)
    except RecursionError:
        problem = ("the message is nested too deeply to check", "$")
    if problem is not None:
        raise Rejected(problem[0], problem[1], index)
    return message, [], []


def _elsewhere(ruleset: RuleSet, message: dict, problem: tuple[str, str]) -> tuple[str, str]:
    """The reason a message is refused: where the schema's first reason is about an optional field,
    the reason for what else is wrong (the message's fault that leaving the optional fields out
    does not mend), unless it only comes from leaving them out (a required field declared
    optional)."""
    present = [field for field in ruleset.optional if _holds(message, field.keys)]
    if not any(_inside(problem[1], field.path) for field in present):
        return problem
    trial = message
    for field in present:
        trial = _without(trial, field.keys)
    other = first_error(ruleset.input_validator, trial)
    if other is None or any(_inside(other[1], field.path) for field in present):
        return problem
    return other


def _inside(path: str, outer: str) -> bool:
    """Whether the JSON path ``path`` is ``outer`` or inside it."""
    return path == outer or path.startswith((outer + ".", outer + "["))


def _drop_optional(ruleset: RuleSet, message: dict, index: int | None) -> tuple[dict, list, list] | None:
    """When the message fits the input schema without some of its optional fields: the message
    without those the schema refuses, their warnings and their declarations; else None.

    All the optional fields it has are left out first (none: it is refused for something else);
    then each is put back in turn, outer fields first (without the optional fields declared inside
    them, which come after), and kept where the schema still accepts the message."""
    is_valid = ruleset.input_validator.is_valid
    present = [field for field in ruleset.optional if _holds(message, field.keys)]
    if not present:
        return None
    trial = message
    for field in present:
        trial = _without(trial, field.keys)
    if not is_valid(trial):
        return None
    dropped, fields, gone = [], [], []
    for field in present:
        size = len(field.keys)
        if any(field.keys[:len(keys)] == keys for keys in gone):
            continue  # left out with the field it is in
        value = _value_at(message, field.keys)
        for inner in present:
            if len(inner.keys) > size and inner.keys[:size] == field.keys:
                value = _without(value, inner.keys[size:])
        attempt = _with(trial, field.keys, value)
        if is_valid(attempt):
            trial = attempt
            continue
        problem = first_error(ruleset.input_validator, attempt)
        reason = problem[0] if problem is not None else "the input schema refuses it"
        dropped.append(FieldDropped(f"{reason} (an optional field: translated without it)", field.path, index))
        fields.append(field)
        gone.append(field.keys)
    kept = message
    for keys in gone:  # left out of the message as it came: the other fields keep their order
        kept = _without(kept, keys)
    return kept, dropped, fields


def _holds(value: Any, keys: tuple[str, ...]) -> bool:
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return False
        value = value[key]
    return True


def _value_at(value: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = value[key]
    return value


def _without(value: Any, keys: tuple[str, ...]) -> Any:
    """``value`` without the field at ``keys`` (the objects on the way copied, nothing changed);
    ``value`` itself where there is no such field."""
    if not isinstance(value, dict) or keys[0] not in value:
        return value
    copied = dict(value)
    if len(keys) == 1:
        del copied[keys[0]]
        return copied
    inner = _without(value[keys[0]], keys[1:])
    if inner is value[keys[0]]:
        return value
    copied[keys[0]] = inner
    return copied


def _with(value: dict, keys: tuple[str, ...], item: Any) -> dict:
    """``value`` with ``item`` at ``keys`` (the objects on the way, which are there, copied)."""
    copied = dict(value)
    copied[keys[0]] = item if len(keys) == 1 else _with(value[keys[0]], keys[1:], item)
    return copied


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
