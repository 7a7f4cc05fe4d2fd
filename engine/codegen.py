"""A compiled rule set turned into Python source, once, for speed: one function ``plan(message)``
with a block per dispatch value (message type) holding the rules such a message meets, in order.
Every plain path, selector, fallback, case, object and simple template of a rule's outputs is
straight-line code instead of a walk over node objects; the message objects several rules read
(``context``, ``context.device``), the selectors written more than once and the fields several
outputs share are computed once per message. Each output is checked as its target checks it
(its schema, by jsonschema-rs, and the target's assertions), so a plan's outputs need no further
check; a refused one makes the plan give False.

The generated code is a faster rendering of ``nodes``, never a second definition of the rule
language: a node it does not know (a Jinja template, a selector that needs jmespath's own
interpreter) is called as the node object itself, and when anything goes wrong for a message
(an error, a rule that rejects) the evaluator runs that message again through the nodes, which
give the located reason. So the generated plan only has to agree with the nodes on messages that
translate, and the tests check that it does, over every fixture and a generated corpus."""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from jinja2 import nodes as jinja_nodes
from jmespath.visitor import TreeInterpreter

from . import nodes as n
from .functions import PLAIN_FUNCTIONS, PREPARED_FUNCTIONS, RuleFunctions
from .pysource import Namespace
from .selectors import is_false, ordered_compare
from .textfast import UNDEFINED

Plan = Callable[[dict], list]

# JMESPath argument types and the Python test each becomes (jmespath's own meaning of them).
_TYPE_TESTS = {
    "string": "isinstance({v}, str)",
    "number": "(isinstance({v}, (int, float)) and not isinstance({v}, bool))",
    "array": "isinstance({v}, list)",
    "object": "isinstance({v}, dict)",
    "null": "{v} is None",
    "boolean": "isinstance({v}, bool)",
}


# What nodes.Typed keeps, as expressions (the same tests as its checks).
_TYPED = {
    "string": "isinstance({v}, str)",
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
    "boolean": "isinstance({v}, bool)",
}


class _Unsupported(Exception):
    pass


def _emit_nodes(emits: list):
    for emit in emits:
        if emit.foreach is not None:
            yield emit.foreach
        if emit.condition not in (True, False):
            yield emit.condition
        for _, node in emit.fields:
            yield node
        yield from _emit_nodes(emit.children)


_UNSET = object()
_EMPTY = MappingProxyType({})  # a hoisted message object that is not there: read-only, like the message


def _children(node: Any) -> list:
    """The nodes and conditions directly inside a node or condition."""
    kind = type(node)
    if kind is n.Object:
        return [child for _, child in node.fields]
    if kind is n.First:
        return list(node.options_)
    if kind is n.Cases:
        return [part for case in node.cases for part in case if part is not True and part is not False]
    if kind is n.Guarded:
        return [node.condition, node.node]
    if kind in (n.Mapped, n.NonEmpty, n.Typed, n.Truthy, n.Present, n.Equals, n.OneOf):
        return [node.node]
    if kind in (n.All, n.AnyOf):
        return list(node.parts)
    if kind is n.Not:
        return [node.part]
    return []


# Nodes whose value depends on the message (and settings) alone, never on the foreach element,
# the output count, the vars or the rules fired so far: one message gives them one value.
_MESSAGE_ONLY = (n.Const, n.Object, n.First, n.Cases, n.Guarded, n.Mapped, n.NonEmpty, n.Typed, n.Truthy,
                 n.Present, n.Equals, n.OneOf, n.All, n.AnyOf, n.Not)


def _message_only(node: Any) -> bool:
    kind = type(node)
    if kind is n.Path or kind is n.Select:
        return node.source == "message"
    if kind is n.SettingTest or node is True or node is False:
        return True
    return kind in _MESSAGE_ONLY and all(_message_only(child) for child in _children(node))


def _target_emits(emits: list, repeated: bool = False):
    """The emits that make an output, each with whether it may run more than once per message
    (inside a ``foreach``)."""
    for emit in emits:
        again = repeated or emit.foreach is not None
        if emit.target is not None:
            yield emit, again
        yield from _target_emits(emit.children, again)


def _selects(node: Any):
    """The generated selectors on the message inside a node."""
    if type(node) is n.Select and node.source == "message" and node.fast is not None:
        yield node
    for child in _children(node):
        yield from _selects(child)


