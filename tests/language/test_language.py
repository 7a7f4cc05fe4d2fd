"""The rule language's compliance suite: every case of ``tests/language/*.yaml`` (the format is in
``tests/language/README.md``) written out as a small rule set folder, loaded, and run through
every way the engine evaluates a message, which must all give the case's expected result."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

import engine
from engine import run as engine_run

# =================================================================================================
# ADAPTER: how each way of evaluating a message is reached (engine.run.walk, the rule set's
# generated plan, Translator.translate and Translator.explain); if they move, re-point these four
# functions and nothing else.
# Each returns an ``Outcome``: the outputs ([{"target", "body"}]) with the warnings of the optional
# input fields dropped ([{"path", "warning"}]), or the rejection ({"path", "error"}), or (the plan
# only) that it gave the message up.
# =================================================================================================

def _warnings(dropped: list) -> list[dict]:
    return [{"path": warning.path, "warning": warning.message} for warning in dropped]


def run_walk(translator: engine.Translator, message: Any) -> Outcome:
    """(a) The reference: the walk (input checked, each construct's ``evaluate``, outputs checked)."""
    dropped: list = []
    try:
        return Outcome(outputs=engine_run.walk(translator.ruleset, message, 1, warnings=dropped),
                       warnings=_warnings(dropped))
    except engine.Rejected as rejected:
        return Outcome(rejected={"path": rejected.path, "error": rejected.message}, warnings=_warnings(dropped))


def run_plan(translator: engine.Translator, message: Any) -> Outcome:
    """(b) The generated plan (the fast path), on a message that passed the input check as
    ``translate`` runs it: its outputs, or False (an output refused), or an exception (a rule
    rejected, or something it leaves to the walk)."""
    ruleset = translator.ruleset
    assert ruleset.plan is not None, "the rule set has no generated plan"
    try:
        message, dropped = engine_run.admit(ruleset, message, 1)  # the input check, optional fields dropped
    except engine.Rejected as rejected:
        return Outcome(rejected={"path": rejected.path, "error": rejected.message})
    try:
        built = ruleset.plan(message)
    except Exception as exc:  # noqa: BLE001 - the plan gives a message up by raising
        return Outcome(gave_up=f"raised {type(exc).__name__}: {exc}")
    if built is False:
        return Outcome(gave_up="returned False (an output refused)")
    return Outcome(outputs=[{"target": target, "body": body} for _rule, target, body in built],
                   warnings=_warnings(dropped))


def run_explain(translator: engine.Translator, message: Any) -> Outcome:
    """(c) explain: the same translation, saying why."""
    explanation = translator.explain(message, 1)
    said = [{"path": dropped["path"], "warning": dropped["warning"]} for dropped in explanation.as_dict()["dropped"]]
    if explanation.rejected is not None:
        return Outcome(rejected={"path": explanation.rejected["path"], "error": explanation.rejected["error"]})
    return Outcome(outputs=[{"target": output.target, "body": output.body} for output in explanation.outputs],
                   warnings=said)


def run_translate(translator: engine.Translator, message: Any) -> Outcome:
    """The public API."""
    dropped: list = []
    try:
        return Outcome(outputs=translator.translate(message, 1, warnings=dropped), warnings=_warnings(dropped))
    except engine.Rejected as rejected:
        return Outcome(rejected={"path": rejected.path, "error": rejected.message}, warnings=_warnings(dropped))


WAYS = {"walk": run_walk, "plan": run_plan, "translate": run_translate, "explain": run_explain}

# =================================================================================================
# end of the adapter
# =================================================================================================


@dataclass
class Outcome:
    outputs: list | None = None
    rejected: dict | None = None
    gave_up: str | None = None
    warnings: list | None = None

    def __str__(self) -> str:
        if self.outputs is not None:
            return f"outputs {json.dumps(self.outputs)}, warnings {json.dumps(self.warnings)}"
        if self.rejected is not None:
            return f"rejected {json.dumps(self.rejected)}"
        return f"gave up: {self.gave_up}"


HERE = Path(__file__).resolve().parent
RULES_SCHEMA = HERE.parent.parent / "schemas" / "rules.schema.json"

# What a case file's ``defaults`` start from.
BUILTIN_DEFAULTS: dict = {
    "platform": "test",
    "input": {"type": "object"},
    "optional": None,
    "dispatch": "type",
    "catalog": {},
    "targets": {"out": {"schema": {"type": "object"}}},
    "fragments": {},
}
MERGED = ("catalog", "targets", "fragments")  # merged by name; the other defaults are replaced
CASE_KEYS = {"name", "note", "xfail", "xfail_ways", "platform", "input", "optional", "dispatch", "catalog", "targets",
             "fragments", "files", "rules", "body", "when", "settings", "message", "key_order",
             "outputs", "warnings", "rejected", "load_error"}
EXPECTED = ("outputs", "rejected", "load_error")


# ------------------------------------------------------------------------------------ reading cases


class _CaseLoader(yaml.SafeLoader):
    """YAML as the engine reads rule files (1.2 booleans: only true / false), and nothing that is
    not JSON: no dates, no yes / no / on / off."""


_CaseLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_CaseLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))


