"""Hostile rule sets and settings are refused quickly, with file:line, instead of hanging or
crashing the load: YAML alias bombs, catastrophic regular expressions in the settings catalog,
over-deep or over-long selectors; templates cannot compute without bound."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

import engine
from engine.resources import default_rules_dir
from engine.settings import read_settings_file
from support import API_KEY, append_server_rule

LAUGHS = "{l0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]" + "".join(
    f", l{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)) + "}"
TRACK = {"type": "track", "event": "E", "userId": "user-12345", "properties": {"a": 1}}


@pytest.fixture
def rules(tmp_path) -> Path:
    folder = tmp_path / "amplitude"
    shutil.copytree(default_rules_dir(), folder)
    return folder


def _refused(rules: Path, settings: dict | None = None) -> engine.RuleError:
    started = time.monotonic()
    with pytest.raises(engine.RuleError) as info:
        engine.load("server", settings or {"apiKey": API_KEY}, rules)
    assert time.monotonic() - started < 10
    return info.value


def test_an_alias_bomb_in_a_value_is_refused_at_its_line(rules):
    line = append_server_rule(rules, "hostile", f"event_properties: {{value: {LAUGHS}}}")
    error = _refused(rules)
    assert error.file.endswith("server.yaml") and error.line == line and "aliases" in error.message


def test_an_alias_that_contains_itself_is_refused(rules):
    append_server_rule(rules, "hostile", "event_properties: {value: &a [*a]}")
    assert "contains it" in _refused(rules).message


def test_an_alias_bomb_in_a_settings_file_is_refused(tmp_path):
    (tmp_path / "s.yaml").write_text(f"apiKey: '{API_KEY}'\nbomb: {LAUGHS}\n")
    started = time.monotonic()
    with pytest.raises(engine.SettingsError) as info:
        read_settings_file(tmp_path / "s.yaml")
    assert time.monotonic() - started < 10
    assert "s.yaml" in str(info.value) and "line 2" in str(info.value)


def test_a_catastrophic_pattern_in_the_catalog_does_not_hang(rules):
    catalog = rules / "settings.yaml"
    text = catalog.read_text()
    old = "  versionName:\n    effect: start-up\n    schema: {type: string}"
    assert old in text
    catalog.write_text(text.replace(old, '  versionName:\n    effect: start-up\n'
                                         '    schema: {type: string, pattern: "^$|^(a+)+$"}'))
    started = time.monotonic()
    with pytest.raises(engine.SettingsError) as info:
        engine.load("server", {"apiKey": API_KEY, "versionName": "a" * 34 + "!"}, rules)
    assert time.monotonic() - started < 10 and info.value.key == "versionName"


@pytest.mark.parametrize("selector", [
    "(" * 1000 + "event" + ")" * 1000,
    "!" * 2000 + "event",
    "[" * 600 + "event" + "]" * 600,
    "properties." + ".".join(["a"] * 30000),
    "properties.a | " + " | ".join(["a"] * 3000),
])
def test_an_over_deep_or_over_long_selector_is_refused_at_its_line(rules, selector):
    line = append_server_rule(rules, "hostile", f"event_properties: {{object: {{x: {json.dumps(selector)}}}}}")
    error = _refused(rules)
    assert error.file.endswith("server.yaml") and error.line == line and error.rule == "hostile"
    assert "nested too deeply" in error.message or "steps" in error.message or "longer than" in error.message


@pytest.mark.parametrize("template", [
    "{% for i in range(10) %}{% for j in range(10) %}{% endfor %}{% endfor %}",
    "{% for i in [1] recursive %}{{ loop([]) }}{% endfor %}",
    "{% macro f() %}{% endmacro %}{{ f() }}",
])
def test_templates_whose_time_can_grow_without_bound_are_refused_at_load(rules, template):
    field = f"event_properties: {{object: {{x: {{template: {json.dumps(template)}}}}}}}"
    line = append_server_rule(rules, "hostile", field)
    error = _refused(rules)
    assert error.line == line and error.rule == "hostile"


@pytest.mark.parametrize("template", [
    "{{ 10 ** (properties.a * 100000000) }}",
    "{{ 'x' * (properties.a * 10000000000) }}",
    "{{ [1] * (properties.a * 10000000000) }}",
    "{{ range(properties.a * 1000000000)|length }}",
    "{% for i in range(10000) %}{{ 'x' * (properties.a * 1000000) }}{% endfor %}",
    # one step that would write far more than a template may: refused before it is taken
    "{{ 'x'|center(properties.a * 10000000000) }}",
    "{{ ('x\\n' * 1000000)|indent(properties.a * 100000) }}",
    "{{ '%0*d'|format(properties.a * 10000000000, 1) }}",
    "{{ '%010000000000d' % properties.a }}",
    "{{ ('x' * 1000000)|replace('', 'y' * 1000000) }}",
    "{{ (['x' * 1000000] * 1000000)|join }}",
    "{{ ('x' * 1000000)|wordwrap(1, wrapstring='y' * 1000000) }}",
    "{{ [1]|batch(properties.a * 10000000000, 0)|list|length }}",
    "{{ [1]|slice(properties.a * 10000000000, 0)|list|length }}",
    "{{ 'x'.ljust(properties.a * 10000000000) }}",
    "{{ '{:>{}}'.format(1, properties.a * 10000000000) }}",
    "{{ ''.join(['x' * 1000000] * 1000000) }}",
])
def test_templates_that_would_compute_without_bound_reject_the_message_quickly(rules, template):
    append_server_rule(rules, "hostile", f"event_properties: {{object: {{x: {{template: {json.dumps(template)}}}}}}}")
    translator = engine.load("server", {"apiKey": API_KEY}, rules)
    started = time.monotonic()
    with pytest.raises(engine.Rejected) as info:
        translator.translate(TRACK, 1)
    assert time.monotonic() - started < 5 and info.value.rule == "hostile"


def test_a_template_that_runs_out_of_time_rejects_the_message(rules):
    append_server_rule(rules, "hostile", "event_properties: {object: {x: {template: "
                        "\"{% for x in properties.big %}{{ properties.big|join|length }}{% endfor %}\"}}}")
    translator = engine.load("server", {"apiKey": API_KEY}, rules)
    message = {**TRACK, "properties": {"big": ["abcdefgh"] * 40_000}}
    started = time.monotonic()
    with pytest.raises(engine.Rejected) as info:
        translator.translate(message, 1)
    assert time.monotonic() - started < 5 and info.value.rule == "hostile" and "out of time" in info.value.message


def test_small_powers_and_ranges_still_work(rules):
    append_server_rule(rules, "hostile", "event_properties: {object: {x: {template: "
                        "\"{{ 2 ** 10 }}-{{ range(3)|list|length }}-{{ 'ab' * 2 }}\"}}}")
    outputs = engine.load("server", {"apiKey": API_KEY}, rules).translate(TRACK, 1)
    assert outputs[-1]["body"]["event_properties"] == {"x": "1024-3-abab"}


def test_a_loop_with_nothing_to_write_is_still_timed(rules, monkeypatch):
    """A loop's items go by the clock too, not only reads, calls and what is written."""
    append_server_rule(rules, "hostile", "event_properties: {object: {x: {template: "
                       "\"{% for x in properties.big %}{% if x %}{% endif %}{% endfor %}\"}}}")
    translator = engine.load("server", {"apiKey": API_KEY}, rules)
    monkeypatch.setattr("engine.sandbox.MAX_TEMPLATE_SECONDS", 0.005)  # the loop takes about 40 ms
    with pytest.raises(engine.Rejected) as info:
        translator.translate({**TRACK, "properties": {"big": [1] * 400_000}}, 1)
    assert "out of time" in info.value.message