def _message_chains(node: Any):
    """The key chains read from the message by a node and the nodes and conditions inside it."""
    kind = type(node)
    if kind is n.Path:
        if node.source == "message":
            yield node.keys
    elif kind is n.Select:
        if node.source == "message" and node.fast is not None:
            yield from _ast_chains(node.parsed.parsed)
    elif kind is n.Object:
        for _, child in node.fields:
            yield from _message_chains(child)
    elif kind is n.First:
        for child in node.options_:
            yield from _message_chains(child)
    elif kind is n.Cases:
        for condition, child in node.cases:
            yield from _message_chains(condition)
            yield from _message_chains(child)
    elif kind is n.Guarded:
        yield from _message_chains(node.condition)
        yield from _message_chains(node.node)
    elif kind in (n.Mapped, n.NonEmpty, n.Typed, n.Truthy, n.Present, n.Equals, n.OneOf):
        yield from _message_chains(node.node)
    elif kind in (n.All, n.AnyOf):
        for part in node.parts:
            yield from _message_chains(part)
    elif kind is n.Not:
        yield from _message_chains(node.part)


def _ast_chains(ast: Any):
    """Leading field chains of a selector's AST that apply to the data it is given."""
    if not isinstance(ast, dict):
        return
    kind = ast.get("type")
    children = ast.get("children") or []
    if kind == "field":
        yield (ast["value"],)
    elif kind == "subexpression":
        names = []
        for child in children:
            if child.get("type") != "field":
                break
            names.append(child["value"])
        if names:
            yield tuple(names)
        if len(names) < len(children) and not names:
            yield from _ast_chains(children[0])
    elif kind in ("function_expression", "or_expression", "and_expression", "not_expression", "comparator",
                  "multi_select_list"):
        for child in children:
            yield from _ast_chains(child)
    elif kind == "multi_select_dict":
        for child in children:
            yield from _ast_chains(child["children"][0])


def compile_plan(ruleset: Any, checked: bool = True) -> Plan | None:
    """A function ``plan(message) -> [(rule, target, body), ...]`` that builds the same outputs as
    walking ``ruleset``'s nodes, each already checked as its target's ``accepts`` checks it, and
    gives False when one fails those checks; it raises on anything else but the plain success
    path. None if the generated code would not compile (the nodes then run every message: slower,
    same outputs). ``checked=False`` leaves the outputs unchecked, for a caller that checks them
    itself (the benchmark, to tell what the checks cost)."""
    try:
        return _Generator(ruleset, checked=checked).build()
    except (SyntaxError, RecursionError):
        return None


def compile_expression(ast: dict, functions: Any, label: str = "selector") -> Callable[[Any], Any] | None:
    """One JMESPath AST as a generated function of the data it applies to (jmespath's value), or
    None when the expression needs jmespath's own interpreter."""
    generator = _Generator(None, functions)
    try:
        lines, var = generator.selector(ast, "m")
    except _Unsupported:
        return None
    source = "\n".join(["def expression(m):", *("    " + line for line in lines), f"    return {var}", ""])
    try:
        generator.run(source, f"<{label}>")
    except (SyntaxError, RecursionError):
        return None
    return generator.namespace["expression"]


