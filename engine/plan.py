"""The fast path: a compiled rule set written, once, as one Python function ``plan(message)``.

The plan holds a block per dispatch value (message type) with the rules such a message meets, in
order; each construct writes its own code (``write`` in ``nodes``), and this module supplies what
they share: the namespace the code runs in, fresh variable names, the JMESPath and Jinja subsets
written as plain Python, and three savings per message: the message objects several rules read
(``context``, ``context.device``) are looked up once (hoisting), a selector written more than
once is computed once (memo), and the fields several outputs carry alike are computed and
checked once (sharing); a function call several selectors make alike on the message is made
once too. Everything settings alone decide is left out: a rule, case or branch that
cannot apply is not written, and a part of a selector that reads only settings is a constant.

Each output is checked as its target checks it (``Target.accepts``), so a plan's outputs need no
further check; a refused one makes the plan give False. Anything else but the plain success path
(a rule that rejects, an error, a mapping that is not a plain dict) raises, and the walk
(``run``), the reference, takes the message and says where and why. A selector or template this
module cannot write runs as its own node. The rule-language suite (``tests/language``) runs every
case through both and requires the same outputs.

For example, the rule ``{name: r, on: order, emit: {target: t, body: {id: orderId}}}`` becomes::

    def plan(m):
        ...
        if key == 'order':
            t1 = {}
            v = m.get('orderId')
            if v is not None and v != '': t1['id'] = v
            if not _accept0(t1): return False
            built.append(('r', 't', t1))
            s.seq += 1
            s.fired.add('r')
        return built
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from typing import Any

from jinja2 import nodes as jinja_nodes
from jinja2.defaults import DEFAULT_NAMESPACE
from jmespath.visitor import TreeInterpreter

from . import nodes as n
from .codecache import compile_cached
from .functions import GIVEN_BACK, PLAIN_FUNCTIONS, PREPARED_FUNCTIONS, RuleFunctions
from .planruntime import base_names

Plan = Callable[[dict], list]

# Names Jinja resolves without the context (its default globals, ``self``): a template naming one
# is left to Jinja.
_JINJA_NAMES = frozenset(DEFAULT_NAMESPACE) | {"self"}


class Unsupported(Exception):
    """A selector or template this module does not write (the node then runs as itself)."""


def python_literal(value: Any) -> str | None:
    """Python source of a JSON-like value (dicts with text keys, lists, tuples, frozensets, text,
    finite numbers, booleans, None) that makes an equal value of the plain types; None for
    anything else."""
    if value is None or value is True or value is False:
        return repr(value)
    if isinstance(value, bool):
        return repr(bool(value))
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        return repr(float(value)) if math.isfinite(value) else None
    if isinstance(value, str):
        return repr(str(value))
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            return None
        items = [(python_literal(key), python_literal(item)) for key, item in value.items()]
        return None if any(v is None for _, v in items) else "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    if isinstance(value, (list, tuple, frozenset)):
        parts = [python_literal(item) for item in value]
        if any(part is None for part in parts):
            return None
        inner = ", ".join(parts)
        if isinstance(value, list):
            return f"[{inner}]"
        return f"({inner},)" if isinstance(value, tuple) else f"frozenset(({inner},))" if parts else "frozenset()"
    return None


def _call_key(ast: dict) -> str:
    return json.dumps(ast, sort_keys=True, default=repr)


def _message_calls(ast: dict, on_message: bool = True) -> list[str]:
    """The function calls of a selector's AST that apply to the message itself (not to a value
    reached from it, as in ``a | f(@)``), as keys (``_call_key``)."""
    kind = ast.get("type")
    children = ast.get("children") or []
    found = [_call_key(ast)] if kind == "function_expression" and on_message else []
    if kind in ("subexpression", "index_expression", "pipe", "projection", "value_projection",
                "filter_projection", "flatten"):
        for position, child in enumerate(children):  # the first part on the same value, the rest on its result
            found += _message_calls(child, on_message and position == 0)
    elif isinstance(children, list):
        for child in children:
            if isinstance(child, dict):
                found += _message_calls(child, on_message and kind not in ("expref",))
    return found


def compile_plan(ruleset: Any, checked: bool = True) -> Plan | None:
    """A function ``plan(message) -> [(rule name, target name, body), ...]`` that builds the same outputs as
    the walk, each already checked as its target's ``accepts`` checks it, and gives False when one
    fails those checks; it raises on anything else but the plain success path. None if the
    generated code would not compile (the walk then takes every message: slower, same outputs).
    ``checked=False`` leaves the outputs unchecked, for a caller that checks them itself (the
    benchmark, to tell what the checks cost)."""
    try:
        return Writer(ruleset, checked=checked).build()
    except (SyntaxError, RecursionError):
        return None


def compile_expression(ast: dict, functions: Any, label: str = "selector") -> Callable[[Any], Any] | None:
    """One JMESPath AST as a generated function of the data it applies to (jmespath's value), or
    None when the expression needs jmespath's own interpreter."""
    writer = Writer(None, functions)
    try:
        lines, var = writer.selector(ast, "m")
    except Unsupported:
        return None
    source = "\n".join(["def expression(m):", *("    " + line for line in lines), f"    return {var}", ""])
    try:
        writer.run(source, f"<{label}>")
    except (SyntaxError, RecursionError):
        return None
    return writer.names["expression"]


class Writer:
    """Writes a rule set's plan. The constructs call back into it (``value``, ``condition``,
    ``path``, ``field``, ``select``, ``jinja``, ``output``, ``chain``, ``call``, ``temp``,
    ``const``)."""

    def __init__(self, ruleset: Any, functions: Any = None, checked: bool = True) -> None:
        self.ruleset = ruleset
        self.checked = checked
        self.names: dict[str, Any] = base_names()
        self._constants: dict[int, str] = {}
        self._counter = 0
        if functions is None and ruleset is not None and ruleset.options is not None:
            functions = ruleset.options.custom_functions
        self.functions = functions
        self.prefixes: dict[tuple[str, ...], str] = {}  # hoisted message objects of the current block
        self.memos: dict[str, str] = {}  # selector text -> variable, for selectors a block repeats
        self.call_memos: dict[str, str] = {}  # function call on the message -> variable (``_memoise``)
        self.shared: dict[int, tuple[str, set]] = {}  # emit -> its group of shared fields (``_share``)
        self.bools: set[str] = set()  # variables known to hold true or false
        self.tri: set[str] = set()  # variables known to hold true, false or null (an ordering comparison)
        self.message_is_object = ruleset is not None  # a plan runs on validated messages (objects)
        self.objects: set[str] = set()  # variables known to hold a plain object (an output's body)
        self.acceptors: dict[int, str] = {}  # target -> its generated check function (``_acceptor``)
        self.functions_written: list[str] = []  # the lines of those functions
        self.sources: dict[str, str | None] = {}  # constant -> the Python that makes it again (``const``)

    # ------------------------------------------------------------ names

    def const(self, value: Any, source: str | None = None) -> str:
        """A name for ``value`` in the plan's namespace (the object itself, never a copy); short
        literals are written as they are. ``source``: Python that makes the same value again in a
        plan kept between runs (``plancache``), where it cannot be told from the value itself
        (JSON data, the rule functions and their methods, importable functions: ``rebuild``)."""
        if value is None or isinstance(value, bool) or (type(value) in (int, str) and len(repr(value)) < 60):
            return repr(value)
        name = self._constants.get(id(value))
        if name is None:
            name = f"K{len(self._constants)}"
            self._constants[id(value)] = name
            self.names[name] = value
            self.sources[name] = source if source is not None else self.rebuild(value)
        return name

    def rebuild(self, value: Any) -> str | None:
        """Python that makes ``value`` again where only the plan's runtime names are known
        (``planruntime``: ``FUNCTIONS``, ``_import``), or None where nothing can."""
        if value is self.functions and type(value) is RuleFunctions:
            return "FUNCTIONS"
        if getattr(value, "__self__", None) is self.functions and type(self.functions) is RuleFunctions:
            return f"FUNCTIONS.{value.__name__}"
        literal = python_literal(value)
        if literal is not None:
            return literal
        module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
        if isinstance(module, str) and isinstance(qualname, str) and "<" not in qualname:
            found: Any = sys.modules.get(module)
            for part in qualname.split("."):
                found = getattr(found, part, None)
            if found is value:
                return f"_import({module!r}, {qualname!r})"
        return None

    def temp(self) -> str:
        """An unused variable name."""
        self._counter += 1
        return f"t{self._counter}"

    def run(self, source: str, label: str, cached: bool = False) -> None:
        """Compile and run generated source in the namespace (its functions land in ``names``);
        ``cached``: the compiled code kept between runs (``codecache``: the plan, which is big)."""
        code = compile_cached(source, label) if cached else compile(source, label, "exec")
        exec(code, self.names)  # noqa: S102 - source generated by this package

    # ------------------------------------------------------------ whole plan

    def build(self) -> Plan:
        # Plain JSON objects only: a mapping of another type (the Python API can pass one) is
        # left to the walk, whose plain paths and selectors tell dict subclasses apart.
        # Each dispatch value's block is a function of its own: one function for every block
        # would hold every block's variables, and a frame of ~2,000 variables no longer fits
        # the interpreter's 16 KB stack chunk, which CPython then maps and unmaps at each call
        # (measured: 18 us per call for a message no rule reads, against 1 us).
        lines = []
        dispatch = self.ruleset.dispatch
        branches = list(self.ruleset.by_dispatch.items()) if dispatch is not None else []
        blocks = [rules for _, rules in branches] + [self.ruleset.undispatched]
        for position, rules in enumerate(blocks):
            lines += [f"def _block{position}(m, s, built):",
                      *("    " + line for line in self._block(rules)), "    return built", ""]
        lines = self.functions_written + lines
        lines += ["def plan(m):", "    if type(m) is not dict: raise TypeError('not a plain object')",
                  "    s = Scope(m)"]
        if dispatch is not None:  # computed even when no rule reads it: a failing one rejects, as in the walk
            lines += ["    " + line for line in self.value(dispatch, "key")]
        for position, (key, _) in enumerate(branches):
            keyword = "if" if position == 0 else "elif"
            lines.append(f"    {keyword} key == {self.const(key)}: return _block{position}(m, s, [])")
        lines.append(f"    return _block{len(branches)}(m, s, [])")
        source = "\n".join(lines) + "\n"
        self.run(source, f"<plan of the {self.ruleset.platform} rules>", cached=True)
        plan = self.names["plan"]
        plan.source = source
        plan.sources = dict(self.sources)  # how its constants are made again (``plancache``)
        return plan

    def _block(self, rules: list) -> list[str]:
        """The rules a message of one dispatch value meets, in order, as one block of code that
        first computes what several of them read."""
        reached = []
        for rule in rules:
            reached.append(rule)
            if rule.decided is True and (rule.reject is not None or rule.stop):
                break  # it always rejects or stops the message: no rule after it runs
        inside = [node for rule in reached for child in rule.children() for node in n.walk_tree(child)]
        lines = self._hoist(inside) + self._memoise(inside) + self._share(reached)
        for rule in reached:
            lines += rule.write(self)
        self.prefixes, self.memos, self.shared, self.call_memos = {}, {}, {}, {}
        return lines

    def _hoist(self, inside: list) -> list[str]:
        """Lines computing, once per message, the message's objects that several paths go through
        (``context``, ``context.device``, ...); later paths start from them. An object that is
        not there (or not an object) is an empty object that nothing changes, where every path
        through it gives null."""
        counts: dict[tuple[str, ...], int] = {}
        for node in inside:
            for chain in node.chains() if isinstance(node, (n.Path, n.Select)) else ():
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

    def _memoise(self, inside: list) -> list[str]:
        """Selectors on the message written more than once in the rules a message meets
        (``number(properties.revenue)`` in several ``when``) are computed the first time and reused:
        selectors have no side effects."""
        counts: dict[str, int] = {}
        for node in inside:
            if type(node) is n.Select and node.source == "message":
                counts[node.text] = counts.get(node.text, 0) + 1
        self.memos = {text: f"M{position}" for position, text in enumerate(t for t, c in counts.items() if c > 1)}
        # and the function calls on the message that several selectors make alike
        # (``user_agent(context.userAgent)`` under ``.os.family`` and ``.os.version``)
        calls: dict[str, int] = {}
        for node in inside:
            if type(node) is n.Select and node.source == "message":
                for call in _message_calls(node.folded):
                    calls[call] = calls.get(call, 0) + 1
        self.call_memos = {key: f"C{position}" for position, key in enumerate(k for k, c in calls.items() if c > 1)}
        return [f"{var} = UNSET" for var in [*self.memos.values(), *self.call_memos.values()]]

    def _share(self, rules: list) -> list[str]:
        """The output fields that several outputs of one message carry alike (the same node
        under the same key of the same target, reading the message alone: fields a fragment gives
        two outputs of one rule, or every element of a ``foreach``) are computed once per
        message, by the first output that has them; the others copy them from its body, held in
        a variable per group of such fields. Outputs of one message may so share objects, as they
        share the message's own."""
        made: dict[tuple, int] = {}
        emits = [found for rule in rules for emit in rule.emits for found in emit.targets()]
        for emit, repeated in emits:
            for key, node in emit.fields:
                if type(node) is not n.Const and _pure(node):
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

    # ------------------------------------------------------------ what constructs call

    def value(self, node: Any, out: str) -> list[str]:
        """Lines that leave ``node``'s value (or MISSING) in the variable ``out``."""
        return node.write(self, out)

    def condition(self, condition: Any) -> tuple[list[str], str]:
        """Lines computing what a condition (or True: none) tests, and the test: "True" or
        "False" when settings decide it, else an expression or a variable holding its truth."""
        if condition is True:
            return [], "True"
        decided = condition.decided
        if decided is not None:
            return [], repr(decided)
        return condition.write(self)

    def chain(self, parts: list, every: bool) -> tuple[list[str], str]:
        """``all`` (every part holds) or ``any`` of conditions, tested in order until decided."""
        var = self.temp()
        lines = [f"{var} = {every}"]
        depth = ""
        for part in parts:
            test, result = self.condition(part)
            if result == repr(not every):  # decides the whole
                lines.append(f"{depth}{var} = {not every}")
                break
            if result == repr(every):  # changes nothing
                continue
            lines += [depth + line for line in test]
            lines.append(f"{depth}if {'not ' if every else ''}{result}:")
            lines.append(f"{depth}    {var} = {not every}")
            lines.append(f"{depth}else:")
            depth += "    "
        lines.append(f"{depth}pass")
        return lines, var

    def call(self, node: Any, out: str) -> list[str]:
        """A value construct left as it is: its own ``evaluate``."""
        return [f"{out} = {self.const(node)}.evaluate(s)"]

    def field(self, node: Any, container: str, key: str) -> list[str]:
        """Lines setting ``container[key]`` to the node's value when it has one."""
        if type(node) is n.Path:
            lines, present = self.path(node, "v"), "v is not None and v != ''"
        else:
            lines, present = self.value(node, "v"), "v is not MISSING"
        return lines + [f"if {present}: {container}[{key!r}] = v"]

    def path(self, node: Any, out: str) -> list[str]:
        """A plain path's lookup, leaving null (not MISSING) when a step is absent."""
        start, keys = self.source(node.source), node.keys
        if start == "m":
            start, keys = self._start(keys)
        if start in ("m", *self.prefixes.values()):
            lines = [f"{out} = {self._get(start, keys[0])}"]
        else:  # the item or the vars: a plain path steps into plain objects only, as nodes.Path does
            lines = [f"{out} = {start}.get({keys[0]!r}) if type({start}) is dict else None"]
        for key in keys[1:]:
            lines.append(f"{out} = {out}.get({key!r}) if type({out}) is dict else None")
        return lines

    def select(self, node: Any, out: str) -> list[str]:
        """A JMESPath selector's value (MISSING for null or empty text), computed once per message
        when the block repeats it."""
        memo = self.memos.get(node.text) if node.source == "message" else None
        if memo is not None:
            computed = self._select(node, memo)
            return [f"if {memo} is UNSET:"] + ["    " + line for line in computed] + [f"{out} = {memo}"]
        return self._select(node, out)

    def _select(self, node: Any, out: str) -> list[str]:
        try:
            lines, var = self.selector(node.folded, self.source(node.source))
        except Unsupported:
            return self.call(node, out)
        return lines + [f"{out} = MISSING if {var} is None or {var} == '' else {var}"]

    def output(self, emit: Any, rule_ref: str) -> list[str]:
        """One output of an emit: its body built field by field, checked, and appended."""
        target = emit.target
        body = self.temp()
        lines = [f"{body} = {{}}"]
        for key, node in emit.fields:
            lines += self.field(node, body, key)
        checked = [f"if not {self._acceptor(target)}({body}): return False"] if self.checked else []
        made = [f"built.append(({rule_ref}, {target.name!r}, {body}))", "s.seq += 1"]
        most = self.ruleset.max_outputs if self.ruleset is not None else None
        if most is not None:  # one output too many: the walk says why
            made.append(f"if len(built) > {int(most)}: raise LookupError('too many outputs')")
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
                again += self.field(node, body, key)
        return ([f"if {source} is None:"] + ["    " + line for line in [*lines, f"{source} = {body}"]] +
                ["else:"] + ["    " + line for line in again] + checked + made)

    def _acceptor(self, target: Any) -> str:
        """The name of a generated function ``accept(body)`` that is False where ``target.accepts``
        is: its schema's yes/no, then each check's assertion written as code (or called, where it
        cannot be). A function of its own, written once per target, so that the variables of the
        checks do not swell the frames of the blocks (see ``build``)."""
        name = self.acceptors.get(id(target))
        if name is not None:
            return name
        name = self.acceptors[id(target)] = f"_accept{len(self.acceptors)}"
        saved = self.prefixes, self.memos, self.shared, self.call_memos
        self.prefixes, self.memos, self.shared, self.call_memos = {}, {}, {}, {}
        valid = self.const(target.is_valid, f"_validator({target.schema!r})" if target.validator.fast else None)
        lines = [f"if not {valid}(b): return False"]
        self.objects.add("b")
        for check in target.checks:
            try:
                if check.folded is None:
                    raise Unsupported("no AST")
                more, var = self.selector(check.folded, "b")
            except Unsupported:
                more, var = [], f"{self.const(check.assertion)}(b)"
            lines += [*more, f"if not ({self.truth(var)}): return False"]
        self.objects.discard("b")
        self.prefixes, self.memos, self.shared, self.call_memos = saved
        self.functions_written += [f"def {name}(b):", *("    " + line for line in lines), "    return True", ""]
        return name

    @staticmethod
    def source(source: str) -> str:
        """The variable a selector ``from:`` a source reads."""
        return {"item": "s.item", "vars": "s.vars"}.get(source, "m")

    def _get(self, source: str, key: str) -> str:
        """``source.get(key)`` as jmespath means it (null unless ``source`` is an object), written
        for what ``source`` is known to hold: the message (an object: anything else makes the plan
        give the message up), a hoisted object (always an object), or anything."""
        if (source == "m" and self.message_is_object) or source in self.prefixes.values() or source in self.objects:
            return f"{source}.get({key!r})"
        return f"{source}.get({key!r}) if isinstance({source}, dict) else None"

    def _start(self, keys: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
        """Where a path from the message starts: the longest hoisted prefix, and the keys left."""
        for length in range(len(keys) - 1, 0, -1):
            var = self.prefixes.get(keys[:length])
            if var is not None:
                return var, keys[length:]
        return "m", keys

    # ------------------------------------------------------------ JMESPath

    def selector(self, ast: dict, source: str) -> tuple[list[str], str]:
        """Lines computing a JMESPath AST on the variable ``source`` (jmespath's meaning, null for
        absent); the lines and the variable holding the result. Raises ``Unsupported`` for what
        needs jmespath's own interpreter (projections, filters, flattening, expression
        references)."""
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
            return self._comparator(ast, children, source)
        if kind in ("or_expression", "and_expression"):
            left, a = self.selector(children[0], source)
            right, b = self.selector(children[1], source)
            var = self.temp()
            condition = f"not ({self.truth(a)})" if kind == "or_expression" else self.truth(a)
            if a in self.bools and b in self.bools:
                self.bools.add(var)
            elif a in self.bools | self.tri and b in self.bools | self.tri:
                self.tri.add(var)
            return left + [f"if {condition}:"] + ["    " + line for line in right] + [
                f"    {var} = {b}", "else:", f"    {var} = {a}"], var
        if kind == "not_expression":
            inner, a = self.selector(children[0], source)
            var = self.temp()
            self.bools.add(var)
            return inner + [f"{var} = not ({self.truth(a)})"], var
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
            memo = self.call_memos.get(_call_key(ast)) if source == "m" else None
            if memo is None:
                return self._function(ast, source)
            lines, var = self._function(ast, source)  # once per message: the first selector that makes it
            return [f"if {memo} is UNSET:", *("    " + line for line in lines), f"    {memo} = {var}"], memo
        raise Unsupported(kind)

    def _comparator(self, ast: dict, children: list, source: str) -> tuple[list[str], str]:
        left, a = self.selector(children[0], source)
        right, b = self.selector(children[1], source)
        var = self.temp()
        op = ast["value"]
        if op in ("eq", "ne"):
            self.bools.add(var)  # jmespath's equality of JSON values: true or false
            return left + right + [f"{var} = _{op}({a}, {b})"], var
        self.tri.add(var)  # an ordering: true, false, or null where the sides do not compare
        compare = self.const(TreeInterpreter.COMPARATOR_FUNC[op], f"_comparator({op!r})")
        literal = children[1].get("value") if children[1]["type"] == "literal" else None
        if type(literal) is int:  # against a whole-number literal: numbers compare directly
            symbol = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[op]
            return left + right + [f"{var} = ({a} {symbol} {literal!r}) if (type({a}) is int or "
                                   f"type({a}) is float) else _ordered({compare}, {a}, {b})"], var
        return left + right + [f"{var} = _ordered({compare}, {a}, {b})"], var

    def truth(self, var: str) -> str:
        """An expression of whether ``var`` is truthy as JMESPath means it, as cheap as what
        ``var`` is known to hold allows."""
        if var in self.bools:
            return var
        if var in self.tri:
            return f"{var} is True"
        return f"_truthy({var})"

    def _function(self, ast: dict, source: str) -> tuple[list[str], str]:
        name = ast["value"]
        entry = self.functions.FUNCTION_TABLE.get(name) if self.functions is not None else None
        if entry is None:
            raise Unsupported(name)
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
            if any(t not in n.JSON_TYPE_TESTS for t in types):
                raise Unsupported(f"{name}() argument types {types}")
            if types:
                tests.append("(" + " or ".join(n.JSON_TYPE_TESTS[t].format(v=arg) for t in types) + ")")
        var = self.temp()
        # jmespath's own call where an argument has the wrong type: it raises jmespath's error
        fallback = f"{self.const(self.functions)}.call_function({name!r}, [{', '.join(args)}])"
        if prepare is not None:
            # the keys are a constant (their type test holds): the function of the object alone
            keys = python_literal(children[1]["value"])
            prepared = self.const(prepare(children[1]["value"]), None if keys is None else
                                  f"_import('engine.functions', 'PREPARED_FUNCTIONS')[{name!r}]({keys})")
            return lines + [f"{var} = {prepared}({args[0]}) if {tests[0]} else {fallback}"], var
        plain = PLAIN_FUNCTIONS.get(name) if isinstance(self.functions, RuleFunctions) else None
        call = f"{self.const(plain or getattr(self.functions, '_func_' + name))}({', '.join(args)})"
        if plain is not None and name in GIVEN_BACK and len(args) == 1:  # no call for what it gives back
            given = " or ".join(f"type({args[0]}) is {kind.__name__}" for kind in GIVEN_BACK[name])
            call = f"{args[0]} if ({given} or {args[0]} is None) else {call}"
        if not tests:
            return lines + [f"{var} = {call}"], var
        return lines + [f"{var} = ({call}) if {' and '.join(tests)} else {fallback}"], var

    # ------------------------------------------------------------ Jinja

    def jinja(self, node: Any, out: str) -> list[str]:
        """A simple template (text, names, ``a.b`` on objects, ``{% if name %}`` without elif) as
        string building, rendering what the sandboxed Jinja environment renders (missing and null
        are empty text). Anything else, or a value that is not text, a number or a boolean, is
        left to Jinja: the template runs as its own node."""
        try:
            return self._template(node, out)
        except Unsupported:
            return self.call(node, out)

    def _template(self, node: Any, out: str) -> list[str]:
        tree = node.template.seg_tree
        if any(name.name in _JINJA_NAMES for name in tree.find_all(jinja_nodes.Name)):
            raise Unsupported("a name Jinja resolves itself")
        text = self.temp()
        self.template_node = node
        self.template_values: dict[str, str] = {}  # expressions already read (``{% if x %}{{ x }}``)
        # Tidying (nodes.tidy) changes only the template's own white space: a template without
        # any is built as plain text; else as nodes.tidy builds it, written out piece by piece,
        # with a variable holding whether the template's white space waits for the next piece.
        self.template_pieces = node.collapse and any(
            any(ch.isspace() for ch in data.data) for data in tree.find_all(jinja_nodes.TemplateData))
        lines = [f"{text} = ''"] + ([f"{text}_w = False"] if self.template_pieces else [])
        for statement in tree.body:
            lines += self._statement(statement, text)
        return lines + [f"{out} = {text} if {text} else MISSING"]

    def _own(self, text: str, data: str) -> list[str]:
        """Lines adding a piece of the template's own text."""
        if not self.template_pieces:
            return [f"{text} += {data!r}"]
        own = n.TemplateText(data)
        lines = [f"{text}_w = True"] if own.lead else []
        if own.inner:
            lines += [f"if {text}_w and {text}: {text} += ' '", f"{text} += {own.inner!r}", f"{text}_w = {own.trail}"]
        return lines

    def _valued(self, text: str, value: str) -> list[str]:
        """Lines adding what a value writes (``value``: a variable holding text), as it is."""
        return [f"if {value}:", f"    if {text}_w and {text}: {text} += ' '", f"    {text} += {value}",
                f"    {text}_w = False"]

    def _statement(self, statement: Any, text: str) -> list[str]:
        if isinstance(statement, jinja_nodes.Output):
            lines = []
            for child in statement.nodes:
                if isinstance(child, jinja_nodes.TemplateData):
                    lines += self._own(text, child.data)
                    continue
                more, value = self._jinja_expression(child)
                lines += more
                if not self.template_pieces:
                    lines += [f"if type({value}) is str:", f"    {text} += {value}",
                              f"elif {value} is not UNDEFINED and {value} is not None:",
                              f"    if not isinstance({value}, (str, int, float, bool)): raise TypeError('not text')",
                              f"    {text} += str({value})"]
                    continue
                written = self.temp()
                lines += [f"if type({value}) is str:", f"    {written} = {value}",
                          f"elif {value} is not UNDEFINED and {value} is not None:",
                          f"    if not isinstance({value}, (str, int, float, bool)): raise TypeError('not text')",
                          f"    {written} = str({value})", "else:", f"    {written} = ''"]
                lines += self._valued(text, written)
            return lines
        if isinstance(statement, jinja_nodes.If) and not statement.elif_ and isinstance(
                statement.test, (jinja_nodes.Name, jinja_nodes.Getattr)):
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
        raise Unsupported(type(statement).__name__)

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
            if name in self.template_node.names:  # a message field the template may see
                return [f"{var} = m.get({name!r}, UNDEFINED)"], var
            special = {"message": "m", "item": "s.item", "index": "s.index", "seq": "s.seq", "vars": "s.vars",
                       "settings": self.const(self.template_node.settings)}
            return [f"{var} = {special.get(name, 'UNDEFINED')}"], var
        if isinstance(expression, jinja_nodes.Getattr):
            attribute = expression.attr
            if hasattr(dict, attribute) or attribute.startswith("_"):  # Jinja reads those from the dict type
                raise Unsupported(attribute)
            lines, inner = self._jinja_expression(expression.node)
            return lines + [f"if {inner} is UNDEFINED or {inner} is None:", f"    {var} = UNDEFINED",
                            f"elif isinstance({inner}, dict):", f"    {var} = {inner}.get({attribute!r}, UNDEFINED)",
                            "else:", "    raise TypeError('an attribute of a value that is not an object')"], var
        raise Unsupported(type(expression).__name__)


def _pure(node: Any) -> bool:
    """Whether a construct's value depends on the message (and settings) alone."""
    return node.pure and all(_pure(child) for child in node.children())
