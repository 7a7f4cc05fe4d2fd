"""seg2amp lint: static checks of a rule set, on the real rules and on broken copies."""

from __future__ import annotations

import json
import shutil

import pytest

from engine import load
from engine.cli import main
from engine.lint import lint
from engine.resources import bundled_dir, default_rules_dir
from engine.translator import schema_store
from engine.validation import SchemaStore
from support import API_KEY


@pytest.fixture
def rules(tmp_path):
    folder = tmp_path / "amplitude"
    shutil.copytree(default_rules_dir(), folder)
    return folder


def _findings(folder):
    return lint(folder, schema_store())


def _replace(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return text[:text.index(old)].count("\n") + 1


def test_bundled_rules_have_no_errors_and_no_warnings(capsys):
    """Issue 14 item 8 (usability F11): a user's own warnings are not mixed with a baseline."""
    assert _findings(default_rules_dir()) == []
    assert main(["lint"]) == 0
    assert "0 errors, 0 warnings" in capsys.readouterr().err


def test_path_the_input_cannot_hold(rules):
    line = _replace(rules / "server.yaml", "      ip: context.ip\n", "      ip: userId.ip\n")
    [finding] = [f for f in _findings(rules) if "userId.ip" in f.message]
    assert (finding.file, finding.line, finding.level) == ("server.yaml", line, "error")
    assert "cannot hold a field 'ip'" in finding.message and finding.rule == "fragment:context"


def test_field_no_message_has(rules):
    _replace(rules / "server.yaml", "      carrier: context.network.carrier\n",
             "      carrier: contxt.network.carrier\n")
    [finding] = [f for f in _findings(rules) if "contxt" in f.message]
    assert finding.level == "error" and "no input message has a field 'contxt'" in finding.message


def test_template_name_no_message_has(rules):
    line = _replace(rules / "_pages.yaml", '"Loaded {{ category }} Page"', '"Loaded {{ categry }} Page"')
    [finding] = [f for f in _findings(rules) if "categry" in f.message]
    assert (finding.file, finding.line, finding.rule) == ("_pages.yaml", line, "page.track-categorized-pages")


def test_unknown_setting_in_a_template(rules):
    line = _replace(rules / "_pages.yaml", '"Loaded {{ category }} Page"', '"Loaded {{ settings.pageWord }} Page"')
    [finding] = {f for f in _findings(rules) if "pageWord" in f.message}
    assert (finding.file, finding.line, finding.level) == ("_pages.yaml", line, "error")
    assert "setting 'pageWord', which is not in the settings catalog" in finding.message


def test_unread_catalog_setting(rules):
    _replace(rules / "settings.yaml", "  forceHttps:\n    effect: start-up\n", "  forceHttps:\n")
    messages = [f.message for f in _findings(rules)]
    assert any("setting 'forceHttps' is read by no rule" in m for m in messages)


def test_two_rules_that_can_emit_the_same_target(rules):
    _replace(rules / "server.yaml", "    alongside: [screen.track-all-pages]\n", "")
    [finding] = [f for f in _findings(rules) if "can both emit" in f.message]
    assert finding.rule == "screen.track-categorized-pages" and "httpapi" in finding.message


def test_schema_and_compile_errors_are_findings_and_exit_1(rules, capsys):
    _replace(rules / "ios.yaml", "    on: screen\n", "    on: screen\n    fires: always\n")
    _replace(rules / "android.yaml", "when: {setting: trackAllPagesV2}", "when: {setting: trackAllPagesV3}")
    findings = [f for f in _findings(rules) if f.level == "error"]
    assert any(f.file == "ios.yaml" and "fires" in f.message for f in findings)
    assert any(f.file == "android.yaml" and "trackAllPagesV3" in f.message for f in findings)
    assert main(["lint", str(rules)]) == 1
    out = capsys.readouterr().out
    assert "ios.yaml:" in out and "error:" in out


def test_vars_item_and_alongside_mistakes(rules):
    _replace(rules / "web.yaml", "      eventType: {select: eventType, from: vars}",
             "      eventType: {select: eventTyp, from: vars}")
    _replace(rules / "server.yaml", "      ip: context.ip\n", "      ip: {select: ip, from: item}\n")
    _replace(rules / "server.yaml", "    alongside: [screen.track-all-pages]\n",
             "    alongside: [screen.track-al-pages]\n")
    errors = [f.message for f in _findings(rules) if f.level == "error"]
    assert any("reads vars.eventTyp, which the rule does not set" in m for m in errors)
    assert any("`ip` reads `from: item` outside a foreach" in m for m in errors)
    assert any("`alongside` names 'screen.track-al-pages'" in m for m in errors)


def test_a_folder_that_is_not_a_rule_set(tmp_path, capsys):
    assert main(["lint", str(tmp_path / "missing")]) == 1
    assert "not a rule set folder" in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    assert main(["lint", str(tmp_path / "empty")]) == 1
    out = capsys.readouterr().out
    assert "not a rule set folder: no YAML file declares" in out and f"{tmp_path / 'empty'}: error:" in out


def test_one_broken_variant_does_not_make_unread_setting_warnings(rules):
    _replace(rules / "_pages.yaml", "when: {setting: trackAllPages}", "when: {setting: trackEveryPage}")
    findings = _findings(rules)
    assert [f for f in findings if "read by no rule" in f.message] == []
    assert any("trackEveryPage" in f.message for f in findings)


def test_a_finding_in_a_file_of_a_subfolder_names_its_path_in_the_rule_set(rules):
    (rules / "parts").mkdir()
    (rules / "_pages.yaml").rename(rules / "parts" / "_pages.yaml")
    _replace(rules / "parts" / "_pages.yaml", "extends: _common.yaml", "extends: ../_common.yaml")
    _replace(rules / "server.yaml", "extends: _pages.yaml", "extends: parts/_pages.yaml")
    _replace(rules / "web.yaml", "_pages.yaml]", "parts/_pages.yaml]")
    line = _replace(rules / "parts" / "_pages.yaml", '"Loaded {{ category }} Page"', '"Loaded {{ categry }} Page"')
    [finding] = [f for f in _findings(rules) if "categry" in f.message]
    assert (finding.file, finding.line) == ("parts/_pages.yaml", line)
    assert str(finding).startswith(f"parts/_pages.yaml:{line}: ")


def test_a_rule_file_the_rule_language_refuses_is_named_with_the_json_path(rules):
    _replace(rules / "ios.yaml", "    on: screen\n", "    on: screen\n    fires: always\n")
    [finding] = [f for f in _findings(rules) if f.file == "ios.yaml" and "fires" in f.message]
    assert finding.path.startswith("$.rules[") and finding.path.endswith("].fires")
    assert str(finding) == f"ios.yaml:{finding.line}: rule {finding.rule!r}: error: {finding.path}: {finding.message}"


@pytest.mark.parametrize("decoy", [True, False], ids=["a same-named schema beside the file", "none"])
def test_a_subschema_with_its_own_id_resolves_its_refs_from_its_id(rules, tmp_path, decoy):
    """`"$id": "parts/"` in a subschema makes its `$ref` read from segment/parts/, not segment/."""
    schemas = tmp_path / "schemas"
    shutil.copytree(bundled_dir("schemas"), schemas)
    common = schemas / "segment" / "common.schema.json"
    schema = json.loads(common.read_text())
    context = schema["$defs"].pop("context")
    schema["properties"]["context"] = {"$id": "parts/", "$ref": "context.schema.json"}
    common.write_text(json.dumps(schema))
    (schemas / "segment" / "parts").mkdir()
    (schemas / "segment" / "parts" / "context.schema.json").write_text(json.dumps(context))
    if decoy:  # what the $ref would name if the subschema's $id were ignored
        (schemas / "segment" / "context.schema.json").write_text(json.dumps({"type": "string"}))
    store = SchemaStore(schemas)
    assert [f for f in lint(rules, store) if f.level == "error"] == []
    _replace(rules / "server.yaml", "      ip: context.ip\n", "      ip: context.ip.v4\n")
    [finding] = [f for f in lint(rules, store) if f.level == "error"]
    assert "selector path `context.ip.v4`: context.ip cannot hold a field 'v4' (string)" in finding.message


KIOSK = """\
platform: kiosk
description: A variant that extends the shared page rules and forgets to complete them.
extends: [_device.yaml, _pages.yaml]
rules: []
"""
PAGE_RULES = ["page.track-all-pages", "page.track-categorized-pages", "page.track-named-pages"]
ORDER_RULES = ["order-completed.products-once", "order-completed"]


def _nothing_to_emit(findings, platform):
    return sorted((f for f in findings if f.level == "error" and f"variant {platform!r}" in f.message),
                  key=lambda f: f.line)


def test_a_rule_left_to_complete_that_a_variant_does_not_complete_is_an_error(rules):
    (rules / "kiosk.yaml").write_text(KIOSK)
    kiosk = load("kiosk", {"apiKey": API_KEY, "trackAllPages": True}, rules_dir=rules)
    assert kiosk.translate({"type": "page", "userId": "user-12345", "name": "Home"}) == []  # what goes unnoticed
    findings = _nothing_to_emit(_findings(rules), "kiosk")
    assert [f.rule for f in findings] == PAGE_RULES + ORDER_RULES
    first = findings[0]
    assert first.file == "_pages.yaml" and first.line == (rules / "_pages.yaml").read_text().splitlines().index(
        "  - name: page.track-all-pages") + 1
    assert "can fire but has nothing to emit" in first.message and "kiosk.yaml" in first.message
    assert "`inherit: true`" in first.message and "`remove: [page.track-all-pages]`" in first.message
    assert "`emit: nothing`" in first.message
    assert _nothing_to_emit(_findings(rules), "web") == [] and _nothing_to_emit(_findings(rules), "server") == []


def test_a_rule_left_to_complete_is_fine_once_removed_or_completed(rules):
    (rules / "kiosk.yaml").write_text(KIOSK.replace("rules: []\n", f"remove: [{', '.join(ORDER_RULES)}]\nrules:\n")
                                      + "".join(f"  - name: {name}\n    inherit: true\n    emit:\n"
                                                "      target: sdk.logEvent\n"
                                                "      body: {eventType: {select: eventType, from: vars}}\n"
                                                for name in PAGE_RULES))
    assert [f for f in _findings(rules) if f.level == "error"] == []


def test_a_rule_of_the_variant_itself_with_nothing_to_emit_is_an_error(rules):
    line = _replace(rules / "web.yaml", "    on: screen\n    emit: nothing\n", "    on: screen\n    emit: []\n")
    [finding] = _nothing_to_emit(_findings(rules), "web")
    assert (finding.file, finding.rule) == ("web.yaml", "screen.web") and finding.line == line - 3
    assert "`emit: nothing`" in finding.message


def test_a_rule_that_stops_or_rejects_or_sends_nothing_on_purpose_is_not_reported(rules):
    (rules / "kiosk.yaml").write_text(KIOSK.replace("rules: []\n", f"remove: [{', '.join(ORDER_RULES)}]\n") + """\
rules:
  - name: page.track-all-pages
    inherit: true
    stop: true
  - name: page.track-categorized-pages
    inherit: true
    emit: nothing
  - name: page.track-named-pages
    on: page
    reject: {error: no named pages on a kiosk}
""")
    assert [f for f in _findings(rules) if f.level == "error"] == []
    kiosk = load("kiosk", {"apiKey": API_KEY, "trackAllPages": True}, rules_dir=rules)
    assert kiosk.translate({"type": "page", "userId": "user-12345", "name": "Home"}) == []


def test_emit_nothing_is_the_rule_language_and_sends_nothing(rules):
    text = (rules / "_device.yaml").read_text()
    assert "    on: delete\n    emit: nothing\n" in text and "    on: alias\n    emit: nothing\n" in text
    web = load("web", {"apiKey": API_KEY}, rules_dir=rules)
    assert web.translate({"type": "screen", "userId": "user-12345", "name": "Home"}) == []
    explanation = web.explain({"type": "screen", "userId": "user-12345", "name": "Home"}, 1)
    assert [r.name for r in explanation.rules if r.status == "fired"] == ["screen.web"]
    _replace(rules / "web.yaml", "    on: screen\n    emit: nothing\n", "    on: screen\n    emit: none\n")
    [finding] = [f for f in _findings(rules) if f.level == "error"]
    assert finding.file == "web.yaml" and finding.rule == "screen.web" and finding.path.endswith(".emit")


def test_optional_fields_the_input_cannot_hold_or_never_refuses(rules):
    """input.optional (issue 13 item 4): a path no message has, or through a field that is not an
    object, is an error; one the input schema says nothing of is a warning (it is never refused,
    so declaring it changes nothing)."""
    line = _replace(rules / "_common.yaml", "    channel: feeds no output\n",
                    "    channel: feeds no output\n    contxt.ip: a typo\n    userId.name: not an object\n"
                    "    context.page.title: never refused\n")
    found = {f.message.split(":")[0]: f for f in _findings(rules) if f.rule == "input.optional"}
    assert set(found) == {"optional field `contxt.ip`", "optional field `userId.name`",
                          "optional field `context.page.title`"}
    typo = found["optional field `contxt.ip`"]
    assert (typo.file, typo.line, typo.level) == ("_common.yaml", line + 1, "error")
    assert "no input message has a field 'contxt'" in typo.message
    assert found["optional field `userId.name`"].level == "error"
    assert found["optional field `context.page.title`"].level == "warning"
    assert "says nothing of it" in found["optional field `context.page.title`"].message


def test_lint_takes_the_rule_set_folder_as_rules_like_every_command(rules, capsys):
    """F15: `seg2amp lint --rules DIR` as every other command says it; the positional form stays."""
    _replace(rules / "server.yaml", "      carrier: context.network.carrier\n",
             "      carrier: contxt.network.carrier\n")
    for argv in (["lint", "--rules", str(rules)], ["lint", str(rules)]):
        assert main(argv) == 1
        captured = capsys.readouterr()
        assert "no input message has a field 'contxt'" in captured.out and f"{rules}: 1 errors" in captured.err
    assert main(["lint", str(rules), "--rules", str(rules)]) == 2
    assert "not both" in capsys.readouterr().err


# F6 / issue 14 item 6: selector paths are checked against the input schema at every depth, and
# against the schemas of the message types of the rule's `on`.
@pytest.mark.parametrize("old, path, suggestion", [
    ("context.ip", "context.ipp", "did you mean 'ip'?"),
    ("context.network.carrier", "context.device.idd", "did you mean 'id'?"),
    ("context.network.carrier", "context.traits.emial", "did you mean 'email'?"),
    ("integer(integrations.Amplitude.session_id)", "integrations.Amplitude.sesion_id", "did you mean 'session_id'?"),
])
def test_a_misspelt_field_below_the_top_level_is_a_warning_with_a_suggestion(rules, old, path, suggestion, capsys):
    new = f"integer({path})" if old.startswith("integer(") else path
    line = _replace(rules / "server.yaml", f" {old}\n", f" {new}\n")
    [finding] = [f for f in _findings(rules) if f"`{path}`" in f.message]
    assert (finding.file, finding.line, finding.level) == ("server.yaml", line, "warning")
    assert f"has no field '{path.rsplit('.', 1)[1]}' in the input schema" in finding.message
    assert finding.message.endswith(suggestion)
    assert main(["lint", "--rules", str(rules)]) == 0  # a warning: the schema allows other fields there
    assert f"server.yaml:{line}: rule 'fragment:" in capsys.readouterr().out


def test_a_field_the_rules_message_types_do_not_have_is_reported(rules):
    """`traits` is a field of identify and group messages: a track rule reading it is reported,
    though other message types have it."""
    line = _replace(rules / "server.yaml", "        event_type: event\n        event_properties:\n          cases:",
                    "        event_type: traits.email\n        event_properties:\n          cases:")
    [finding] = [f for f in _findings(rules) if "traits.email" in f.message]
    assert (finding.file, finding.line, finding.rule, finding.level) == ("server.yaml", line, "track", "warning")
    assert "no message this rule is on (track) has a field 'traits'" in finding.message
    assert "only group, identify messages do" in finding.message


def test_free_form_objects_are_not_checked(rules):
    """properties (the event's own) and an identify's traits take any name."""
    _replace(rules / "server.yaml", "        event_type: event\n        event_properties:\n          cases:",
             "        event_type: properties.revnue\n        event_properties:\n          cases:")
    _replace(rules / "server.yaml", "omit(traits || `{}`, [setting('traitsToIncrement')",
             "omit(traits.emial || `{}`, [setting('traitsToIncrement')")
    assert [f for f in _findings(rules) if "revnue" in f.message or "emial" in f.message] == []


def test_a_field_an_object_forbids_is_an_error(rules, tmp_path):
    """Where the schema says `additionalProperties: false`, a field it does not declare cannot be
    in a valid message: an error."""
    schemas = tmp_path / "schemas"
    shutil.copytree(bundled_dir("schemas"), schemas)
    common = schemas / "segment" / "common.schema.json"
    schema = json.loads(common.read_text())
    schema["$defs"]["context"]["properties"]["device"]["additionalProperties"] = False
    common.write_text(json.dumps(schema))
    store = SchemaStore(schemas)
    line = _replace(rules / "server.yaml", "      carrier: context.network.carrier\n",
                    "      carrier: context.device.idd\n")
    [finding] = [f for f in lint(rules, store) if "idd" in f.message]
    assert (finding.line, finding.level) == (line, "error")
    assert "context.device has no field 'idd': its schema allows only" in finding.message
    assert finding.message.endswith("did you mean 'id'?")


def test_a_template_reading_a_misspelt_field_is_reported_as_a_selector_is(rules):
    line = _replace(rules / "server.yaml", "        event_type: event\n        event_properties:\n          cases:",
                    "        event_type: {template: \"{{ event }} {{ context.ipp }} {{ message['traits'].email }}\"}\n"
                    "        event_properties:\n          cases:")
    found = {f.message.split(":")[0]: f for f in _findings(rules) if f.line == line}
    assert set(found) == {"selector path `context.ipp`", "selector path `traits.email`"}
    assert all((f.level, f.rule) == ("warning", "track") for f in found.values())
    assert found["selector path `context.ipp`"].message.endswith("did you mean 'ip'?")
    assert "no message this rule is on (track) has a field 'traits'" in found["selector path `traits.email`"].message
