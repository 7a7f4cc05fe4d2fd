"""A rule file's schema error in plain words: what the place allows (the keys a mapping may have
there, the kinds of value it may be), a did-you-mean for a misspelt key, values written as JSON
(``true``, ``null``, not Python's ``True``, ``None``), and the place of the offending key itself
(its JSON path in the file, to find its line), not of the mapping that holds it.

A choice of forms (``oneOf`` / ``anyOf``, such as a condition: ``{setting}``, ``{select}``,
``{fired}``, ``{all}``, ``{any}``, ``{not}`` or a list) is told apart by each form's leading keys
(its ``required`` ones): a mapping that has a form's leading key is judged as that form (the
fault is inside it); one that has none is told the keys it may lead with."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .errors import did_you_mean

if TYPE_CHECKING:  # imported where a fault is explained, not by every run
    from jsonschema.exceptions import ValidationError

# JSON Schema types as a rule file (YAML) names them, and as JSON does (settings)
_KINDS = {"string": "text", "array": "a list", "object": "a mapping", "boolean": "true or false",
          "integer": "a whole number", "number": "a number", "null": "null"}
JSON_KINDS = {"string": "a string", "array": "an array", "object": "an object", "boolean": "true or false",
              "integer": "an integer", "number": "a number", "null": "null"}


def explain(error: ValidationError, root: dict) -> tuple[str, list]:
    """The reason for ``error`` (jsonschema's best error for a rule file checked against the schema
    ``root``) and the path (keys and indexes) of what it is about."""
    from jsonschema.exceptions import best_match

    while True:
        instance, path = error.instance, list(error.absolute_path)
        if error.validator in ("oneOf", "anyOf"):
            forms = [_resolve(form, root) for form in error.validator_value]
            if isinstance(instance, dict):
                chosen = [number for number, form in enumerate(forms) if _leading(form, root) & set(instance)]
                inside = [e for e in error.context if e.relative_schema_path and e.relative_schema_path[0] in chosen]
                if inside:
                    error = best_match(inside)
                    continue
                if not chosen:
                    return _no_leading_key(error, forms, root, path)
            return f"must be {_either(forms, root)}, not {as_json(instance)}", path
        if error.validator == "additionalProperties" and isinstance(instance, dict):
            allowed = list((error.schema.get("properties") or {}) if isinstance(error.schema, dict) else {})
            extra = [key for key in instance if key not in allowed]
            if extra:
                return (f"unexpected key {extra[0]!r}{did_you_mean(extra[0], allowed)}; the keys allowed here: "
                        f"{', '.join(allowed)}"), [*path, extra[0]]
        if error.validator == "type":
            return f"must be {kind_of_type(error.validator_value)}, not {as_json(instance)}", path
        if error.validator == "enum":
            choices = ", ".join(as_json(value) for value in error.validator_value)
            return f"must be one of {choices}, not {as_json(instance)}", path
        if error.validator == "pattern":
            return f"{as_json(instance)} does not match the pattern {as_json(error.validator_value)}", path
        if error.validator == "required" and isinstance(instance, dict):
            missing = [key for key in error.validator_value if key not in instance]
            if missing:
                return f"the key {missing[0]!r} is required here", path
        custom = _custom(error)
        if custom:
            return custom, path
        words = requirement(str(error.validator), error.validator_value, instance)
        return (f"{words}, not {as_json(instance)}" if words else error.message), path


def _no_leading_key(error: ValidationError, forms: list, root: dict, path: list) -> tuple[str, list]:
    """A mapping that leads with none of the keys of the forms it may take."""
    keys: list[str] = []
    for form in forms:
        keys += [key for key in _leading_in_order(form, root) if key not in keys]
    lists = any(_types(form, root) & {"array"} for form in forms)
    noun = _name(error.schema, root)
    instance = error.instance
    strangers = [key for key in instance if not any(key in _properties(form, root) for form in forms)]
    message = (f"{noun} needs one of the keys {', '.join(keys)}" + (" (or is a list)" if lists else ""))
    if strangers:
        return f"{message}; {strangers[0]!r} is none of them{did_you_mean(strangers[0], keys)}", [*path, strangers[0]]
    given = ", ".join(repr(key) for key in instance) or "none"
    return f"{message}; it has {given}", path


def _resolve(schema: Any, root: dict) -> Any:
    """``schema`` with a local ``$ref`` (``#/$defs/x``) followed."""
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/"):
        node: Any = root
        for part in schema["$ref"][2:].split("/"):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None or seen > 20:
            break
        schema, seen = node, seen + 1
    return schema


def _leading_in_order(form: Any, root: dict) -> list[str]:
    """The keys a mapping of this form leads with: its ``required`` ones, or those of the forms it
    chooses from (``oneOf: [{required: [select]}, ...]``)."""
    form = _resolve(form, root)
    if not isinstance(form, dict) or "object" not in _types(form, root):
        return []
    if form.get("required"):
        return list(form["required"])
    keys: list[str] = []
    for part in (form.get("oneOf") or []) + (form.get("anyOf") or []):
        keys += [key for key in _leading_in_order({"type": "object", **_resolve(part, root)}, root) if key not in keys]
    return keys


def _leading(form: Any, root: dict) -> set[str]:
    return set(_leading_in_order(form, root))


def _properties(form: Any, root: dict) -> dict:
    form = _resolve(form, root)
    return (form.get("properties") or {}) if isinstance(form, dict) else {}


def _types(form: Any, root: dict) -> set[str]:
    form = _resolve(form, root)
    if not isinstance(form, dict):
        return set()
    declared = form.get("type")
    if declared is None:
        if "properties" in form or "required" in form:
            return {"object"}
        found: set[str] = set()
        for part in (form.get("oneOf") or []) + (form.get("anyOf") or []):
            found |= _types(part, root)
        return found
    return set(declared) if isinstance(declared, list) else {declared}


def _either(forms: list, root: dict) -> str:
    """What a value of one of ``forms`` may be, in words: ``text or a list``."""
    kinds: list[str] = []
    for form in forms:
        form = _resolve(form, root)
        if isinstance(form, dict) and "const" in form:
            words = [as_json(form["const"])]
        elif isinstance(form, dict) and "enum" in form:
            words = [as_json(value) for value in form["enum"]]
        else:
            words = [_KINDS.get(kind, kind) for kind in sorted(_types(form, root))]
        kinds += [word for word in words if word not in kinds]
    return " or ".join(kinds) if kinds else "something else"


def kind_of_type(declared: Any, kinds: dict[str, str] = _KINDS) -> str:
    """A JSON Schema ``type`` in words: ``text or null``."""
    names = declared if isinstance(declared, list) else [declared]
    return " or ".join(kinds.get(str(name), str(name)) for name in names)


def _name(schema: Any, root: dict) -> str:
    """``a condition``: the name of the ``$defs`` entry ``schema`` is, else ``this mapping``."""
    for name, definition in (root.get("$defs") or {}).items():
        if definition is schema:
            return ("an " if name[:1] in "aeiou" else "a ") + name
    return "this mapping"


def _custom(error: ValidationError) -> str | None:
    """The schema's own words for the fault (``x-error``), from the schema or one around it."""
    current: Any = error
    while current is not None:
        if isinstance(current.schema, dict) and current.schema.get("x-error"):
            return current.schema["x-error"]
        current = current.parent
    return None


def as_json(value: Any) -> str:
    """A value as JSON (``true``, ``null``), at most 80 characters."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:80] + "…"


def requirement(keyword: str, expected: Any, instance: Any) -> str | None:
    """What a JSON value must be, in JSON words, where the schema keyword ``keyword`` with value
    ``expected`` refuses ``instance``: ``must be text``, ``must be one of "a", "b"``; None for a
    keyword not known here."""
    bounds = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than",
              "exclusiveMaximum": "less than"}
    if keyword == "type":
        return f"must be {kind_of_type(expected, JSON_KINDS)}"
    if keyword == "enum" and isinstance(expected, list):
        return f"must be one of {', '.join(as_json(value) for value in expected)}"
    if keyword == "const":
        return f"must be {as_json(expected)}"
    if keyword in bounds:
        return f"must be {bounds[keyword]} {as_json(expected)}"
    if keyword in ("minLength", "maxLength"):
        return f"must be {'at least' if keyword == 'minLength' else 'at most'} {expected} characters long"
    if keyword in ("minItems", "maxItems"):
        return f"must have {'at least' if keyword == 'minItems' else 'at most'} {expected} items"
    if keyword == "pattern":
        return f"must match the pattern {as_json(expected)}"
    if keyword == "uniqueItems":
        return "must not hold the same item twice"
    if keyword == "required" and isinstance(expected, list) and isinstance(instance, dict):
        missing = [key for key in expected if key not in instance]
        return f"needs the key {as_json(missing[0])}" if missing else None
    if keyword == "additionalProperties" and expected is False and isinstance(instance, dict):
        return "must not have other keys"
    return None
