"""Start-up: the compiled plan of a rule set is kept between runs (engine/codecache.py), addressed
by the generated source itself, so it is never stale; a damaged entry is compiled again, and a
folder others may write is not used. ``seg2amp translate`` keeps the whole compiled rule set
(engine/plancache.py): a kept one translates, refuses and warns as the loaded rules do, is never
used for other rules, settings or engine, nor when damaged, and never holds a secret."""

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


# ---- the whole compiled rule set kept for `seg2amp translate` (engine/plancache.py)

def _translate_file(tmp_path, name: str, settings: dict, rules=None, jobs: str = "1") -> tuple[str, str]:
    from engine.cli import main

    settings_file = tmp_path / f"{name}.settings.json"
    settings_file.write_text(json.dumps({"apiKey": API_KEY, **settings}))
    out, rejects = tmp_path / f"{name}.out", tmp_path / f"{name}.rejects"
    extra = ["--rules", str(rules)] if rules else []
    source = tmp_path / "input.ndjson"  # the samples, and messages the walk refuses or warns about
    source.write_text((FIXTURES / "samples" / "messages.ndjson").read_text() + "\n".join([
        '{"type":"group","userId":"user-12345","traits":{"a":1}}', "not json",
        '{"type":"track","event":"E","userId":"u","anonymousId":"anon-12345","timestamp":"2026-13-01"}',
        '{"type":"identify","userId":"user-12345","context":{"locale":7},"traits":{"plan":"pro"}}']) + "\n")
    main(["translate", "-p", "server", "-s", str(settings_file), "--jobs", jobs, "-o", str(out), "--rejects",
          str(rejects), *extra, str(source)])
    return out.read_text(), rejects.read_text()


def _kept(settings: dict, rules=None):
    from engine.cli import _load_translate

    return _load_translate("server", {"apiKey": API_KEY, **settings}, str(rules) if rules else None, None)


def test_a_kept_rule_set_translates_and_refuses_as_the_loaded_rules_do(cache, tmp_path, monkeypatch):
    from engine.plancache import CachedTranslator

    first = _translate_file(tmp_path, "first", {"trackAllPages": True})  # loads the rules, keeps the plan
    assert isinstance(_kept({"trackAllPages": True}), CachedTranslator)
    again = _translate_file(tmp_path, "again", {"trackAllPages": True})  # runs the kept plan
    twice = _translate_file(tmp_path, "twice", {"trackAllPages": True}, jobs="2")
    monkeypatch.setenv("SEG2AMP_CACHE", "off")
    assert not isinstance(_kept({"trackAllPages": True}), CachedTranslator)
    loaded = _translate_file(tmp_path, "loaded", {"trackAllPages": True})
    assert first == again == twice == loaded
    assert '"error"' in loaded[1]  # the samples include refused messages: the walk said why, from a kept plan too


def test_a_kept_rule_set_is_never_used_for_other_rules_settings_or_a_damaged_entry(cache, tmp_path):
    import shutil

    from engine.plancache import CachedTranslator
    from engine.resources import default_rules_dir

    _translate_file(tmp_path, "a", {})
    assert isinstance(_kept({}), CachedTranslator)
    assert not isinstance(_kept({"trackNamedPages": True}), CachedTranslator)  # other settings: loaded
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    _translate_file(tmp_path, "copy", {}, rules=rules)
    assert isinstance(_kept({}, rules), CachedTranslator)
    server = rules / "server.yaml"
    server.write_text(server.read_text().replace("# ", "#  ", 1))  # any change of any file of the rules
    assert not isinstance(_kept({}, rules), CachedTranslator)
    for entry in _entries(cache):  # damage every entry: none is trusted
        data = bytearray(entry.read_bytes())
        data[len(data) // 2] ^= 0xFF
        entry.write_bytes(bytes(data))
    assert not isinstance(_kept({}), CachedTranslator)
    assert isinstance(_kept({}), CachedTranslator)  # rewritten by that load


def test_a_kept_rule_set_never_holds_a_secret(cache, tmp_path):
    secret = "s3cr3tK3y0123456789abcdefXYZ"
    _translate_file(tmp_path, "secret", {"secretKey": secret})
    assert _entries(cache)
    for entry in _entries(cache):
        assert secret.encode() not in entry.read_bytes()
        assert API_KEY.encode() not in entry.read_bytes()


def test_a_kept_rule_set_says_the_settings_warnings_each_run(cache, tmp_path, capsys):
    for name in ("first", "kept"):
        _translate_file(tmp_path, name, {"notASetting": 1})
        assert "seg2amp: warning:" in capsys.readouterr().err
        assert "notASetting" in str(_kept({"notASetting": 1}).warnings)


def test_a_run_with_a_kept_rule_set_loads_neither_the_compiler_nor_its_libraries(cache, tmp_path):
    import subprocess
    import sys

    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"apiKey": API_KEY}))
    source = FIXTURES / "samples" / "messages.ndjson"
    script = ("import sys\nfrom engine.cli import main\n"
              f"code = main(['translate', '-p', 'server', '-s', {str(settings)!r}, '-o', {os.devnull!r}, "
              f"{str(source)!r}])\n"
              "print(sorted(m for m in ('engine.compiler', 'engine.loader', 'jinja2', 'yaml', 'jsonschema', "
              "'referencing') if m in sys.modules), code)")
    environment = {**os.environ, "SEG2AMP_CACHE": str(cache)}
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment,
                           timeout=120) for _ in range(2)]
    assert "engine.compiler" in runs[0].stdout  # the first run loads the rules, and keeps them
    assert runs[1].stdout.strip() == "[] 0", runs[1].stderr  # the next one runs the kept plan alone
