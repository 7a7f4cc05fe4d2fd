"""A schema ``pattern`` matches the whole value where it says ``$``: a final newline is not let
through (Python's ``re`` would let ``$`` match before it), in settings and in messages, by the
check that says why as by the fast one."""

from __future__ import annotations

import json

import pytest

import engine
from engine.cli import main
from support import API_KEY, translator


def test_api_key_with_a_trailing_newline_is_refused():
    with pytest.raises(engine.SettingsError) as info:
        engine.load("server", {"apiKey": API_KEY + "\n"})
    assert info.value.key == "apiKey"


def test_cli_api_key_with_a_trailing_newline_exits_2(tmp_path, capsys):
    (tmp_path / "s.json").write_text(json.dumps({"apiKey": API_KEY + "\n"}))
    (tmp_path / "in.ndjson").write_text('{"type":"track","event":"E","userId":"user-12345"}\n')
    assert main(["translate", "-p", "server", "-s", str(tmp_path / "s.json"), str(tmp_path / "in.ndjson")]) == 2
    assert "setting 'apiKey'" in capsys.readouterr().err


@pytest.mark.parametrize("timestamp", ["2024-03-01T00:00:00Z\n", "2024-03-01\n"])
def test_message_field_with_a_trailing_newline_fails_its_pattern(timestamp):
    message = {"type": "track", "event": "E", "userId": "user-12345", "timestamp": timestamp}
    with pytest.raises(engine.Rejected) as info:
        translator("server", {}).translate(message, 1)
    assert info.value.path == "$.timestamp"


def test_the_same_message_without_the_newline_passes():
    message = {"type": "track", "event": "E", "userId": "user-12345", "timestamp": "2024-03-01T00:00:00Z"}
    assert translator("server", {}).translate(message, 1)
