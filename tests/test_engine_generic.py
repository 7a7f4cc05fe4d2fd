"""The engine on a rule set that has nothing to do with Amplitude: every construct of the rule
language, variants extending a base, and compile-once evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import jmespath
import pytest
from jinja2.environment import Environment

import engine

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["kind"],
    "properties": {"kind": {"enum": ["order", "note"]}, "lines": {"type": "array"},
                   # the fields templates name (a template naming a field no message has does not load)
                   "id": {}, "text": {}, "missing": {}},
}

CATALOG = """
settings:
  shout: {schema: {type: boolean}, default: false}
  prefix: {schema: {type: string}, default: "#"}
  hidden: {schema: {type: array, items: {type: string}}, default: [secret]}
"""

BASE = """
input: {schema: shop/input.schema.json, dispatch: kind}
settings: settings.yaml
targets:
  ship: {schema: shop/out.schema.json, description: a shipment}
  log: {schema: shop/out.schema.json}
fragments:
  ids:
    fields:
      ref: {template: "{{ settings.prefix }}{{ id }}"}
rules:
  - name: order.lines
    on: order
    when: [{select: "length(lines || `[]`) > `0`"}]
    emit:
      target: ship
      foreach: lines
      include: [ids]
      body:
        sku: {select: sku, from: item}
        position: {template: "{{ index + 1 }} of {{ lines | length }}"}
        size: {select: size, from: item, map: {s: small, l: large}}
        qty: [{select: "number(qty)", from: item}, {value: 1}]
        note: {select: note, type: string}
  - name: order.empty
    on: order
    when: {not: {fired: order.lines}}
    emit: {target: log, body: {text: {value: empty order}}}
  - name: note.loud
    on: note
    when: {setting: shout}
    emit: {target: log, body: {text: {template: "{{ text | upper }}!"}}}
  - name: note.plain
    on: note
    when: {not: {fired: note.loud}}
    emit:
      target: log
      body:
        text: {template: "  {{ text }}   {{ missing }} end ", collapse_spaces: true}
        extra: "omit(@, [setting('hidden'), 'kind', 'text'])"
        level:
          cases:
            - when: {select: urgent, equals: true}
              use: {value: high}
            - use: {value: low}
  - name: note.refuse
    on: note
    when: {select: text, equals: forbidden}
    reject: {error: "note {{ id }} is forbidden", path: $.text}
"""


@pytest.fixture
def shop(tmp_path) -> tuple[Path, Path]:
    rules, schemas = tmp_path / "rules", tmp_path / "schemas"
    (schemas / "shop").mkdir(parents=True)
    rules.mkdir()
    (schemas / "shop" / "input.schema.json").write_text(json.dumps(SCHEMA))
    (schemas / "shop" / "out.schema.json").write_text(json.dumps({"type": "object"}))
    (rules / "settings.yaml").write_text(CATALOG)
    (rules / "_base.yaml").write_text(BASE)
    (rules / "store.yaml").write_text("platform: store\nextends: _base.yaml\n")
    return rules, schemas


def _load(shop, platform="store", **settings):
    rules, schemas = shop
    return engine.load(platform, settings, rules_dir=rules, schemas_dir=schemas)


def test_foreach_templates_maps_fallbacks_and_types(shop):
    order = {"kind": "order", "id": 7, "note": 5, "lines": [{"sku": "A", "size": "s", "qty": "2"}, {"sku": "B"}]}
    outputs = _load(shop).translate(order)
    assert outputs == [
        {"target": "ship", "body": {"sku": "A", "position": "1 of 2", "size": "small", "qty": 2, "ref": "#7"}},
        {"target": "ship", "body": {"sku": "B", "position": "2 of 2", "qty": 1, "ref": "#7"}},
    ]


def test_fired_conditions_settings_cases_and_whitespace(shop):
    translator = _load(shop)
    assert translator.translate({"kind": "order"}) == [{"target": "log", "body": {"text": "empty order"}}]
    note = {"kind": "note", "text": "hi", "secret": 1, "urgent": True, "tag": "x"}
    assert translator.translate(note) == [{"target": "log", "body": {
        "text": "hi end", "extra": {"urgent": True, "tag": "x"}, "level": "high"}}]
    assert _load(shop, shout=True).translate(note) == [{"target": "log", "body": {"text": "HI!"}}]


def test_reject_rule(shop):
    with pytest.raises(engine.Rejected) as info:
        _load(shop).translate({"kind": "note", "text": "forbidden", "id": 3}, 12)
    assert (info.value.message, info.value.path, info.value.index, info.value.rule) == (
        "note 3 is forbidden", "$.text", 12, "note.refuse")


def test_input_schema_error_is_located(shop):
    with pytest.raises(engine.Rejected) as info:
        _load(shop).translate({"kind": "order", "lines": "many"}, 4)
    assert info.value.path == "$.lines" and info.value.index == 4


def test_variant_replaces_and_removes_inherited_rules(shop):
    rules, _ = shop
    (rules / "outlet.yaml").write_text(
        "platform: outlet\nextends: _base.yaml\nremove: [note.loud]\n"
        "rules:\n  - name: order.empty\n    on: order\n    emit: {target: log, body: {text: {value: outlet}}}\n")
    translator = _load(shop, "outlet", shout=True)
    assert translator.translate({"kind": "order"}) == [{"target": "log", "body": {"text": "outlet"}}]
    assert translator.translate({"kind": "note", "text": "hi"})[0]["body"]["text"] == "hi end"
    assert engine.platforms(rules) == ["outlet", "store"]


def test_nothing_is_compiled_per_message(shop, monkeypatch):
    translator = _load(shop)
    calls = []
    monkeypatch.setattr(jmespath, "compile", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(Environment, "from_string", lambda *a, **k: calls.append(a))
    for _ in range(3):
        translator.translate({"kind": "order", "id": 1, "lines": [{"sku": "A"}]})
        translator.translate({"kind": "note", "text": "x"})
    assert calls == []


def test_amplitude_rules_compile_once_too(monkeypatch):
    from engine.reader import read_messages
    from support import FIXTURES, translator

    amplitude = translator("server", {"trackNamedPages": True, "sendAlias": True, "groupTypeTrait": "industry",
                                      "groupValueTrait": "name", "traitsToIncrement": ["logins"]})
    calls = []
    monkeypatch.setattr(jmespath, "compile", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(Environment, "from_string", lambda *a, **k: calls.append(a))
    for message in read_messages([str(FIXTURES / "samples" / "messages.ndjson")]):
        amplitude.translate(message)
    assert calls == []


def test_engine_code_names_no_product():
    source = "\n".join(p.read_text() for p in Path(engine.__file__).parent.glob("*.py"))
    for word in ("Amplitude", "amplitude", "Segment", "httpapi", "userId", "anonymousId"):
        assert word not in source, word


def test_settings_only_parts_of_selectors_are_folded_at_compile_time(shop):
    translator = _load(shop)
    extra = next(r for r in translator.ruleset.rules if r.name == "note.plain").emits[0].fields[1][1]
    # omit(@, [setting('hidden'), 'kind', 'text']): the list argument became one literal
    assert extra.folded["children"][1] == {"type": "literal", "value": [["secret"], "kind", "text"],
                                                  "children": []}


def test_explain_gives_what_translate_gives_on_every_documented_example():
    """explain is the walk with a tracer: its outputs, or its rejection, are translate's."""
    from support import FIXTURES, documented_cases, translator

    stems = sorted(p.stem for p in FIXTURES.glob("*.yaml"))
    checked = 0
    for param in documented_cases(*stems):
        case = param.values[0]
        compiled = translator(case.platform, case.settings)
        explanation = compiled.explain(case.message, 1)
        try:
            outputs = compiled.translate(case.message, 1)
        except engine.Rejected as rejected:
            assert explanation.rejected == rejected.as_record(), case.id
        else:
            assert explanation.rejected is None, case.id
            assert [{"target": o.target, "body": o.body} for o in explanation.outputs] == outputs, case.id
        checked += 1
    assert checked > 100


