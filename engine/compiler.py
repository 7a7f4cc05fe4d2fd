"""Compiling a loaded rule set, once, into the constructs of ``nodes`` for a fixed set of settings:
every JMESPath selector parsed (and the parts of it that read only settings and literals
computed), every Jinja template compiled in a sandbox, every schema's validator built, and the
generated plan written (``plan``). Nothing is parsed or compiled per message. Every construct is
kept, setting tests included, so that an explanation can say why each one did or did not apply;
the plan leaves out what settings decide."""

from __future__ import annotations

import re
from typing import Any

import jmespath
from jinja2 import ChainableUndefined, TemplateSyntaxError, meta
from jinja2 import nodes as jinja_nodes
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from jmespath.visitor import TreeInterpreter

from . import nodes as n
from .errors import RuleError, did_you_mean
from .functions import FUNCTION_NAMES, TEMPLATE_FILTERS, RuleFunctions
from .loader import RawRuleSet
from .nodes import Check, Emit, Rule, RuleSet, Target
from .plan import compile_expression, compile_plan
from .sandbox import Sandbox, refuse_unbounded
from .schemapaths import declared_top_level
from .settings import Catalog
from .validation import SchemaStore
from .yamlsource import plain

_PLAIN_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")
_BUILTIN_FUNCTIONS = frozenset(
    name[len("_func_"):] for name in dir(jmespath.functions.Functions) if name.startswith("_func_")
)
# JMESPath AST nodes that never read the data a selector is applied to.
_DATA_FREE = frozenset({"literal", "function_expression", "multi_select_list", "multi_select_dict", "key_val_pair",
                        "or_expression", "and_expression", "not_expression", "comparator"})
# `emit: nothing`: a rule that sends nothing on purpose (`emit: []` is one left to complete).
NOTHING = "nothing"
# Names a rule's template sees besides the message's fields (and the sandbox's globals: settings,
# range, ...); a target check's error template sees the output body.
_TEMPLATE_NAMES = frozenset({"message", "item", "index", "seq", "vars"})
_CHECK_TEMPLATE_NAMES = frozenset({"body"})
# What a template may call on ``settings`` (a mapping) rather than read a setting of that name.
_MAPPING_METHODS = frozenset({"get", "items", "keys", "values"})


# Bounds on a selector, so that a hostile rule set cannot exhaust the stack or the time of a load.
MAX_SELECTOR_LENGTH = 10_000
MAX_SELECTOR_DEPTH = 256


def _brief(text: str) -> str:
    """A selector as an error quotes it: at most 80 characters."""
    return repr(text if len(text) <= 80 else text[:80] + "…")


def _depth(ast: Any) -> int:
    """How deeply a JMESPath AST nests (counted without recursion)."""
    deepest, pending = 0, [(ast, 1)]
    while pending:
        node, level = pending.pop()
        deepest = max(deepest, level)
        if isinstance(node, dict):
            pending.extend((child, level + 1) for child in node.get("children") or [] if isinstance(child, dict))
    return deepest


def settings_read(tree: Any) -> list[str]:
    """The settings a template reads by name (``settings.x``, ``settings['x']``,
    ``settings.get('x')``), in order."""
    methods = {id(call.node) for call in tree.find_all(jinja_nodes.Call)
               if isinstance(call.node, jinja_nodes.Getattr) and call.node.attr in _MAPPING_METHODS}
    read = []
    for node in tree.find_all((jinja_nodes.Getattr, jinja_nodes.Getitem, jinja_nodes.Call)):
        if isinstance(node, jinja_nodes.Call):
            callee = node.node
            if (isinstance(callee, jinja_nodes.Getattr) and callee.attr == "get" and _is_settings(callee.node)
                    and node.args and isinstance(node.args[0], jinja_nodes.Const)):
                read.append(node.args[0].value)
        elif _is_settings(node.node) and id(node) not in methods:
            key = node.attr if isinstance(node, jinja_nodes.Getattr) else node.arg
            if isinstance(key, jinja_nodes.Const):
                key = key.value
            if isinstance(key, str):
                read.append(key)
    return read


def _is_settings(node: Any) -> bool:
    return isinstance(node, jinja_nodes.Name) and node.name == "settings"


