"""`seg2amp init DIR` (issue 14 item 3, F4): a rule set of one's own, copied from the bundled one,
whose files tell an editor where the rule-language schema is, wherever DIR is."""

from __future__ import annotations

import json
import re

from engine.cli import main
from engine.resources import default_rules_dir
from support import API_KEY

MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.MULTILINE)


def test_init_copies_the_rules_with_a_schema_path_that_works_from_the_copy(tmp_path, capsys):
    target = tmp_path / "work" / "my-rules"
    assert main(["init", str(target)]) == 0
    out = capsys.readouterr().out
    assert f"seg2amp lint --rules {target}" in out and f"seg2amp translate --rules {target}" in out
    bundled = sorted(p.name for p in default_rules_dir().glob("*.yaml"))
    assert sorted(p.name for p in target.glob("*.yaml")) == bundled
    with_modeline = 0
    for path in target.glob("*.yaml"):
        original = (default_rules_dir() / path.name).read_text()
        for schema in MODELINE.findall(path.read_text()):
            with_modeline += 1
            resolved = (path.parent / schema).resolve()
            assert resolved.is_file() and json.loads(resolved.read_text())["$id"] == "rules.schema.json"
        # nothing but the modeline changed
        assert MODELINE.sub("", path.read_text()) == MODELINE.sub("", original)
    assert with_modeline == len(MODELINE.findall("".join((default_rules_dir() / n).read_text() for n in bundled)))
    assert with_modeline >= 7
    # the copy is a rule set: it lints clean, and translate, platforms and lint run it
    assert main(["lint", "--rules", str(target)]) == 0
    assert "0 errors" in capsys.readouterr().err
    (target / "server.yaml").write_text((target / "server.yaml").read_text().replace(
        "        event_type: event\n        event_properties:\n          cases:",
        "        event_type: {template: \"Mine: {{ event }}\"}\n        event_properties:\n          cases:", 1))
    (tmp_path / "s.json").write_text(json.dumps({"apiKey": API_KEY}))
    (tmp_path / "in.ndjson").write_text('{"type":"track","userId":"user-12345","event":"Song Played"}\n')
    assert main(["translate", "-p", "server", "-s", str(tmp_path / "s.json"), "--rules", str(target),
                 str(tmp_path / "in.ndjson")]) == 0
    assert json.loads(capsys.readouterr().out)["body"]["event_type"] == "Mine: Song Played"


def test_init_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    assert main(["init", str(tmp_path / "mine")]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]
    (tmp_path / "empty").mkdir()
    assert main(["init", str(tmp_path / "empty")]) == 0
