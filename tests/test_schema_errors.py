"""A broken JSON Schema stops loading with an error that names the schema file (its path in the
schemas folder) and the JSON path in it, whether it is the schema a rule names or one it
references; on the command line that is one error line and exit status 2, not a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import engine
from engine.cli import main
from engine.lint import lint
from engine.resources import bundled_dir, default_rules_dir
from engine.validation import SchemaStore
from support import FIXTURES

COMMON = "segment/common.schema.json"


def _store(tmp_path: Path, schemas: dict) -> SchemaStore:
    for name, schema in schemas.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(schema if isinstance(schema, str) else json.dumps(schema))
    return SchemaStore(tmp_path)


def _error(store: SchemaStore, name: str) -> engine.RuleError:
    with pytest.raises(engine.RuleError) as info:
        store.validator(name)
    return info.value


ROOT = {"properties": {"ok": {"type": "string"}, "x": {"$ref": "parts/part.schema.json#/$defs/x"}}}
BROKEN = [  # (the referenced schema, the JSON path of the fault in it, words of the reason)
    ({"$defs": {"x": {"type": "strnig"}}}, '$["$defs"].x.type', "'strnig' is not one of"),
    ({"$defs": {"x": {"type": ["string", "nul"]}}}, '$["$defs"].x.type[1]', "'nul' is not one of"),
    ({"$defs": {"x": {"type": "string", "pattern": "([a-z]"}}}, '$["$defs"].x.pattern', "is not a 'regex'"),
    ({"$defs": {"x": {"minLength": -1}}}, '$["$defs"].x.minLength', "-1 is less than the minimum"),
    ({"$defs": {"x": {"properties": {"a": {"required": "a"}}}}}, '$["$defs"].x.properties.a.required',
     "'a' is not of type 'array'"),
    ({"$defs": {"x": {"$ref": "missing.schema.json"}}}, '$["$defs"].x["$ref"]',
     "$ref 'missing.schema.json' cannot be resolved: it names no schema"),
    ({"$defs": {"x": {"$ref": "#/$defs/nowhere"}}}, '$["$defs"].x["$ref"]',
     "the schema it names has nothing at '/$defs/nowhere'"),
    ({"$defs": {"x": {"items": {"$ref": "#nothing"}}}}, '$["$defs"].x.items["$ref"]',
     "the schema it names has no anchor 'nothing'"),
    ({"$defs": {"x": {"$id": "inner/", "$ref": "part.schema.json"}}}, '$["$defs"].x["$ref"]',
     "$ref 'part.schema.json' cannot be resolved"),  # from inner/, the $id of the subschema it is in
]


@pytest.mark.parametrize(("part", "path", "reason"), BROKEN, ids=[reason for _, _, reason in BROKEN])
def test_a_broken_referenced_schema_is_named_with_the_json_path_of_the_fault(tmp_path, part, path, reason):
    store = _store(tmp_path, {"root.schema.json": ROOT, "parts/part.schema.json": part})
    error = _error(store, "root.schema.json")
    assert (error.file, error.path) == ("parts/part.schema.json", path)
    assert reason in error.message
    assert str(error).startswith(f"parts/part.schema.json: {path}: ")
    assert "\n" not in str(error)


def test_the_schema_named_itself_is_checked(tmp_path):
    store = _store(tmp_path, {"root.schema.json": {"properties": {"a": {"items": {"type": "text"}}}}})
    error = _error(store, "root.schema.json")
    assert (error.file, error.path) == ("root.schema.json", "$.properties.a.items.type")


def test_an_unresolvable_ref_in_the_root_schema(tmp_path):
    store = _store(tmp_path, {"root.schema.json": {"anyOf": [{"type": "null"}, {"$ref": "other.schema.json"}]}})
    error = _error(store, "root.schema.json")
    assert (error.file, error.path) == ("root.schema.json", '$.anyOf[1]["$ref"]')
    assert "'other.schema.json' cannot be resolved" in error.message


def test_a_broken_schema_nothing_references_does_not_stop_the_others(tmp_path):
    store = _store(tmp_path, {"root.schema.json": ROOT, "parts/part.schema.json": {"$defs": {"x": {"type": "string"}}},
                              "other.schema.json": {"type": "strnig"}})
    assert store.validator("root.schema.json").is_valid({"x": "text"})
    assert _error(store, "other.schema.json").file == "other.schema.json"


def test_a_schema_file_that_is_not_json_is_named_with_its_line(tmp_path):
    with pytest.raises(engine.RuleError) as info:
        _store(tmp_path, {"root.schema.json": ROOT, "parts/part.schema.json": '{\n  "type": "string",\n}\n'})
    assert (info.value.file, info.value.line) == ("parts/part.schema.json", 3)


@pytest.fixture
def folders(tmp_path) -> tuple[Path, Path]:
    """Copies of the bundled rule set and schemas, to break."""
    rules, schemas = tmp_path / "rules", tmp_path / "schemas"
    shutil.copytree(default_rules_dir(), rules)
    shutil.copytree(bundled_dir("schemas"), schemas)
    return rules, schemas


def _break(schemas: Path, change) -> None:
    path = schemas / COMMON
    schema = json.loads(path.read_text())
    change(schema)
    path.write_text(json.dumps(schema, indent=2))


@pytest.mark.parametrize(("change", "path", "reason"), [
    (lambda s: s["properties"]["messageId"].update(type="strnig"), "$.properties.messageId.type", "'strnig'"),
    (lambda s: s["properties"]["messageId"].update(pattern="[a-"), "$.properties.messageId.pattern", "regex"),
    (lambda s: s["properties"]["messageId"].update({"$ref": "#/$defs/gone"}), '$.properties.messageId["$ref"]',
     "'#/$defs/gone' cannot be resolved"),
], ids=["type", "pattern", "ref"])
def test_cli_names_the_broken_schema_and_exits_2(folders, tmp_path, capsys, change, path, reason):
    rules, schemas = folders
    _break(schemas, change)
    messages = tmp_path / "in.ndjson"
    messages.write_text(json.dumps({"type": "track", "event": "Played", "userId": "u-1"}) + "\n")
    code = main(["translate", "--platform", "server", "--settings", str(FIXTURES / "base-settings.json"),
                 "--rules", str(rules), "--schemas", str(schemas), str(messages)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"seg2amp: error: {COMMON}: {path}: ")
    assert reason in lines[0]


def test_lint_reports_a_broken_schema_as_a_finding(folders, capsys):
    rules, schemas = folders
    _break(schemas, lambda s: s["properties"]["messageId"].update(type="strnig"))
    code = main(["lint", "--schemas", str(schemas), str(rules)])
    captured = capsys.readouterr()
    assert code == 1
    assert "common.schema.json" in captured.out + captured.err and "'strnig'" in captured.out + captured.err
    assert "Traceback" not in captured.err
    # named as the other commands name it: its path in the schemas folder, and the JSON path of the fault
    [line] = captured.out.splitlines()  # every variant meets the same fault: one finding
    assert line.startswith(f"{COMMON}:1: error: $.properties.messageId.type: not a valid schema: ")


def test_a_lint_finding_for_a_broken_schema_keeps_the_file_and_json_path(folders):
    rules, schemas = folders
    _break(schemas, lambda s: s["properties"]["messageId"].update({"$ref": "#/$defs/gone"}))
    [finding] = lint(rules, SchemaStore(schemas))
    assert (finding.file, finding.path, finding.level) == (COMMON, '$.properties.messageId["$ref"]', "error")
    assert "'#/$defs/gone' cannot be resolved" in finding.message
