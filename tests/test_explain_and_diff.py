"""explain: which rule, selector, fallback and setting produced every output field, and why the
other rules did not fire; diff: every platform's outputs for one message."""

from __future__ import annotations

import json

import pytest

from engine.cli import main
from support import API_KEY, translator

ORDER = {"type": "track", "userId": "user-12345", "event": "Order Completed", "messageId": "m-9",
         "properties": {"revenue": 25, "products": [{"productId": "p1", "price": 19, "quantity": 1}]}}


def test_explanation_has_the_same_outputs_as_the_translation():
    compiled = translator("server", {})
    explanation = compiled.explain(ORDER, 1)
    assert [{"target": o.target, "body": o.body} for o in explanation.outputs] == compiled.translate(ORDER, 1)
    assert explanation.rejected is None


def test_each_field_says_where_its_value_came_from():
    explanation = translator("server", {}).explain(ORDER, 1)
    first = {f.name: f for f in explanation.outputs[0].fields}
    assert first["event_type"].how.startswith("selector `event` (server.yaml:")
    assert "setting trackRevenuePerProduct is off" in first["revenue"].how
    assert not first["device_id"].present and "every fallback missing" in first["device_id"].how
    assert "`context.device.id` (missing)" in first["device_id"].how
    product = explanation.outputs[1]
    assert product.rule == "order-completed" and product.element == 0
    assert {f.name: f for f in product.fields}["price"].how == "left out: setting trackRevenuePerProduct is off (false)"


def test_fallback_that_matched_is_named():
    message = {"type": "identify", "userId": "user-12345", "anonymousId": "anon-12345"}
    [output] = translator("server", {}).explain(message, 1).outputs
    device = {f.name: f for f in output.fields}["device_id"]
    assert device.value == "anon-12345" and "fallback 2 of 2: selector `anonymousId`" in device.how


def test_rules_that_did_not_fire_say_why():
    explanation = translator("server", {}).explain(ORDER, 1)
    rules = {r.name: r for r in explanation.rules}
    assert rules["order-completed"].status == "fired" and rules["order-completed"].outputs == [1, 2]
    assert rules["track"].status == "did not fire" and rules["track"].why == "rule order-completed fired"
    assert rules["order-completed.products-once"].why == "setting trackProductsOnce is off (false)"
    assert rules["page.track-all-pages"].status == "not for this message"
    page = translator("server", {"trackNamedPages": True}).explain({"type": "page", "userId": "user-12345"}, 1)
    named = {r.name: r for r in page.rules}["page.track-named-pages"]
    assert named.status == "did not fire" and named.why == "`name` is missing"


def test_rejections_are_explained():
    explanation = translator("server", {}).explain({"type": "delete", "userId": "user-12345"}, 4)
    assert explanation.rejected["rule"] == "delete.needs-secret-key"
    assert {r.name: r for r in explanation.rules}["delete.needs-secret-key"].status == "refused the message"


@pytest.fixture
def files(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps({"apiKey": API_KEY, "trackAllPages": True}))
    (tmp_path / "m.json").write_text(json.dumps(ORDER, indent=2))
    (tmp_path / "screen.json").write_text(json.dumps({"type": "screen", "userId": "user-12345",
                                                      "name": "Settings", "category": "Merchant"}))
    return tmp_path