def _finalize(value: Any) -> n.Valued:
    """What a template's ``{{ }}`` writes: the value's text (null writes nothing), marked as a
    value's so that tidying the template's white space leaves it as it is."""
    return n.Valued("" if value is None else value)


def compile_rule_set(raw: RawRuleSet, catalog: Catalog, settings: dict, schemas: SchemaStore) -> RuleSet:
    """Compile ``raw`` for ``settings`` (already resolved against ``catalog``)."""
    return _Compiler(raw, catalog, settings, schemas).run()


class _Compiler:
    def __init__(self, raw: RawRuleSet, catalog: Catalog, settings: dict, schemas: SchemaStore) -> None:
        self.raw = raw
        self.catalog = catalog
        self.settings = settings
        self.schemas = schemas
        self.options = jmespath.Options(custom_functions=RuleFunctions(settings, catalog.secrets))
        self.env = Sandbox(
            undefined=ChainableUndefined,
            finalize=_finalize,
            autoescape=False,
        )
        self.env.add_filters(TEMPLATE_FILTERS)
        # templates see every setting but the secret ones, which only conditions may test
        self.template_settings = {key: value for key, value in settings.items() if key not in catalog.secrets}
        self.env.globals["settings"] = self.template_settings
        self.fragment_cache: dict[str, list[tuple[str, n.Node]]] = {}
        self.rule = None
        self.message_fields: frozenset[str] = frozenset()  # the input schema's top-level fields

    # ------------------------------------------------------------ top level

    def run(self) -> RuleSet:
        raw = self.raw
        input_schema = raw.input["schema"]
        if input_schema not in self.schemas:
            raise RuleError(f"input schema {input_schema!r} is not in {self.schemas.root}", file=raw.input_file)
        self.message_fields = frozenset(declared_top_level(self.schemas.schema(input_schema), self.schemas))
        dispatch = None
        if raw.input.get("dispatch"):
            origin = n.Origin(raw.input_file or "", raw.input_lines.get("dispatch"), field="input.dispatch")
            dispatch = self.selector(raw.input["dispatch"], "message", origin)
        targets = {name: self.target(name, spec) for name, spec in raw.targets.items()}
        self.targets = targets
        rules: list[Rule] = []
        names: set[str] = set()
        for spec in raw.rules:
            rule = self.compile_rule(spec, names)
            names.add(rule.name)
            rules.append(rule)
        ruleset = RuleSet(platform=raw.platform, settings=self.settings, catalog=self.catalog, files=raw.files,
                          rules=rules, targets=targets, input_schema=input_schema,
                          input_validator=self.schemas.validator(input_schema), dispatch=dispatch,
                          max_outputs=raw.input.get("max_outputs"),
                          options=self.options, optional=self.optional_fields())
        ruleset.input_check = (ruleset.input_validator.fast or ruleset.input_validator).is_valid
        enabled = [r for r in rules if r.decided is not False]  # settings may rule some out
        keys = sorted({key for r in enabled if r.on for key in r.on})
        ruleset.by_dispatch = {key: [r for r in enabled if r.on is None or key in r.on] for key in keys}
        ruleset.undispatched = [r for r in enabled if r.on is None]
        ruleset.plan = compile_plan(ruleset)
        return ruleset

    def optional_fields(self) -> list[n.OptionalField]:
        """``input.optional``: the message paths a message may lose, with a warning, when the input
        schema refuses them; an outer field before the fields declared inside it."""
        declared = self.raw.input.get("optional") or {}
        fields = []
        for text, note in declared.items():
            line = getattr(declared, "key_lines", {}).get(text) or getattr(declared, "line", None)
            origin = n.Origin(getattr(declared, "file", None) or self.raw.input_file or "", line,
                              field=f"input.optional.{text}")
            if not _PLAIN_PATH.match(text):
                raise self._error(f"{text!r} is not a path of object keys (such as context.library.name)", origin)
            fields.append(n.OptionalField(tuple(text.split(".")), str(note or ""), origin))
        return sorted(fields, key=lambda field: len(field.keys))  # stable: declaration order otherwise

    def target(self, name: str, spec: dict) -> Target:
        origin = n.Origin(spec.file, spec.line, field=f"targets.{name}")
        schema = spec["schema"]
        if schema not in self.schemas:
            raise RuleError(f"target {name!r}: schema {schema!r} is not in {self.schemas.root}",
                            file=spec.file, line=spec.line)
        checks = []
        for check in spec.get("checks") or []:
            corigin = n.Origin(check.file, check.line, field=f"targets.{name}.checks")
            parsed = self._parse(check["assert"], corigin)
            folded = ParsedResult(check["assert"], self._fold(parsed.parsed, check["assert"], corigin))
            fast = compile_expression(folded.parsed, self.options.custom_functions, f"check of {name}")
            error_origin = n.Origin(check.file, check.key_lines.get("error", check.line), field=corigin.field)
            checks.append(Check(assertion=fast or (lambda body, a=folded, o=self.options: a.search(body, o)),
                                parsed=parsed, text=check["assert"],
                                error=self._template(check["error"], error_origin, _CHECK_TEMPLATE_NAMES),
                                path=check.get("path", "$"), origin=corigin, folded=folded.parsed))
        return Target(name, schema, self.schemas.validator(schema), checks, spec.get("description", ""), origin)

    def compile_rule(self, spec: dict, earlier: set[str]) -> Rule:
        name = spec["name"]
        if name in earlier:
            raise RuleError("duplicate rule name", file=spec.file, line=spec.line, rule=name)
        self.rule = name
        self.earlier = earlier
        origin = n.Origin(spec.file, spec.line, rule=name)
        on = spec.get("on")
        if isinstance(on, str):
            on = (on,)
        condition = self.condition(spec["when"], origin) if "when" in spec else True
        own_vars = spec.get("vars") or {}
        variables = [(key, self.value(value, self._origin(own_vars, value, f"vars.{key}")))
                     for key, value in own_vars.items()]
        emits = []
        reject = None
        if "reject" in spec:
            text = spec["reject"]["error"]
            reject = (self._text_template(text, True, origin), spec["reject"].get("path", "$"))
        elif spec["emit"] != NOTHING:
            items = spec["emit"] if isinstance(spec["emit"], list) else [spec["emit"]]
            emits = [self.emit(item) for item in items]
        return Rule(name=name, spec=spec.get("spec", ""), note=spec.get("note", ""),
                    on=tuple(on) if on else None, condition=condition, when=spec.get("when"),
                    emits=emits, reject=reject, origin=origin, stop=bool(spec.get("stop", False)),
                    vars=variables, alongside=tuple(spec.get("alongside") or ()),
                    sends_nothing=spec.get("emit") == NOTHING)

    def emit(self, spec: dict) -> Emit:
        origin = n.Origin(spec.file, spec.line, rule=self.rule)
        foreach = self.value(spec["foreach"], origin) if "foreach" in spec else None
        condition = self.condition(spec["when"], origin) if "when" in spec else True
        if "emit" in spec:
            children = [self.emit(child) for child in spec["emit"]]
            return Emit(None, [], foreach, origin, condition, children)
        target = self.targets.get(spec["target"])
        if target is None:
            known = ", ".join(sorted(self.targets)) or "none"
            raise RuleError(f"unknown target {spec['target']!r} (targets: {known})", file=spec.file,
                            line=spec.line, rule=self.rule)
        # The emit's own body fields first (event_type reads first), then the included fragments'
        # fields that the body does not set, in include order; then `drop`.
        fields: list[tuple[str, n.Node]] = []
        own = spec.get("body") or {}
        for key, value in own.items():
            fields.append((key, self.value(value, self._origin(own, value, f"body.{key}"))))
        include_origin = n.Origin(spec.file, spec.key_lines.get("include", spec.line), rule=self.rule)
        for fragment in spec.get("include") or []:
            for key, node in self.fragment(fragment, include_origin):
                if key not in own:
                    fields = [(k, v) for k, v in fields if k != key] + [(key, node)]
        for key in spec.get("drop") or []:
            if all(k != key for k, _ in fields):
                raise RuleError(f"'drop' names {key!r}, which the body does not have", file=spec.file,
                                line=spec.line, rule=self.rule)
            fields = [(k, v) for k, v in fields if k != key]
        return Emit(target, fields, foreach, origin, condition)

    def fragment(self, name: str, origin: n.Origin) -> list[tuple[str, n.Node]]:
        if name not in self.raw.fragments:
            known = ", ".join(sorted(self.raw.fragments)) or "none"
            raise RuleError(f"unknown fragment {name!r} (fragments: {known})", file=origin.file,
                            line=origin.line, rule=self.rule)
        cached = self.fragment_cache.get(name)
        if cached is None:
            spec = self.raw.fragments[name]
            saved, self.rule = self.rule, f"fragment:{name}"
            try:
                cached = [(key, self.value(value, self._origin(spec["fields"], value, key)))
                          for key, value in spec["fields"].items()]
            finally:
                self.rule = saved
            self.fragment_cache[name] = cached
        return cached

    # ------------------------------------------------------------ values

    def value(self, spec: Any, origin: n.Origin) -> n.Node:
        if isinstance(spec, str):
            return self.selector(spec, "message", origin)
        if isinstance(spec, list):
            return self._first(spec, origin)
        if not isinstance(spec, dict):
            raise self._error(f"a value must be a selector, a list or a directive, not {spec!r}", origin)
        origin = self._origin(spec, spec, origin.field, origin)
        source = spec.get("from", "message")
        if "select" in spec:
            node = self.selector(spec["select"], source, origin)
        elif "template" in spec:
            node = self._text_template(spec["template"], spec.get("collapse_spaces", True), origin)
        elif "value" in spec:
            node = n.Const(plain(spec["value"]), origin)
        elif "setting" in spec:
            value = self._setting(spec["setting"], origin)
            self._not_secret(spec["setting"], "{setting: " + spec["setting"] + "} as a value", origin)
            node = n.Const(n.MISSING if value is None or value == "" else value, origin, setting=spec["setting"])
        elif "object" in spec:
            fields = [(key, self.value(value, self._origin(spec["object"], value, f"{origin.field}.{key}")))
                      for key, value in spec["object"].items()]
            node = n.Object(fields, bool(spec.get("drop_empty", False)), origin)
        elif "cases" in spec:
            cases = []
            for case in spec["cases"]:
                corigin = self._origin(case, case, origin.field, origin)
                condition = self.condition(case["when"], corigin) if "when" in case else True
                node = self.value(case["use"], corigin)  # compiled even when unused: errors show early
                if cases and cases[-1][0] is True:
                    continue  # after a case that always holds
                cases.append((condition, node))
            node = n.Cases(cases, origin)
        elif "first" in spec:
            node = self._first(spec["first"], origin)
        else:  # the rule-language schema makes this unreachable
            raise self._error("a directive needs one of select, template, value, setting, object, cases, first",
                              origin)
        if spec.get("drop_empty") and "object" not in spec:
            node = n.NonEmpty(node, origin)
        if "type" in spec:
            node = n.Typed(node, spec["type"], origin)
        if "map" in spec:
            node = n.Mapped(node, {str(k): v for k, v in plain(spec["map"]).items()}, origin)
        if "when" in spec:
            node = n.Guarded(self.condition(spec["when"], origin), node, origin)
        return node

    def _first(self, specs: list, origin: n.Origin) -> n.Node:
        options = [self.value(item, origin) for item in specs]
        return options[0] if len(options) == 1 else n.First(options, origin)

    def selector(self, text: str, source: str, origin: n.Origin) -> n.Node:
        if len(text) > MAX_SELECTOR_LENGTH:
            raise self._error(f"selector {_brief(text)} is longer than {MAX_SELECTOR_LENGTH} characters", origin)
        if _PLAIN_PATH.match(text):
            keys = tuple(text.split("."))
            if len(keys) > MAX_SELECTOR_DEPTH:
                raise self._error(f"selector {_brief(text)} has {len(keys)} steps; at most {MAX_SELECTOR_DEPTH}",
                                  origin)
            return n.Path(text, keys, source, origin)
        parsed = self._parse(text, origin)
        return n.Select(text, parsed, self._fold(parsed.parsed, text, origin), self.options, source, origin)

    def _parse(self, text: str, origin: n.Origin) -> Any:
        """Parse a selector (no deeper than ``MAX_SELECTOR_DEPTH``) and check its function calls."""
        try:
            parsed = jmespath.compile(text)
        except JMESPathError as exc:
            raise self._error(f"invalid selector {_brief(text)}: {str(exc).splitlines()[0]}", origin) from None
        except RecursionError:
            parsed = None
        if parsed is None or _depth(parsed.parsed) > MAX_SELECTOR_DEPTH:
            raise self._error(f"selector {_brief(text)} is nested too deeply (at most {MAX_SELECTOR_DEPTH} levels)",
                              origin)
        self._check_functions(parsed.parsed, text, origin)
        return parsed

    def _check_functions(self, ast: Any, text: str, origin: n.Origin) -> None:
        if isinstance(ast, dict):
            if ast.get("type") == "function_expression":
                name = ast.get("value")
                if name not in FUNCTION_NAMES and name not in _BUILTIN_FUNCTIONS:
                    raise self._error(f"selector {text!r} calls unknown function {name}()", origin)
                args = ast.get("children") or []
                signature = self.options.custom_functions.FUNCTION_TABLE[name]["signature"]
                variadic = bool(signature) and signature[-1].get("variadic")
                if (len(args) < len(signature) - (1 if variadic else 0)) or (
                        not variadic and len(args) != len(signature)):
                    raise self._error(f"selector {text!r}: {name}() takes {len(signature)}"
                                      f"{' or more' if variadic else ''} arguments, not {len(args)}", origin)
                if name == "setting" and args and args[0].get("type") == "literal":
                    self._setting(args[0].get("value"), origin)
                    self._not_secret(args[0].get("value"), f"selector {text!r}", origin)
            for child in ast.get("children") or []:
                self._check_functions(child, text, origin)
        elif isinstance(ast, list):
            for child in ast:
                self._check_functions(child, text, origin)

    def _fold(self, ast: dict, text: str, origin: n.Origin) -> dict:
        """The AST with every part that reads only settings and literals computed into a constant
        (settings are fixed when rules compile); a part that fails is a rule error now."""
        # a key_val_pair is a part of an object, not a value: its value may fold, not the pair
        if ast.get("type") not in ("literal", "key_val_pair") and self._data_free(ast) and self._calls_function(ast):
            try:
                value = TreeInterpreter(self.options).visit(ast, {})  # any non-null current will do
            except JMESPathError as exc:
                raise self._error(f"selector {text!r}: {' '.join(str(exc).split())}", origin) from None
            return {"type": "literal", "value": value, "children": []}
        children = ast.get("children")
        if children:
            ast = dict(ast, children=[self._fold(c, text, origin) if isinstance(c, dict) else c for c in children])
        return ast

    def _data_free(self, ast: Any) -> bool:
        if not isinstance(ast, dict):
            return True
        return ast.get("type") in _DATA_FREE and all(self._data_free(c) for c in ast.get("children") or [])

    def _calls_function(self, ast: Any) -> bool:
        if not isinstance(ast, dict):
            return False
        return ast.get("type") == "function_expression" or any(
            self._calls_function(c) for c in ast.get("children") or [])

    def _template(self, text: str, origin: n.Origin, names: frozenset[str] | None = None) -> Any:
        """A template compiled in the sandbox. Every name it reads must be one it is given: a field
        of the input messages or one of ``_TEMPLATE_NAMES`` (for a rule's template), ``names``
        (for another), a global of the sandbox, or a variable the template sets itself (a rule's
        template is not checked where the input schema declares no field at all); every
        setting it reads must be in the catalog. Else a rule error, as a misspelt selector or
        ``{setting: x}`` is, rather than a value quietly left empty."""
        try:
            tree = self.env.parse(text)
            template = self.env.from_string(self.env.timed_loops(self.env.parse(text)))
        except TemplateSyntaxError as exc:
            raise self._error(f"invalid template {text!r}: {exc.message}", origin) from None
        for node in tree.find_all(jinja_nodes.Filter):
            if node.name not in self.env.filters:
                raise self._error(f"template {text!r} uses unknown filter {node.name!r}", origin)
        for node in tree.find_all(jinja_nodes.Test):
            if node.name not in self.env.tests:
                raise self._error(f"template {text!r} uses unknown test {node.name!r}", origin)
        unbounded = refuse_unbounded(tree)
        if unbounded:
            raise self._error(f"template {_brief(text)}: {unbounded}", origin)
        for key in settings_read(tree):
            if key not in self.catalog:
                raise self._error(f"template {_brief(text)} reads setting {key!r}, which is not in the settings "
                                  f"catalog {self.catalog.file}{did_you_mean(key, self.catalog.settings)}", origin)
            self._not_secret(key, f"template {text!r}", origin)
        undeclared = meta.find_undeclared_variables(tree) - set(self.env.globals)
        known = (_TEMPLATE_NAMES | self.message_fields) if names is None else names
        checked = names is not None or self.message_fields  # an input schema that declares no field says nothing
        for name in sorted(undeclared - known if checked else ()):
            variables = ", ".join(sorted((known - self.message_fields) | {"settings"}))
            what = ("neither a field of any input message nor a template variable" if names is None
                    else "not a variable of this template")
            raise self._error(f"template {_brief(text)} uses {name!r}, which is {what} ({variables})"
                              f"{did_you_mean(name, known)}", origin)
        template.seg_names = tuple(sorted(undeclared - _TEMPLATE_NAMES))
        template.seg_tree = tree
        return template

    def _text_template(self, text: str, collapse: bool, origin: n.Origin) -> n.Template:
        template = self._template(text, origin)
        return n.Template(text, template, collapse, origin, template.seg_names, self.template_settings)

    def _setting(self, name: Any, origin: n.Origin) -> Any:
        if name not in self.catalog:
            raise self._error(f"setting {name!r} is not in the settings catalog {self.catalog.file}"
                              f"{did_you_mean(name, self.catalog.settings)}", origin)
        return self.settings.get(name)

    def _not_secret(self, name: Any, where: str, origin: n.Origin) -> None:
        """A secret setting is never a value (what an output could hold): only ``{setting: name}``
        in a condition tests it."""
        if name in self.catalog.secrets:
            raise self._error(f"{where} reads the secret setting {name!r}: a secret can only be tested "
                              f"in a condition ({{setting: {name}}}), never used as a value", origin)

    # ------------------------------------------------------------ conditions

    def condition(self, spec: Any, origin: n.Origin) -> n.Condition:
        """A condition construct."""
        if isinstance(spec, list):
            return self._all([self.condition(part, origin) for part in spec], origin)
        origin = self._origin(spec, spec, origin.field, origin)
        if "all" in spec:
            return self._all([self.condition(part, origin) for part in spec["all"]], origin)
        if "any" in spec:
            return n.AnyOf([self.condition(part, origin) for part in spec["any"]], origin)
        if "not" in spec:
            return n.Not(self.condition(spec["not"], origin), origin)
        if "fired" in spec:
            names = (spec["fired"],) if isinstance(spec["fired"], str) else tuple(spec["fired"])
            for name in names:
                if name not in self.earlier and name not in self.raw.removed:
                    raise self._error(f"'fired' names {name!r}, which is not an earlier rule", origin)
            return n.Fired(names, origin)
        if "setting" in spec:
            name = spec["setting"]
            value = self._setting(name, origin)
            if "equals" in spec:
                op, operand = "equals", plain(spec["equals"])
            elif "in" in spec:
                op, operand = "in", plain(spec["in"])
            else:
                op, operand = "set", None
            return n.SettingTest(name, value, op, operand, origin, secret=name in self.catalog.secrets)
        node = self.selector(spec["select"], spec.get("from", "message"), origin)
        if "present" in spec:
            return n.Present(node, bool(spec["present"]), origin)
        if "equals" in spec:
            return n.Equals(node, plain(spec["equals"]), origin)
        if "in" in spec:
            return n.In(node, plain(spec["in"]), origin)
        return n.Truthy(node, origin)

    def _all(self, parts: list, origin: n.Origin) -> n.Condition:
        return parts[0] if len(parts) == 1 else n.All(parts, origin)

    # ------------------------------------------------------------ helpers

    def _origin(self, container: Any, value: Any, field_name: str | None,
                fallback: n.Origin | None = None) -> n.Origin:
        key = field_name.rsplit(".", 1)[-1] if field_name else None
        key_line = getattr(container, "key_lines", {}).get(key) if key is not None else None
        line = getattr(value, "line", None) or key_line or getattr(container, "line", None)
        file = getattr(value, "file", None) or getattr(container, "file", None)
        if fallback is not None:
            line = line or fallback.line
            file = file or fallback.file
        return n.Origin(file or "", line, rule=self.rule, field=field_name)

    def _error(self, message: str, origin: n.Origin) -> RuleError:
        where = f"{origin.field}: " if origin.field else ""
        return RuleError(where + message, file=origin.file, line=origin.line, rule=origin.rule or self.rule)
