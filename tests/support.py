"""Test helpers: the documented examples of fixtures/ as test cases, and one cached translator
per (platform, settings)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.yamlsource import load_yaml_file, plain

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
API_KEY = "0123456789abcdef0123456789abcdef"


@dataclass
class Case:
    """One case of a documented example."""

    file: str
    name: str
    row: str
    platform: str
    settings: dict
    message: dict
    expect: list | None = None
    rejected: dict | None = None
    doc: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.file}:{self.name}"


def documented_cases(*files: str, platform: str | None = None) -> list:
    """The cases of the named fixture files (without .yaml), as pytest params with readable ids."""
    params = []
    for stem in files:
        document = plain(load_yaml_file(FIXTURES / f"{stem}.yaml"))
        messages = document.get("messages") or {"_": document.get("message")}
        for case in document["cases"]:
            if platform and case["platform"] != platform:
                continue
            message = messages[case.get("message", "_")] if "message" in case else next(iter(messages.values()))
            item = Case(file=stem, name=case["name"], row=case.get("row", ""), platform=case["platform"],
                        settings=case.get("settings") or {}, message=message, expect=case.get("expect"),
                        rejected=case.get("rejected"), doc=document.get("doc", ""))
            params.append(pytest.param(item, id=item.id))
    return params


@cache
def _translator(platform: str, settings_json: str) -> engine.Translator:
    return engine.load(platform, json.loads(settings_json))


def translator(platform: str, settings: dict | None = None) -> engine.Translator:
    """A translator for these settings (apiKey added when missing), compiled once per test run."""
    full = {"apiKey": API_KEY, **(settings or {})}
    return _translator(platform, json.dumps(full, sort_keys=True))


def translate(platform: str, settings: dict | None, message: Any) -> list[dict]:
    return translator(platform, settings).translate(message, 1)


def outcome(platform: str, settings: dict | None, message: Any) -> Any:
    """The outputs, or the rejection record: what a snapshot pins."""
    try:
        return translate(platform, settings, message)
    except engine.Rejected as rejected:
        return {"rejected": rejected.as_record()}


def run_case(case: Case) -> Any:
    return outcome(case.platform, case.settings, case.message)


def assert_stated_outcome(case: Case, result: Any) -> None:
    """Assert what the spec states for this case: the outputs in order (targets, the stated body
    keys with their values, the keys stated absent), or a rejection at the stated path."""
    if case.rejected is not None:
        assert isinstance(result, dict) and "rejected" in result, f"{case.id}: expected a rejection, got {result}"
        if "path" in case.rejected:
            assert result["rejected"]["path"] == case.rejected["path"], result
        return
    assert isinstance(result, list), f"{case.id}: expected outputs, got {result}"
    assert [o["target"] for o in result] == [e["target"] for e in case.expect], (
        f"{case.id}: targets {[o['target'] for o in result]} != {[e['target'] for e in case.expect]}")
    for number, (output, expected) in enumerate(zip(result, case.expect, strict=True), 1):
        body = output["body"]
        for key, value in (expected.get("body") or {}).items():
            assert key in body, f"{case.id}: output {number} lacks {key!r}: {body}"
            assert body[key] == value, f"{case.id}: output {number} {key!r} = {body[key]!r}, spec says {value!r}"
            assert type(body[key]) is type(value), f"{case.id}: output {number} {key!r} has type {type(body[key])}"
        for key in expected.get("absent") or []:
            assert key not in body, f"{case.id}: output {number} should not have {key!r}: {body}"
