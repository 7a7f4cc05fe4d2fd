"""A broken rule file stops loading with an error that names the file, the line and the rule."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import engine
from engine.lint import lint
from engine.resources import default_rules_dir
from engine.translator import schema_store
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


def test_yaml_syntax_error_gives_line_column_and_the_line_with_a_caret(rules):
    line = _replace(rules / "server.yaml", "    on: alias\n", "    on: alias\n    when: {setting: sendAlias\n")
    text = (rules / "server.yaml").read_text().splitlines()
    error = _load_error(rules)
    assert error.file.endswith("server.yaml") and error.column is not None
    quoted = text[error.line - 1]
    assert str(error).startswith(f"{error.file}:{error.line}:{error.column}: invalid YAML: ")
    assert f"\n    {quoted}\n    {' ' * (error.column - 1)}^" in error.message
    assert "flow mapping" in error.message and f"line {line + 1}, column 11" in error.message
    [finding] = [f for f in lint(rules, schema_store()) if "invalid YAML" in f.message]
    assert (finding.file, finding.line, finding.column) == ("server.yaml", error.line, error.column)
    assert str(finding).startswith(f"server.yaml:{error.line}:{error.column}: error: invalid YAML: ")


def test_yaml_syntax_error_points_at_the_offending_character(rules):
    line = _replace(rules / "_pages.yaml", "    on: page\n", "    on: page: track\n")
    error = _load_error(rules)
    assert (error.line, error.column) == (line, 13)
    assert error.message.endswith("\n        on: page: track\n" + " " * (4 + 12) + "^")  # under the second ':'
    assert str(error).startswith(f"{error.file}:{line}:13: invalid YAML: mapping values are not allowed")


def test_unknown_rule_key_names_rule_and_the_line_of_the_key(rules):
    line = _replace(rules / "server.yaml", "  - name: page.track-categorized-pages\n",
                    "  - name: page.track-categorized-pages\n    emits: nothing\n")
    error = _load_error(rules)
    assert error.rule == "page.track-categorized-pages"
    assert error.line == line + 1  # the `emits:` key's own line, not the rule's first
    assert error.message.startswith("unexpected key 'emits' (did you mean 'emit'?); the keys allowed here: name, ")
    assert str(error).startswith(f"{error.file}:{line + 1}: rule 'page.track-categorized-pages'")


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


def test_a_misspelt_setting_is_named_with_the_closest_one(rules):
    line = _replace(rules / "_pages.yaml", "when: {setting: trackAllPages}", "when: {setting: trackAlPages}")
    error = _load_error(rules)
    assert (error.rule, error.line) == ("page.track-all-pages", line)
    assert error.message.endswith("is not in the settings catalog " + str(rules / "settings.yaml")
                                  + " (did you mean 'trackAllPages'?)")


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
    legacy = "include: [identity, timing, context, library]\n      body:\n        user_properties: &legacy"
    line = _replace(rules / "server.yaml", legacy, legacy.replace("context,", "contexts,"))
    error = _load_error(rules)
    assert "unknown fragment 'contexts'" in error.message and error.rule == "group.legacy"
    assert error.line == line


def test_missing_extended_file_and_cycle(rules):
    _replace(rules / "server.yaml", "extends: _pages.yaml", "extends: _base.yaml")
    assert "extends '_base.yaml', which does not exist" in _load_error(rules).message
    _replace(rules / "server.yaml", "extends: _base.yaml", "extends: _pages.yaml")
    (rules / "_common.yaml").write_text((rules / "_common.yaml").read_text() + "extends: server.yaml\n")
    assert "cycle" in _load_error(rules).message


def _extends_line(path: Path) -> int:
    return [number for number, text in enumerate(path.read_text().splitlines(), 1)
            if text.startswith("extends:")][0]


def test_extends_errors_name_the_extends_key_of_the_file_that_says_it(rules):
    # a missing file, named by a file whose extends key is not its first key; one name, then a list
    _replace(rules / "server.yaml", "extends: _pages.yaml", "extends: _base.yaml")
    error = _load_error(rules)
    assert error.file.endswith("server.yaml") and error.line == _extends_line(rules / "server.yaml")
    _replace(rules / "server.yaml", "extends: _base.yaml", "extends: [_device.yaml, _base.yaml]")
    error = _load_error(rules)
    assert error.file.endswith("server.yaml") and error.line == _extends_line(rules / "server.yaml")
    assert str(error).startswith(f"{error.file}:{error.line}: extends '_base.yaml'")
    _replace(rules / "server.yaml", "extends: [_device.yaml, _base.yaml]", "extends: _pagez.yaml")
    error = _load_error(rules)
    assert error.message == ("extends '_pagez.yaml', which does not exist (did you mean '_pages.yaml'?); the rule "
                             "files beside server.yaml: _common.yaml, _device.yaml, _mobile.yaml, _pages.yaml, "
                             "android.yaml, delivery.yaml, ios.yaml, settings.yaml, web.yaml")
    findings = [f for f in lint(rules, schema_store()) if "_pagez" in f.message]
    assert [(f.file, f.line) for f in findings] == [("server.yaml", _extends_line(rules / "server.yaml"))]
    assert findings[0].message == error.message
    _replace(rules / "server.yaml", "extends: _pagez.yaml", "extends: _pages.yaml")
    # a cycle: the file whose extends closes it
    _replace(rules / "_common.yaml", "settings: settings.yaml\n", "settings: settings.yaml\nextends: server.yaml\n")
    error = _load_error(rules)
    assert error.file.endswith("_common.yaml") and error.line == _extends_line(rules / "_common.yaml")
    assert "'extends' makes a cycle: server.yaml -> _pages.yaml -> _common.yaml -> server.yaml" in error.message
    cycles = {(f.file, f.line) for f in lint(rules, schema_store()) if "makes a cycle" in f.message}
    assert ("_common.yaml", _extends_line(rules / "_common.yaml")) in cycles
    assert all(line == _extends_line(rules / file) for file, line in cycles)  # each at an `extends:` key
    _replace(rules / "_common.yaml", "settings: settings.yaml\nextends: server.yaml\n", "settings: settings.yaml\n")
    # an extended file that is not a mapping
    (rules / "_pages.yaml").write_text("- a list, not a rule file\n")
    error = _load_error(rules)
    assert error.file.endswith("server.yaml") and error.line == _extends_line(rules / "server.yaml")
    assert "extends '_pages.yaml', which is not a mapping" in error.message


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
    assert "no platform 'desktop' in this rule set" in str(info.value) and "server" in str(info.value)
    assert info.value.file == str(rules)  # the folder, not a file that does not exist


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
    tail = "\n\n  # ------------------------------------------------------------------ Group"  # the track rule's
    line = _replace(rules / "server.yaml", "groups: {select: integrations.Amplitude.groups, drop_empty: true}" + tail,
                    'groups: "merge(context.traits, event)"' + tail)
    translator = engine.load("server", {"apiKey": API_KEY}, rules_dir=rules)
    with pytest.raises(engine.Rejected) as info:
        translator.translate({"type": "track", "userId": "user-12345", "event": "x", "context": {"traits": {}}}, 9)
    message = info.value.message
    assert info.value.index == 9 and info.value.rule == "track"
    assert "field body.groups (" in message and f"server.yaml:{line}) could not be computed" in message


# ---------------------------------------------------------------- templates: names and settings at load

_TRACK_EVENT_TYPE = "        event_type: event\n        event_properties:\n          cases:"  # the track rule's


def _track_template(rules: Path, template: str) -> int:
    """Give the track rule's event_type the template ``template``; its line."""
    return _replace(rules / "server.yaml", _TRACK_EVENT_TYPE,
                    f"        event_type: {{template: {template!r}}}\n        event_properties:\n          cases:")


