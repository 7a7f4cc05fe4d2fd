"""The public entry point: load a rule set once for a platform and settings, then translate
messages one at a time or as a stream."""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .compiler import compile_rule_set
from .errors import FieldDropped, Rejected, SettingWarning
from .explain import Explanation
from .explain import explain as _explain
from .loader import list_platforms, load_variant
from .nodes import RuleSet
from .resources import bundled_dir, default_rules_dir, find_rule_set
from .run import translate as _translate
from .settings import load_catalog
from .validation import SchemaStore, not_json

_stores: dict[str, SchemaStore] = {}


def schema_store(schemas_dir: Path | str | None = None) -> SchemaStore:
    """The schemas of a folder (default: the bundled ones), loaded once per process."""
    root = Path(schemas_dir) if schemas_dir else bundled_dir("schemas")
    key = str(root.resolve())
    store = _stores.get(key)
    if store is None:
        store = SchemaStore(root)
        _stores[key] = store
    return store


@dataclass
class Result:
    """The outcome of one message of a stream: its outputs and the warnings of the optional fields
    it was translated without, or why it was rejected."""

    index: int  # the message's number in the stream: from ``start`` (1 unless given), as the CLI counts
    outputs: list[dict] | None = None
    error: Rejected | None = None
    warnings: list[FieldDropped] = field(default_factory=list)


class Translator:
    """A rule set compiled for one platform and one set of settings."""

    def __init__(self, ruleset: RuleSet, warnings: list[str]) -> None:
        self.ruleset = ruleset
        self.warnings = warnings

    @property
    def platform(self) -> str:
        return self.ruleset.platform

    @property
    def settings(self) -> dict:
        """The settings in force: the user's, with catalog defaults for the rest."""
        return self.ruleset.settings

    def translate(self, message: Any, index: int | None = None,
                  warnings: list[FieldDropped] | None = None) -> list[dict]:
        """The ordered outputs ``[{"target": ..., "body": ...}]`` of one message, a JSON value as
        ``json.loads`` gives it (dicts, lists, text, numbers, booleans, None).
        Raises ``Rejected`` (with a reason and a JSON path) when it cannot be translated, or
        holds a value of another type (a tuple, a date, a Decimal).

        A field of the wrong type that the rules declare optional (``input.optional``) does not
        reject the message: it is translated without it, and, when ``warnings`` is a list, one
        ``FieldDropped`` (reason, JSON path) per such field is appended to it.

        The outputs may hold the message's own objects and share objects with each other (copy
        one before changing it in place); nothing is shared with other messages or the rules."""
        _json_only(message, index)
        return _translate(self.ruleset, message, index, warnings)

    def translate_parsed(self, message: Any, index: int | None = None,
                         warnings: list[FieldDropped] | None = None) -> list[dict]:
        """``translate`` of a message a JSON parser made, which can hold nothing but JSON values
        (what ``seg2amp translate`` reads): their types are not checked again."""
        return _translate(self.ruleset, message, index, warnings)

    def explain(self, message: Any, index: int | None = None) -> Explanation:
        """What ``translate`` would give, with the rule, selector, fallback and setting behind
        every output field, and why each other rule did not fire."""
        found = not_json(message)
        if found is not None:
            explanation = Explanation(self.platform, index, None, [], [])
            explanation.rejected = _not_json_error(found, index).as_record()
            return explanation
        return _explain(self.ruleset, message, index)

    def translate_all(self, messages: Iterable[Any], start: int = 1) -> Iterator[Result]:
        """Translate a stream; yields one ``Result`` per message, numbered from ``start``."""
        for index, message in enumerate(messages, start):
            warnings: list[FieldDropped] = []
            try:
                _json_only(message, index)
                yield Result(index, outputs=_translate(self.ruleset, message, index, warnings), warnings=warnings)
            except Rejected as rejected:
                yield Result(index, error=rejected)


def _json_only(message: Any, index: int | None) -> None:
    found = not_json(message)
    if found is not None:
        raise _not_json_error(found, index)


def _not_json_error(found: tuple[str, str], index: int | None) -> Rejected:
    path, kind = found
    return Rejected(f"a {kind} is not a JSON value (a message holds dicts, lists, text, numbers, booleans "
                    "and None, as json.loads gives them)", path.partition(" ")[0], index)


def load(platform: str, settings: dict | None = None, rules_dir: Path | str | None = None,
         schemas_dir: Path | str | None = None) -> Translator:
    """Load and compile the variant ``platform`` of a rule set folder (default: the bundled rules).

    ``settings`` are the user's settings; missing keys take the catalog's defaults. Raises
    ``RuleError`` for a broken rule file and ``SettingsError`` for a bad setting; a key the
    catalog does not know is ignored with a ``SettingWarning`` (Python's ``warnings``; the texts
    are also in ``Translator.warnings``)."""
    folder = find_rule_set(Path(rules_dir)) if rules_dir else default_rules_dir()
    store = schema_store(schemas_dir)
    raw = load_variant(folder, platform, store)
    catalog = load_catalog(raw.settings_path)
    resolved, warnings = catalog.resolve(settings)
    translator = Translator(compile_rule_set(raw, catalog, resolved, store), warnings)
    for warning in warnings:
        _warnings.warn(SettingWarning(warning), stacklevel=2)
    return translator


def platforms(rules_dir: Path | str | None = None) -> list[str]:
    """The platform variants of a rule set folder (default: the bundled rules)."""
    folder = find_rule_set(Path(rules_dir)) if rules_dir else default_rules_dir()
    return list_platforms(folder)
