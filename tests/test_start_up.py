"""Start-up: the compiled plan of a rule set is kept between runs (engine/codecache.py), addressed
by the generated source itself, so it is never stale; a damaged entry is compiled again, and a
folder others may write is not used."""

from __future__ import annotations

import json
import os

import pytest

import engine
from engine import codecache
from support import API_KEY, FIXTURES

MESSAGES = [json.loads(line) for line in (FIXTURES / "samples" / "messages.ndjson").read_text().splitlines()
            if line.strip()]


def _outputs(settings: dict) -> list:
    translator = engine.load("server", {"apiKey": API_KEY, **settings})
    results = []
    for message in MESSAGES:
        try:
            results.append(translator.translate(message))
        except engine.Rejected as rejected:
            results.append(str(rejected))
    return results


def _entries(folder) -> list:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("SEG2AMP_CACHE", str(folder))
    return folder


def test_a_cached_plan_gives_the_outputs_of_a_compiled_one(cache, monkeypatch):
    first = _outputs({"trackAllPages": True})
    [entry] = _entries(cache)
    again = _outputs({"trackAllPages": True})  # read back from the entry
    assert _entries(cache) == [entry]
    monkeypatch.setenv("SEG2AMP_CACHE", "off")
    assert first == again == _outputs({"trackAllPages": True})


def test_other_settings_make_another_entry_never_a_stale_one(cache):
    _outputs({})
    _outputs({"trackNamedPages": True})
    assert len(_entries(cache)) == 2


def test_a_damaged_entry_is_compiled_again_and_rewritten(cache, monkeypatch):
    expected = _outputs({})
    [entry] = _entries(cache)
    good = entry.read_bytes()
    for damaged in (good[:100], good[:40] + bytes([good[40] ^ 0xFF]) + good[41:], b""):
        entry.write_bytes(damaged)
        assert _outputs({}) == expected
        assert entry.read_bytes() == good


def test_a_folder_others_may_write_is_not_used(cache):
    cache.mkdir(mode=0o777)
    os.chmod(cache, 0o777)
    expected = _outputs({})
    assert _entries(cache) == []
    os.chmod(cache, 0o700)
    assert _outputs({}) == expected and len(_entries(cache)) == 1


def test_at_most_max_entries_are_kept(cache, monkeypatch):
    monkeypatch.setattr(codecache, "MAX_ENTRIES", 2)
    for settings in ({}, {"trackNamedPages": True}, {"trackAllPages": True}):
        _outputs(settings)
    assert len(_entries(cache)) == 2
