"""The compiled selectors and simple-template renderer give exactly what jmespath and Jinja give
(values, and errors for selectors), on many expressions and inputs."""

from __future__ import annotations

import itertools

import jmespath
import pytest
from jinja2 import ChainableUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.codegen import compile_expression
from engine.functions import RuleFunctions
from engine.selectors import compile_selector
from engine.textfast import UNDEFINED, _NeedJinja, compile_text

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


@pytest.mark.parametrize("compiler", [compile_selector, compile_expression], ids=["closures", "generated"])
@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_compiled_selector_matches_jmespath(expression, compiler):
    parsed = jmespath.compile(expression)
    fast = compiler(parsed.parsed, FUNCTIONS)
    assert fast is not None, f"{expression} should compile"
    for a, b in itertools.product(VALUES, VALUES[:8]):
        data = {"a": a, "b": b}
        assert _outcome(fast, data) == _outcome(lambda d: parsed.search(d, OPTIONS), data), (expression, data)


def test_selectors_jmespath_must_run_are_left_to_it():
    for expression in ("a[*].b", "a[?b == `1`]", "a[]", "sort_by(a, &b)", "a.*"):
        assert compile_selector(jmespath.compile(expression).parsed, FUNCTIONS) is None


ENV = ImmutableSandboxedEnvironment(undefined=ChainableUndefined, finalize=lambda v: "" if v is None else v)
TEMPLATES = ["Loaded {{ category }} {{ name }} Page", "{{ a }}", "{{ a.b }}", "{{ a.b.c }}",
             "{% if a %}{{ a }}{% if b %}-{{ b }}{% endif %}{% endif %}", "{% if a.b %}yes{% else %}no{% endif %}",
             "{{ settings.flag }}", "x{{ missing }}y"]


@pytest.mark.parametrize("text", TEMPLATES)
def test_simple_templates_render_as_jinja(text):
    fast = compile_text(ENV.parse(text))
    assert fast is not None
    _assert_renders_as_jinja(text, fast)


# Names Jinja knows without the context: its globals, and `self`. The fast path must not take them for
# undefined variables (it leaves such templates to Jinja).
GLOBAL_TEMPLATES = [f"x{{{{ {name} }}}}y" for name in sorted(ENV.globals) + ["self"]] + [
    "{% if range %}yes{% else %}no{% endif %}", "{% if dict %}{{ a }}{% endif %}", "{{ a }}{{ lipsum }}",
    "{{ namespace.a }}", "{% if cycler.x %}c{% endif %}{{ joiner }}", "{{ self.a }}", "{{ a }} {{ dict }}"]


@pytest.mark.parametrize("text", GLOBAL_TEMPLATES)
def test_templates_naming_jinja_globals_render_as_jinja(text):
    fast = compile_text(ENV.parse(text))
    if fast is not None:
        _assert_renders_as_jinja(text, fast)


def _assert_renders_as_jinja(text, fast):
    template = ENV.from_string(text)
    settings = {"flag": True}
    for a, b in itertools.product(VALUES, VALUES[:8]):
        context = {"a": a, "b": b, "category": a, "name": b}

        def lookup(name, context=context):
            if name in context:
                return context[name]
            return settings if name == "settings" else UNDEFINED

        try:
            rendered = fast(lookup)
        except _NeedJinja:
            continue  # left to Jinja at run time
        assert rendered == template.render(context, settings=settings), (text, context)


def test_templates_jinja_must_render_are_left_to_it():
    for text in ("{{ a | upper }}", "{% for x in a %}{{ x }}{% endfor %}", "{{ a ~ b }}", "{{ a.items }}",
                 "{% if a == b %}x{% endif %}"):
        assert compile_text(ENV.parse(text)) is None
