"""Walking a JSON Schema the way a message's fields are read: the schemas a value may have to
satisfy (its ``$ref``, ``allOf``, ``anyOf``, ``oneOf``, ``then`` and ``else`` taken in), and the
fields declared at the top of a schema. The compiler uses it to check the names a template reads;
lint, to check selector paths."""

from __future__ import annotations

from typing import Any

from referencing.jsonschema import DRAFT202012

from .validation import SchemaStore


def in_place(schema: Any, resolver: Any) -> Any:
    """The resolver of a subschema met in place inside the schema ``resolver`` resolves in: its own
    ``$id``, if any, is the new base URI for the references inside it."""
    if isinstance(schema, dict) and "$id" in schema:
        return resolver.in_subresource(DRAFT202012.create_resource(schema))
    return resolver


def expand(schema: Any, resolver: Any, seen: set) -> list[tuple[dict, Any]]:
    """A schema with its $ref, allOf, anyOf, oneOf, then and else taken in: the schemas an
    instance may have to satisfy, each with the resolver of its base URI. ``resolver`` is already
    the schema's own (``in_place`` for a subschema, the lookup's for a reference's target)."""
    if not isinstance(schema, dict) or id(schema) in seen:
        return []
    seen = seen | {id(schema)}
    out = [(schema, resolver)]
    if "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])  # its resolver has the target's base URI already
        out += expand(resolved.contents, resolved.resolver, seen)
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key) or []:
            out += expand(part, in_place(part, resolver), seen)
    for key in ("then", "else"):
        if key in schema:
            out += expand(schema[key], in_place(schema[key], resolver), seen)
    return out


def declared_top_level(root: dict, schemas: SchemaStore) -> set[str]:
    """The fields a message of schema ``root`` may have at its top: every property and required
    name of the schemas it may have to satisfy."""
    resolver = in_place(root, schemas.registry.resolver(base_uri=root.get("$id", "")))
    names: set[str] = set()
    for schema, _resolver in expand(root, resolver, set()):
        names.update((schema.get("properties") or {}).keys())
        names.update(str(v) for v in (schema.get("required") or []))
    return names
