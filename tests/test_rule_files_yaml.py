"""Rule files are YAML 1.2 (as editors read them): the key `on:` is text, not PyYAML's YAML 1.1
boolean, and the README's way to check them from Python works as written."""

from __future__ import annotations

import re
import shutil

import yaml

import engine
from engine.resources import default_rules_dir
from support import API_KEY, ROOT


def _editor_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("### Editing rules in an editor\n")
    return text[start:text.index("\n## ", start)]


def test_the_readme_way_to_validate_rule_files_from_python_works(monkeypatch):
    [snippet] = re.findall(r"```python\n(.*?)```", _editor_section(), re.S)
    monkeypatch.chdir(ROOT)
    exec(compile(snippet, "README.md", "exec"), {})  # raises if any file is refused
    assert "load_yaml_file" in snippet and "yaml.safe_load" not in snippet


def test_pyyaml_reads_on_as_true_which_the_readme_warns_of():
    rules = yaml.safe_load((ROOT / "rules" / "amplitude" / "server.yaml").read_text(encoding="utf-8"))["rules"]
    with_on = [rule for rule in rules if True in rule]
    assert with_on and not any("on" in rule for rule in rules)  # the YAML 1.1 trap is real
    section = " ".join(_editor_section().split())
    assert "the key `on:` is the boolean `True`" in section and '`"on": track`' in section


def test_on_written_quoted_or_plain_is_the_same_rule(tmp_path):
    folder = tmp_path / "amplitude"
    shutil.copytree(default_rules_dir(), folder)
    server = folder / "server.yaml"
    text = server.read_text(encoding="utf-8")
    quoted = re.sub(r"^(\s+)on:", r'\1"on":', text, flags=re.M)
    assert quoted.count('"on":') == text.count("\n    on:") > 5
    server.write_text(quoted, encoding="utf-8")
    message = {"type": "track", "event": "Song Played", "userId": "user-12345", "messageId": "m1",
               "timestamp": "2024-03-01T00:00:00Z"}
    settings = {"apiKey": API_KEY}
    assert engine.load("server", settings, rules_dir=folder).translate(message) == \
        engine.load("server", settings).translate(message)
    assert all(isinstance(key, str) for rule in yaml.safe_load(quoted)["rules"] for key in rule)
