"""JSON text in and out, fast: orjson where it gives exactly what the standard library gives, the
standard library (the reference) everywhere else.

- ``loads``: orjson parses strict JSON to the same values, except integers of 19 digits or more
  and nesting deeper than the standard library reads
  (beyond 64 bits it gives a float), so text with such a run of digits, and text orjson refuses
  (NaN, lone surrogate escapes, errors), is parsed by the reference parser, which accepts it or
  explains why not.
- ``dumps``: compact, non-ASCII kept, NaN refused. orjson writes the same text as ``json.dumps``
  except for floats Python writes with an exponent (1e+16, 1e-05) and non-finite ones, so a value
  holding such a float, or anything orjson refuses, is written by ``json.dumps``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson

_ORJSON_ERRORS = (orjson.JSONDecodeError, orjson.JSONEncodeError)


# orjson reads 1024 levels of nesting, the standard library fewer (its recursion limit): text that
# could be nested that deep (it has that many brackets, so it is at least twice that long) is read
# by the reference.
_MAX_FAST_DEPTH = 500
_DEEP_TEXT = 2 * _MAX_FAST_DEPTH
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19


def loads(text: str, reference: Callable[[str], Any] = json.loads) -> Any:
    """The value of a JSON text as ``reference`` (a stricter ``json`` decoder, say) gives it, and
    its errors."""
    if len(text) >= _DEEP_TEXT and text.count("[") + text.count("{") > _MAX_FAST_DEPTH:
        return reference(text)  # possibly nested deeper than the reference reads: it decides
    if _LONG_NUMBER not in text.encode("utf-8", "surrogatepass").translate(_DIGITS_TO_ZERO):
        try:
            return orjson.loads(text)
        except _ORJSON_ERRORS:
            pass
    return reference(text)


def loads_bytes(data: bytes, reference: Callable[..., Any], *arguments: Any) -> Any:
    """``loads`` of UTF-8 text given as bytes: orjson reads the bytes where ``loads`` would use it
    on their text; otherwise ``reference(data, *arguments)`` (which decodes and reads the text)
    decides."""
    if not (len(data) >= _DEEP_TEXT and data.count(b"[") + data.count(b"{") > _MAX_FAST_DEPTH) and (
            _LONG_NUMBER not in data.translate(_DIGITS_TO_ZERO)):
        try:
            return orjson.loads(data)
        except _ORJSON_ERRORS:
            pass
    return reference(data, *arguments)


def loads_lines(data: bytes, lines: Iterable[bytes], reference: Callable[[bytes, int], Any]) -> Iterator[Any]:
    """``loads_bytes`` of each of ``lines`` (UTF-8 texts, each a line of ``data``, which may hold
    more): the i-th read by orjson where ``loads`` would use it on its text, else
    ``reference(line, i)`` decides. Runs of digits are looked for once in ``data``, not in each
    line: only where ``data`` has a long one is each line looked at."""
    if _LONG_NUMBER in data.translate(_DIGITS_TO_ZERO):
        for index, line in enumerate(lines):
            yield loads_bytes(line, reference, index)
        return
    orjson_loads = orjson.loads
    for index, line in enumerate(lines):
        if len(line) < _DEEP_TEXT or line.count(b"[") + line.count(b"{") <= _MAX_FAST_DEPTH:
            try:
                yield orjson_loads(line)
                continue
            except _ORJSON_ERRORS:
                pass
        yield reference(line, index)


def dumps(value: Any) -> str:
    """Compact JSON text of ``value``, byte for byte what ``json.dumps(value, ensure_ascii=False,
    separators=(",", ":"), allow_nan=False)`` gives, and its errors."""
    if not _has_unusual_float(value):
        try:
            return orjson.dumps(value).decode("utf-8")
        except _ORJSON_ERRORS:
            pass
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def dumps_bytes(value: Any) -> bytes:
    """``dumps(value)`` as UTF-8 bytes; text that cannot be UTF-8 (a lone surrogate) raises
    ``UnicodeEncodeError``."""
    if not _has_unusual_float(value):
        try:
            return orjson.dumps(value)
        except _ORJSON_ERRORS:
            pass
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _has_unusual_float(value: Any) -> bool:
    """True when a float inside is not finite or is one Python writes with an exponent, or when
    something inside is not a plain JSON type (the reference then decides)."""
    kind = type(value)
    if kind is not dict and kind is not list:
        return _unusual_scalar(value, kind)
    stack = [value]
    while stack:
        current = stack.pop()
        for item in current.values() if type(current) is dict else current:
            kind = type(item)
            if kind is str or kind is int or kind is bool or item is None:
                continue
            if kind is dict or kind is list:
                stack.append(item)
            elif _unusual_scalar(item, kind):
                return True
    return False


def _unusual_scalar(value: Any, kind: type) -> bool:
    if kind is float:
        return not (1e-4 <= abs(value) < 1e16) and value != 0.0
    return not (kind is str or kind is int or kind is bool or value is None)
