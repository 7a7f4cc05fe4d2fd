"""JSON Schema validation: a store of the schemas in a folder, validators built once, and errors
reduced to one located reason (a message and a JSON path).

Two libraries share the work. jsonschema-rs answers yes or no, fast, for every message and output;
only an instance it refuses goes through jsonschema (the Python reference implementation), whose
``best_match`` finds the one error to report. A schema that is not one, or whose references do not
resolve, is found when its validator is built, and named by file and JSON path. jsonschema is
imported only where it has to say why (a refusal, ``explain``, a faulty schema): a run whose
schemas are sound and whose messages all pass never loads it.

A schema may carry ``"x-error": "..."``: when the best error comes from that schema, its text is
the reason given (for checks like "needs user_id or device_id", whose raw message would be
unreadable). A property's ``"x-missing"`` (else its ``x-error``) is the reason when it is required
and absent."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urljoin

import jsonschema_rs

from .errors import RuleError

if TYPE_CHECKING:  # jsonschema is imported where it is used: to say why (refusals, explain, bad schemas)
    from jsonschema.exceptions import ValidationError
    from referencing import Specification

_MAX_REPR = 120


class SchemaStore:
    """Every ``*.json`` schema below ``root``, addressable by its path relative to ``root``
    (``segment/track.schema.json``). Relative ``$ref`` between them resolve as paths do: a schema's
    base URI is its place in the folder (a relative ``$id`` is read from the top of the folder, so
    ``"$id": "segment/track.schema.json"`` names the file it is in). Nothing outside the folder is
    ever fetched.

    A schema that is not one (``"type": "strnig"``, a bad ``pattern``), or whose references do not
    resolve, is a ``RuleError`` naming the file (its path in the folder) and the JSON path in it,
    raised when a validator that uses it is built."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._base = self.root.resolve().as_uri() + "/"
        self._contents: dict[str, dict] = {}
        self._where: dict[int, tuple[str, str]] = {}  # id of every object in a schema -> (file, JSON path)
        resources = []
        for path in sorted(self.root.rglob("*.json")):
            name = path.relative_to(self.root).as_posix()
            contents = _read_schema(path, name)
            if isinstance(contents, dict):
                declared = contents.get("$id", name)
                if not isinstance(declared, str):
                    raise RuleError(f"$id must be a string, not {declared!r}", file=name, path='$["$id"]')
                contents = {**contents, "$id": urljoin(self._base, declared)}
                self._contents[name] = contents
                self._locate(contents, name)
                resources.append((contents["$id"], contents))
                if self._base + name != contents["$id"]:
                    resources.append((self._base + name, contents))  # also found where it is
        self._resources = resources
        self._registry: Any = None  # referencing's registry of the schemas (``registry``), built on first use
        self._fast_registry: Any = None  # jsonschema-rs's registry of the same resources, built on first use
        self._validators: dict[str, Validator] = {}
        self._checked: set[str] = set()
        self._sound: bool | None = None  # every file valid against its metaschema, patterns Python reads

    @property
    def registry(self) -> Any:
        """The schemas as a ``referencing`` registry (what jsonschema's validators and
        ``schemapaths`` resolve references in)."""
        if self._registry is None:
            from referencing import Registry, Resource
            from referencing.jsonschema import DRAFT202012

            self._registry = Registry().with_resources(
                (uri, Resource.from_contents(contents, DRAFT202012)) for uri, contents in self._resources)
        return self._registry

    def resources(self) -> list[tuple[str, dict]]:
        """Every schema of the folder as (its URI, its contents), as references resolve them."""
        return list(self._resources)

    def __contains__(self, name: str) -> bool:
        return name in self._contents

    def schema(self, name: str) -> dict:
        return self._contents[name]

    def validator(self, name: str) -> Validator:
        """The validator of one schema, built once. Raises ``RuleError`` when this schema, or one
        it references, is not a valid schema or has a reference that resolves to nothing."""
        found = self._validators.get(name)
        if found is None:
            schema = self._contents[name]
            # Fast, for sound schemas: jsonschema-rs checks every file against its metaschema, each
            # pattern is one Python reads (jsonschema's own schema check asks that), and building
            # the validator resolves every reference. Else jsonschema's check says where.
            fast = self._fast(schema) if self._all_sound() else None
            if fast is None:
                self._check(name)
                fast = self._fast(schema)
                if fast is None:  # a fault jsonschema-rs's metaschema check leaves out (a pattern): say where
                    self._checked.clear()
                    self._check(name, thorough=True)
            found = Validator(lambda: self._slow(schema), fast)
            self._validators[name] = found
        return found

    def _all_sound(self) -> bool:
        if self._sound is None:
            self._sound = all(meta_valid(schema) and patterns_compile(schema) for schema in self._contents.values())
        return self._sound

    def _slow(self, schema: dict) -> Any:
        """jsonschema's validator of a schema: what says where and why."""
        import jsonschema

        cls = _whole_patterns(jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator))
        return cls(schema, registry=self.registry, format_checker=cls.FORMAT_CHECKER)

    def _fast(self, schema: dict) -> Any:
        """jsonschema-rs's validator of a schema (checked already), or None where it cannot build
        one (a schema of the folder, this one or another, has a reference that resolves to nothing):
        jsonschema then answers alone."""
        try:
            if self._fast_registry is None:
                self._fast_registry = jsonschema_rs.Registry(self._resources, retriever=nothing_outside)
            return jsonschema_rs.validator_for(schema, registry=self._fast_registry, retriever=nothing_outside,
                                               validate_formats=True)
        except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError):
            return None

    def _locate(self, node: Any, name: str, path: str = "$") -> None:
        """Note where every object and list of a schema file is."""
        if isinstance(node, dict):
            self._where[id(node)] = (name, path)
            for key, value in node.items():
                if isinstance(value, (dict, list)):
                    self._locate(value, name, _join(path, key))
        elif isinstance(node, list):
            self._where[id(node)] = (name, path)
            for index, value in enumerate(node):
                if isinstance(value, (dict, list)):
                    self._locate(value, name, f"{path}[{index}]")

    def _check(self, name: str, thorough: bool = False) -> None:
        """The schema ``name`` and every schema file its references reach are valid schemas, and
        all their references resolve; else a RuleError saying where. jsonschema-rs checks against
        the metaschema first, and jsonschema (with formats: ``pattern`` is a ``regex``) where it
        refuses, or when ``thorough``."""
        import jsonschema
        from jsonschema.exceptions import best_match
        from jsonschema_specifications import REGISTRY as metaschemas
        from referencing.exceptions import Unresolvable
        from referencing.jsonschema import DRAFT202012, specification_with

        resolving = metaschemas.combine(self.registry)  # what jsonschema's validators resolve in
        pending, seen = [name], set()
        while pending:
            current = pending.pop()
            if current in seen or current in self._checked:
                continue
            seen.add(current)
            schema = self._contents[current]
            cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
            if thorough or not meta_valid(schema):  # jsonschema says where, as check_schema would
                error = best_match(_meta_validator(cls).iter_errors(schema))
                if error is not None:
                    while error.context:  # anyOf / oneOf: the alternative that came closest says it best
                        error = best_match(error.context)
                    raise RuleError(f"not a valid schema: {_shorten(error.message)}", file=current,
                                    path=json_path(error.absolute_path))
            specification = specification_with(cls.ID_OF(cls.META_SCHEMA) or "", default=DRAFT202012)
            root = resolving.resolver(base_uri=schema["$id"])
            for node, keyword, resolver in _references(schema, root, specification):
                try:
                    resolved = resolver.lookup(node[keyword])
                except Unresolvable as exc:
                    _, path = self._where.get(id(node), (current, "$"))
                    raise RuleError(self._unresolved(node[keyword], exc), file=current,
                                    path=_join(path, keyword)) from None
                target = self._where.get(id(resolved.contents))
                if target is not None:
                    pending.append(target[0])
        self._checked |= seen

    def _unresolved(self, ref: str, exc: Exception) -> str:
        from referencing.exceptions import NoSuchAnchor, PointerToNowhere

        if isinstance(exc, PointerToNowhere):
            return f"$ref {ref!r} cannot be resolved: the schema it names has nothing at {urldefrag(ref)[1]!r}"
        if isinstance(exc, NoSuchAnchor):
            return f"$ref {ref!r} cannot be resolved: the schema it names has no anchor {exc.anchor!r}"
        return f"$ref {ref!r} cannot be resolved: it names no schema of {self.root}"


