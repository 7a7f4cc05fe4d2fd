"""Rule and settings files that are not UTF-8 (UTF-16, Latin-1), and settings nested too deeply,
are refused with the file (and line), exit 2: never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import engine
from engine.cli import main
from engine.resources import default_rules_dir
from support import API_KEY

MESSAGE = '{"type":"track","event":"E","userId":"user-12345"}\n'


@pytest.fixture
def rules(tmp_path) -> Path:
    folder = tmp_path / "amplitude"
    shutil.copytree(default_rules_dir(), folder)
    return folder


def test_a_latin1_rule_file_is_refused_at_its_line(rules):
    path = rules / "_common.yaml"
    lines = path.read_text().split("\n")
    lines.insert(2, "# caf\u00e9")
    path.write_bytes("\n".join(lines).encode("latin-1"))
    with pytest.raises(engine.RuleError) as info:
        engine.load("server", {"apiKey": API_KEY}, rules)
    assert info.value.file.endswith("_common.yaml") and info.value.line == 3
    assert "not UTF-8" in info.value.message


def test_a_utf16_rule_file_is_refused(rules):
    path = rules / "server.yaml"
    path.write_bytes(path.read_text().encode("utf-16"))
    with pytest.raises(engine.RuleError) as info:
        engine.load("server", {"apiKey": API_KEY}, rules)
    assert info.value.file.endswith("server.yaml") and "UTF-16" in info.value.message


def test_lint_names_a_rule_file_that_is_not_utf8(rules, capsys):
    (rules / "_common.yaml").write_bytes((rules / "_common.yaml").read_text().encode("utf-16"))
    code = main(["lint", str(rules)])
    captured = capsys.readouterr()
    assert code != 0 and "Traceback" not in captured.err + captured.out
    assert "_common.yaml" in captured.err + captured.out


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_a_settings_file_that_is_not_utf8_exits_2(tmp_path, capsys, encoding):
    text = json.dumps({"apiKey": API_KEY, "versionName": "caf\u00e9"}, ensure_ascii=False)
    (tmp_path / "s.json").write_bytes(text.encode(encoding))
    (tmp_path / "in.ndjson").write_text(MESSAGE)
    code = main(["translate", "-p", "server", "-s", str(tmp_path / "s.json"), str(tmp_path / "in.ndjson")])
    err = capsys.readouterr().err
    assert code == 2 and "s.json:1: not UTF-8" in err


def test_settings_nested_100000_deep_exit_2(tmp_path, capsys):
    (tmp_path / "s.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "in.ndjson").write_text(MESSAGE)
    code = main(["translate", "-p", "server", "-s", str(tmp_path / "s.json"), str(tmp_path / "in.ndjson")])
    err = capsys.readouterr().err
    assert code == 2 and "s.json" in err and "nested too deeply" in err
