"""The plan's JMESPath and Jinja writers (``engine.plan``) give exactly what jmespath and Jinja give
(values, and errors for selectors), on many expressions and inputs; what they cannot write is left
to the libraries."""

from __future__ import annotations

import itertools

import jmespath
import pytest
from jinja2 import ChainableUndefined, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.functions import RuleFunctions
from engine.nodes import MISSING, Origin, Scope, Template
from engine.plan import Writer, compile_expression

FUNCTIONS = RuleFunctions({"keys": ["a", "b"], "flag": True, "map": {"x": "event_properties"}})
OPTIONS = jmespath.Options(custom_functions=FUNCTIONS)

EXPRESSIONS = [
    "a", "a.b", "a.b.c", "@", "`1`", "'text'", "a || b", "a && b", "!a", "a == b", "a != `1`", "a < b",
    "a >= `2`", "{x: a, y: b.c}", "[a, b]", "a[0]", "a[-1]", "a | b", "number(a)", "text(a)",
    "epoch_millis(a)", "lower(text(a))", "pick(a, setting('keys'))", "omit(a, ['b'])", "merge(a, b)",
    "length(a)", "type(a)", "to_string(a)", "keys(a)", "get(a, 'b')", "compact(a)",
    "number(a) != `0` && number(a) || `null`", "contains(a, 'x')", "starts_with(a, 'x')", "abs(a)",
    "from_items([['k', a]])", "entries(a)", "split(a, '/')[2]", "with_value(keys_with_value(setting('map'), "
    "'event_properties'), a)",
    "!a || length(a) >= `2`", "!a && b", "!!a", "a < `-1`", "a > `0` || b", "(a == b) && !b",
    'pick(a, `["b", ["c"]]`)', 'omit(a, `["b"]`)', 'omit_ignore_case(a, `["B", "x"]`)', "pick(a, `null`)",
    "omit(a, `[]`)",
]
VALUES = [None, "", "x", "32", "2016-10-17T00:30:08Z", 0, 1, 2.5, -3, True, False, [], [1, "x"], {},
          {"b": 1}, {"b": {"c": "deep"}}, {"a": 1, "b": "x"}, "http://h.example/p"]


def _outcome(function, data):
    try:
        return ("value", function(data))
    except Exception as exc:  # the same error, same text
        return ("error", type(exc).__name__, str(exc))


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_compiled_selector_matches_jmespath(expression):
    parsed = jmespath.compile(expression)
    fast = compile_expression(parsed.parsed, FUNCTIONS)
    assert fast is not None, f"{expression} should compile"
    for a, b in itertools.product(VALUES, VALUES[:8]):
        data = {"a": a, "b": b}
        assert _outcome(fast, data) == _outcome(lambda d: parsed.search(d, OPTIONS), data), (expression, data)


def test_selectors_jmespath_must_run_are_left_to_it():
    for expression in ("a[*].b", "a[?b == `1`]", "a[]", "sort_by(a, &b)", "a.*"):
        assert compile_expression(jmespath.compile(expression).parsed, FUNCTIONS) is None


ENV = ImmutableSandboxedEnvironment(undefined=ChainableUndefined, finalize=lambda v: "" if v is None else v)
TEMPLATES = ["Loaded {{ category }} {{ name }} Page", "{{ a }}", "{{ a.b }}", "{{ a.b.c }}",
             "{% if a %}{{ a }}{% if b %}-{{ b }}{% endif %}{% endif %}", "{% if a.b %}yes{% else %}no{% endif %}",
             "{{ settings.flag }}", "x{{ missing }}y"]


SETTINGS = {"flag": True}


def _written(text: str):
    """A template as the compiler makes it and as the plan writes it: the node (Jinja renders it)
    and the written function of (message, scope), or None when the writer leaves it to Jinja."""
    tree = ENV.parse(text)
    template = ENV.from_string(text, globals={"settings": SETTINGS})  # as the compiler's environment has it
    template.seg_tree = tree
    names = tuple(sorted(meta.find_undeclared_variables(tree) - {"message", "item", "index", "seq", "settings",
                                                                 "body", "vars"}))
    node = Template(text, template, False, Origin("t.yaml", 1), names, SETTINGS)
    writer = Writer(None, FUNCTIONS)
    lines = writer.jinja(node, "out")
    if any(".evaluate(s)" in line for line in lines):
        return node, None
    writer.run("\n".join(["def render(m, s):", *("    " + line for line in lines), "    return out", ""]), "<t>")
    return node, writer.names["render"]


@pytest.mark.parametrize("text", TEMPLATES)
def test_simple_templates_render_as_jinja(text):
    node, fast = _written(text)
    assert fast is not None
    _assert_renders_as_jinja(node, fast)


# Names Jinja knows without the context: its globals, and `self`. The writer must not take them for
# undefined variables (it leaves such templates to Jinja).
GLOBAL_TEMPLATES = [f"x{{{{ {name} }}}}y" for name in sorted(ENV.globals) + ["self"]] + [
    "{% if range %}yes{% else %}no{% endif %}", "{% if dict %}{{ a }}{% endif %}", "{{ a }}{{ lipsum }}",
    "{{ namespace.a }}", "{% if cycler.x %}c{% endif %}{{ joiner }}", "{{ self.a }}", "{{ a }} {{ dict }}"]


@pytest.mark.parametrize("text", GLOBAL_TEMPLATES)
def test_templates_naming_jinja_globals_render_as_jinja(text):
    node, fast = _written(text)
    if fast is not None:
        _assert_renders_as_jinja(node, fast)


def _assert_renders_as_jinja(node, fast):
    for a, b in itertools.product(VALUES, VALUES[:8]):
        message = {"a": a, "b": b, "category": a, "name": b}
        scope = Scope(message)
        try:
            rendered = fast(message, scope)
        except TypeError:
            continue  # a value the writer leaves to Jinja: the walk renders it
        assert rendered == node.evaluate(scope), (node.text, message)


def test_templates_jinja_must_render_are_left_to_it():
    for text in ("{{ a | upper }}", "{% for x in a %}{{ x }}{% endfor %}", "{{ a ~ b }}", "{{ a.items }}",
                 "{% if a == b %}x{% endif %}"):
        assert _written(text)[1] is None


def test_an_empty_rendering_is_missing():
    node, fast = _written("{{ missing }}")
    assert fast({}, Scope({})) is MISSING and node.evaluate(Scope({})) is MISSING
