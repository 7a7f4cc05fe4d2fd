"""A broken rule file stops loading with an error that names the file, the line and the rule."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import engine
from engine.resources import default_rules_dir
from support import API_KEY


@pytest.fixture
def rules(tmp_path) -> Path:
    """A copy of the bundled rule set, to break."""
    folder = tmp_path / "amplitude"
    shutil.copytree(default_rules_dir(), folder)
    return folder


def _replace(path: Path, old: str, new: str) -> int:
    """Replace the first ``old`` in ``path`` by ``new``; the 1-based line where it was."""
    text = path.read_text()
    at = text.index(old)
    path.write_text(text.replace(old, new, 1))
    return text[:at].count("\n") + 1


def _load_error(folder: Path) -> engine.RuleError:
    with pytest.raises(engine.RuleError) as info:
        engine.load("server", {"apiKey": API_KEY}, rules_dir=folder)
    return info.value


def test_yaml_syntax_error_names_file_and_line(rules):
    line = _replace(rules / "_pages.yaml", "    on: page\n", "    on: [page\n")
    error = _load_error(rules)
    assert error.file.endswith("_pages.yaml")
    assert error.line is not None and abs(error.line - line) <= 2
    assert "invalid YAML" in str(error)


def test_unknown_rule_key_names_rule_and_line(rules):
    line = _replace(rules / "server.yaml", "  - name: page.track-categorized-pages\n",
                    "  - name: page.track-categorized-pages\n    emits: nothing\n")
    error = _load_error(rules)
    assert error.rule == "page.track-categorized-pages"
    assert error.line == line
    assert "emits" in error.message
    assert str(error).startswith(f"{error.file}:{line}: rule 'page.track-categorized-pages'")


def test_invalid_selector_names_rule_field_and_line(rules):
    line = _replace(rules / "server.yaml", "        event_type: event\n        event_properties:\n",
                    "        event_type: event[\n        event_properties:\n")
    error = _load_error(rules)
    assert error.rule == "track"
    assert error.line == line
    assert "invalid selector 'event['" in error.message
    assert "event_type" in error.message


def test_unknown_function_is_found_at_load_time(rules):
    line = _replace(rules / "server.yaml", "time: epoch_millis(timestamp)", "time: epoch_seconds(timestamp)")
    error = _load_error(rules)
    assert "unknown function epoch_seconds()" in error.message
    assert error.line == line
    assert error.rule == "fragment:timing"


def test_unknown_setting_is_named(rules):
    line = _replace(rules / "_pages.yaml", "when: {setting: trackAllPages}", "when: {setting: trackEveryPage}")
    error = _load_error(rules)
    assert "'trackEveryPage' is not in the settings catalog" in error.message
    assert error.rule == "page.track-all-pages"
    assert error.line == line


def test_unknown_setting_inside_a_selector_is_named(rules):
    _replace(rules / "server.yaml", "pick(traits, setting('traitsToIncrement'))",
             "pick(traits, setting('traitsToIncrease'))")
    error = _load_error(rules)
    assert "'traitsToIncrease'" in error.message and error.rule == "identify"


def test_template_syntax_error(rules):
    line = _replace(rules / "_pages.yaml", '{template: "Loaded {{ category }} Page"}',
                    '{template: "Loaded {{ category Page"}')
    error = _load_error(rules)
    assert "invalid template" in error.message
    assert error.line == line and error.rule == "page.track-categorized-pages"


def test_unknown_target_and_fragment(rules):
    _replace(rules / "server.yaml", "      target: usermap\n", "      target: usermapping\n")
    error = _load_error(rules)
    assert "unknown target 'usermapping'" in error.message and error.rule == "alias.map"
    shutil.copy(default_rules_dir() / "server.yaml", rules / "server.yaml")
    legacy = "include: [identity, timing, context]\n      body:\n        user_properties: &legacy"
    line = _replace(rules / "server.yaml", legacy, legacy.replace("context]", "contexts]"))
    error = _load_error(rules)
    assert "unknown fragment 'contexts'" in error.message and error.rule == "group.legacy"
    assert error.line == line


def test_missing_extended_file_and_cycle(rules):
    _replace(rules / "server.yaml", "extends: _pages.yaml", "extends: _base.yaml")
    assert "extends '_base.yaml', which does not exist" in _load_error(rules).message
    _replace(rules / "server.yaml", "extends: _base.yaml", "extends: _pages.yaml")
    (rules / "_common.yaml").write_text((rules / "_common.yaml").read_text() + "extends: server.yaml\n")
    assert "cycle" in _load_error(rules).message


def test_duplicate_key_names_its_line(rules):
    line = _replace(rules / "server.yaml", "platform: server\n", "platform: server\nplatform: web\n")
    error = _load_error(rules)
    assert "duplicate key 'platform'" in error.message and error.line == line + 1


def test_duplicate_rule_name(rules):
    _replace(rules / "server.yaml", "  - name: screen.track-all-pages\n", "  - name: page.track-all-pages\n")
    error = _load_error(rules)
    assert "duplicate rule name" in error.message and error.rule == "page.track-all-pages"


def test_unknown_platform_lists_the_known_ones(rules):
    with pytest.raises(engine.RuleError) as info:
        engine.load("desktop", {"apiKey": API_KEY}, rules_dir=rules)
    assert "no variant 'desktop'" in str(info.value) and "server" in str(info.value)


def test_python_tags_are_refused(rules):
    _replace(rules / "server.yaml", "platform: server\n", "platform: !!python/name:os.system server\n")
    assert "invalid YAML" in str(_load_error(rules))


def test_wrong_number_of_function_arguments_is_found_at_load_time(rules):
    line = _replace(rules / "server.yaml", "time: epoch_millis(timestamp)",
                    "time: epoch_millis(timestamp, messageId)")
    error = _load_error(rules)
    assert "epoch_millis() takes 1 arguments, not 2" in error.message and error.line == line


def test_unknown_template_filter_is_found_at_load_time(rules):
    line = _replace(rules / "server.yaml", "{% if seq %}-{{ seq }}{% endif %}",
                    "{% if seq %}-{{ seq | pad }}{% endif %}")
    error = _load_error(rules)
    assert "unknown filter 'pad'" in error.message and error.line == line


def test_failure_while_translating_names_the_field_that_failed(rules):
    tail = ("\n        groups: {select: integrations.Amplitude.groups, drop_empty: true}\n\n"
            "  # ----------------------------------------")
    line = _replace(rules / "server.yaml", "user_properties: context.traits" + tail,
                    'user_properties: "merge(context.traits, event)"' + tail)
    translator = engine.load("server", {"apiKey": API_KEY}, rules_dir=rules)
    with pytest.raises(engine.Rejected) as info:
        translator.translate({"type": "track", "userId": "user-12345", "event": "x", "context": {"traits": {}}}, 9)
    message = info.value.message
    assert info.value.index == 9 and info.value.rule == "track"
    assert "field user_properties (" in message and f"server.yaml:{line}) could not be computed" in message
