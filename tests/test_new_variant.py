"""Adding a platform variant is adding a file: a React Native variant that extends the Android one
and changes one naming rule, with no Python change."""

from __future__ import annotations

import json
import shutil

import pytest

import engine
from engine.cli import main
from engine.resources import default_rules_dir
from support import API_KEY

REACT_NATIVE = """\
# yaml-language-server: $schema=../../schemas/rules.schema.json
platform: react-native
description: React Native (the Android integration, with iOS-style screen names).
extends: android.yaml

rules:
  - name: screen.track-all-pages
    inherit: true
    note: React Native names screens as the iOS integration does.
    emit:
      target: sdk.logEvent
      body:
        eventType: {template: "Viewed {{ name }}"}
        eventProperties: properties
"""


@pytest.fixture
def rules(tmp_path):
    folder = tmp_path / "amplitude"
    shutil.copytree(default_rules_dir(), folder)
    (folder / "react-native.yaml").write_text(REACT_NATIVE)
    return folder


def test_the_new_variant_is_listed_and_translates(rules):
    assert "react-native" in engine.platforms(rules)
    translator = engine.load("react-native", {"apiKey": API_KEY, "trackAllPages": True}, rules_dir=rules)
    screen = {"type": "screen", "userId": "user-12345", "name": "Settings", "category": "Merchant"}
    assert translator.translate(screen) == [{"target": "sdk.logEvent", "body": {"eventType": "Viewed Settings"}}]
    # everything else is Android's
    android = engine.load("android", {"apiKey": API_KEY, "trackAllPages": True}, rules_dir=rules)
    for message in ({"type": "flush"}, {"type": "identify", "userId": "user-12345", "traits": {"a": 1}},
                    {"type": "track", "userId": "user-12345", "event": "Paid", "properties": {"revenue": 3}}):
        assert translator.translate(message) == android.translate(message)


def test_the_new_variant_works_from_the_command_line(rules, tmp_path, capsys):
    (tmp_path / "s.json").write_text(json.dumps({"apiKey": API_KEY, "trackAllPages": True}))
    (tmp_path / "in.ndjson").write_text('{"type":"screen","userId":"user-12345","name":"Home"}\n')
    code = main(["translate", "-p", "react-native", "-s", str(tmp_path / "s.json"), "--rules", str(rules),
                 str(tmp_path / "in.ndjson")])
    out = capsys.readouterr().out
    assert code == 0 and json.loads(out)["body"]["eventType"] == "Viewed Home"


NO_FLUSH = """\
platform: react-native
description: React Native (the Android integration, without flush).
extends: android.yaml

rules:
  - name: flush
    inherit: true
    note: React Native has no flush call to hand to the SDK.
    reject: {error: "flush is not supported on react-native", path: $.type}
"""


def test_a_variant_that_refuses_a_message_type_rejects_it_and_stops_listing_its_target(rules, tmp_path, capsys):
    """`inherit: true` plus `reject:` replaces the inherited emit: the variant refuses flush with
    the reason and path given, and `platforms` and `docs` no longer list sdk.uploadEvents for it."""
    from engine.docs import generate

    (rules / "react-native.yaml").write_text(NO_FLUSH)
    (tmp_path / "s.json").write_text(json.dumps({"apiKey": API_KEY}))
    (tmp_path / "in.ndjson").write_text('{"type":"flush"}\n')
    code = main(["translate", "-p", "react-native", "-s", str(tmp_path / "s.json"), "--rules", str(rules),
                 str(tmp_path / "in.ndjson")])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    record = json.loads(captured.err.splitlines()[0])
    assert (record["error"], record["path"], record["rule"]) == ("flush is not supported on react-native", "$.type",
                                                                 "flush")
    assert main(["platforms", "--rules", str(rules)]) == 0
    listing = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if "emits:" in line}
    assert "sdk.uploadEvents" in listing["android"]
    assert "sdk.uploadEvents" not in listing["react-native"] and "sdk.logEvent" in listing["react-native"]
    [row] = [line for line in generate(rules, [], {}).splitlines() if line.startswith("| `react-native` |")]
    assert "sdk.uploadEvents" not in row and "`sdk.logEvent`" in row


def test_the_readme_variant_examples_work_as_written(tmp_path, capsys):
    """README, "Adding a platform variant": `seg2amp init my-rules`, the react-native file, then the
    rule that refuses flush appended to it."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("### Adding a platform variant (no Python)")[1].split("\n### ")[0]
    variant, refusal = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    folder = tmp_path / "my-rules"
    assert main(["init", str(folder)]) == 0
    (folder / "react-native.yaml").write_text(variant + refusal)
    modeline = variant.splitlines()[0].split("$schema=")[1]
    assert (folder / modeline).is_file()
    (tmp_path / "s.json").write_text(json.dumps({"apiKey": API_KEY, "trackAllPages": True}))
    (tmp_path / "in.ndjson").write_text('{"type":"screen","userId":"user-12345","name":"Home"}\n{"type":"flush"}\n')
    capsys.readouterr()
    assert main(["translate", "-p", "react-native", "-s", str(tmp_path / "s.json"), "--rules", str(folder),
                 str(tmp_path / "in.ndjson")]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["body"]["eventType"] == "Viewed Home"
    record = json.loads(captured.err.splitlines()[0])
    assert (record["input"], record["error"], record["path"]) == (2, "flush is not supported on react-native", "$.type")
    assert main(["lint", "--rules", str(folder)]) == 0
    assert "0 errors, 0 warnings" in capsys.readouterr().err
