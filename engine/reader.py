"""Reading messages from files or standard input, streamed: memory does not grow with the input.

Accepted forms, told apart by the start of each input:
- NDJSON: one JSON value a line (blank lines skipped). A line that is not JSON is one bad item.
- A JSON array of messages: its elements are decoded one at a time.
- A JSON document (one message, possibly over several lines; or several such documents).
Files ending in ``.gz`` (or starting with gzip's magic bytes) are decompressed on the fly;
``-`` means standard input.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

_CHUNK = 1 << 16
_MAX_VALUE = 64 << 20  # a single JSON value larger than this is refused


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:40]} is too large")
    return number


# Strict JSON: NaN and Infinity are refused, and so are numbers too large for a double.
_decoder = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float)
_loads = _decoder.decode
_DECODE_ERRORS = (ValueError, RecursionError)


@dataclass
class BadInput:
    """An item of the input that is not JSON; it counts as one message, which is rejected."""

    reason: str
    source: str


def open_input(name: str) -> IO[str]:
    """A text stream over a file name (or ``-`` for stdin), gunzipped when it is gzip."""
    if name == "-":
        raw = sys.stdin.buffer
    else:
        raw = open(name, "rb")  # noqa: SIM115 - closed by the caller through the text wrapper
    if not hasattr(raw, "peek"):
        raw = io.BufferedReader(raw)
    if raw.peek(2)[:2] == b"\x1f\x8b":
        raw = gzip.GzipFile(fileobj=raw, mode="rb")
    # Bytes that are not UTF-8 are kept as lone surrogates: a message holding them is rejected
    # when its output is written, instead of being silently altered.
    return io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape")


def read_messages(names: Iterable[str]) -> Iterator[Any]:
    """Every message of every input in order; an undecodable item is yielded as ``BadInput``."""
    for name in names:
        label = "<stdin>" if name == "-" else name
        stream = open_input(name)
        try:
            yield from read_stream(stream, label)
        finally:
            if name != "-":
                stream.close()


def read_stream(stream: IO[str], label: str = "<input>") -> Iterator[Any]:
    """The messages of one text stream."""
    first = ""
    line_no = 0
    for line in stream:
        line_no += 1
        if line.strip():
            first = line
            break
    if not first:
        return
    stripped = first.lstrip()
    if stripped.startswith("["):
        yield from _array(stream, stripped[1:], label, line_no)
        return
    try:
        value = _loads(first)
    except RecursionError:
        value = BadInput("not JSON: nested too deeply", f"{label}:{line_no}")
    except ValueError:
        yield from _documents(stream, first, label, line_no)
        return
    yield value
    for line in stream:
        line_no += 1
        if not line.strip():
            continue
        try:
            yield _loads(line)
        except RecursionError:
            yield BadInput("not JSON: nested too deeply", f"{label}:{line_no}")
        except ValueError as exc:
            yield BadInput(f"not JSON: {exc}", f"{label}:{line_no}")


def _array(stream: IO[str], rest: str, label: str, line_no: int) -> Iterator[Any]:
    """The elements of a JSON array whose opening bracket has been read."""
    buffer = rest
    pos = 0
    eof = False
    expect_value = True
    while True:
        while pos < len(buffer) and buffer[pos] in " \t\r\n":
            pos += 1
        if pos >= len(buffer):
            if eof:
                yield BadInput("the JSON array is not closed", label)
                return
            buffer, pos, eof = _more(stream, buffer, pos)
            continue
        char = buffer[pos]
        if char == "]" :
            return
        if char == "," and not expect_value:
            pos += 1
            expect_value = True
            continue
        try:
            value, end = _decoder.raw_decode(buffer, pos)
        except _DECODE_ERRORS as exc:
            if not isinstance(exc, RecursionError) and not eof and len(buffer) - pos < _MAX_VALUE:
                buffer, pos, eof = _more(stream, buffer, pos)
                continue
            yield BadInput(f"not JSON: {exc}; the rest of this input is skipped", label)
            return
        if end >= len(buffer) and not eof:
            # a number at the end of the buffer may go on in the next chunk
            buffer, pos, eof = _more(stream, buffer, pos)
            continue
        yield value
        pos = end
        expect_value = False


def _documents(stream: IO[str], first: str, label: str, line_no: int) -> Iterator[Any]:
    """One or more JSON documents, each possibly over several lines."""
    buffer = first
    pos = 0
    eof = False
    while True:
        while pos < len(buffer) and buffer[pos] in " \t\r\n":
            pos += 1
        if pos >= len(buffer):
            if eof:
                return
            buffer, pos, eof = _more(stream, buffer, pos)
            continue
        try:
            value, end = _decoder.raw_decode(buffer, pos)
        except _DECODE_ERRORS as exc:
            if not isinstance(exc, RecursionError) and not eof and len(buffer) - pos < _MAX_VALUE:
                buffer, pos, eof = _more(stream, buffer, pos)
                continue
            yield BadInput(f"not JSON: {exc}; the rest of this input is skipped", label)
            return
        yield value
        pos = end


def _more(stream: IO[str], buffer: str, pos: int) -> tuple[str, int, bool]:
    chunk = stream.read(_CHUNK)
    return buffer[pos:] + chunk, 0, not chunk
