"""Settings: defaults from the catalog, unknown keys warned about, bad values refused by name."""

from __future__ import annotations

import json

import pytest

import engine
from engine.cli import main
from engine.settings import read_settings_file
from support import API_KEY


def test_missing_keys_take_catalog_defaults():
    translator = engine.load("server", {"apiKey": API_KEY})
    settings = translator.settings
    assert settings["trackNamedPages"] is False and settings["trackCategorizedPages"] is False
    assert settings["trackAllPages"] is False and settings["useLogRevenueV2"] is True
    assert settings["traitsToIncrement"] == [] and settings["minIdLength"] == 5


def test_unknown_key_is_a_warning():
    """Issue 14 item 10: from Python too, a misspelt key warns (Python's warnings), not only in
    ``translator.warnings``: it would quietly leave a feature off."""
    with pytest.warns(engine.SettingWarning, match="'someNewSegmentKey' is not in the settings catalog") as found:
        translator = engine.load("server", {"apiKey": API_KEY, "someNewSegmentKey": 1})
    assert translator.warnings == ["setting 'someNewSegmentKey' is not in the settings catalog; ignored"]
    assert found[0].filename == __file__  # pointed at the caller's line


def test_known_keys_give_no_python_warning(recwarn):
    engine.load("server", {"apiKey": API_KEY, "trackNamedPages": True})
    assert not [w for w in recwarn if issubclass(w.category, engine.SettingWarning)]


@pytest.mark.parametrize("settings, key", [
    ({"apiKey": API_KEY, "trackNamedPages": "yes"}, "trackNamedPages"),
    ({"apiKey": API_KEY, "traitsToIncrement": "logins"}, "traitsToIncrement"),
    ({"apiKey": API_KEY, "traitsToIncrement": [1]}, "traitsToIncrement"),
    ({"apiKey": API_KEY, "minIdLength": 0}, "minIdLength"),
    ({"apiKey": "not-a-key"}, "apiKey"),
    ({"apiKey": API_KEY + "0"}, "apiKey"),
    ({}, "apiKey"),
])
def test_bad_value_names_the_setting(settings, key):
    with pytest.raises(engine.SettingsError) as info:
        engine.load("server", settings)
    assert info.value.key == key
    assert str(info.value).startswith(f"setting {key!r}: ")


def test_api_key_error_says_what_it_must_be():
    with pytest.raises(engine.SettingsError) as info:
        engine.load("server", {"apiKey": "abc"})
    assert "32 letters and digits" in str(info.value)


def test_null_takes_the_default():
    assert engine.load("server", {"apiKey": API_KEY, "trackAllPages": None}).settings["trackAllPages"] is False


def test_settings_file_json_yaml_and_wrapped(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps({"apiKey": API_KEY, "sendAlias": True}))
    (tmp_path / "s.yaml").write_text(f"apiKey: '{API_KEY}'\nsendAlias: true\ntraitsToIncrement: [logins]\n")
    (tmp_path / "w.json").write_text(json.dumps({"settings": {"apiKey": API_KEY}}))
    assert read_settings_file(tmp_path / "s.json") == {"apiKey": API_KEY, "sendAlias": True}
    assert read_settings_file(tmp_path / "s.yaml")["traitsToIncrement"] == ["logins"]
    assert read_settings_file(tmp_path / "w.json") == {"apiKey": API_KEY}


def test_cli_bad_setting_exits_2_naming_the_key(tmp_path, capsys):
    (tmp_path / "s.json").write_text(json.dumps({"apiKey": API_KEY, "sendAlias": "on"}))
    (tmp_path / "in.ndjson").write_text('{"type":"alias","previousId":"a1234","userId":"b1234"}\n')
    code = main(["translate", "-p", "server", "-s", str(tmp_path / "s.json"), str(tmp_path / "in.ndjson")])
    captured = capsys.readouterr()
    assert code == 2
    assert "setting 'sendAlias'" in captured.err
    assert captured.out == ""


def test_cli_unknown_setting_warns_on_stderr(tmp_path, capsys):
    (tmp_path / "s.json").write_text(json.dumps({"apiKey": API_KEY, "futureKey": True}))
    (tmp_path / "in.ndjson").write_text("")
    assert main(["translate", "-p", "server", "-s", str(tmp_path / "s.json"), str(tmp_path / "in.ndjson")]) == 0
    err = capsys.readouterr().err
    assert "seg2amp: warning: setting 'futureKey'" in err
    assert "SettingWarning" not in err  # said once, in the command's words


@pytest.mark.parametrize("command", ["translate", "explain", "diff"])
def test_cli_without_settings_says_the_file_is_needed(tmp_path, capsys, command):
    """Usability review F20: --settings looks optional; without it the error says what to give."""
    (tmp_path / "in.ndjson").write_text('{"type": "track", "event": "E", "userId": "user-12345"}\n')
    platform = ["-p", "server"] if command != "diff" else []
    assert main([command, *platform, str(tmp_path / "in.ndjson")]) == 2
    err = capsys.readouterr().err
    assert "setting 'apiKey': is required" in err and "no --settings FILE was given" in err


@pytest.mark.parametrize(("key", "value", "text"), [
    ("endpoint", True, "setting 'endpoint': must be a string (got true)"),
    ("versionName", ["1.0", None], "setting 'versionName': must be a string (got [\"1.0\", null])"),
    ("traitsToIncrement", ["logins", False],
     "setting 'traitsToIncrement': $[1] must be a string (got [\"logins\", false])"),
    ("mapQueryParams", {"q": None},
     "setting 'mapQueryParams': $.q must be one of \"user_properties\", \"event_properties\" (got {\"q\": null})"),
    ("minIdLength", 0, "setting 'minIdLength': must be at least 1 (got 0)"),
    ("endpoint", 10**400, "setting 'endpoint': must be a string (got 1000"),  # a value only jsonschema takes
    ("trackAllPages", {1: 2}, "setting 'trackAllPages': must be true or false (got {\"1\": 2})"),
], ids=["type", "array", "item", "enum-inside", "minimum", "a-number-jsonschema-rs-cannot-take", "python-key"])
def test_a_bad_setting_is_told_in_json_words(key, value, text):
    with pytest.raises(engine.SettingsError) as info:
        engine.load("server", {"apiKey": API_KEY, key: value})
    assert str(info.value).startswith(text)
    assert not {"True", "False", "None", "'string'", "'boolean'"} & set(str(info.value).replace("(", " ").split())


def test_cli_tells_a_bad_setting_in_json_words(tmp_path, capsys):
    (tmp_path / "s.json").write_text(json.dumps({"apiKey": API_KEY, "endpoint": True}))
    (tmp_path / "in.ndjson").write_text('{"type":"track","event":"E","userId":"user-12345"}\n')
    assert main(["translate", "-p", "server", "-s", str(tmp_path / "s.json"), str(tmp_path / "in.ndjson")]) == 2
    assert "seg2amp: error: setting 'endpoint': must be a string (got true)" in capsys.readouterr().err
