"""The sandbox templates run in: Jinja's immutable sandbox, with bounds on what one render may
compute for one message, so that a hostile or careless template rejects the message quickly
instead of hanging the run or exhausting memory.

- Time: a render has ``MAX_TEMPLATE_SECONDS``; the sandbox checks the deadline (``DEADLINE``, set
  by each render, per thread) at every attribute, item, call and filter, and every
  ``_CHECK_EVERY`` items of a loop. (A single step is bounded by its size, below.)
- Size: a step that would make more than ``MAX_TEMPLATE_TEXT`` characters (or items) is refused
  before it is taken: ``range``, ``**``, ``*`` (text or list repeated), ``%`` and the ``format``
  filter (widths), and the filters that can write more than they read (``center``, ``indent``,
  ``replace``, ``join``, ``wordwrap``, ``batch``, ``slice``). The text methods that do the same
  (``'x'.ljust(n)``, ``.format``, ``.join``, ...) are not available: the filters are.
- Nesting: loops inside loops, recursive loops and macros are refused when the rules load
  (``refuse_unbounded``), as their time grows with the square of the data.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from jinja2 import nodes as jinja_nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_TEMPLATE_TEXT = 16 * 1024 * 1024  # characters (or items) one template may make for one value
MAX_TEMPLATE_SECONDS = 1.0  # one render
MAX_TEMPLATE_RANGE = 10_000  # items of range()
MAX_TEMPLATE_BITS = 65_536  # of a number a power makes
MAX_TEMPLATE_REPEAT = 1_000_000  # items of a text or list repeated with *

#: When the render under way (in this thread) must end, as ``time.monotonic()``.
DEADLINE: ContextVar[float] = ContextVar("template_deadline", default=float("inf"))

_CHECK_EVERY = 1024  # items of a loop between two looks at the clock
_TIMED_LOOP = "_seg2amp_timed_items"  # the global every loop's items go through
# Text methods that can make far more text than they are given; templates use the filters.
_UNBOUNDED_TEXT_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "format", "format_map",
                                     "join", "replace"})
# A printf-style conversion: its width and precision.
_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?[diouxXeEfFgGcrsa%]")


def in_time() -> None:
    """Fail when the render under way is past its deadline."""
    if time.monotonic() > DEADLINE.get():
        raise SecurityError("the template ran out of time")


def _at_most(size: int, what: str) -> None:
    if size > MAX_TEMPLATE_TEXT:
        raise SecurityError(f"{what} would make more than {MAX_TEMPLATE_TEXT} characters (or items)")


class Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with the bounds above."""

    intercepted_binops = frozenset({"**", "*", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = _bounded_range
        self.globals[_TIMED_LOOP] = _timed_items
        self.filters = {name: _checked(function, _FILTER_CHECKS.get(name)) for name, function in self.filters.items()}

    def add_filters(self, filters: dict[str, Callable]) -> None:
        """Add filters, each also checking the deadline."""
        self.filters.update({name: _checked(function, None) for name, function in filters.items()})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in _UNBOUNDED_TEXT_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def getattr(self, obj: Any, attribute: str) -> Any:
        in_time()
        if isinstance(obj, str) and attribute in _UNBOUNDED_TEXT_METHODS:  # before Jinja's own str.format
            return self.unsafe_undefined(obj, attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        in_time()
        if isinstance(obj, str) and argument in _UNBOUNDED_TEXT_METHODS:
            return self.unsafe_undefined(obj, argument)
        return super().getitem(obj, argument)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's
        in_time()
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _whole(left) and _whole(right) and abs(left) > 1 and right > 0 \
                and right * abs(left).bit_length() > MAX_TEMPLATE_BITS:
            raise SecurityError(f"a power of more than {MAX_TEMPLATE_BITS} bits is not computed")
        if operator == "*":
            for sized, times in ((left, right), (right, left)):
                if isinstance(sized, (str, list, tuple)) and _whole(times) \
                        and len(sized) * times > MAX_TEMPLATE_REPEAT:
                    raise SecurityError(f"a repetition of more than {MAX_TEMPLATE_REPEAT} items is not made")
        if operator == "%" and isinstance(left, str):
            _check_printf(left)
        return super().call_binop(context, operator, left, right)

    def timed_loops(self, tree: jinja_nodes.Template) -> jinja_nodes.Template:
        """``tree`` (changed in place) with the items of each loop going through the clock check."""
        for loop in tree.find_all(jinja_nodes.For):
            loop.iter = jinja_nodes.Call(jinja_nodes.Name(_TIMED_LOOP, "load"), [loop.iter], [], None, None,
                                         lineno=loop.lineno)
        tree.set_environment(self)
        return tree


def refuse_unbounded(tree: jinja_nodes.Template) -> str | None:
    """Why a template's time could grow with the square of the data (None if it cannot)."""
    for loop in tree.find_all(jinja_nodes.For):
        if loop.recursive or any(True for _ in loop.find_all(jinja_nodes.For)):
            return ("a loop inside a loop (or a recursive loop) is not allowed: its time grows with the square "
                    "of the data")
    if any(True for _ in tree.find_all((jinja_nodes.Macro, jinja_nodes.CallBlock))):
        return "macros are not allowed (a macro called in a loop is a loop inside a loop)"
    return None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bounded_range(*args: int) -> range:
    """``range`` of at most ``MAX_TEMPLATE_RANGE`` items."""
    made = range(*args)
    if len(made) > MAX_TEMPLATE_RANGE:
        raise OverflowError(f"range() of more than {MAX_TEMPLATE_RANGE} items is not made in a template")
    return made


def _timed_items(items: Iterable) -> Iterator:
    """The items of a loop, looking at the clock every ``_CHECK_EVERY`` of them."""
    for count, item in enumerate(items):
        if not count % _CHECK_EVERY:
            in_time()
        yield item


def _check_printf(text: str) -> None:
    for match in _PRINTF.finditer(text):
        for number in match.groups():
            if number == "*":
                raise SecurityError("a width or precision taken from the arguments ('*') is not allowed")
            if number and (len(number) > 9 or int(number) > MAX_TEMPLATE_TEXT):
                raise SecurityError(f"a width or precision of more than {MAX_TEMPLATE_TEXT} is not allowed")


def _checked(function: Callable, check: Callable | None) -> Callable:
    """``function`` (a filter) checking the deadline, then ``check`` on its arguments (those after
    the context, environment or evaluation context Jinja passes first), before it runs."""
    passes = getattr(function, "jinja_pass_arg", None) is not None

    @functools.wraps(function)  # keeps how Jinja passes its first argument
    def run(*args: Any, **kwargs: Any) -> Any:
        in_time()
        if check is not None:
            check(*(args[1:] if passes else args), **kwargs)
        return function(*args, **kwargs)

    return run


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _center(value: Any, width: Any = 80, *args: Any, **kwargs: Any) -> None:
    if _whole(width):
        _at_most(width, "center()")


def _indent(s: Any, width: Any = 4, *args: Any, **kwargs: Any) -> None:
    text = _text(s)
    each = len(width) if isinstance(width, str) else width if _whole(width) else 0
    _at_most(len(text) + (text.count("\n") + 1) * each, "indent()")


def _format(value: Any, *args: Any, **kwargs: Any) -> None:
    _check_printf(_text(value))


def _replace(s: Any, old: Any, new: Any, count: Any = None, *args: Any, **kwargs: Any) -> None:
    text, old, new = _text(s), _text(old), _text(new)
    times = text.count(old) if old else len(text) + 1
    if _whole(count) and count >= 0:
        times = min(times, count)
    _at_most(len(text) + times * max(0, len(new) - len(old)), "replace()")


def _join(value: Any, d: Any = "", *args: Any, **kwargs: Any) -> None:
    if isinstance(value, (list, tuple)):
        size = sum(len(item) for item in value if isinstance(item, str))
        _at_most(size + len(_text(d)) * len(value), "join()")


def _wordwrap(s: Any, width: Any = 79, break_long_words: Any = True, wrapstring: Any = None,
              *args: Any, **kwargs: Any) -> None:
    text = _text(s)
    pieces = text.count("\n") + 1 + (len(text) // width if _whole(width) and width > 0 else 0)
    _at_most(len(text) + pieces * len(_text(wrapstring if wrapstring is not None else "\n")), "wordwrap()")


def _batch(value: Any, linecount: Any, fill_with: Any = None, *args: Any, **kwargs: Any) -> None:
    if fill_with is not None and _whole(linecount):
        _at_most(linecount, "batch()")


def _slice(value: Any, slices: Any, *args: Any, **kwargs: Any) -> None:
    if _whole(slices):
        _at_most(slices, "slice()")


_FILTER_CHECKS: dict[str, Callable] = {
    "center": _center, "indent": _indent, "format": _format, "replace": _replace, "join": _join,
    "wordwrap": _wordwrap, "batch": _batch, "slice": _slice,
}
