"""The generated reference is up to date, every documented example conforms, every rule cites a
section that exists in the spec, and every example and table row of the spec has a fixture."""

from __future__ import annotations

import re

import pytest

from engine.cli import main
from engine.docs import generate
from engine.examples import Case, load_examples, problems
from engine.resources import default_rules_dir
from engine.yamlsource import load_yaml_file
from support import BASE_SETTINGS, FIXTURES, ROOT

SPEC = ROOT.parent / "shared" / "spec" / "amplitude-destination.md"


def test_reference_is_up_to_date():
    expected = generate(default_rules_dir(), load_examples(FIXTURES), BASE_SETTINGS)
    current = (ROOT / "REFERENCE.md").read_text(encoding="utf-8")
    assert current == expected, "REFERENCE.md is out of date: run `seg2amp docs --fixtures fixtures --out REFERENCE.md`"
    assert "| FAIL" not in current


def test_docs_check_reports_a_stale_file(tmp_path, capsys):
    stale = tmp_path / "REFERENCE.md"
    stale.write_text("old\n")
    assert main(["docs", "--fixtures", str(FIXTURES), "--out", str(stale), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err


def test_problems_finds_every_kind_of_difference():
    case = Case("f", "c", "", "server", {}, {}, expect=[{"target": "httpapi", "body": {"a": 1, "b": "x"},
                                                          "absent": ["c"]}])
    assert problems(case, [{"target": "httpapi", "body": {"a": 1, "b": "x"}}]) == []
    assert problems(case, []) == ["targets [], expected ['httpapi']"]
    assert problems(case, [{"target": "httpapi", "body": {"a": 1.0, "b": "y", "c": 0}}]) == [
        "output 1 'a' is 1.0, stated 1", "output 1 'b' is 'y', stated 'x'", "output 1 has 'c', stated absent"]
    assert problems(case, {"rejected": {"path": "$", "error": "no"}}) == ["rejected: $: no"]
    refused = Case("f", "c", "", "server", {}, {}, rejected={"path": "$.groupId"})
    assert problems(refused, {"rejected": {"path": "$.type", "error": "x"}}) == [
        "rejected at $.type, expected $.groupId"]


def _spec_text() -> str:
    if not SPEC.is_file():
        pytest.skip(f"the spec is not beside the project ({SPEC})")
    return SPEC.read_text(encoding="utf-8")


def _headings(text: str) -> set[str]:
    titles = {line.split(":", 1)[1].strip().lower() for line in text.splitlines()[:5] if line.startswith("title:")}
    return titles | {line.lstrip("#").strip().lower() for line in text.splitlines() if line.startswith("#")}


def _citations() -> list[tuple[str, str]]:
    found = []
    for path in sorted(default_rules_dir().glob("*.yaml")):
        document = load_yaml_file(path)
        for rule in (document.get("rules") or []) if isinstance(document, dict) else []:
            if rule.get("spec"):
                found.append((f"{path.name}:{rule.line} {rule['name']}", rule["spec"]))
    return found


def test_every_rule_cites_a_section_of_the_spec():
    text = _spec_text()
    headings = _headings(text)
    flat = " ".join(text.lower().split())
    wrong = []
    for where, spec in _citations():
        if spec.startswith("("):
            continue  # cites another document (Segment's spec, the reference notes), said in parentheses
        for citation in spec.split(";"):
            parts = [re.sub(r"\s+\(.*?\)", " ", part).strip().strip('"').lower() for part in citation.split(">")]
            if parts[0] not in headings:
                wrong.append(f"{where}: {citation.strip()!r}: no section {parts[0]!r}")
            wrong += [f"{where}: {citation.strip()!r}: {part!r} is not in the spec"
                      for part in parts[1:] if part not in headings and part not in flat]
    assert wrong == []


EXAMPLES_WITHOUT_MESSAGES = {
    # code blocks of the spec that are not messages to translate, and why
    "analytics.ready(function() {": "reads the SDK's device id in the browser; no message is sent",
}


def test_every_example_and_table_row_of_the_spec_has_a_fixture():
    text = _spec_text()
    fixtures = "\n".join(p.read_text(encoding="utf-8") for p in FIXTURES.glob("*.yaml")).lower()
    fixtures = " ".join(fixtures.replace("''", "'").split())
    missing = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S):
        first = block.strip().splitlines()[0]
        if first in EXAMPLES_WITHOUT_MESSAGES:
            continue
        values = re.findall(r'"([^"\n]{3,})"|\'([^\'\n]{3,})\'', block)
        words = [a or b for a, b in values if (a or b).strip() and not (a or b).startswith("<")]
        if words and not any(word.lower() in fixtures for word in words):
            missing.append(first)
    rows_stated = " ".join(case.row.lower() for example in load_examples(FIXTURES) for case in example.cases)
    for row in re.findall(r"^\| *([^|\n]+?) *\|", text, flags=re.M):
        name = row.strip("` ^").strip()
        if set(name) <= set("-: ") or name.lower() in {"setting name", "library", "amplitude property",
                                                        "segment identifier name", "--"}:
            continue
        if name.lower() not in rows_stated:
            missing.append(f"table row {name!r}")
    assert missing == [], f"documented examples or rows with no fixture: {missing}"