def _case_files() -> list[Path]:
    return sorted(HERE.glob("*.yaml"))


def _load_cases() -> list:
    params = []
    for path in _case_files():
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_CaseLoader)  # noqa: S506 - a safe loader
        assert set(document) <= {"description", "defaults", "cases"}, f"{path.name}: unknown top-level keys"
        defaults = _merge(BUILTIN_DEFAULTS, document.get("defaults") or {})
        seen = set()
        for case in document["cases"]:
            name = case.get("name")
            assert name and name not in seen, f"{path.name}: a case without a name, or a repeated one: {name}"
            seen.add(name)
            case_id = f"{path.name}::{name}"
            params.append(pytest.param(defaults, case, id=case_id))
    return params


def _merge(base: dict, over: dict) -> dict:
    merged = dict(base)
    for key, value in over.items():
        merged[key] = {**(base.get(key) or {}), **(value or {})} if key in MERGED else value
    return merged


def _check_case_shape(case: dict) -> None:
    unknown = set(case) - CASE_KEYS
    assert not unknown, f"unknown case keys {sorted(unknown)}"
    assert sum(key in case for key in EXPECTED) == 1, "a case expects exactly one of outputs, rejected, load_error"
    assert sum(key in case for key in ("files", "rules", "body")) == 1, "a case has one of files, rules, body"
    assert "when" not in case or "body" in case, "'when' goes with the 'body' shorthand"
    if "load_error" not in case:
        assert "message" in case, "a translating case needs a message"
        assert _is_json(case["message"]), "the message is not plain JSON"
    if "outputs" in case:
        assert _is_json(case["outputs"]), "the expected outputs are not plain JSON"
        assert all(set(output) == {"target", "body"} for output in case["outputs"]), "outputs are {target, body}"
    if "warnings" in case:
        assert "outputs" in case, "warnings go with outputs"
        assert all(set(warning) == {"path", "warning"} for warning in case["warnings"]), "warnings are {path, warning}"
    if "rejected" in case:
        assert set(case["rejected"]) == {"path", "error"}, "rejected is {path, error}"
    if "load_error" in case:
        assert {"file", "line", "message"} <= set(case["load_error"]) <= {"file", "line", "message", "rule"}, \
            "load_error is {file, line, message} and maybe rule"
    if "xfail" in case:
        assert isinstance(case["xfail"], str) and case["xfail"], "xfail gives the reason"
    assert "xfail_ways" not in case or ("xfail" in case and set(case["xfail_ways"]) <= {*WAYS, FINAL, "load"}), \
        "xfail_ways names ways of an xfail case"


# ------------------------------------------------------------------------------------ the rule set


