"""Documented examples: files that pair messages with the outcome a specification states (see
fixtures/README.md for the format), and checking what a rule set gives against them.

A case states its outputs in order: for each, the target, the body keys with their values, and
the keys that must be absent; or that the message is rejected (at a JSON path)."""

from __future__ import annotations

import json
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
        if "message" in case and case["message"] not in messages:
            raise RuleError(f"case {case['name']!r} names message {case['message']!r}, which the file lacks",
                            file=str(path), line=line)
        message = messages[case["message"]] if "message" in case else next(iter(messages.values()))
        example.cases.append(Case(file=stem, name=case["name"], row=case.get("row", ""),
                                  platform=case["platform"], settings=case.get("settings") or {}, message=message,
                                  expect=case.get("expect"), rejected=case.get("rejected"), path=str(path),
                                  line=line))
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