_PATTERNS: dict[str, Any] = {}
_EXTENDED: dict[Any, Any] = {}


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict) -> Iterator[ValidationError]:
    """``pattern`` as jsonschema-rs applies it (ECMA 262: ``$`` is the end of the text, not also the
    place before a final newline as in Python; no catastrophic backtracking), so that the check
    that says why agrees with the fast one."""
    import jsonschema
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "string"):
        return
    checker = _PATTERNS.get(pattern)
    if checker is None:
        try:
            checker = jsonschema_rs.validator_for({"pattern": pattern})
        except (jsonschema_rs.ValidationError, ValueError):
            yield from jsonschema._keywords.pattern(validator, pattern, instance, schema)  # Python's re alone
            return
        _PATTERNS[pattern] = checker
    if not checker.is_valid(instance):
        yield ValidationError(f"{_shorten(repr(instance))} does not match {pattern!r}")


def _whole_patterns(cls: Any) -> Any:
    """``cls`` with ``pattern`` applied as jsonschema-rs applies it (made once per class), also in
    the subschemas it descends into that name their own ``$schema`` (another schema file)."""
    import attrs
    import jsonschema

    if cls in _EXTENDED.values():
        return cls
    found = _EXTENDED.get(cls)
    if found is None:
        found = jsonschema.validators.extend(cls, {"pattern": _pattern})

        def evolve(self: Any, **changes: Any) -> Any:
            schema = changes.setdefault("schema", self.schema)
            new = _whole_patterns(jsonschema.validators.validator_for(schema, default=type(self)))
            for entry in attrs.fields(type(self)):
                if entry.init and entry.alias not in changes:
                    changes[entry.alias] = getattr(self, entry.name)
            return new(**changes)

        found.evolve = evolve
        _EXTENDED[cls] = found
    return found


