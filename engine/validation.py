"""JSON Schema validation: a store of the schemas in a folder, validators compiled once, and
errors reduced to one located reason (a message and a JSON path).

A schema may carry ``"x-error": "..."``: when the best error comes from that schema, its text is
the reason given (for checks like "needs user_id or device_id", whose raw message would be
unreadable). A property's ``"x-missing"`` (else its ``x-error``) is the reason when it is required
and absent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .fastcheck import FastCheck

_MAX_REPR = 120


class SchemaStore:
    """Every ``*.json`` schema below ``root``, addressable by its path relative to ``root``
    (``segment/track.schema.json``). Relative ``$ref`` between them resolve as paths do."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._contents: dict[str, dict] = {}
        resources = []
        for path in sorted(self.root.rglob("*.json")):
            name = path.relative_to(self.root).as_posix()
            try:
                contents = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ValueError(f"{path}: not a readable JSON schema: {exc}") from None
            if isinstance(contents, dict):
                contents.setdefault("$id", name)
                self._contents[name] = contents
                resources.append((contents["$id"], Resource.from_contents(contents, DRAFT202012)))
        self.registry = Registry().with_resources(resources)
        self._validators: dict[str, Any] = {}
        self._fast = FastCheck(self._subschema_validator)

    def __contains__(self, name: str) -> bool:
        return name in self._contents

    def schema(self, name: str) -> dict:
        return self._contents[name]

    def validator(self, name: str):
        """The compiled validator of one schema, built once: ``is_valid`` answers fast from
        closures, ``iter_errors`` (jsonschema) explains a refusal."""
        found = self._validators.get(name)
        if found is None:
            schema = self._contents[name]
            cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
            cls.check_schema(schema)
            slow = cls(schema, registry=self.registry, format_checker=cls.FORMAT_CHECKER)
            resolver = self.registry.resolver(base_uri=schema.get("$id", ""))
            found = _Validator(slow, self._fast.compile(schema, resolver))
            self._validators[name] = found
        return found

    def _subschema_validator(self, schema: dict, resolver: Any):
        cls = jsonschema.Draft202012Validator
        return cls(schema, registry=self.registry, format_checker=cls.FORMAT_CHECKER,
                   _resolver=resolver)


class _Validator:
    """A schema's two checkers: the fast yes/no one and jsonschema's, which says where and why."""

    __slots__ = ("slow", "is_valid")

    def __init__(self, slow: Any, fast: Any) -> None:
        self.slow = slow
        self.is_valid = fast

    def iter_errors(self, instance: Any):
        return self.slow.iter_errors(instance)


def first_error(validator, instance: Any) -> tuple[str, str] | None:
    """None when ``instance`` is valid; otherwise the most relevant error as (reason, JSON path)."""
    if validator.is_valid(instance):
        return None
    error = best_match(validator.iter_errors(instance))
    if error is None:
        return None
    return describe(error)


def describe(error: ValidationError) -> tuple[str, str]:
    """A short reason and the JSON path of what it is about."""
    path = error.json_path
    custom = _custom_message(error)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            path = _join(path, missing[0])
            declared = error.schema.get("properties", {}).get(missing[0]) if isinstance(error.schema, dict) else None
            own = (declared.get("x-missing") or declared.get("x-error")) if isinstance(declared, dict) else None
            return own or custom or f"{missing[0]!r} is required", path
    if custom:
        return custom, path
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {})
        extra = [k for k in error.instance if k not in allowed]
        if extra:
            return f"unexpected field {extra[0]!r}", _join(path, extra[0])
    return _shorten(error.message), path


def _custom_message(error: ValidationError) -> str | None:
    schema = error.schema if isinstance(error.schema, dict) else {}
    text = schema.get("x-error")
    if text:
        return text
    parent = error.parent
    while parent is not None:
        if isinstance(parent.schema, dict) and parent.schema.get("x-error"):
            return parent.schema["x-error"]
        parent = parent.parent
    return None


def _join(path: str, key: str) -> str:
    if key.isidentifier():
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key)}]"


def _shorten(message: str) -> str:
    if len(message) <= 2 * _MAX_REPR:
        return message
    return message[:_MAX_REPR] + " … " + message[-_MAX_REPR:]
