"""Documented examples: files that pair messages with the outcome a specification states (see
fixtures/README.md for the format), and checking what a rule set gives against them.

A case states its outputs in order: for each, the target, the body keys with their values, and
the keys that must be absent; or that the message is rejected (at a JSON path). It says where that
outcome comes from: the specification's own words (``source: spec``, with ``row:`` quoting them),
or a decision that resolves what the specification leaves open (``decision:``, with its reason).
``unquoted`` and ``unstated`` hold a case to the specification's text."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import Rejected, RuleError
from .yamlsource import load_yaml_file, plain


@dataclass
class Case:
    """One case of a documented example."""

    file: str
    name: str
    row: str
    platform: str
    settings: dict
    message: Any
    expect: list | None = None
    rejected: dict | None = None
    path: str = ""            # the example file, as it was named when read
    line: int | None = None   # the line of the case in it
    source: str = "spec"
    decision: str = ""

    @property
    def id(self) -> str:
        return f"{self.file}:{self.name}"

    @property
    def where(self) -> str:
        """``path:line: case 'name' (platform)``: how a report names the case."""
        return f"{self.path or self.file + '.yaml'}:{self.line or 1}: case {self.name!r} ({self.platform})"


@dataclass
class Example:
    """One documented example file: its description and its cases."""

    file: str
    title: str
    spec: str
    doc: str
    note: str
    cases: list[Case] = field(default_factory=list)


def load_examples(folder: Path) -> list[Example]:
    """Every example file (``*.yaml``) of a folder, in name order."""
    if not Path(folder).is_dir():
        raise RuleError("no such folder of documented examples", file=str(folder))
    return [load_example(path) for path in sorted(Path(folder).glob("*.yaml"))]


def load_example(path: Path) -> Example:
    located = load_yaml_file(path)
    if not isinstance(located, dict) or not isinstance(located.get("cases"), list):
        raise RuleError("a documented example needs a list of cases", file=str(path), line=1)
    document = plain(located)
    stem = Path(path).stem
    messages = document.get("messages") or {"_": document.get("message")}
    example = Example(stem, document.get("example", stem), document.get("spec", ""), document.get("doc", ""),
                      document.get("note", ""))
    for raw, case in zip(located["cases"], document["cases"], strict=True):
        line = getattr(raw, "line", None)
        missing = [key for key in ("name", "platform") if not isinstance(case.get(key), str)]
        if missing or ("expect" in case) == ("rejected" in case):
            reason = f"needs {missing[0]!r}" if missing else "needs either `expect` or `rejected`"
            raise RuleError(f"case {case.get('name', '?')!r} {reason}", file=str(path), line=line)
        if (case.get("source") == "spec") == bool(case.get("decision")):
            reason = ("says both `source: spec` and `decision:`" if case.get("decision")
                      else "needs `source: spec` (the spec's own words state its outcome, quoted in `row:`) or "
                      "`decision: \"...\"` (what was decided where the spec is silent or ambiguous, and why)")
            raise RuleError(f"case {case.get('name', '?')!r} {reason}", file=str(path), line=line)
        if case.get("decision") is not None and not isinstance(case["decision"], str):
            raise RuleError(f"case {case['name']!r}: `decision` is the decision and its reason, as text",
                            file=str(path), line=line)
        if "source" in case and case["source"] != "spec":
            raise RuleError(f"case {case['name']!r}: `source` can only be `spec` (a decision is `decision: ...`)",
                            file=str(path), line=line)
        if case.get("source") == "spec" and not case.get("row"):
            raise RuleError(f"case {case['name']!r} says `source: spec` but quotes no `row:` of the spec",
                            file=str(path), line=line)
        if "message" in case and case["message"] not in messages:
            raise RuleError(f"case {case['name']!r} names message {case['message']!r}, which the file lacks",
                            file=str(path), line=line)
        message = messages[case["message"]] if "message" in case else next(iter(messages.values()))
        example.cases.append(Case(file=stem, name=case["name"], row=case.get("row", ""),
                                  platform=case["platform"], settings=case.get("settings") or {}, message=message,
                                  expect=case.get("expect"), rejected=case.get("rejected"), path=str(path),
                                  line=line, source="decision" if case.get("decision") else "spec",
                                  decision=case.get("decision") or ""))
    return example


def outcome(translate: Callable[[Any], list[dict]], message: Any) -> Any:
    """The outputs, or ``{"rejected": record}``."""
    try:
        return translate(message)
    except Rejected as rejected:
        return {"rejected": rejected.as_record()}


def run_cases(examples: Iterable[Example], rules_dir: Path, base_settings: dict,
              schemas_dir: Path | None = None,
              translators: dict | None = None) -> Iterator[tuple[Case, Any, Any, list[str]]]:
    """Run every case of the examples through the rule set, in order: ``(case, translator, result,
    problems)``, where result is what :func:`outcome` gives and problems is empty when the case
    holds. One translator per (platform, settings), compiled when a case first needs it; a rule
    set that does not load raises ``RuleError`` naming the case that met it. ``translators`` keeps
    them from one call to the next."""
    from .translator import load

    translators = {} if translators is None else translators
    for example in examples:
        for case in example.cases:
            key = json.dumps([case.platform, case.settings], sort_keys=True)
            if key not in translators:
                try:
                    translators[key] = load(case.platform, {**base_settings, **case.settings}, rules_dir, schemas_dir)
                except RuleError as error:  # where the fault is (a rule or schema file), and the case that met it
                    raise RuleError(f"{error.message} (loading the rules for case {case.name!r} of {case.file}.yaml)",
                                    file=error.file or f"{case.file}.yaml", line=error.line, rule=error.rule,
                                    path=error.path) from None
            translator = translators[key]
            result = outcome(lambda message, t=translator: t.translate(message, 1), case.message)
            yield case, translator, result, problems(case, result)


def problems(case: Case, result: Any) -> list[str]:
    """How ``result`` differs from what the case states; empty when it conforms."""
    if case.rejected is not None:
        if not (isinstance(result, dict) and "rejected" in result):
            return [f"expected a rejection, got {len(result)} outputs"]
        path = case.rejected.get("path")
        if path and result["rejected"]["path"] != path:
            return [f"rejected at {result['rejected']['path']}, expected {path}"]
        return []
    if not isinstance(result, list):
        return [f"rejected: {result['rejected']['path']}: {result['rejected']['error']}"]
    expected_targets = [e["target"] for e in case.expect]
    actual_targets = [o["target"] for o in result]
    if actual_targets != expected_targets:
        return [f"targets {actual_targets}, expected {expected_targets}"]
    found = []
    for number, (output, expected) in enumerate(zip(result, case.expect, strict=True), 1):
        body = output["body"]
        for key, value in (expected.get("body") or {}).items():
            if key not in body:
                found.append(f"output {number} lacks {key!r}")
            elif body[key] != value or type(body[key]) is not type(value):
                found.append(f"output {number} {key!r} is {body[key]!r}, stated {value!r}")
        for key in expected.get("absent") or []:
            if key in body:
                found.append(f"output {number} has {key!r}, stated absent")
    return found


# ---------------------------------------------------------------- holding cases to the specification's text

_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(?<![\w\\])_([^_\s][^_]*?)_(?!\w)")
_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|\u2026)\s*")


def _plain(text: str) -> str:
    """Text as read, without Markdown: links become their text; backticks, emphasis and the outer
    pipes of table rows go; curly quotes become straight; white space is one space; lower case."""
    lines = []
    for line in str(text).splitlines():
        line = _LINK.sub(r"\1", line).replace("`", "").replace("*", "").replace("\\_", "_")
        line = _EMPHASIS.sub(r"\1", line)
        line = line.translate(str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'}))
        if line.strip().startswith("|"):
            line = " | ".join(cell.strip() for cell in line.strip().strip("|").split("|"))
        lines.append(line)
    return " ".join(" ".join(lines).lower().split())


def _sections(document: str) -> dict[str, str]:
    """Each heading of a Markdown document (as plain text) with the plain text of its section."""
    lines = document.splitlines()
    found: dict[str, str] = {}
    for start, line in enumerate(lines):
        if re.match(r"#+ ", line):
            level = len(line) - len(line.lstrip("#"))
            end = next((i for i in range(start + 1, len(lines))
                        if re.match(r"#+ ", lines[i]) and len(lines[i]) - len(lines[i].lstrip("#")) <= level),
                       len(lines))
            found.setdefault(_plain(line.lstrip("#")), _plain("\n".join(lines[start + 1:end])))
    return found


def unquoted(quote: str, document: str) -> list[str]:
    """The parts of ``quote`` that are not the document's own words; empty when all are. A quote is
    the document's text, Markdown aside, in parts joined by "..." (words left out between them); a
    table row is its cells joined by " | ", after the heading of its table and " | " (``Android |
    Track All Pages | Always``), and is then looked for in that section only."""
    text = _plain(document)
    wanted = _plain(quote)
    head, _, rest = wanted.partition(" | ")
    sections = _sections(document)
    if rest and head in sections:
        text, wanted = sections[head], rest
    return [part for part in _ELLIPSIS.split(wanted) if part.strip(" .") and part.strip() not in text]


def stated_values(case: Case) -> list[Any]:
    """Every value a case states (the leaves of its expected bodies), in order."""
    found: list[Any] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif value is not None:
            found.append(value)

    for expected in case.expect or []:
        walk(expected.get("body") or {})
    return found


def _given(message: Any) -> list[Any]:
    """The values and keys of a message, at every depth."""
    found: list[Any] = []
    if isinstance(message, dict):
        for key, value in message.items():
            found += [key, *_given(value)]
    elif isinstance(message, list):
        for item in message:
            found += _given(item)
    elif message is not None:
        found.append(message)
    return found


def unstated(case: Case, document: str) -> list[Any]:
    """The values a case states that neither the document nor the case's own message holds (a
    value of the message, or one of its keys, passed on as it is, is the message's, whatever the
    document). In the document a text must appear whole, between quotes or backticks or as a table
    cell (so "Viewed Merchant Settings" is not found in "Viewed Merchant Settings Screen"); a number
    or boolean as a word of its own."""
    text = " ".join(document.replace("\u201c", '"').replace("\u201d", '"').split())
    given = _given(case.message)
    missing = []
    for value in stated_values(case):
        if any(type(value) is type(item) and value == item for item in given):
            continue
        if isinstance(value, str):
            shown = re.escape(" ".join(value.split()))
            pattern = rf"([\"'`])\s*{shown}\s*\1|\|\s*{shown}\s*\|"
        else:
            shown = {True: "true", False: "false"}.get(value, None) if isinstance(value, bool) else None
            shown = re.escape(shown or (str(int(value)) if isinstance(value, float) and value.is_integer()
                                        else str(value)))
            pattern = rf"(?<![\w.]){shown}(?![\w]|\.\d)"
        if not re.search(pattern, text, flags=re.IGNORECASE):
            missing.append(value)
    return missing
