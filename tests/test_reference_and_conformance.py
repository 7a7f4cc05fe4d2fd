"""The generated reference is up to date, every documented example conforms, every rule cites a
section that exists in the spec, and every example and table row of the spec has a fixture."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from engine.cli import main
from engine.docs import generate
from engine.errors import RuleError
from engine.examples import Case, load_examples, problems
from engine.resources import bundled_dir, default_rules_dir
from engine.yamlsource import load_yaml_file
from support import BASE_SETTINGS, FIXTURES, ROOT

SPEC = ROOT.parent / "shared" / "spec" / "amplitude-destination.md"


def test_reference_is_up_to_date():
    expected = generate(default_rules_dir(), load_examples(FIXTURES), BASE_SETTINGS)
    current = (ROOT / "REFERENCE.md").read_text(encoding="utf-8")
    assert current == expected, "REFERENCE.md is out of date: run `seg2amp docs --fixtures fixtures --out REFERENCE.md`"
    assert "| FAIL" not in current


def test_reference_lists_the_choices_fragments_record():
    """Shared fragments hold decisions too (the default revenueType, the library field, what the
    context fields become): the reference lists each one whose note records a choice, with where."""
    text = generate(default_rules_dir(), load_examples(FIXTURES), BASE_SETTINGS)
    decisions = text[text.index("## Where the specification and the real integrations disagree"):]
    rows = {line.split("|")[1].strip(): line for line in decisions.splitlines() if line.startswith("| fragment ")}
    wanted = {"fragment `order-revenue`", "fragment `library`", "fragment `context`", "fragment `legacy-revenue`"}
    assert wanted <= set(rows)
    assert re.search(r"\| server\.yaml:\d+ \|", rows["fragment `order-revenue`"])
    assert "Purchase wins everywhere" in rows["fragment `order-revenue`"]


def test_docs_check_reports_a_stale_file(tmp_path, capsys):
    stale = tmp_path / "REFERENCE.md"
    stale.write_text("old\n")
    assert main(["docs", "--fixtures", str(FIXTURES), "--out", str(stale), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err


def test_docs_names_a_broken_schema_where_the_fault_is(tmp_path, capsys):
    schemas = tmp_path / "schemas"
    shutil.copytree(bundled_dir("schemas"), schemas)
    common = schemas / "segment" / "common.schema.json"
    schema = json.loads(common.read_text())
    schema["properties"]["messageId"]["type"] = "strnig"
    common.write_text(json.dumps(schema))
    with pytest.raises(RuleError) as info:
        generate(default_rules_dir(), load_examples(FIXTURES), BASE_SETTINGS, schemas)
    assert (info.value.file, info.value.path) == ("segment/common.schema.json", "$.properties.messageId.type")
    assert "'strnig'" in info.value.message and "case " in info.value.message  # and the case that met it
    assert main(["docs", "--fixtures", str(FIXTURES), "--schemas", str(schemas), "--out", "-"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("seg2amp: error: segment/common.schema.json: $.properties.messageId.type: ")


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


def _sections(text: str) -> dict[str, str]:
    """Each heading (lower case) with the text of its section, subsections included."""
    lines = text.splitlines()
    found: dict[str, str] = {}
    for start, line in enumerate(lines):
        if not line.startswith("#"):
            continue
        level = len(line) - len(line.lstrip("#"))
        end = next((i for i in range(start + 1, len(lines))
                    if lines[i].startswith("#") and len(lines[i]) - len(lines[i].lstrip("#")) <= level), len(lines))
        found[line.lstrip("#").strip().lower()] = " ".join(" ".join(lines[start:end]).lower().split())
    found.update({title: " ".join(text.lower().split()) for title in _headings(text) if title not in found})
    return found


def _citations() -> list[tuple[str, str]]:
    found = []
    for path in sorted(default_rules_dir().glob("*.yaml")):
        document = load_yaml_file(path)
        for rule in (document.get("rules") or []) if isinstance(document, dict) else []:
            if rule.get("spec"):
                found.append((f"{path.name}:{rule.line} {rule['name']}", rule["spec"]))
    return found


def test_every_rule_cites_a_section_of_the_spec():
    """A citation "A > B > C": A is a section, and each next part is a subsection of, or text in,
    the part before it (a citation in parentheses names another document)."""
    sections = _sections(_spec_text())
    wrong = []
    for where, spec in _citations():
        if spec.startswith("("):
            continue
        for citation in spec.split(";"):
            parts = [re.sub(r"\s+\(.*?\)", " ", part).strip().strip('"').lower() for part in citation.split(">")]
            if parts[0] not in sections:
                wrong.append(f"{where}: {citation.strip()!r}: no section {parts[0]!r}")
                continue
            within = sections[parts[0]]
            for part in parts[1:]:
                if part not in within:
                    wrong.append(f"{where}: {citation.strip()!r}: {part!r} is not in that section")
                    break
                within = sections.get(part, within)
    assert wrong == []


EXAMPLES_WITHOUT_MESSAGES = {
    # code blocks of the spec that are not messages to translate, and why
    "analytics.ready(function() {": "reads the SDK's device id in the browser; no message is sent",
}


def test_every_example_and_table_row_of_the_spec_has_a_fixture():
    """Every code example: a fixture whose `spec` names the example's section holds its values.
    Every table row: a case whose `row` quotes the row's first cell, in a fixture (or a row) that
    names the table's section."""
    text = _spec_text()
    examples = load_examples(FIXTURES)
    texts = {e.file: " ".join((FIXTURES / f"{e.file}.yaml").read_text(encoding="utf-8").lower()
                              .replace("''", "'").split()) for e in examples}
    missing = []
    heading = ""
    for match in re.finditer(r"^(#+ [^\n]*|```[a-z]*\n(?s:.*?)```|\|[^\n]*\|)$", text, flags=re.M):
        body = match.group(0)
        kind = "h" if body.startswith("#") else "c" if body.startswith("```") else "t"
        if kind == "h":
            heading = body.lstrip("#").strip().lower()
            continue
        owners = [e for e in examples if heading in e.spec.lower()]
        if kind == "c":
            block = body.strip("`").split("\n", 1)[-1]
            first = block.strip().splitlines()[0]
            if first in EXAMPLES_WITHOUT_MESSAGES:
                continue
            values = [a or b for a, b in re.findall(r'"([^"\n]{3,})"|\'([^\'\n]{3,})\'', block)]
            values = [v for v in values if not v.startswith("<")]
            if not any(any(v.lower() in texts[e.file] for v in values) for e in owners):
                missing.append(f"example under {heading!r}: {first}")
            continue
        cell = body.strip("|").split("|")[0].strip().strip("`^ ").strip()
        if set(cell) <= set("-: ") or cell.lower() in {"setting name", "library", "amplitude property",
                                                        "segment identifier name"}:
            continue
        rows = [c.row.lower() for e in examples for c in e.cases
                if heading in e.spec.lower() or heading in c.row.lower()]
        if not any(cell.lower() in row for row in rows):
            missing.append(f"table row {cell!r} under {heading!r}")
    assert missing == [], f"documented examples or rows with no fixture: {missing}"
