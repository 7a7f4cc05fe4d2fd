"""Secret settings (``secret: true`` in the catalog): their values are never printed, by settings
errors or by explain (text or JSON)."""

from __future__ import annotations

import json

import pytest

import engine
from engine.cli import main
from support import API_KEY

SECRET = "SuperSecretValue123XYZ"
DELETE = '{"type":"delete","userId":"user-12345"}\n'


@pytest.mark.parametrize("settings", [
    {"apiKey": API_KEY + " "},
    {"apiKey": API_KEY[:-1] + "!"},
    {"apiKey": 98765432109876},
    {"apiKey": API_KEY, "secretKey": 98765432109876},
    {"apiKey": API_KEY, "secretKey": ["SuperSecretValue123XYZ"]},
])
def test_settings_errors_do_not_echo_a_secret(tmp_path, capsys, settings):
    (tmp_path / "s.json").write_text(json.dumps(settings))
    (tmp_path / "in.ndjson").write_text(DELETE)
    code = main(["translate", "-p", "server", "-s", str(tmp_path / "s.json"), str(tmp_path / "in.ndjson")])
    err = capsys.readouterr().err
    assert code == 2 and "setting '" in err
    for value in settings.values():
        shown = value if isinstance(value, str) else json.dumps(value)
        if value != API_KEY:
            assert shown.strip() not in err and "98765432109876" not in err and SECRET not in err


def test_secret_setting_error_is_still_a_settings_error():
    with pytest.raises(engine.SettingsError) as info:
        engine.load("server", {"apiKey": API_KEY, "secretKey": 12345678})
    assert info.value.key == "secretKey" and "12345678" not in str(info.value)


def test_a_non_secret_setting_error_shows_the_value():
    with pytest.raises(engine.SettingsError) as info:
        engine.load("server", {"apiKey": API_KEY, "sendAlias": "maybe"})
    assert '"maybe"' in str(info.value)


@pytest.mark.parametrize("as_json", [False, True])
def test_explain_does_not_show_a_secret(tmp_path, capsys, as_json):
    (tmp_path / "s.json").write_text(json.dumps({"apiKey": API_KEY, "secretKey": SECRET}))
    (tmp_path / "m.json").write_text(DELETE)
    main(["explain", "-p", "server", "-s", str(tmp_path / "s.json"), str(tmp_path / "m.json")]
         + (["--json"] if as_json else []))
    out = capsys.readouterr().out
    assert "setting secretKey is on (set)" in out
    assert SECRET not in out and API_KEY not in out


def test_explain_of_a_selector_reading_a_secret_hides_it():
    from engine.functions import RuleFunctions
    from engine.nodes import _shown

    functions = RuleFunctions({"k": SECRET, "n": 3}, frozenset({"k"}))
    assert _shown("k", functions.settings["k"], functions.secrets) == "(set)"
    assert _shown("k", "", functions.secrets) == "(not set)"
    assert _shown("n", 3, functions.secrets) == "3"


@pytest.mark.parametrize("text", [
    f"apiKey: {API_KEY}: x\n",
    f'{{"apiKey": "{API_KEY}",\n "secretKey": "{SECRET}" x}}\n',
])
def test_a_settings_syntax_error_does_not_quote_the_file(tmp_path, capsys, text):
    (tmp_path / "s.json").write_text(text)
    (tmp_path / "in.ndjson").write_text(DELETE)
    code = main(["translate", "-p", "server", "-s", str(tmp_path / "s.json"), str(tmp_path / "in.ndjson")])
    err = capsys.readouterr().err
    assert code == 2 and "neither JSON nor YAML" in err and ", line " in err
    assert API_KEY not in err and SECRET not in err