def write_rule_set(root: Path, schema_root: Path, defaults: dict, case: dict) -> tuple[Path, Path]:
    """The case's rule set folder (written below ``root``) and its schemas folder: the rule
    language's schema, ``input.schema.json`` and ``t/<target>.schema.json``. Cases whose schemas
    are the same share one schemas folder below ``schema_root`` (named by its contents), so that
    the engine checks the rule language's schema once per such folder, not once per case."""
    settings = _merge(defaults, {key: case[key] for key in ("input", "optional", "dispatch", "catalog", "targets",
                                                            "fragments") if key in case})
    schema_files = {"rules.schema.json": RULES_SCHEMA.read_text(encoding="utf-8"),
                    "input.schema.json": json.dumps(settings["input"])}
    targets = {}
    for name, target in settings["targets"].items():
        schema_files[f"t/{name}.schema.json"] = json.dumps(target["schema"])
        targets[name] = {**target, "schema": f"t/{name}.schema.json"}
    schemas = schema_root / hashlib.sha256(json.dumps(schema_files, sort_keys=True).encode()).hexdigest()[:16]
    if not schemas.exists():
        partial = schemas.with_name(schemas.name + ".partial")
        for name, text in schema_files.items():
            (partial / name).parent.mkdir(parents=True, exist_ok=True)
            (partial / name).write_text(text, encoding="utf-8")
        partial.rename(schemas)
    rules = root / "rules"
    rules.mkdir()
    (rules / "settings.yaml").write_text(json.dumps({"settings": settings["catalog"]}, indent=1), encoding="utf-8")
    base: dict = {"input": {"schema": "input.schema.json"}, "settings": "settings.yaml", "targets": targets}
    if settings["dispatch"] is not None:
        base["input"]["dispatch"] = settings["dispatch"]
    if settings["optional"] is not None:
        base["input"]["optional"] = settings["optional"]
    if settings["fragments"]:
        base["fragments"] = settings["fragments"]
    (rules / "_base.yaml").write_text(json.dumps(base, indent=1), encoding="utf-8")
    if "files" in case:
        for name, text in case["files"].items():
            (rules / name).write_text(text, encoding="utf-8")
    else:
        if "body" in case:
            rule = {"name": "r", "emit": {"target": "out", "body": case["body"]}}
            if "when" in case:
                rule["when"] = case["when"]
            rule_list = [rule]
        else:
            rule_list = case["rules"]
        variant = {"platform": case.get("platform", defaults["platform"]), "extends": "_base.yaml", "rules": rule_list}
        (rules / f"{variant['platform']}.yaml").write_text(json.dumps(variant, indent=1), encoding="utf-8")
    return rules, schemas


# ------------------------------------------------------------------------------------ comparing


def _is_json(value: Any) -> bool:
    if value is None or isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    if type(value) is list:
        return all(_is_json(item) for item in value)
    if type(value) is dict:
        return all(type(key) is str and _is_json(item) for key, item in value.items())
    return False


def json_equal(a: Any, b: Any, key_order: bool = False) -> bool:
    """Equality as JSON means it: true is not 1, 1 is 1.0; with ``key_order``, objects' keys
    must also come in the same order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        if key_order and list(a) != list(b):
            return False
        return a.keys() == b.keys() and all(json_equal(a[k], b[k], key_order) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y, key_order) for x, y in zip(a, b))  # noqa: B905
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def scribble(value: Any, seen: set | None = None) -> None:
    """Change every object and list inside ``value`` in place, as a user of the outputs may."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    if isinstance(value, dict):
        seen.add(id(value))
        for item in list(value.values()):
            scribble(item, seen)
        value["~scribbled"] = True
    elif isinstance(value, list):
        seen.add(id(value))
        for item in list(value):
            scribble(item, seen)
        value.append("~scribbled")


def _warnings_problem(found: list, expected: list) -> str | None:
    """The warnings, in order: each with the expected path, and a text containing the expected one."""
    if len(found) != len(expected) or any(got["path"] != want["path"] or want["warning"] not in got["warning"]
                                          for got, want in zip(found, expected, strict=True)):
        return f"expected warnings {json.dumps(expected)}, got {json.dumps(found)}"
    return None


