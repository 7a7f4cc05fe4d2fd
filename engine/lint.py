"""Static checks of a rule set folder, beyond loading it (whose errors are findings too: among them
templates that name what no message has, or settings not in the catalog): selectors naming paths
the input schema cannot hold or does not declare (at every depth, for the message types of the
rule's ``on``: see ``_check_path``), catalog settings nothing reads, rules that can emit the same
target for one message, rules that can fire with nothing to emit (a rule left to complete that a
variant did not complete), and optional input fields (``input.optional``) the input schema cannot
hold or says nothing of.

Every finding names the file (its path in the rule set folder, or, for a schema, in the schemas
folder), line and rule, and the JSON path in the file when the fault has one."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import nodes as jinja_nodes

from . import nodes as n
from .compiler import compile_rule_set, settings_read
from .errors import RuleError
from .loader import RULE_SCHEMA, list_platforms, load_variant, validate_rule_document
from .nodes import Emit, Rule, RuleSet
from .schemapaths import ANNOTATIONS, Facts
from .schemapaths import declared_top_level as _declared_top_level
from .schemapaths import expand as _expand
from .schemapaths import in_place as _in_place
from .settings import load_catalog
from .validation import SchemaStore
from .yamlsource import load_yaml_file, plain


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    line: int  # 0: the file or folder as a whole
    rule: str
    level: str  # error | warning
    message: str
    path: str = ""  # JSON path of the fault in the file, when it has one
    column: int = 0  # 1-based, when known (YAML syntax errors)

    def __str__(self) -> str:
        rule = f" rule {self.rule!r}:" if self.rule else ""
        path = f" {self.path}:" if self.path else ""
        where = f"{self.file}:{self.line}:" if self.line else f"{self.file}:"
        if self.line and self.column:
            where += f"{self.column}:"
        return f"{where}{rule} {self.level}:{path} {self.message}"


def lint(folder: Path, schemas: SchemaStore) -> list[Finding]:
    """Every finding for the rule set folder, sorted by file and line."""
    findings: set[Finding] = set()
    folder = Path(folder)
    if not folder.is_dir():
        return [Finding(str(folder), 0, "", "error", "not a rule set folder: there is no such folder")]
    if not list_platforms(folder):
        return [Finding(str(folder), 0, "", "error", "not a rule set folder: no YAML file declares `platform:`")]
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            document = load_yaml_file(path)
            if isinstance(document, dict) and "delivery" in document:  # the delivery description
                from .delivery import DELIVERY_SCHEMA, Delivery

                validate_rule_document(document, str(path), schemas, DELIVERY_SCHEMA)
                Delivery(plain(document), str(path))
            elif not (isinstance(document, dict) and isinstance(document.get("settings"), dict)):  # not a catalog
                validate_rule_document(document, str(path), schemas)
        except RuleError as error:
            findings.add(_from_error(error, folder))
    read_settings: set[str] = set()
    catalog = None
    all_compiled = not findings  # a file that does not load may be what reads a setting
    for platform in list_platforms(folder):
        try:
            raw = load_variant(folder, platform, schemas)
            catalog = load_catalog(raw.settings_path)
            settings = {key: entry.default for key, entry in catalog.settings.items()}
            ruleset = compile_rule_set(raw, catalog, settings, schemas)
        except RuleError as error:
            findings.add(_from_error(error, folder))
            all_compiled = False
            continue
        checker = _Checker(ruleset, schemas, findings, read_settings, folder)
        checker.run()
    if catalog is not None and all_compiled:  # with a broken variant, what it reads is unknown
        for key, entry in catalog.settings.items():
            if key not in read_settings and not entry.effect:
                findings.add(Finding(_relative(catalog.file, folder), entry.line or 1, "", "warning",
                                     f"setting {key!r} is read by no rule (mark it with `effect:` if it only "
                                     "configures start-up or delivery)"))
    return sorted(findings)


def _from_error(error: RuleError, folder: Path) -> Finding:
    return Finding(_relative(error.file or "", folder), error.line or 1, error.rule or "", "error", error.message,
                   error.path or "", error.column or 0)


def _relative(file: str, folder: Path) -> str:
    """A rule set file as its path in the rule set folder; any other name (a schema file, which the
    schemas folder already names by its path in it) as it is."""
    if not file:
        return ""
    path = Path(file)
    for base in (folder, folder.resolve()):
        if path.is_relative_to(base):
            return path.relative_to(base).as_posix()
    if path.is_absolute() and path.resolve().is_relative_to(folder.resolve()):
        return path.resolve().relative_to(folder.resolve()).as_posix()
    return file


class _Checker:
    def __init__(self, ruleset: RuleSet, schemas: SchemaStore, findings: set, read_settings: set,
                 folder: Path) -> None:
        self.ruleset = ruleset
        self.folder = folder
        self.schemas = schemas
        self.findings = findings
        self.read = read_settings
        self.root = schemas.schema(ruleset.input_schema)
        self.top_level = _declared_top_level(self.root, schemas)
        dispatch = ruleset.dispatch
        self.dispatch = tuple(dispatch.keys) if isinstance(dispatch, n.Path) and dispatch.source == "message" \
            else None
        self.facts: Facts | None = None
        self.paths: dict[tuple, tuple[n.Origin, str, set]] = {}

    def add(self, origin: n.Origin, rule: str, level: str, message: str) -> None:
        # a fragment's node is reported once, under the fragment, not under every rule including it
        where = origin.rule if origin.rule and origin.rule.startswith("fragment:") else rule
        self.findings.add(Finding(_relative(origin.file, self.folder), origin.line or 1, where, level, message))

    def run(self) -> None:
        for target in self.ruleset.targets.values():
            for check in target.checks:
                self.read.update(n.setting_calls(check.parsed.parsed))
        names = {rule.name for rule in self.ruleset.rules}
        for rule in self.ruleset.rules:
            self.facts = Facts(self.dispatch, tuple(rule.on), tuple(self.ruleset.by_dispatch)) \
                if self.dispatch is not None and rule.on else None
            self.vars: set[str] = set()
            self.in_foreach = False
            self._condition(rule.condition, rule)
            for name, node in rule.vars:
                self._node(node, rule)
                self.vars.add(name)
            for emit in rule.emits:
                self._emit(emit, rule)
            if rule.reject is not None:
                self._node(rule.reject[0], rule)
            for other in rule.alongside:
                if other not in names:
                    self.add(rule.origin, rule.name, "error", f"`alongside` names {other!r}, which is not a rule")
            self._nothing_to_emit(rule)
        self._check_paths()
        self._overlaps()
        self._optional()

    def _optional(self) -> None:
        """``input.optional``: each path one the input schema can hold, and one it says something
        of (a field it says nothing of is never refused: declaring it changes nothing)."""
        for field in self.ruleset.optional:
            keys = list(field.keys)
            label = f"optional field `{'.'.join(keys)}`"
            problem = _check_path(self.root, keys, self.schemas)
            if problem and problem[0] == "error":
                level, message = problem
                self.add(field.origin, "input.optional", level, f"{label}: {message}")
            elif not _declared(self.root, keys, self.schemas):
                self.add(field.origin, "input.optional", "warning",
                         f"{label}: the input schema says nothing of it, so it is never refused (declaring it "
                         "optional changes nothing)")

    def _nothing_to_emit(self, rule: Rule) -> None:
        """A rule that can fire, has no output it can make, and neither stops nor rejects: a message
        it fires for sends nothing, and nobody meant it (``emit: nothing`` says it is meant). Any rule
        can fire: settings can turn any test on."""
        if rule.sends_nothing or rule.stop or rule.reject is not None:
            return
        if _can_make_output(rule.emits):
            return
        variant = _relative(self.ruleset.files[-1], self.folder)
        if _relative(rule.origin.file, self.folder) == variant:
            fix = "give it an `emit`, delete it, or write `emit: nothing` if it sends nothing on purpose"
        else:
            fix = (f"`emit: []` leaves it for the variant to complete: complete it in {variant} (`inherit: true` and "
                   f"an `emit`), drop it there with `remove: [{rule.name}]`, or write `emit: nothing` here if it "
                   "sends nothing on purpose")
        where = f"in variant {self.ruleset.platform!r} ({variant})"
        self.add(rule.origin, rule.name, "error", f"{where} this rule can fire but has nothing to emit, and it "
                 f"neither stops nor rejects, so a message it fires for sends nothing unnoticed; {fix}")

    def _emit(self, emit: Emit, rule: Rule) -> None:
        self._condition(emit.condition, rule)
        if emit.foreach is not None:
            self._node(emit.foreach, rule)
        saved, self.in_foreach = self.in_foreach, self.in_foreach or emit.foreach is not None
        for _name, node in emit.fields:
            self._node(node, rule)
        for child in emit.group:
            self._emit(child, rule)
        self.in_foreach = saved

    # ---------------------------------------------------------------- nodes

    def _node(self, node: Any, rule: Rule) -> None:
        source = getattr(node, "source", "message")
        if isinstance(node, (n.Path, n.Select)) and source == "item" and not self.in_foreach:
            self.add(node.origin, rule.name, "error", f"`{node.text}` reads `from: item` outside a foreach")
        if isinstance(node, n.Path) and source == "vars" and node.keys[0] not in self.vars:
            known = ", ".join(sorted(self.vars)) or "none"
            self.add(node.origin, rule.name, "error",
                     f"`{node.text}` reads vars.{node.keys[0]}, which the rule does not set (vars: {known})")
        if isinstance(node, n.Path):
            if node.source == "message":
                self._path(list(node.keys), node.origin, rule)
        elif isinstance(node, n.Select):
            self._selector(node.parsed.parsed, node.source == "message", node.origin, rule)
        elif isinstance(node, n.Template):
            self._template(node, rule)
        elif isinstance(node, n.Const):
            if node.setting:
                self.read.add(node.setting)
        for child in node.children():
            if isinstance(child, n.Condition):
                self._condition(child, rule)
            else:
                self._node(child, rule)

    def _condition(self, condition: Any, rule: Rule) -> None:
        if isinstance(condition, bool):
            return
        if isinstance(condition, n.SettingTest):
            self.read.add(condition.name)
            return
        for part in getattr(condition, "parts", ()) or ():
            self._condition(part, rule)
        if isinstance(condition, n.Not):
            self._condition(condition.part, rule)
        if hasattr(condition, "node"):
            self._node(condition.node, rule)

    def _selector(self, ast: dict, on_message: bool, origin: n.Origin, rule: Rule) -> None:
        for name in n.setting_calls(ast):
            self.read.add(name)
        if on_message:
            for chain in n.root_chains(ast):
                self._path(chain, origin, rule)

    def _template(self, node: n.Template, rule: Rule) -> None:
        tree = node.template.environment.parse(node.text)
        # the settings a template reads (the compiler has refused names and settings it does not know)
        self.read.update(settings_read(tree))
        for chain in _template_chains(tree, set(node.names) & self.top_level):
            self._path(chain, node.origin, rule)

    def _path(self, keys: list[str], origin: n.Origin, rule: Rule) -> None:
        # a selector written once (in a fragment, or a YAML anchor copied into several rules) is
        # checked against the message types of every rule that reads it, together
        where = (origin.file, origin.line, tuple(keys))
        if where not in self.paths:
            self.paths[where] = (origin, rule.name, set())
        on = self.paths[where][2]
        if self.facts is None or None in on:
            on.clear()
            on.add(None)
        else:
            on.update(self.facts.values)

    def _check_paths(self) -> None:
        for (_file, _line, keys), (origin, name, on) in self.paths.items():
            facts = None if None in on or self.dispatch is None else \
                Facts(self.dispatch, tuple(sorted(on)), tuple(self.ruleset.by_dispatch))
            problem = _check_path(self.root, list(keys), self.schemas, facts)
            if problem:
                level, message = problem
                self.add(origin, name, level, f"selector path `{'.'.join(keys)}`: {message}")

    # ---------------------------------------------------------------- overlaps

    def _overlaps(self) -> None:
        rules = [r for r in self.ruleset.rules if r.emits]
        for position, first in enumerate(rules):
            for second in rules[position + 1:]:
                if first.on is not None and second.on is not None and not set(first.on) & set(second.on):
                    continue
                common = sorted(_targets(first) & _targets(second))
                if not common or _exclusive(first, second) or first.name in second.alongside \
                        or second.name in first.alongside:
                    continue
                self.add(second.origin, second.name, "warning",
                         f"rules {first.name!r} and {second.name!r} can both emit {', '.join(common)} for one "
                         f"message; if that is meant, say so with `alongside: [{first.name}]`")


# ---------------------------------------------------------------- helpers


def _template_chains(tree: Any, roots: set[str]) -> list[list[str]]:
    """The message field chains a template reads (``context.page.referrer``,
    ``message['context'].ip``), from the names in ``roots`` (the message's fields it names) or
    ``message``; each chain once, the longest one of an expression."""
    chains: list[list[str]] = []

    def chain_of(node: Any) -> list[str] | None:
        if isinstance(node, jinja_nodes.Name):
            return [] if node.name == "message" else [node.name] if node.name in roots else None
        if isinstance(node, jinja_nodes.Getattr):
            inner = chain_of(node.node)
            return None if inner is None else inner + [node.attr]
        if isinstance(node, jinja_nodes.Getitem) and isinstance(node.arg, jinja_nodes.Const) \
                and isinstance(node.arg.value, str):
            inner = chain_of(node.node)
            return None if inner is None else inner + [node.arg.value]
        return None

    def visit(node: Any) -> None:
        found = chain_of(node)
        if found:
            if found not in chains:
                chains.append(found)
            return
        for child in node.iter_child_nodes():
            visit(child)

    visit(tree)
    return chains


def _can_make_output(emits: list[Emit]) -> bool:
    """Whether any of the emits names a target (settings can turn any condition on)."""
    return any(emit.target is not None or _can_make_output(emit.group) for emit in emits)


def _targets(rule: Rule) -> set[str]:
    found: set[str] = set()

    def walk(emit: Emit) -> None:
        if emit.target is not None:
            found.add(emit.target.name)
        for child in emit.group:
            walk(child)

    for emit in rule.emits:
        walk(emit)
    return found


def _conjuncts(condition: Any) -> list:
    if isinstance(condition, n.All):
        return [atom for part in condition.parts for atom in _conjuncts(part)]
    return [condition]


def _exclusive(first: Rule, second: Rule) -> bool:
    """Whether the two rules' conditions cannot both hold (the patterns rules use)."""
    a, b = _conjuncts(first.condition), _conjuncts(second.condition)
    for atom in b:
        if isinstance(atom, n.Not) and isinstance(atom.part, n.Fired) and first.name in atom.part.names:
            return True
    for x in a:
        for y in b:
            if _opposite(x, y) or _opposite(y, x):
                return True
    return False


def _opposite(x: Any, y: Any) -> bool:
    if isinstance(x, n.SettingTest) and isinstance(y, n.Not) and isinstance(y.part, n.SettingTest):
        return x.name == y.part.name and x.op == y.part.op and x.operand == y.part.operand
    if isinstance(x, n.Present) and isinstance(y, n.Present):
        return _text(x.node) == _text(y.node) and x.wanted != y.wanted
    if isinstance(x, n.Equals) and isinstance(y, n.Equals):
        return _text(x.node) == _text(y.node) and x.expected != y.expected
    if isinstance(x, n.In) and isinstance(y, n.In):
        return _text(x.node) == _text(y.node) and not set(map(str, x.choices)) & set(map(str, y.choices))
    return False


def _text(node: Any) -> str | None:
    return getattr(node, "text", None)


def _suggest(key: str, names: set[str]) -> str:
    close = difflib.get_close_matches(key, sorted(names), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _listing(names: set[str]) -> str:
    shown = sorted(names)
    return ", ".join(shown[:12]) + (", ..." if len(shown) > 12 else "")


def _check_path(root: dict, keys: list[str], schemas: SchemaStore,
                facts: Facts | None = None) -> tuple[str, str] | None:
    """Whether the input schema can hold the field at ``keys`` (for the messages ``facts``
    describes): an error where it cannot (a value that is not an object, a field no message has,
    an object whose schema says ``additionalProperties: false``), a warning for a field the schema
    of an object does not declare where it allows others (a misspelling, most often). An object
    whose schema declares no fields, or says ``additionalProperties`` (true or a schema) or
    ``patternProperties``, is free-form: any field of it is fine."""
    resolver = _in_place(root, schemas.registry.resolver(base_uri=root.get("$id", "")))
    current = [(root, resolver)]
    for depth, key in enumerate(keys):
        expanded = [pair for schema, res in current for pair in _expand(schema, res, set(), facts)]
        where = ".".join(keys[:depth]) or "the message"
        types = [s.get("type") for s, _ in expanded if "type" in s]
        if types and all("object" not in (t if isinstance(t, list) else [t]) for t in types):
            return "error", f"{where} cannot hold a field {key!r} ({types[0]})"
        following = [(s["properties"][key], _in_place(s["properties"][key], res)) for s, res in expanded
                     if isinstance(s.get("properties"), dict) and key in s["properties"]]
        following += [(sub, _in_place(sub, res)) for s, res in expanded
                      for pattern, sub in (s.get("patternProperties") or {}).items() if _matches(pattern, key)]
        if following:
            current = following
            continue
        declared = {name for s, _ in expanded for name in (s.get("properties") or {})}
        if any(s.get("additionalProperties") is False for s, _ in expanded):
            return "error", (f"{where} has no field {key!r}: its schema allows only {_listing(declared)}"
                             f"{_suggest(key, declared)}")
        others = [(s["additionalProperties"], _in_place(s["additionalProperties"], res)) for s, res in expanded
                  if s.get("additionalProperties") not in (None, False)]
        if others or any("patternProperties" in s for s, _ in expanded) or not declared:
            current = [(sub, res) for sub, res in others if isinstance(sub, dict)]
            if not current:
                return None  # free-form: any field
            continue
        if depth == 0:
            if facts is None or key not in _declared_top_level(root, schemas):
                return "error", f"no input message has a field {key!r}{_suggest(key, declared)}"
            having = [value for value in facts.known if value not in facts.values
                      and key in _declared_top_level(root, schemas, Facts(facts.dispatch, (value,)))]
            return "warning", (f"no message this rule is on ({', '.join(facts.values)}) has a field {key!r} in "
                               f"the input schema (only {', '.join(having) or 'other'} messages do)"
                               f"{_suggest(key, declared)}")
        return "warning", (f"{where} has no field {key!r} in the input schema, which declares only "
                           f"{_listing(declared)}{_suggest(key, declared)}")
    return None


def _matches(pattern: str, key: str) -> bool:
    try:
        return re.search(pattern, key) is not None
    except re.error:
        return False


def _declared(root: dict, keys: list[str], schemas: SchemaStore) -> bool:
    """Whether the schema declares the field at ``keys`` (in ``properties``, all the way) with
    something that can refuse a value (a field declared only by name, ``{}``, never refuses one)."""
    current = [(root, _in_place(root, schemas.registry.resolver(base_uri=root.get("$id", ""))))]
    for key in keys:
        expanded = [pair for schema, res in current for pair in _expand(schema, res, set())]
        current = [(s["properties"][key], _in_place(s["properties"][key], res)) for s, res in expanded
                   if isinstance(s.get("properties"), dict) and key in s["properties"]]
        if not current:
            return False
    return any(_constrains(schema) for schema, res in current for schema, _ in _expand(schema, res, set()))


def _constrains(schema: dict) -> bool:
    return any(not (word in ANNOTATIONS or word.startswith("x-") or word == "$id") for word in schema)


def lint_folder(folder: Path, schemas: SchemaStore) -> list[Finding]:
    """``lint`` on a folder that may hold one rule set folder (as the bundled ``rules/`` does)."""
    if RULE_SCHEMA not in schemas:
        raise RuleError(f"the rule-language schema {RULE_SCHEMA} is not in {schemas.root}")
    return lint(folder, schemas)