def test_explain_command_text_and_json(files, capsys):
    assert main(["explain", "-p", "server", "-s", str(files / "s.json"), str(files / "m.json")]) == 0
    text = capsys.readouterr().out
    assert "1. httpapi from rule order-completed (server.yaml:" in text
    assert "did not fire          track (server.yaml:" in text and "rule order-completed fired" in text
    assert main(["explain", "-p", "web", "-s", str(files / "s.json"), "--json", str(files / "m.json")]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["platform"] == "web" and document["outputs"][0]["target"] == "sdk.logEvent"
    assert {"name", "where", "spec", "status", "why", "outputs"} <= set(document["rules"][0])


def test_diff_shows_every_platform(files, capsys):
    assert main(["diff", "-s", str(files / "s.json"), str(files / "screen.json")]) == 0
    text = capsys.readouterr().out
    assert '"eventType": "Viewed Settings"}' in text and '"eventType": "Viewed Settings Screen"}' in text
    assert "web      (nothing)" in text and '"event_type": "Loaded a Screen"' in text
    assert main(["diff", "-s", str(files / "s.json"), "--json", "--platforms", "ios,android",
                 str(files / "screen.json")]) == 0
    document = json.loads(capsys.readouterr().out)
    assert sorted(document["platforms"]) == ["android", "ios"]


@pytest.mark.parametrize("command", [["explain", "-p", "server"], ["diff"], ["docs", "--out", "-"], ["lint"]])
def test_commands_on_broken_rules_exit_2_with_the_location(command, files, tmp_path, capsys):
    import shutil

    from engine.resources import default_rules_dir

    broken = tmp_path / "broken"
    shutil.copytree(default_rules_dir(), broken)
    (broken / "_pages.yaml").write_text((broken / "_pages.yaml").read_text().replace("on: page", "on: [page", 1))
    args = [*command, "--rules", str(broken)] if command[0] != "lint" else ["lint", str(broken)]
    if command[0] in ("explain", "diff"):
        args += ["-s", str(files / "s.json"), str(files / "m.json")]
    code = main(args)
    captured = capsys.readouterr()
    if command[0] == "lint":
        assert code == 1 and "_pages.yaml:" in captured.out and "invalid YAML" in captured.out
    else:
        assert code == 2 and "_pages.yaml:" in captured.err and "invalid YAML" in captured.err


@pytest.mark.parametrize("command", ["translate", "explain", "diff", "lint", "docs", "platforms"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: seg2amp " + command) and len(out) > 200


SURROGATE = '{"type":"track","event":"bad\\ud800name","userId":"user-12345"}\n'
NOT_UTF8 = b'{"type":"track","event":"bad\xffname","userId":"user-12345"}\n'


def _settings(tmp_path):
    settings = tmp_path / "s.json"
    settings.write_text(json.dumps({"apiKey": API_KEY}))
    return str(settings)


@pytest.mark.parametrize("command", [
    ["explain", "-p", "server"], ["explain", "-p", "server", "--json"],
    ["diff", "--platforms", "server,web"], ["diff", "--platforms", "server", "--json"],
])
@pytest.mark.parametrize("content", [SURROGATE.encode(), NOT_UTF8], ids=["lone-surrogate", "not-utf8"])
def test_explain_and_diff_reject_what_translate_cannot_write(tmp_path, capsys, command, content):
    (tmp_path / "m.json").write_bytes(content)
    assert main(["translate", "-p", "server", "-s", _settings(tmp_path), str(tmp_path / "m.json")]) == 1
    capsys.readouterr()
    code = main(command + ["-s", _settings(tmp_path), str(tmp_path / "m.json")])
    out = capsys.readouterr().out
    assert code == 1 and "not valid Unicode" in out
    out.encode("utf-8")  # printable: no lone surrogate reached the stream
    if "--json" in command:
        json.loads(out)


def test_explain_text_fits_the_output_encoding():
    from engine.explain import printable

    assert printable("caf\u00e9 bad\ud800", "ascii") == "caf\\xe9 bad\\ud800"
    assert printable("caf\u00e9", "utf-8") == "caf\u00e9"


def test_explain_leaves_out_the_fields_the_message_has_nothing_for_unless_asked(files, capsys):
    """F19: a page with a name and one context field: the fields whose inputs the message lacks
    are counted, not listed; --all lists them; a field left out for another reason (a latitude
    out of range) is still shown."""
    page = {"type": "page", "userId": "user-12345", "name": "Settings", "context": {"location": {"latitude": 200}}}
    (files / "page.json").write_text(json.dumps(page))
    assert main(["explain", "-p", "server", "-s", str(files / "s.json"), str(files / "page.json")]) == 0
    text = capsys.readouterr().out
    assert "ip: left out" not in text and "(missing)" not in text.split("rules:")[0]
    assert "location_lat: left out <- left out: `number(context.location.latitude) >= `-90`" in text
    [count] = [line.strip() for line in text.splitlines() if "more fields left out" in line]
    hidden = int(count.split()[0].lstrip("("))
    assert count.endswith("the message has none of the fields they read; --all shows them)") and hidden > 20
    assert main(["explain", "--all", "-p", "server", "-s", str(files / "s.json"), str(files / "page.json")]) == 0
    every = capsys.readouterr().out
    assert "ip: left out <- selector `context.ip` (missing)" in every and "more fields left out" not in every
    assert every.split("rules:")[0].count(": left out <- ") == text.split("rules:")[0].count(": left out <- ") + hidden


def test_explain_shows_the_settings_a_template_reads(files, tmp_path, capsys):
    """F19: as a selector's `setting('x')` does (a secret one cannot be read by a template: the
    rules do not load)."""
    import shutil

    from engine.resources import default_rules_dir

    rules = tmp_path / "amplitude"
    shutil.copytree(default_rules_dir(), rules)
    server = rules / "server.yaml"
    old = "        event_type: event\n        event_properties:\n          cases:"
    line = server.read_text()[:server.read_text().index(old)].count("\n") + 1
    server.write_text(server.read_text().replace(old, old.replace(
        "event_type: event", "event_type: {template: \"{{ settings.groupTypeTrait }}{{ event }}\"}"), 1))
    (files / "s.json").write_text(json.dumps({"apiKey": API_KEY, "groupTypeTrait": "co_"}))
    (files / "t.json").write_text(json.dumps({"type": "track", "userId": "user-12345", "event": "Played"}))
    assert main(["explain", "-p", "server", "-s", str(files / "s.json"), "--rules", str(rules),
                 str(files / "t.json")]) == 0
    text = capsys.readouterr().out
    assert 'event_type = "co_Played"' in text
    assert ('event_type = "co_Played"\n           <- template `{{ settings.groupTypeTrait }}{{ event }}` '
            f'(server.yaml:{line}) with setting groupTypeTrait = "co_"\n') in text
    assert API_KEY not in text