def _problem(way: str, outcome: Outcome, case: dict) -> str | None:
    """What is wrong with one way's outcome, or None."""
    if "outputs" in case:
        if outcome.outputs is None:
            return f"expected outputs, got {outcome}"
        if not _is_json(outcome.outputs):
            return f"the outputs are not plain JSON: {outcome.outputs!r}"
        if not json_equal(outcome.outputs, case["outputs"], bool(case.get("key_order"))):
            return f"expected {json.dumps(case['outputs'])}, got {json.dumps(outcome.outputs)}"
        return _warnings_problem(outcome.warnings or [], case.get("warnings") or [])
    expected = case["rejected"]
    if outcome.warnings:
        return f"a rejected message gave warnings: {json.dumps(outcome.warnings)}"
    if way == "plan":  # the plan need only not give outputs for a message that is rejected
        return f"gave outputs for a rejected message: {outcome}" if outcome.outputs is not None else None
    if outcome.rejected is None:
        return f"expected rejected {json.dumps(expected)}, got {outcome}"
    if outcome.rejected["path"] != expected["path"] or expected["error"] not in outcome.rejected["error"]:
        return f"expected rejected {json.dumps(expected)}, got {outcome}"
    return None


# ------------------------------------------------------------------------------------ the test


@pytest.mark.parametrize(("defaults", "case"), _load_cases())
def test_case(defaults: dict, case: dict, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    _check_case_shape(case)
    problems = _run_case(defaults, case, tmp_path, tmp_path_factory.getbasetemp() / "language-schemas")
    if "xfail" not in case:
        assert not problems, "\n".join(f"{way}: {problem}" for way, problem in problems)
        return
    # A known disagreement between the engine and its documentation: the ways named in
    # xfail_ways (default: all) must still fail, the others must pass.
    failing = case.get("xfail_ways") or [*WAYS, FINAL, "load"]
    unexpected = [f"{way}: {problem}" for way, problem in problems if way not in failing]
    assert not unexpected, "\n".join(unexpected)
    if not problems:
        pytest.fail(f"xfail case passes now: remove its xfail ({case['xfail']})")
    pytest.xfail(case["xfail"] + " | " + "; ".join(f"{way}: {problem}" for way, problem in problems))


FINAL = "rules-unchanged"  # the last check: translate once more, after every way's outputs were changed


def _run_case(defaults: dict, case: dict, tmp_path: Path, schema_root: Path) -> list[tuple[str, str]]:
    """The (way, problem) pairs of one case; none when every way gives the expected result."""
    rules, schemas = write_rule_set(tmp_path, schema_root, defaults, case)
    platform = case.get("platform", defaults["platform"])
    settings = case.get("settings") or {}
    if "load_error" in case:
        expected = case["load_error"]
        try:
            engine.load(platform, settings, rules_dir=rules, schemas_dir=schemas)
        except engine.RuleError as error:
            found = {"file": Path(error.file).name if error.file else None, "line": error.line,
                     "message": str(error), "rule": error.rule}
            if (found["file"], found["line"]) != (expected["file"], expected["line"]) or \
                    expected["message"] not in found["message"] or \
                    ("rule" in expected and expected["rule"] != found["rule"]):
                return [("load", f"expected {expected}, got {found}")]
            return []
        return [("load", f"expected the load error {expected}, but the rules loaded")]
    try:
        translator = engine.load(platform, settings, rules_dir=rules, schemas_dir=schemas)
    except engine.RuleError as error:
        return [("load", f"the rules do not load: {error}")]
    problems = []
    for way, run in [*WAYS.items(), (FINAL, run_translate)]:
        outcome = run(translator, copy.deepcopy(case["message"]))
        problem = _problem(way, outcome, case)
        if problem is None and outcome.outputs is not None and way != FINAL:
            # Nothing of one message's outputs is shared with the rules or with another message's.
            scribble(outcome.outputs)
            problem = _problem(way, run(translator, copy.deepcopy(case["message"])), case)
            if problem is not None:
                problem += " (on a second message, after the first one's outputs were changed in place)"
        if problem is not None:
            problems.append((way, problem))
    return problems
