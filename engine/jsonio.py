"""JSON text in and out, fast: msgspec reads and orjson writes where they give what the standard
library gives, the standard library (the reference) everywhere else.

- ``loads``: msgspec parses strict JSON to the same values (integers of any size exactly, floats
  to the same bits), so only text it refuses (NaN, numbers out of range, lone surrogate escapes,
  errors) and text that may nest deeper than the standard library reads is parsed by the reference
  parser, which accepts it or explains why not.
- ``dumps``: compact, non-ASCII kept, NaN and Infinity refused: the values ``json.dumps`` writes.
  orjson writes them, with the same text but for floats below 1e-4 (``0.00001`` for ``1e-05``);
  anything orjson refuses (integers beyond 64 bits, lone surrogates, ...) is written by
  ``json.dumps``, which also refuses what it refuses.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import msgspec
import orjson

_ORJSON_ERRORS = (orjson.JSONDecodeError, orjson.JSONEncodeError)
# msgspec refuses what strict JSON refuses (NaN, numbers out of a float's range, lone surrogate
# escapes, damage): the reference then decides, and says why. Text it cannot encode (lone
# surrogates in a str) raises ValueError.
_DECODE_ERRORS = (msgspec.DecodeError, ValueError, RecursionError)
_decode = msgspec.json.Decoder().decode


# The reference reads fewer levels of nesting than msgspec (its recursion limit): text that could
# be nested that deep (it has that many brackets, so it is at least twice that long) is read by
# the reference.
_MAX_FAST_DEPTH = 500
_DEEP_TEXT = 2 * _MAX_FAST_DEPTH


def loads(text: str, reference: Callable[[str], Any] = json.loads) -> Any:
    """The value of a JSON text as ``reference`` (a stricter ``json`` decoder, say) gives it, and
    its errors."""
    if len(text) >= _DEEP_TEXT and text.count("[") + text.count("{") > _MAX_FAST_DEPTH:
        return reference(text)  # possibly nested deeper than the reference reads: it decides
    try:
        return _decode(text)
    except _DECODE_ERRORS:
        return reference(text)


def loads_bytes(data: bytes, reference: Callable[..., Any], *arguments: Any) -> Any:
    """``loads`` of UTF-8 text given as bytes: msgspec reads the bytes where ``loads`` would use it
    on their text; otherwise ``reference(data, *arguments)`` (which decodes and reads the text)
    decides."""
    if not (len(data) >= _DEEP_TEXT and data.count(b"[") + data.count(b"{") > _MAX_FAST_DEPTH):
        try:
            return _decode(data)
        except _DECODE_ERRORS:
            pass
    return reference(data, *arguments)


def loads_lines(data: bytes, lines: Iterable[bytes], reference: Callable[[bytes, int], Any]) -> Iterator[Any]:
    """``loads_bytes`` of each of ``lines`` (UTF-8 texts, each a line of ``data``): the i-th read
    by msgspec where ``loads`` would use it on its text, else ``reference(line, i)`` decides."""
    decode = _decode
    for index, line in enumerate(lines):
        if len(line) < _DEEP_TEXT or line.count(b"[") + line.count(b"{") <= _MAX_FAST_DEPTH:
            try:
                yield decode(line)
                continue
            except _DECODE_ERRORS:
                pass
        yield reference(line, index)


def dumps(value: Any) -> str:
    """Compact JSON text of ``value``, non-ASCII kept: the value ``json.dumps(value,
    ensure_ascii=False, separators=(",", ":"), allow_nan=False)`` writes, and its errors (NaN and
    Infinity refused). The text is orjson's, and is the standard library's byte for byte but for
    floats below 1e-4, which orjson writes without an exponent or with a shorter one (``0.00001``,
    ``1e-7``, where the standard library writes ``1e-05``, ``1e-07``): the same numbers."""
    return dumps_bytes(value).decode("utf-8")


def dumps_bytes(value: Any) -> bytes:
    """``dumps(value)`` as UTF-8 bytes; text that cannot be UTF-8 (a lone surrogate) raises
    ``UnicodeEncodeError``."""
    try:
        data = orjson.dumps(value)
    except _ORJSON_ERRORS:  # integers beyond 64 bits, deep nesting, lone surrogates, keys not text: it decides
        return _reference_bytes(value)
    # orjson writes NaN and Infinity as null; the reference refuses them. Where no null was
    # written there is none (one search of the bytes); where one was, the value is looked through.
    if b"null" in data and _has_non_finite(value):
        return _reference_bytes(value)  # raises ValueError, as json.dumps does
    return data


# Values whose text was just made to measure it (``measured``), kept by identity until written
# (``line_with``): an output's body is measured by its size check and then written, and its text
# is made once. Entries hold their value, so no other value can take its identity while kept;
# ``forget`` empties them (the writer, after each message), and they never outnumber _KEPT_MOST.
_kept: dict[int, tuple[Any, bytes]] = {}
_KEPT_MOST = 256


def measured(value: Any) -> int:
    """How many bytes ``value`` takes written by ``dumps_bytes`` (orjson's text; where orjson
    refuses a value, the standard library's, with text that is not valid Unicode counted as held)."""
    try:
        data = orjson.dumps(value)
    except _ORJSON_ERRORS:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
        return len(text.encode("utf-8", "surrogatepass"))
    if type(value) is dict:
        if len(_kept) >= _KEPT_MOST:
            _kept.clear()
        _kept[id(value)] = (value, data)
    return len(data)


def line_with(head: bytes, body: Any, tail: bytes) -> bytes | None:
    """``head + dumps_bytes(body) + tail`` where ``body``'s text was kept by ``measured``; None
    where it was not (or is not what ``dumps_bytes`` gives: a NaN inside)."""
    entry = _kept.pop(id(body), None)
    if entry is None or entry[0] is not body:
        return None
    data = entry[1]
    if b"null" in data and _has_non_finite(body):
        return None
    return head + data + tail


def forget() -> None:
    """Drop the kept texts (one message's outputs are written)."""
    _kept.clear()


def _reference_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _has_non_finite(value: Any) -> bool:
    """True when a float inside is NaN or infinite."""
    stack = [value]
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind is float:
            if current - current != 0.0:  # NaN and infinities only
                return True
        elif kind is dict:
            stack.extend(current.values())
        elif kind is list:
            stack.extend(current)
        elif isinstance(current, float):
            if not math.isfinite(current):
                return True
        elif isinstance(current, dict):
            stack.extend(current.values())
        elif isinstance(current, (list, tuple)):
            stack.extend(current)
    return False
