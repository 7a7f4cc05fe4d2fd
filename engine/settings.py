"""The settings catalog (every setting a rule set reads: its JSON Schema, default and meaning) and
the resolution of a user's settings against it: defaults filled in, unknown keys warned about,
wrong values refused with an error that names the setting."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs

from .errors import RuleError, SettingsError
from .schemawords import requirement
from .validation import json_path, meta_valid, patterns_compile


@dataclass(frozen=True)
class Setting:
    """One catalog entry."""

    key: str
    schema: dict
    default: Any = None
    required: bool = False
    label: str = ""
    doc: str = ""
    error: str = ""
    effect: str = ""
    secret: bool = False  # a key: never printed (errors, explain), never put into an output
    line: int | None = None


@dataclass
class Catalog:
    """Every setting a rule set may read, in catalog order."""

    file: str
    settings: dict[str, Setting] = field(default_factory=dict)
    _validators: dict[str, Any] = field(default_factory=dict, repr=False)

    def __contains__(self, key: str) -> bool:
        return key in self.settings

    @property
    def secrets(self) -> frozenset[str]:
        """The settings marked ``secret: true``."""
        return frozenset(key for key, setting in self.settings.items() if setting.secret)

    def validator(self, key: str):
        """jsonschema-rs's validator of a setting's schema: its ``pattern`` must match the whole
        value where its ``$`` says so (no newline after), and its regex engine does not backtrack."""
        found = self._validators.get(key)
        if found is None:
            found = jsonschema_rs.validator_for(self.settings[key].schema)
            self._validators[key] = found
        return found

    def problem(self, key: str, value: Any) -> str | None:
        """Why ``value`` does not fit setting ``key``'s schema, or None when it fits. The reason
        never holds the value of a secret setting."""
        setting = self.settings[key]
        try:
            error = next(iter(self.validator(key).iter_errors(value)), None)
        except (ValueError, TypeError, OverflowError):  # a value jsonschema-rs cannot take (10**400)
            import jsonschema

            slow = next(iter(jsonschema.Draft202012Validator(setting.schema).iter_errors(value)), None)
            if slow is None:
                return None
            keyword, expected, instance, at = str(slow.validator), slow.validator_value, slow.instance, slow.path
            message = slow.message
        else:
            if error is None:
                return None
            keyword, instance, at, message = _keyword(error), error.instance, error.instance_path, error.message
            expected = _at(setting.schema, list(error.schema_path))
        if setting.secret:
            return setting.error or f"does not fit the catalog's {keyword!r} (the value is secret: not shown)"
        # in JSON words (true, null), whichever library found it: what the value must be, and where in it
        words = requirement(keyword, expected, instance)
        if words is not None and list(at):
            words = f"{json_path(list(at))} {words}"
        reason = setting.error or words or _shorten(message)
        return f"{reason} (got {_shorten(json.dumps(value, default=repr))})"

    def resolve(self, given: dict | None) -> tuple[dict, list[str]]:
        """The complete settings (catalog defaults for what ``given`` lacks) and the warnings."""
        given = dict(given or {})
        warnings = [f"setting {key!r} is not in the settings catalog; ignored" for key in given
                    if key not in self.settings]
        resolved: dict[str, Any] = {}
        for key, setting in self.settings.items():
            value = given.get(key)
            if value is None:
                if setting.required:
                    raise SettingsError("is required" + (f" ({setting.error})" if setting.error else ""), key)
                resolved[key] = setting.default
                continue
            reason = self.problem(key, value)
            if reason is not None:
                raise SettingsError(reason, key)
            resolved[key] = value
        return resolved, warnings


def load_catalog(path: Path) -> Catalog:
    """Read a settings catalog file (YAML: ``settings: {key: {schema, default, ...}}``)."""
    from .yamlsource import load_yaml_file, plain

    document = load_yaml_file(path)
    entries = document.get("settings") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        raise RuleError("a settings catalog needs a 'settings' mapping", file=str(path),
                        line=getattr(document, "line", None))
    catalog = Catalog(file=str(path))
    for key, entry in entries.items():
        line = getattr(entry, "line", None)
        if not isinstance(entry, dict) or not isinstance(entry.get("schema"), dict):
            raise RuleError(f"setting {key!r} needs a 'schema' mapping", file=str(path), line=line)
        unknown = set(entry) - {"schema", "default", "required", "label", "doc", "error", "effect", "secret"}
        if unknown:
            raise RuleError(f"setting {key!r}: unknown field {sorted(unknown)[0]!r}", file=str(path), line=line)
        if not (meta_valid(entry["schema"]) and patterns_compile(entry["schema"])):  # 0.05 ms, not 2 ms, a key
            import jsonschema

            try:  # jsonschema says where (its check also reads each pattern as a regular expression)
                jsonschema.Draft202012Validator.check_schema(entry["schema"])
            except jsonschema.SchemaError as exc:
                raise RuleError(f"setting {key!r}: invalid schema: {exc.message}", file=str(path),
                                line=line) from None
        setting = Setting(key=key, schema=plain(entry["schema"]), default=plain(entry.get("default")),
                          required=bool(entry.get("required", False)), label=entry.get("label", ""),
                          doc=entry.get("doc", ""), error=entry.get("error", ""), effect=entry.get("effect", ""),
                          secret=entry.get("secret", False) is True, line=line)
        catalog.settings[key] = setting
        try:
            catalog.validator(key)
        except (jsonschema_rs.ValidationError, ValueError) as exc:
            raise RuleError(f"setting {key!r}: invalid schema: {_shorten(str(exc))}", file=str(path),
                            line=line) from None
        if not setting.required:
            reason = catalog.problem(key, setting.default)
            if reason is not None:
                raise RuleError(f"setting {key!r}: default does not fit its schema: {reason}",
                                file=str(path), line=line)
    return catalog


def _at(schema: Any, path: list) -> Any:
    """The value at ``path`` (keys and indexes) in a schema; None where there is none."""
    for step in path:
        try:
            schema = schema[step]
        except (KeyError, IndexError, TypeError):
            return None
    return schema


def _keyword(error: Any) -> str:
    """The schema keyword a jsonschema-rs error is about (``type``, ``pattern``...)."""
    path = list(error.schema_path)
    return str(path[-1]) if path else "schema"


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def read_settings_file(path: Path | str) -> dict:
    """A user's settings file: JSON, or YAML. An export wrapped as ``{"settings": {...}}`` is unwrapped."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"cannot read settings file {str(path)!r}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        from .yamlsource import decode_utf8

        _, line, reason = decode_utf8(raw)
        raise SettingsError(f"{path}:{line}: {reason}") from None
    from_yaml = False
    try:
        data = json.loads(text)
    except RecursionError:
        raise SettingsError(f"{path}: nested too deeply to be settings") from None
    except ValueError:
        from .yamlsource import load_yaml_text  # YAML's library: only for a YAML file

        from_yaml = True
        try:
            data = load_yaml_text(text, str(path))
        except RuleError as exc:  # its first line only: the excerpt of the file could show a key
            where = f", line {exc.line}" + (f", column {exc.column}" if exc.column else "") if exc.line else ""
            raise SettingsError(f"{path}: neither JSON nor YAML ({exc.message.splitlines()[0]}{where})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: settings must be an object of key: value")
    if set(data) == {"settings"} and isinstance(data["settings"], dict):
        data = data["settings"]
    if not from_yaml:
        return dict(data)  # json.loads makes plain dicts and lists
    from .yamlsource import plain

    try:
        return plain(dict(data))
    except RecursionError:
        raise SettingsError(f"{path}: nested too deeply to be settings") from None