@pytest.mark.parametrize("read", ["settings.groupTypeTrat", "settings['groupTypeTrat']",
                                  "settings.get('groupTypeTrat')"])
def test_a_template_reading_a_setting_not_in_the_catalog_does_not_load(rules, read):
    line = _track_template(rules, "{{ " + read + " }}{{ event }}")
    error = _load_error(rules)
    assert (error.rule, error.line) == ("track", line) and error.file.endswith("server.yaml")
    assert "reads setting 'groupTypeTrat', which is not in the settings catalog" in error.message
    assert error.message.endswith("(did you mean 'groupTypeTrait'?)")


def test_a_template_naming_a_field_no_message_has_does_not_load(rules):
    line = _track_template(rules, "{{ evnt }}")
    error = _load_error(rules)
    assert (error.rule, error.line) == ("track", line)
    assert "uses 'evnt', which is neither a field of any input message nor a template variable" in error.message
    assert error.message.endswith("(did you mean 'event'?)")


def test_a_check_template_naming_what_it_is_not_given_does_not_load(rules):
    line = _replace(rules / "server.yaml", "user_id {{ body.user_id | tojson }}", "user_id {{ bdy.user_id | tojson }}")
    error = _load_error(rules)
    assert error.line == line - 1 and error.file.endswith("server.yaml")  # its `error:` key
    assert "uses 'bdy', which is not a variable of this template (body, settings)" in error.message
    assert error.message.endswith("(did you mean 'body'?)")


