"""Errors the engine raises. Every error says where: a rule error names the rule file, line and
rule (and the column, when it is known: YAML syntax errors); an input error names the message
(its 1-based number among the inputs, and its file and line where they are known) and a JSON
path; a setting error names the setting."""

from __future__ import annotations

from collections.abc import Iterable


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the choice closest to a misspelt ``word``, or nothing when no
    choice is close."""
    import difflib

    close = difflib.get_close_matches(str(word), sorted(set(choices)), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class EngineError(Exception):
    """Base class of every error raised by the engine."""


class RuleError(EngineError):
    """A rule file that cannot be loaded or compiled."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None,
                 rule: str | None = None, path: str | None = None, column: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.rule = rule
        self.path = path
        self.column = column  # 1-based, with line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file or "<rules>"
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        parts = [where]
        if self.rule:
            parts.append(f"rule {self.rule!r}")
        if self.path:
            parts.append(self.path)
        return f"{': '.join(parts)}: {self.message}"


class SettingWarning(UserWarning):
    """A setting the settings catalog does not know (a misspelt key, say): ignored, which may
    quietly leave a feature off. ``engine.load`` issues one through Python's ``warnings`` per such
    key; the same texts are in ``Translator.warnings``."""


class SettingsError(EngineError):
    """A settings value that does not fit the settings catalog."""

    def __init__(self, message: str, key: str | None = None) -> None:
        self.message = message
        self.key = key
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.key:
            return f"setting {self.key!r}: {self.message}"
        return f"settings: {self.message}"


class Rejected(EngineError):
    """A message that cannot be translated. ``path`` is a JSON path into the message; for an
    output that would be invalid, ``output`` names that output's target and ``path`` points into
    its body."""

    def __init__(self, message: str, path: str = "$", index: int | None = None,
                 rule: str | None = None, output: str | None = None) -> None:
        self.message = message
        self.path = path
        self.index = index
        self.rule = rule
        self.output = output
        super().__init__(str(self))

    def __str__(self) -> str:
        who = f"message {self.index}" if self.index is not None else "the message"
        output = f" (its {self.output} output)" if self.output else ""
        return f"{who} is rejected{output} at {self.path}: {self.message}"

    file: str | None = None  # where the message was read, when that is known: its input's name
    line: int | None = None  # and its line there (physical, from 1)

    def as_record(self) -> dict:
        """The JSON-able form written to the rejects stream: the message's number among all inputs
        (``input``), and its input's name and line (``file``, ``line``) where they are known."""
        record: dict = {"input": self.index, "error": self.message, "path": self.path}
        if self.file is not None:
            record["file"], record["line"] = self.file, self.line
        if self.output:
            record["output"] = self.output
        if self.rule:
            record["rule"] = self.rule
        return record


class FieldDropped:
    """A warning: a field of a message that the input schema refuses, which the rule set declares
    optional (``input.optional``), was left out and the message translated without it. ``path``
    is the field's JSON path in the message, ``message`` the reason."""

    __slots__ = ("message", "path", "index", "file", "line")

    def __init__(self, message: str, path: str, index: int | None = None) -> None:
        self.message = message
        self.path = path
        self.index = index
        self.file: str | None = None  # where the message was read, when that is known
        self.line: int | None = None

    def __repr__(self) -> str:
        return f"FieldDropped({self.message!r}, {self.path!r}, {self.index!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldDropped) and self.as_record() == other.as_record()

    __hash__ = None  # type: ignore[assignment]

    def as_record(self) -> dict:
        """The JSON-able form written to the rejects stream, beside rejections:
        ``{"input": N, "warning": "...", "path": "$.x", "file": ..., "line": ...}``."""
        record: dict = {"input": self.index, "warning": self.message, "path": self.path}
        if self.file is not None:
            record["file"], record["line"] = self.file, self.line
        return record
