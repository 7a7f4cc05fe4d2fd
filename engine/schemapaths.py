"""Walking a JSON Schema the way a message's fields are read: the schemas a value may have to
satisfy (its ``$ref``, ``allOf``, ``anyOf``, ``oneOf``, ``then`` and ``else`` taken in), and the
fields declared at the top of a schema. The compiler uses it to check the names a template reads;
lint, to check selector paths."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from referencing.jsonschema import DRAFT202012

from .validation import SchemaStore


def in_place(schema: Any, resolver: Any) -> Any:
    """The resolver of a subschema met in place inside the schema ``resolver`` resolves in: its own
    ``$id``, if any, is the new base URI for the references inside it."""
    if isinstance(schema, dict) and "$id" in schema:
        return resolver.in_subresource(DRAFT202012.create_resource(schema))
    return resolver


ANNOTATIONS = {"title", "description", "$comment", "examples", "default", "deprecated"}


@dataclass(frozen=True)
class Facts:
    """What is known of the messages a rule reads: the field that picks its rules (``dispatch``,
    a path) holds one of ``values`` (the rule's ``on``). An ``if`` that tests only that field is
    decided by it, so a rule is checked against the schemas of its own message types."""

    dispatch: tuple[str, ...]
    values: tuple[str, ...]
    known: tuple[str, ...] = ()  # every dispatch value of the rule set

    def instance(self, value: str) -> Any:
        instance: Any = value
        for key in reversed(self.dispatch):
            instance = {key: instance}
        return instance


def _only_about(schema: Any, keys: tuple[str, ...]) -> bool:
    """Whether the subschema tests nothing but the field at ``keys`` (then a message holding only
    that field answers it as any message with that value would)."""
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, dict) or not keys:
        return isinstance(schema, dict)
    for word, value in schema.items():
        if word in ANNOTATIONS or word.startswith("x-") or word == "type":
            continue
        if word == "required":
            if not set(value) <= {keys[0]}:
                return False
        elif word == "properties":
            if not isinstance(value, dict) or not set(value) <= {keys[0]}:
                return False
            if keys[0] in value and len(keys) > 1 and not _only_about(value[keys[0]], keys[1:]):
                return False
        else:
            return False
    return True


def _branches(condition: Any, facts: Facts | None) -> tuple[bool, bool]:
    """Whether ``then`` and ``else`` of this ``if`` can apply to the messages ``facts`` describes
    (both, when the ``if`` tests more than the dispatch field, or nothing is known)."""
    if facts is None or not _only_about(condition, facts.dispatch):
        return True, True
    try:
        from jsonschema import Draft202012Validator

        answers = {bool(Draft202012Validator(condition).is_valid(facts.instance(v))) for v in facts.values}
    except Exception:  # a test the message alone cannot answer (a reference): both may apply
        return True, True
    return True in answers, False in answers


def expand(schema: Any, resolver: Any, seen: set, facts: Facts | None = None) -> list[tuple[dict, Any]]:
    """A schema with its $ref, allOf, anyOf, oneOf, then and else taken in: the schemas an
    instance may have to satisfy, each with the resolver of its base URI. ``resolver`` is already
    the schema's own (``_in_place`` for a subschema, the lookup's for a reference's target).
    ``facts``: the branches of an ``if`` on the dispatch field that cannot apply are left out."""
    if not isinstance(schema, dict) or id(schema) in seen:
        return []
    seen = seen | {id(schema)}
    out = [(schema, resolver)]
    if "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])  # its resolver has the target's base URI already
        out += expand(resolved.contents, resolved.resolver, seen, facts)
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key) or []:
            out += expand(part, in_place(part, resolver), seen, facts)
    then, otherwise = _branches(schema.get("if", True), facts)
    for key, applies in (("then", then), ("else", otherwise)):
        if key in schema and applies:
            out += expand(schema[key], in_place(schema[key], resolver), seen, facts)
    return out


def declared_top_level(root: dict, schemas: SchemaStore, facts: Facts | None = None) -> set[str]:
    resolver = in_place(root, schemas.registry.resolver(base_uri=root.get("$id", "")))
    names: set[str] = set()
    for schema, _resolver in expand(root, resolver, set(), facts):
        names.update((schema.get("properties") or {}).keys())
        names.update(str(v) for v in (schema.get("required") or []))
    return names
