"""Test helpers: the documented examples of fixtures/ as test cases, one cached translator per
(platform, settings), and the local fake of Amplitude's APIs as a process (``Fake``)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.examples import Case, load_example, problems

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
BASE_SETTINGS = json.loads((FIXTURES / "base-settings.json").read_text())  # what every case's settings add to
API_KEY = BASE_SETTINGS["apiKey"]


def documented_cases(*files: str, platform: str | None = None) -> list:
    """The cases of the named fixture files (without .yaml), as pytest params with readable ids."""
    params = []
    for stem in files:
        for case in load_example(FIXTURES / f"{stem}.yaml").cases:
            if platform is None or case.platform == platform:
                params.append(pytest.param(case, id=case.id))
    return params


def documented_case(file: str, name: str) -> Case:
    """One case of a fixture file (without .yaml), for a test that builds on a documented example
    instead of re-typing its outcome."""
    [case] = [case for case in load_example(FIXTURES / f"{file}.yaml").cases if case.name == name]
    return case


@cache
def _translator(platform: str, settings_json: str) -> engine.Translator:
    return engine.load(platform, json.loads(settings_json))


def translator(platform: str, settings: dict | None = None) -> engine.Translator:
    """A translator for these settings (apiKey added when missing), compiled once per test run."""
    full = {**BASE_SETTINGS, **(settings or {})}
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
    found = problems(case, result)
    assert not found, f"{case.where}: {'; '.join(found)}\n  (the case's row: {case.row})"


def assert_documented(case: Case, snapshot) -> None:
    """A documented example: its stated outcome, and its whole output against the snapshot. The
    snapshot is compared first, so that ``pytest --snapshot-update`` rewrites it when the output
    changed on purpose (a snapshot the test never reached would be deleted as unused)."""
    result = run_case(case)
    pinned = result == snapshot
    assert_stated_outcome(case, result)
    assert pinned, (f"{case.where}: the output holds its stated outcome but differs from its snapshot; after an "
                    f"intended change: pytest --snapshot-update on this test file, then review the .ambr diff\n"
                    + re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(snapshot.get_assert_diff())))


def flat_batches(names: list[str], form: str | None = None):
    """Every message (or BadInput) of the inputs as ``--jobs`` reads them: in batches of two."""
    from engine import reader

    for batch in reader.read_batches(names, 2, form):
        if isinstance(batch, (reader.Text, reader.Span)):
            yield from batch.messages()
        elif isinstance(batch, reader.Lines):
            yield from (entry if isinstance(entry, reader.BadInput) else reader.parse_line(entry, batch.label, number)
                        for number, entry in batch.entries)
        else:
            yield from batch


def append_server_rule(rules: Path, name: str, body_field: str) -> int:
    """Append to ``rules/server.yaml`` a track rule ``name`` whose body has ``body_field`` (YAML)
    beside an event type and a user id; the line of ``body_field``."""
    text = (rules / "server.yaml").read_text()
    (rules / "server.yaml").write_text(text + f"""
  - name: {name}
    on: track
    emit:
      target: httpapi
      body:
        event_type: {{value: E}}
        user_id: userId
        {body_field}
""")
    return text.count("\n") + 9


def name_server_named_pages(rules: Path, template: str) -> None:
    """Edit a copy of the rules as a rule author would: server pages that "Track Named Pages" sends
    are named by ``template``, in server.yaml's rule page.track-named-pages (its own ``vars`` added,
    or changed where it has them already)."""
    server = rules / "server.yaml"
    text = server.read_text()
    start = text.index("  - name: page.track-named-pages\n")
    end = text.index("\n  - name:", start)
    rule, value = text[start:end], "{template: " + json.dumps(template) + "}"
    if "eventType:" in rule:
        edited = re.sub(r"eventType: .*", lambda _: f"eventType: {value}", rule, count=1)
    else:
        edited = rule.replace("    inherit: true\n", f"    inherit: true\n    vars:\n      eventType: {value}\n", 1)
    assert edited != rule, "server.yaml's page.track-named-pages has changed: update this edit"
    server.write_text(text[:start] + edited + text[end:])


SECRET = "fedcba9876543210fedcba9876543210"
KEY = "0123456789abcdef0123456789abcdef"


class Fake:
    """One fake Amplitude process, on a port of its own."""

    def __init__(self, *options: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "fake_amplitude.py"), "--port", "0", "--api-key", KEY,
             "--secret-key", SECRET, *options], stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        assert line.startswith("listening on "), line
        self.url = line.split()[-1]

    def get(self, path: str):
        with urllib.request.urlopen(self.url + path, timeout=30) as answer:
            data = answer.read()
        return json.loads(data) if path != "/_events" else [json.loads(x) for x in data.splitlines()]

    def stats(self) -> dict:
        return self.get("/_stats")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