def test_ordinary_text_steps_still_work(rules):
    template = ("{{ 'ab'|center(6)|length }}|{{ 'a\\nb'|indent(2)|length }}|{{ '%03d'|format(7) }}|{{ '%.2f' % 1.5 }}|"
                "{{ 'abc'|replace('b', 'x') }}|{{ ['a', 'b']|join('-') }}|{{ [1, 2, 3]|batch(2)|list|length }}|"
                "{{ 'ab'.upper() }}")
    append_server_rule(rules, "hostile", f"event_properties: {{object: {{x: {{template: {json.dumps(template)}}}}}}}")
    outputs = engine.load("server", {"apiKey": API_KEY}, rules).translate(TRACK, 1)
    assert outputs[-1]["body"]["event_properties"] == {"x": "6|5|007|1.50|axc|a-b|2|AB"}


def test_each_thread_has_its_own_template_deadline():
    """A render in another thread (one translator shared by threads) neither lifts nor moves the
    deadline of a render under way."""
    import threading

    from jinja2.exceptions import SecurityError

    from engine.sandbox import DEADLINE, in_time

    past = DEADLINE.set(time.monotonic() - 1)
    started, finished = threading.Event(), threading.Event()

    def other_render():
        token = DEADLINE.set(time.monotonic() + 60)
        started.set()
        finished.wait(10)
        DEADLINE.reset(token)

    other = threading.Thread(target=other_render)
    other.start()
    try:
        started.wait(10)
        with pytest.raises(SecurityError, match="out of time"):
            in_time()
    finally:
        finished.set()
        other.join()
        DEADLINE.reset(past)