def test_json_meanings_of_types_tables_and_equality(shop):
    rules, _ = shop
    (rules / "json.yaml").write_text(
        "platform: json\nextends: _base.yaml\n"
        "rules:\n  - name: note.plain\n    on: note\n    emit:\n      target: log\n      body:\n"
        "        whole: {select: n, type: integer}\n"
        "        size: {select: n, map: {1: one, 2.5: two and a half}}\n"
        "        flags: \"keys_with_value(flags, `true`)\"\n")
    translator = _load(shop, "json")
    body = translator.translate({"kind": "note", "n": 1.0, "flags": {"a": True, "b": 1, "c": "true"}})[0]["body"]
    assert body == {"whole": 1.0, "size": "one", "flags": ["a"]}
    body = translator.translate({"kind": "note", "n": 2.5, "flags": {}})[0]["body"]
    assert body == {"size": "two and a half", "flags": []}


def test_a_dispatch_or_check_that_fails_rejects_the_message_instead_of_stopping_the_run(shop):
    rules, schemas = shop
    (rules / "odd.yaml").write_text(
        "platform: odd\nextends: _base.yaml\ninput: {schema: shop/input.schema.json, dispatch: \"abs(kind)\"}\n")
    with pytest.raises(engine.Rejected) as info:
        _load(shop, "odd").translate({"kind": "note", "text": "x"}, 3)
    assert "dispatch selector" in info.value.message and info.value.index == 3
    (rules / "checked.yaml").write_text(
        "platform: checked\nextends: _base.yaml\ntargets:\n"
        "  log: {schema: shop/out.schema.json, checks: [{assert: \"abs(text)\", error: bad, path: $.text}]}\n")
    with pytest.raises(engine.Rejected) as info:
        _load(shop, "checked").translate({"kind": "note", "text": "x"}, 5)
    assert "the check 'abs(text)'" in info.value.message and info.value.path == "$.text"


def _engine_imports() -> dict[str, set[str]]:
    """Each engine module and the engine modules it imports (at any place in it)."""
    import ast

    graph = {}
    for path in Path(engine.__file__).parent.glob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                found.update([node.module.split(".")[0]] if node.module else [alias.name for alias in node.names])
        graph[path.stem] = found - {path.stem}
    return graph


# Who must not import whom: the constructs and the fast path know nothing of how a message is run,
# explained or fed; the streams nothing of the rules or the API.
MUST_NOT_IMPORT = {
    "nodes": {"compiler", "plan", "run", "explain", "translator", "cli"},
    "plan": {"compiler", "run", "explain", "translator", "cli"},
    "run": {"compiler", "plan", "explain", "translator", "cli"},
    "validation": {"nodes", "compiler", "run"},
    "reader": {"nodes", "compiler", "run", "translator", "cli"},
    "batches": {"nodes", "compiler", "run", "translator", "cli"},
}


def test_engine_modules_import_downwards_only():
    graph = _engine_imports()
    for module, forbidden in MUST_NOT_IMPORT.items():
        assert not graph[module] & forbidden, f"engine/{module}.py imports {sorted(graph[module] & forbidden)}"
    done: set[str] = set()

    def visit(module: str, path: tuple) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module in done:
            return
        for imported in graph.get(module, ()):
            visit(imported, (*path, module))
        done.add(module)

    for module in graph:
        visit(module, ())
