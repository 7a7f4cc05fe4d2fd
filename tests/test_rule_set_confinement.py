"""A rule set reads only files in its own folder (``extends``, ``settings``: no absolute path, no
``..`` or symbolic link out of it), and never puts a secret setting into an output: secrets are
tested in conditions only (``{setting: secretKey}``), refused as values at load with file:line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import engine
from engine.resources import default_rules_dir
from support import API_KEY, append_server_rule

SETTINGS = {"apiKey": API_KEY, "secretKey": "SuperSecretValue123XYZ"}


@pytest.fixture
def rules(tmp_path) -> Path:
    folder = tmp_path / "amplitude"
    shutil.copytree(default_rules_dir(), folder)
    return folder


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _refused(rules: Path) -> engine.RuleError:
    with pytest.raises(engine.RuleError) as info:
        engine.load("server", SETTINGS, rules)
    return info.value


@pytest.mark.parametrize("name", ["/etc/passwd", "../../../../../etc/passwd", "../outside.yaml"])
def test_extends_outside_the_folder_is_refused(rules, name):
    (rules.parent / "outside.yaml").write_text("description: elsewhere\n")
    _replace(rules / "server.yaml", "extends: _pages.yaml", f"extends: [_pages.yaml, {json.dumps(name)}]")
    error = _refused(rules)
    assert error.file.endswith("server.yaml") and error.line == 11
    assert "own folder" in error.message


def test_extends_through_a_symbolic_link_out_of_the_folder_is_refused(rules):
    (rules.parent / "outside.yaml").write_text("description: elsewhere\n")
    (rules / "_link.yaml").symlink_to(rules.parent / "outside.yaml")
    _replace(rules / "server.yaml", "extends: _pages.yaml", "extends: [_pages.yaml, _link.yaml]")
    assert "leads out of" in _refused(rules).message


@pytest.mark.parametrize("name", ["/etc/passwd", "../settings.yaml"])
def test_settings_catalog_outside_the_folder_is_refused(rules, name):
    shutil.copy(rules / "settings.yaml", rules.parent / "settings.yaml")
    _replace(rules / "_common.yaml", "settings: settings.yaml", f"settings: {json.dumps(name)}")
    error = _refused(rules)
    assert error.file.endswith("_common.yaml") and error.line and "own folder" in error.message


@pytest.mark.parametrize("body_field", [
    "api_key: {setting: apiKey}",
    "secret: {setting: secretKey}",
    "secret: \"setting('secretKey')\"",
    "secret: {select: \"join('', [setting('apiKey')])\"}",
    "secret: {template: '{{ settings.apiKey }}'}",
    "secret: {template: \"{{ settings['secretKey'] }}\"}",
])
def test_a_secret_setting_as_a_value_is_refused_at_load(rules, body_field):
    append_server_rule(rules, "leaks", body_field)
    error = _refused(rules)
    assert error.file.endswith("server.yaml") and error.line and error.rule == "leaks"
    assert "secret setting" in error.message


def test_a_template_cannot_reach_a_secret_by_a_computed_name(rules):
    append_server_rule(rules, "leaks", "event_properties: {object: {s: {template: "
                                       "\"{{ settings[userId[:0] ~ 'secretKey'] }}{{ settings|tojson }}\"}}}")
    translator = engine.load("server", SETTINGS, rules)
    message = {"type": "track", "event": "E", "userId": "user-12345"}
    outputs = json.dumps(translator.translate(message, 1))
    assert "appendFieldsToEventProps" in outputs  # the template ran, and saw the other settings
    assert "SuperSecretValue123XYZ" not in outputs and API_KEY not in outputs


def test_a_secret_tested_in_a_condition_still_loads():
    translator = engine.load("server", SETTINGS)
    assert translator.translate({"type": "delete", "userId": "user-12345"}, 1)


@pytest.mark.parametrize("platform", ["../outside", "/tmp/outside", "sub/server"])
def test_a_platform_is_a_name_not_a_path(rules, platform):
    (rules.parent / "outside.yaml").write_text("platform: ../outside\n")
    with pytest.raises(engine.RuleError) as info:
        engine.load(platform, SETTINGS, rules)
    assert "not a name" in info.value.message