def test_templates_using_what_the_engine_gives_still_load(rules):
    _track_template(rules, "{% set x = event %}{% for p in properties.products %}{{ p.name }}{{ loop.index }}"
                           "{% endfor %}{{ x | upper }}{{ message.type }}{{ range(2) | list | length }}"
                           "{{ settings.get('groupTypeTrait') }}{{ settings.groupTypeTrait }}")
    translator = engine.load("server", {"apiKey": API_KEY, "groupTypeTrait": "G"}, rules_dir=rules)
    [output] = translator.translate({"type": "track", "event": "e", "userId": "user-12345",
                                     "properties": {"products": [{"name": "a"}, {"name": "b"}]}})
    assert output["body"]["event_type"] == "a1b2Etrack2GG"


@pytest.mark.parametrize("command", [
    ["translate", "-p", "server"], ["explain", "-p", "server"], ["diff", "--platforms", "server,web"]])
def test_every_command_refuses_a_template_with_an_unknown_name_or_setting(rules, tmp_path, capsys, command):
    from engine.cli import main

    line = _track_template(rules, "{{ settings.eventPrefx }}{{ evnt }}")
    (tmp_path / "s.json").write_text(f'{{"apiKey": "{API_KEY}"}}')
    (tmp_path / "in.ndjson").write_text('{"type": "track", "event": "E", "userId": "user-12345"}\n')
    code = main([*command, "--rules", str(rules), "--settings", str(tmp_path / "s.json"), str(tmp_path / "in.ndjson")])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert f"server.yaml:{line}: rule 'track': body.event_type: template " in captured.err
    assert "setting 'eventPrefx', which is not in the settings catalog" in captured.err
    assert main(["lint", str(rules)]) == 1
    out = capsys.readouterr().out
    assert f"server.yaml:{line}: rule 'track': error: body.event_type: template " in out


# ---------------------------------------------------------------- rule-file schema errors in plain words

_TRACK_WHEN = "    when: {not: {fired: [order-completed.products-once, order-completed]}}\n"  # the track rule's


def test_a_misspelt_condition_key_lists_the_condition_keys_at_the_line_of_the_key(rules):
    line = _replace(rules / "server.yaml", _TRACK_WHEN,
                    "    when:\n      not:\n        fird: [order-completed.products-once, order-completed]\n")
    error = _load_error(rules)
    assert (error.rule, error.line) == ("track", line + 2)  # the `fird:` key
    assert error.path.endswith(".when.not.fird")
    assert error.message == ("a condition needs one of the keys all, any, not, fired, setting, select (or is a "
                             "list); 'fird' is none of them (did you mean 'fired'?)")
    assert "{'" not in str(error)  # no Python repr of the mapping


def test_a_key_a_condition_does_not_take_is_named_with_the_keys_it_takes(rules):
    line = _replace(rules / "server.yaml", _TRACK_WHEN, "    when: {setting: trackAllPages, equal: true}\n")
    error = _load_error(rules)
    assert (error.rule, error.line) == ("track", line)
    assert error.message == ("unexpected key 'equal' (did you mean 'equals'?); the keys allowed here: "
                             "setting, equals, in")