def nothing_outside(uri: str) -> Any:
    """jsonschema-rs's retriever: nothing is fetched from outside the schemas folder."""
    raise ValueError(f"{uri} is not in the schemas folder")


def meta_valid(schema: dict) -> bool:
    """Whether a schema is valid against its dialect's metaschema, as jsonschema-rs answers (fast;
    False where it cannot say): the caller asks jsonschema where, when it is not."""
    try:
        return jsonschema_rs.meta.is_valid(schema)
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError):
        return False


def patterns_compile(schema: Any) -> bool:
    """Whether every ``pattern`` in a schema is a regular expression Python reads, as jsonschema's
    own schema check asks (jsonschema-rs's metaschema check does not read them)."""
    if isinstance(schema, dict):
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            try:
                re.compile(pattern)
            except re.error:
                return False
        return all(patterns_compile(value) for value in schema.values())
    if isinstance(schema, list):
        return all(patterns_compile(value) for value in schema)
    return True


def _meta_validator(cls: Any) -> Any:
    """The validator of schemas of ``cls``'s dialect, as ``cls.check_schema`` builds it."""
    import jsonschema

    meta = jsonschema.validators.validator_for(cls.META_SCHEMA, default=cls)
    return meta(cls.META_SCHEMA, format_checker=meta.FORMAT_CHECKER)


def _read_schema(path: Path, name: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RuleError(f"cannot read: {exc.strerror}", file=name) from None
    except json.JSONDecodeError as exc:
        raise RuleError(f"not a readable JSON schema: {exc.msg} (column {exc.colno})", file=name,
                        line=exc.lineno) from None
    except ValueError as exc:
        raise RuleError(f"not a readable JSON schema: {exc}", file=name) from None


def _references(schema: dict, resolver: Any, specification: Specification) -> Iterator[tuple[dict, str, Any]]:
    """Every ``$ref`` / ``$dynamicRef`` of a schema and its subschemas, as (the subschema, the
    keyword, the resolver its base URI gives), a subschema's ``$id`` making a new base."""
    stack = [(schema, resolver)]
    while stack:
        node, current = stack.pop()
        for keyword in ("$ref", "$dynamicRef"):
            if isinstance(node.get(keyword), str):
                yield node, keyword, current
        for sub in specification.subresources_of(node):
            if isinstance(sub, dict):
                stack.append((sub, current.in_subresource(specification.create_resource(sub))))


_JSON_LEAVES = (str, int, float, type(None))  # bool is an int


def not_json(value: Any) -> tuple[str, str] | None:
    """Where ``value`` holds something that is not a JSON value as ``json.loads`` gives them (a
    tuple, a set, a date, a Decimal, a key that is not text), as (JSON path, type name); None
    where it holds none. Iterative: any depth."""
    stack = [("$", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    return f"{path} (key {key!r})", type(key).__name__
                if not isinstance(child, _JSON_LEAVES):
                    stack.append((_join(path, key), child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{number}]", child) for number, child in enumerate(item)
                         if not isinstance(child, _JSON_LEAVES))
        elif not isinstance(item, _JSON_LEAVES):
            return path, type(item).__name__
    return None


def json_path(parts: Any) -> str:
    """A path of keys and indexes as a JSON path: ``$.rules[10].emit``."""
    path = "$"
    for part in parts:
        path = f"{path}[{part}]" if isinstance(part, int) else _join(path, str(part))
    return path


class Validator:
    """A schema's two checkers: ``is_valid`` answers yes or no (jsonschema-rs), ``slow`` is
    jsonschema's, whose ``iter_errors`` says where and why, made by ``make_slow`` the first time it
    is needed. Where jsonschema-rs cannot take an instance (a Python value of no JSON type, which
    the Python API can pass), or has no validator of the schema (``fast`` None), jsonschema answers."""

    __slots__ = ("_make_slow", "_slow", "fast", "is_valid")

    def __init__(self, make_slow: Callable[[], Any], fast: Any) -> None:
        self._make_slow = make_slow
        self._slow = None
        self.fast = fast
        if fast is None:
            self.is_valid = lambda instance: self.slow.is_valid(instance)
        else:
            fast_is_valid = fast.is_valid

            def is_valid(instance: Any) -> bool:
                try:
                    return fast_is_valid(instance)
                except (ValueError, TypeError, OverflowError):
                    return self.slow.is_valid(instance)

            self.is_valid = is_valid

    @property
    def slow(self) -> Any:
        if self._slow is None:
            self._slow = self._make_slow()
        return self._slow

    def iter_errors(self, instance: Any):
        return self.slow.iter_errors(instance)


def first_error(validator, instance: Any) -> tuple[str, str] | None:
    """None when ``instance`` is valid; otherwise the most relevant error as (reason, JSON path)."""
    if validator.is_valid(instance):
        return None
    from jsonschema.exceptions import best_match

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