class _Generator:
    def __init__(self, ruleset: Any, functions: Any = None, checked: bool = True) -> None:
        self.ruleset = ruleset
        self.checked = checked
        space = Namespace({
            "MISSING": n.MISSING, "UNDEFINED": UNDEFINED, "UNSET": _UNSET, "EMPTY": _EMPTY, "Scope": n.Scope,
            "_same": n.same, "_table_key": n.table_key, "_fresh": n.fresh,
            "_is_false": is_false,
            "_ordered": ordered_compare, "_eq": TreeInterpreter.COMPARATOR_FUNC["eq"],
            "_ne": TreeInterpreter.COMPARATOR_FUNC["ne"], "_truthy": n.truthy,
        }, "t")
        self.namespace, self.const, self.temp = space.names, space.const, space.temp
        self.run = space.run
        if functions is None and ruleset is not None and ruleset.options is not None:
            functions = ruleset.options.custom_functions
        self.functions = functions
        self.prefixes: dict[tuple[str, ...], str] = {}  # hoisted message objects of the current rule
        self.memos: dict[str, str] = {}  # selector text -> variable, for selectors a rule repeats
        self.shared: dict[int, tuple[str, set]] = {}  # emit -> its group of shared fields (``_share``)
        self.bools: set[str] = set()  # variables known to hold true or false
        self.message_is_object = ruleset is not None  # a plan runs on validated messages (objects)

    # ------------------------------------------------------------ whole plan

    def build(self) -> Plan:
        # Plain JSON objects only: a mapping of another type (the Python API can pass one) is
        # left to the nodes, whose plain paths and selectors tell dict subclasses apart.
        lines = ["def plan(m):", "    if type(m) is not dict: raise TypeError('not a plain object')",
                 "    s = Scope(m)", "    built = []"]
        dispatch = self.ruleset.dispatch
        branches = list(self.ruleset.by_dispatch.items()) if dispatch is not None else []
        if branches:
            lines += ["    " + line for line in self.value(dispatch, "key")]
            for position, (key, rules) in enumerate(branches):
                keyword = "if" if position == 0 else "elif"
                lines.append(f"    {keyword} key == {self.const(key)}:")
                lines += ["        " + line for line in self._branch(rules) or ["pass"]]
            lines.append("    else:")
            lines += ["        " + line for line in self._branch(self.ruleset.undispatched) or ["pass"]]
        else:
            lines += ["    " + line for line in self._branch(self.ruleset.undispatched)]
        lines.append("    return built")
        source = "\n".join(lines) + "\n"
        self.run(source, f"<plan of the {self.ruleset.platform} rules>")
        plan = self.namespace["plan"]
        plan.source = source
        return plan

    def _branch(self, rules: list) -> list[str]:
        """The rules a message of one dispatch value meets, in order, as one block of code that
        first computes what several of them read."""
        roots: list = []
        for rule in rules:
            if rule.condition is not True and rule.condition is not False:
                roots.append(rule.condition)
            roots += [node for _, node in rule.vars] + list(_emit_nodes(rule.emits))
        lines = self._hoist(roots) + self._memoise(roots) + self._share(rules)
        for rule in rules:
            lines += self._rule(rule)
        self.prefixes, self.memos, self.shared = {}, {}, {}
        return lines

    def _share(self, rules: list) -> list[str]:
        """The output fields that several outputs of one message carry alike (the same node
        under the same key of the same target, reading the message alone: fields a fragment gives
        two outputs of one rule, or every element of a ``foreach``) are computed and checked
        once per message, by the first output that has them; the others copy them from its body,
        held in a variable per group of such fields. Outputs of one message may so share objects,
        as they share the message's own."""
        made: dict[tuple, int] = {}
        emits = list(_target_emits([emit for rule in rules for emit in rule.emits]))
        for emit, repeated in emits:
            for key, node in emit.fields:
                if type(node) is not n.Const and _message_only(node):
                    field = (id(node), key, id(emit.target))
                    made[field] = made.get(field, 0) + (2 if repeated else 1)
        self.shared = {}
        groups: dict[tuple, str] = {}
        lines = []
        for emit, _ in emits:
            fields = tuple((id(node), key, id(emit.target)) for key, node in emit.fields
                           if made.get((id(node), key, id(emit.target)), 0) > 1)
            if not fields:
                continue
            if fields not in groups:
                groups[fields] = f"G{len(groups)}"
                lines.append(f"{groups[fields]} = None")
            self.shared[id(emit)] = (groups[fields], set(fields))
        return lines

    def _rule(self, rule: Any) -> list[str]:
        """One rule: when its condition holds, its outputs built, and the rules after it skipped
        when it stops them."""
        test, var = ([], "True") if rule.condition is True else self.condition(rule.condition)
        if var == "False":
            return []
        body: list[str] = []
        if rule.reject is not None:
            body.append("raise LookupError('a rule rejects the message')")
        else:
            if rule.vars:
                body.append("s.vars = {}")
                for key, node in rule.vars:
                    body += self.value(node, "v")
                    body.append(f"if v is not MISSING: s.vars[{key!r}] = v")
            rule_ref = self.const(rule)
            for emit in rule.emits:
                body += self.emit(emit, rule_ref)
            if rule.vars:
                body.append("s.vars = {}")
            body.append(f"s.fired.add({rule.name!r})")
            if rule.stop:
                body.append("return built")
        if var == "True":
            return test + body
        return test + [f"if {var}:"] + ["    " + line for line in body]

    def _hoist(self, roots: list) -> list[str]:
        """Lines computing, once per message, the message's objects that several paths go through
        (``context``, ``context.device``, ...); later paths start from them. An object that is
        not there (or not an object) is an empty object that nothing changes, where every path
        through it gives null."""
        counts: dict[tuple[str, ...], int] = {}
        for node in roots:
            for chain in _message_chains(node):
                for length in range(1, len(chain)):
                    counts[chain[:length]] = counts.get(chain[:length], 0) + 1
        self.prefixes = {}
        lines = []
        for prefix in sorted((p for p, count in counts.items() if count > 1), key=len):
            var = f"P{len(self.prefixes)}"
            parent = self.prefixes.get(prefix[:-1], "m") if len(prefix) > 1 else "m"
            lines.append(f"{var} = {self._get(parent, prefix[-1])}")
            lines.append(f"if type({var}) is not dict:")
            lines.append(f"    if isinstance({var}, dict): raise TypeError('not a plain object')")
            lines.append(f"    {var} = EMPTY")
            self.prefixes[prefix] = var
        return lines

    def _memoise(self, roots: list) -> list[str]:
        """Selectors on the message written more than once in the rules a message meets
        (``number(properties.revenue)`` in several ``when``) are computed the first time and reused:
        selectors have no side effects."""
        counts: dict[str, int] = {}
        for node in roots:
            for select in _selects(node):
                counts[select.text] = counts.get(select.text, 0) + 1
        self.memos = {text: f"M{position}" for position, text in enumerate(t for t, c in counts.items() if c > 1)}
        return [f"{var} = UNSET" for var in self.memos.values()]

    def _get(self, source: str, key: str) -> str:
        """``source.get(key)`` as jmespath means it (null unless ``source`` is an object), written
        for what ``source`` is known to hold: the message (an object: anything else makes the plan
        give the message up), a hoisted object (always an object), or anything."""
        if (source == "m" and self.message_is_object) or source in self.prefixes.values():
            return f"{source}.get({key!r})"
        return f"{source}.get({key!r}) if isinstance({source}, dict) else None"

    def _start(self, keys: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
        """Where a path from the message starts: the longest hoisted prefix, and the keys left."""
        for length in range(len(keys) - 1, 0, -1):
            var = self.prefixes.get(keys[:length])
            if var is not None:
                return var, keys[length:]
        return "m", keys

    def emit(self, emit: Any, rule_ref: str) -> list[str]:
        make = self._make(emit, rule_ref)
        if emit.foreach is not None:
            items, position, saved = self.temp(), self.temp(), self.temp()
            loop = self.value(emit.foreach, items)
            loop += [f"if {items} is not MISSING:",
                     f"    if not isinstance({items}, list): {items} = [{items}]",
                     f"    {saved} = s.item, s.index",
                     f"    for {position}, s.item in enumerate({items}):",
                     f"        s.index = {position}"]
            loop += ["        " + line for line in make]
            loop += [f"    s.item, s.index = {saved}"]
            make = loop
        if emit.condition is True:
            return make
        if emit.condition is False:
            return []
        test, var = self.condition(emit.condition)
        if var in ("True", "False"):
            return make if var == "True" else []
        return test + [f"if {var}:"] + ["    " + line for line in make or ["pass"]]

    # ------------------------------------------------------------ outputs

    def _make(self, emit: Any, rule_ref: str) -> list[str]:
        if emit.target is None:
            lines: list[str] = []
            for child in emit.children:
                lines += self.emit(child, rule_ref)
            return lines
        target = emit.target
        body = self.temp()
        lines = [f"{body} = {{}}"]
        for key, node in emit.fields:
            lines += self._field(node, body, key)
        checked = [f"if not {self.const(target.accepts)}({body}): return False"] if self.checked else []
        made = [f"built.append(({rule_ref}, {self.const(target)}, {body}))", "s.seq += 1"]
        group = self.shared.get(id(emit))
        if group is None:
            return lines + checked + made
        # The first output of the group computes its shared fields; the next ones copy them.
        source, fields = group
        again = [f"{body} = {{}}"]
        for key, node in emit.fields:
            if (id(node), key, id(target)) in fields:
                again += [f"v = {source}.get({key!r}, MISSING)", f"if v is not MISSING: {body}[{key!r}] = v"]
            else:
                again += self._field(node, body, key)
        return ([f"if {source} is None:"] + ["    " + line for line in [*lines, f"{source} = {body}"]] +
                ["else:"] + ["    " + line for line in again] + checked + made)

    # ------------------------------------------------------------ values

    def value(self, node: Any, out: str) -> list[str]:
        """Lines that leave ``node``'s value (or MISSING) in the variable ``out``."""
        kind = type(node)
        if kind is n.Const:
            if type(node.value) in (dict, list):
                return [f"{out} = _fresh({self.const(node.value)})"]
            return [f"{out} = {self.const(node.value)}"]
        if kind is n.Path:
            return self._path(node, out) + [f"if {out} is None or {out} == '': {out} = MISSING"]
        if kind is n.Select and node.fast is not None:
            memo = self.memos.get(node.text) if node.source == "message" else None
            if memo is not None:
                computed = self._select(node, memo)
                return [f"if {memo} is UNSET:"] + ["    " + line for line in computed] + [f"{out} = {memo}"]
            return self._select(node, out)
        if kind is n.Object:
            obj = self.temp()
            lines = [f"{obj} = {{}}"]
            for key, child in node.fields:
                if not node.drop_empty:
                    lines += self._field(child, obj, key)
                    continue
                value = self.temp()
                lines += self.value(child, value)
                keep = f"{value} is not MISSING and {value} != {{}} and {value} != []"
                lines.append(f"if {keep}: {obj}[{key!r}] = {value}")
            if node.drop_empty:
                return lines + [f"{out} = {obj} if {obj} else MISSING"]
            return lines + [f"{out} = {obj}"]
        if kind is n.First:
            return self._first(node.options_, out)
        if kind is n.Cases:
            lines = []
            depth = ""
            for condition, child in node.cases:
                test, var = self.condition(condition)
                if var == "False":
                    continue
                if var == "True":
                    lines += [depth + line for line in self.value(child, out)]
                    return lines
                lines += [depth + line for line in test]
                lines.append(f"{depth}if {var}:")
                lines += [depth + "    " + line for line in self.value(child, out)]
                lines.append(f"{depth}else:")
                depth += "    "
            return lines + [f"{depth}{out} = MISSING"]
        if kind is n.Guarded:
            test, var = self.condition(node.condition)
            if var in ("True", "False"):
                return self.value(node.node, out) if var == "True" else [f"{out} = MISSING"]
            return test + [f"if {var}:"] + ["    " + line for line in self.value(node.node, out)] + [
                "else:", f"    {out} = MISSING"]
        if kind is n.Mapped:
            table = self.const(node.table)
            lines = self.value(node.node, out)
            return lines + [
                f"if {out} is not MISSING and isinstance({out}, (str, int, float, bool)):",
                f"    {out} = {table}.get({out} if type({out}) is str else _table_key({out}), MISSING)",
                f"    if {out} is None: {out} = MISSING",
                f"    elif type({out}) is dict or type({out}) is list: {out} = _fresh({out})",
                "else:", f"    {out} = MISSING"]
        if kind is n.NonEmpty:
            return self.value(node.node, out) + [f"if {out} == {{}} or {out} == []: {out} = MISSING"]
        if kind is n.Typed:
            test = _TYPED.get(node.type_name, "{check}({v})").format(v=out, check=self.const(node.check))
            return self.value(node.node, out) + [f"if {out} is not MISSING and not {test}: {out} = MISSING"]
        if kind is n.Template and node.fast is not None:
            try:
                return self._template(node, out)
            except _Unsupported:
                return self._call(node, out)
        return self._call(node, out)

    # ------------------------------------------------------------ templates

    def _template(self, node: Any, out: str) -> list[str]:
        """A simple template (the ones ``textfast`` renders) as string building: the same text,
        and an exception where the simple renderer would hand the template to Jinja."""
        text = self.temp()
        self.template_node = node
        self.template_values: dict[str, str] = {}  # expressions already read (``{% if x %}{{ x }}``)
        lines = [f"{text} = ''"]
        for statement in node.template.seg_tree.body:
            lines += self._statement(statement, text)
        if node.collapse:
            lines.append(f"{text} = ' '.join({text}.split())")
        return lines + [f"{out} = {text} if {text} else MISSING"]

    def _statement(self, statement: Any, text: str) -> list[str]:
        if isinstance(statement, jinja_nodes.Output):
            lines = []
            for child in statement.nodes:
                if isinstance(child, jinja_nodes.TemplateData):
                    lines.append(f"{text} += {child.data!r}")
                    continue
                more, value = self._jinja_expression(child)
                lines += more
                lines += [f"if type({value}) is str:", f"    {text} += {value}",
                          f"elif {value} is not UNDEFINED and {value} is not None:",
                          f"    if not isinstance({value}, (str, int, float, bool)): raise TypeError('not text')",
                          f"    {text} += str({value})"]
            return lines
        if isinstance(statement, jinja_nodes.If) and not statement.elif_:
            lines, value = self._jinja_expression(statement.test)
            known = self.template_values
            # what a branch reads is not read where the branch is not taken
            self.template_values = dict(known)
            body = [line for child in statement.body for line in self._statement(child, text)]
            self.template_values = dict(known)
            otherwise = [line for child in statement.else_ for line in self._statement(child, text)]
            self.template_values = known
            lines += [f"if {value} is not UNDEFINED and {value}:"] + ["    " + line for line in body or ["pass"]]
            if otherwise:
                lines += ["else:"] + ["    " + line for line in otherwise]
            return lines
        raise _Unsupported(type(statement).__name__)

    def _jinja_expression(self, expression: Any) -> tuple[list[str], str]:
        """Lines reading a template expression into a variable; one read already made on the way
        here is reused (a template's values do not change while it renders)."""
        key = expression.dump() if isinstance(expression, (jinja_nodes.Name, jinja_nodes.Getattr)) else None
        if key is not None and key in self.template_values:
            return [], self.template_values[key]
        lines, var = self._read_expression(expression)
        if key is not None:
            self.template_values[key] = var
        return lines, var

    def _read_expression(self, expression: Any) -> tuple[list[str], str]:
        var = self.temp()
        if isinstance(expression, jinja_nodes.Name):
            name = expression.name
            special = {"message": "m", "item": "s.item", "index": "s.index", "seq": "s.seq", "vars": "s.vars",
                       "body": "UNDEFINED", "settings": self.const(self.template_node.settings)}
            found = special.get(name)
            return [f"{var} = {found or f'm.get({name!r}, UNDEFINED)'}"], var
        if isinstance(expression, jinja_nodes.Getattr):
            lines, inner = self._jinja_expression(expression.node)
            attribute = expression.attr
            return lines + [f"if {inner} is UNDEFINED or {inner} is None:", f"    {var} = UNDEFINED",
                            f"elif isinstance({inner}, dict):", f"    {var} = {inner}.get({attribute!r}, UNDEFINED)",
                            "else:", "    raise TypeError('an attribute of a value that is not an object')"], var
        raise _Unsupported(type(expression).__name__)

    def _field(self, node: Any, container: str, key: str) -> list[str]:
        """Lines setting ``container[key]`` to the node's value when it has one."""
        if type(node) is n.Path:
            lines, present = self._path(node, "v"), "v is not None and v != ''"
        else:
            lines, present = self.value(node, "v"), "v is not MISSING"
        return lines + [f"if {present}: {container}[{key!r}] = v"]

    def _path(self, node: Any, out: str) -> list[str]:
        """A plain path's lookup, leaving null (not MISSING) when a step is absent."""
        start, keys = self._source(node.source), node.keys
        if start == "m":
            start, keys = self._start(keys)
        if start in ("m", *self.prefixes.values()):
            lines = [f"{out} = {self._get(start, keys[0])}"]
        else:  # the item or the vars: a plain path steps into plain objects only, as nodes.Path does
            lines = [f"{out} = {start}.get({keys[0]!r}) if type({start}) is dict else None"]
        for key in keys[1:]:
            lines.append(f"{out} = {out}.get({key!r}) if type({out}) is dict else None")
        return lines

    def _select(self, node: Any, out: str) -> list[str]:
        try:
            lines, var = self.selector(node.parsed.parsed, self._source(node.source))
        except _Unsupported:
            return self._call(node, out)
        return lines + [f"{out} = MISSING if {var} is None or {var} == '' else {var}"]

    def _first(self, options: list, out: str) -> list[str]:
        lines = self.value(options[0], out)
        if len(options) > 1:
            lines.append(f"if {out} is MISSING:")
            lines += ["    " + line for line in self._first(options[1:], out)]
        return lines

    def _call(self, node: Any, out: str) -> list[str]:
        """A node the generator leaves as it is: its own ``evaluate``."""
        return [f"{out} = {self.const(node)}.evaluate(s)"]

    @staticmethod
    def _source(source: str) -> str:
        return {"item": "s.item", "vars": "s.vars"}.get(source, "m")

    # ------------------------------------------------------------ conditions

    def condition(self, condition: Any) -> tuple[list[str], str]:
        """Lines computing what a condition tests, and the test: an expression (in parentheses)
        or a variable holding its truth."""
        if condition is True or condition is False:
            return [], repr(condition)
        kind = type(condition)
        if kind is n.SettingTest:
            return [], repr(bool(condition.result))
        if kind in (n.Truthy, n.Present, n.Equals, n.OneOf) and type(condition.node) is n.Const:
            return [], repr(bool(condition.test(None)))  # a constant's test is decided now
        if kind is n.Truthy:
            value = self.temp()
            lines = self.value(condition.node, value)
            return lines, (f"(not ({value} is MISSING or {value} is False or "
                           f"(isinstance({value}, (list, dict)) and not {value})))")
        if kind is n.Present:
            value = self.temp()
            test = "is not" if condition.wanted else "is"
            return self.value(condition.node, value), f"({value} {test} MISSING)"
        if kind is n.Equals:
            value = self.temp()
            expected = condition.expected
            if isinstance(expected, bool):  # as nodes.same decides each kind of expected value
                test = f"{value} is {expected!r}"
            elif expected is None:
                test = f"{value} is MISSING or {value} is None"
            elif type(expected) is str:
                test = f"{value} == {self.const(expected)}"
            else:
                test = f"_same({value}, {self.const(expected)})"
            return self.value(condition.node, value), f"({test})"
        if kind is n.OneOf:
            value = self.temp()
            choices = self.const(condition.choices)
            if all(type(choice) is str for choice in condition.choices):
                texts = self.const(frozenset(condition.choices))
                return self.value(condition.node, value), f"(type({value}) is str and {value} in {texts})"
            return self.value(condition.node, value), f"any(_same({value}, choice) for choice in {choices})"
        var = self.temp()
        if kind in (n.All, n.AnyOf):
            stop = "not " if kind is n.All else ""
            lines = [f"{var} = {kind is n.All}"]
            depth = ""
            for part in condition.parts:
                test, result = self.condition(part)
                lines += [depth + line for line in test]
                lines.append(f"{depth}if {stop}{result}:")
                lines.append(f"{depth}    {var} = {kind is not n.All}")
                lines.append(f"{depth}else:")
                depth += "    "
            lines.append(f"{depth}pass")
            return lines, var
        if kind is n.Not:
            test, result = self.condition(condition.part)
            return test, f"(not {result})"
        if kind is n.Fired:
            names = " or ".join(f"{name!r} in s.fired" for name in condition.names)
            return [], f"({names or 'False'})"
        return [], f"{self.const(condition)}.test(s)"

    # ------------------------------------------------------------ JMESPath

    def selector(self, ast: dict, source: str) -> tuple[list[str], str]:
        """Lines computing a JMESPath AST on the variable ``source`` (jmespath's meaning, null for
        absent); the lines and the variable holding the result."""
        kind = ast["type"]
        children = ast.get("children") or []
        if kind == "field":
            var = self.temp()
            return [f"{var} = {self._get(source, ast['value'])}"], var
        if kind in ("subexpression", "index_expression"):
            lines: list[str] = []
            if source == "m" and kind == "subexpression":
                names = []
                for child in children:
                    if child["type"] != "field":
                        break
                    names.append(child["value"])
                start, rest = self._start(tuple(names))
                if start != "m":
                    source, children = start, children[len(names) - len(rest):]
            for child in children:
                more, source = self.selector(child, source)
                lines += more
            return lines, source
        if kind in ("current", "identity"):
            return [], source
        if kind == "literal":  # in a variable: what follows may look it up (`1`.a) or test it
            var, value = self.temp(), ast["value"]
            if type(value) in (dict, list):  # a new one each time, as nodes.Interpreter reads it
                made = repr(value) if not value else f"_fresh({self.const(value)})"
                return [f"{var} = {made}"], var
            return [f"{var} = {self.const(value)}"], var
        if kind == "index":
            var, position = self.temp(), ast["value"]
            return [f"{var} = {source}[{position}] if isinstance({source}, list) and "
                    f"-len({source}) <= {position} < len({source}) else None"], var
        if kind == "pipe":
            left, middle = self.selector(children[0], source)
            right, var = self.selector(children[1], middle)
            return left + right, var
        if kind == "comparator":
            left, a = self.selector(children[0], source)
            right, b = self.selector(children[1], source)
            var = self.temp()
            op = ast["value"]
            if op in ("eq", "ne"):
                return left + right + [f"{var} = _{op}({a}, {b})"], var
            compare = self.const(TreeInterpreter.COMPARATOR_FUNC[op])
            literal = children[1].get("value") if children[1]["type"] == "literal" else None
            if type(literal) is int:  # against a whole-number literal: numbers compare directly
                symbol = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[op]
                return left + right + [f"{var} = ({a} {symbol} {literal!r}) if (type({a}) is int or "
                                       f"type({a}) is float) else _ordered({compare}, {a}, {b})"], var
            return left + right + [f"{var} = _ordered({compare}, {a}, {b})"], var
        if kind in ("or_expression", "and_expression"):
            left, a = self.selector(children[0], source)
            right, b = self.selector(children[1], source)
            var = self.temp()
            if a in self.bools:
                condition = f"not {a}" if kind == "or_expression" else a
            else:
                condition = f"_is_false({a})" if kind == "or_expression" else f"not _is_false({a})"
            return left + [f"if {condition}:"] + ["    " + line for line in right] + [
                f"    {var} = {b}", "else:", f"    {var} = {a}"], var
        if kind == "not_expression":
            inner, a = self.selector(children[0], source)
            var = self.temp()
            self.bools.add(var)
            return inner + [f"{var} = {f'not {a}' if a in self.bools else f'_is_false({a})'}"], var
        if kind in ("multi_select_dict", "multi_select_list"):
            var = self.temp()
            lines = []
            parts = []
            for child in children:
                if kind == "multi_select_dict":
                    more, value = self.selector(child["children"][0], source)
                    parts.append(f"{child['value']!r}: {value}")
                else:
                    more, value = self.selector(child, source)
                    parts.append(value)
                lines += more
            built = "{" + ", ".join(parts) + "}" if kind == "multi_select_dict" else "[" + ", ".join(parts) + "]"
            return [f"if {source} is None:", f"    {var} = None", "else:"] + [
                "    " + line for line in lines] + [f"    {var} = {built}"], var
        if kind == "function_expression":
            return self._function(ast, source)
        raise _Unsupported(kind)

    def _function(self, ast: dict, source: str) -> tuple[list[str], str]:
        name = ast["value"]
        entry = self.functions.FUNCTION_TABLE.get(name) if self.functions is not None else None
        if entry is None:
            raise _Unsupported(name)
        signature = entry["signature"]
        variadic = bool(signature) and signature[-1].get("variadic")
        children = ast.get("children") or []
        prepare = PREPARED_FUNCTIONS.get(name) if isinstance(self.functions, RuleFunctions) else None
        if not (prepare is not None and len(children) == 2 and children[1]["type"] == "literal"
                and (children[1]["value"] is None or isinstance(children[1]["value"], list))):
            prepare = None
        lines: list[str] = []
        args: list[str] = []
        for position, child in enumerate(children):
            if prepare is not None and position == 1:
                args.append(self.const(child["value"]))  # the keys: read by the function, never returned
                continue
            more, value = self.selector(child, source)
            lines += more
            args.append(value)
        tests = []
        for position, arg in enumerate(args):
            spec = signature[min(position, len(signature) - 1)] if variadic else signature[position]
            types = spec.get("types") or []
            if any(t not in _TYPE_TESTS for t in types):
                raise _Unsupported(f"{name}() argument types {types}")
            if types:
                tests.append("(" + " or ".join(_TYPE_TESTS[t].format(v=arg) for t in types) + ")")
        if prepare is not None:
            # the keys are a constant (their type test holds): the function of the object alone
            prepared = self.const(prepare(children[1]["value"]))
            var = self.temp()
            fallback = f"{self.const(self.functions)}.call_function({name!r}, [{', '.join(args)}])"
            return lines + [f"{var} = {prepared}({args[0]}) if {tests[0]} else {fallback}"], var
        plain = PLAIN_FUNCTIONS.get(name) if isinstance(self.functions, RuleFunctions) else None
        method = self.const(plain or getattr(self.functions, "_func_" + name))
        call = f"{method}({', '.join(args)})"
        var = self.temp()
        if not tests:
            return lines + [f"{var} = {call}"], var
        fallback = f"{self.const(self.functions)}.call_function({name!r}, [{', '.join(args)}])"
        return lines + [f"{var} = {call} if {' and '.join(tests)} else {fallback}"], var

    # ------------------------------------------------------------ helpers