def test_a_misspelt_directive_key_names_the_directive_keys(rules):
    line = _replace(rules / "server.yaml", "groups: {select: integrations.Amplitude.groups, drop_empty: true}",
                    "groups: {selct: integrations.Amplitude.groups, drop_empty: true}")
    error = _load_error(rules)
    assert error.line == line and error.path.endswith(".groups.selct")
    assert "needs one of the keys select, template, value, setting, object, cases, first" in error.message
    assert error.message.endswith("'selct' is none of them (did you mean 'select'?)")


@pytest.mark.parametrize(("old", "new", "reason"), [
    ("    on: track\n", "    on: 5\n", "on: must be text or a list, not 5"),
    ("    on: track\n", "    on: track\n    stop: yes\n", "stop: must be true or false, not \"yes\""),
    ("    on: track\n", "    on: track\n    stop: null\n", "stop: must be true or false, not null"),
])
def test_a_value_of_the_wrong_kind_is_told_in_json_words(rules, old, new, reason):
    text = (rules / "server.yaml").read_text()
    at = text.index("  - name: track\n")
    (rules / "server.yaml").write_text(text[:at] + text[at:].replace(old, new, 1))
    error = _load_error(rules)
    assert error.rule == "track" and str(error).endswith(reason)
    assert "True" not in str(error) and "None" not in str(error)


# ---------------------------------------------------------------- a variant whose platform: is not its file's name

def test_a_copied_variant_that_kept_its_platform_is_reported_by_lint_and_platforms(rules, capsys):
    from engine.cli import main

    shutil.copy(rules / "server.yaml", rules / "server-eu.yaml")
    line = [n for n, text in enumerate((rules / "server-eu.yaml").read_text().splitlines(), 1)
            if text.startswith("platform:")][0]
    message = ("the file of platform 'server-eu' must declare 'platform: server-eu' (it declares 'platform: server'; "
               "a variant's file is named after its platform)")
    assert engine.platforms(rules) == ["android", "ios", "server-eu", "server", "web"]
    [finding] = [f for f in lint(rules, schema_store()) if f.level == "error"]
    assert (finding.file, finding.line, finding.message) == ("server-eu.yaml", line, message)
    assert main(["platforms", "--rules", str(rules)]) == 0
    out = capsys.readouterr().out
    assert f"  server-eu  (broken: {rules / 'server-eu.yaml'}:{line}: {message})" in out
    assert "  server     emits: httpapi" in out  # the original is still listed as itself


# ---------------------------------------------------------------- a file that does not parse: only its error

def test_a_yaml_syntax_error_is_not_followed_by_unread_setting_warnings(rules):
    _replace(rules / "server.yaml", "        event_type: event\n", '        event_type: {template: "{{ event }}"\n')
    findings = lint(rules, schema_store())
    assert [(f.file, f.level) for f in findings] == [("server.yaml", "error")]
    assert "while parsing a flow mapping" in findings[0].message


@pytest.mark.parametrize("schema, words", [
    ("{type: nope}", "invalid schema"),
    ("{type: string, pattern: '[a-'}", "invalid schema"),
    ("{type: object, properties: {v: {type: string, pattern: '(?<x'}}}", "invalid schema"),
])
def test_a_setting_whose_schema_is_not_a_schema_is_refused_at_its_line(rules, schema, words):
    """The catalog's schemas are checked quickly (jsonschema-rs's metaschema check, patterns read
    by Python's re) and, where that fails, by jsonschema, which says what is wrong: never loaded."""
    line = _replace(rules / "settings.yaml", "  versionName:\n    effect: start-up\n    schema: {type: string}\n",
                    f"  versionName:\n    effect: start-up\n    schema: {schema}\n")
    error = _load_error(rules)
    assert words in error.message and "'versionName'" in error.message
    assert error.file.endswith("settings.yaml") and error.line == line + 1  # the setting's entry
