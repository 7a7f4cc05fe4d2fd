"""Reading messages from files or standard input, streamed: memory does not grow with the input.

The form of an input (``form_of``) is given (``ndjson``, ``json``, ``auto``) or told by its name:
``.ndjson`` and ``.jsonl`` (also gzipped) are NDJSON, ``.json`` (also gzipped) is JSON, anything
else (standard input too) is ``auto``. A leading UTF-8 byte order mark is dropped.
- NDJSON: one JSON value a line (blank lines skipped), whatever the first line holds. A line that
  is not JSON is one bad item and the next lines are still read.
- JSON, told by its first character that is not whitespace:
  - ``[``: a JSON array of messages; its elements are decoded one at a time. The array must be well
    formed (commas between elements, none before ``]``, nothing but whitespace after it): the first
    defect is one bad item, reported after the elements before it, and ends that input.
  - ``{`` on a first line that is the start of a JSON value going on below it: JSON documents, each
    possibly over several lines (pretty-printed). A bad document is one bad item; reading goes on at
    the next line that starts with ``{``, and the bad item names the lines skipped before it.
  - anything else: NDJSON.
- auto: NDJSON where the first line is a JSON value on its own line (a first line that is a whole
  array is one message when other lines follow it, the array's elements when none does); a JSON
  array that starts on the first line and goes on below it; documents where the first line starts
  a JSON value that goes on below it and that value is whole. Where that value is not whole, the
  first line is one bad item and the lines after it are read as NDJSON: a damaged first line loses
  only itself.
A bad item is a ``BadInput`` naming the input and the line of the defect. Files ending in ``.gz``
(or starting with gzip's magic bytes) are decompressed on the fly: damaged compressed data is one
bad item after the messages read before it. ``-`` means standard input.

``read_messages`` gives the messages one by one. ``read_batches`` gives the same in batches for
translating in several processes: parsed messages, or NDJSON not parsed yet (``Lines``, ``Text``)
and, for a regular file whose lines are plain, ``Span``s of its bytes. A span holds the lines the
reader read, parsed where it is consumed in the reader's process; one sent to another process goes
without them and is read again there, so that the process feeding the workers does almost nothing
per message.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import stat
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import compress, repeat
from typing import IO, Any

from .jsonio import loads, loads_lines

_CHUNK = 1 << 16
# A message nested deeper than this is refused before it is parsed, wherever it is read (any line,
# stdin, a worker), so that no parser's recursion, which depends on the call stack, decides.
MAX_DEPTH = 512
_CHARS_PER_MESSAGE = 1000  # how much text a batch of N messages is read as: N times this
_MAX_VALUE = 64 << 20  # a single JSON value (or NDJSON line) larger than this is refused


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:40]} is too large")
    return number


class _TooDeep(ValueError):
    """A JSON value nested deeper than ``MAX_DEPTH``; ``end`` is where it ends in the text read
    (None when it does not end there)."""

    def __init__(self, end: int | None = None, start: int = 0) -> None:
        super().__init__(f"the message is nested deeper than {MAX_DEPTH} levels")
        self.end = end
        self.start = start  # where it starts in the text read


# A string, or a bracket: what nesting is counted from.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def _nesting(text: str, pos: int) -> tuple[bool, int | None]:
    """Whether the JSON array or object at ``text[pos]`` nests deeper than ``MAX_DEPTH`` (brackets
    in strings do not count), and where it ends (None: not in ``text``)."""
    depth, deeper = 0, False
    for match in _TOKENS.finditer(text, pos):
        char = text[match.start()]
        if char == "[" or char == "{":
            depth += 1
            deeper = deeper or depth > MAX_DEPTH
        elif char == "]" or char == "}":
            depth -= 1
            if depth <= 0:
                return deeper, match.end()
    return deeper, None


def _could_be_too_deep(text: str, pos: int = 0, end: int | None = None) -> bool:
    """Whether ``text[pos:end]`` has more opening brackets than ``MAX_DEPTH`` (else it cannot nest
    deeper)."""
    return text.count("[", pos, end) + text.count("{", pos, end) > MAX_DEPTH


# Strict JSON: NaN and Infinity are refused, and so are numbers too large for a double.
_decoder = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float)
_raw_decode = _decoder.raw_decode


def _loads(text: str) -> Any:
    """The value of a JSON text (strict), refused with ``_TooDeep`` before it is parsed when it nests
    deeper than ``MAX_DEPTH``."""
    if len(text) > 2 * MAX_DEPTH and _could_be_too_deep(text):
        start = len(text) - len(text.lstrip(" \t\r\n"))
        if text[start:start + 1] in ("[", "{") and _nesting(text, start)[0]:
            raise _TooDeep()
    return _decoder.decode(text)
_DECODE_ERRORS = (ValueError, RecursionError)
# What reading a damaged gzip stream raises (BadGzipFile also for a bad CRC or length at the end).
_GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)

_SPACE = re.compile(r"[ \t\r\n]*")
# JSON's white space: a line of only these is blank (skipped). Other white space (no-break space,
# vertical tab, form feed, U+2028, ...) makes a line that is not JSON, which is rejected.
_JSON_SPACE = " \t\r\n"
JSON_SPACE = _JSON_SPACE  # JSON's white space: a line of only these is blank, no message
# After the newline that ends a line, a long run of blank lines (JSON white space only) up to the
# newline that ends the last of them: found by the regular expression engine in one step.
_LONG_BLANK_RUN = re.compile(r"\n[ \t\r\n]{64,}\n")
# After a number decoded at the end of the text read so far, what may still be part of it.
_NUMBER_TAIL = re.compile(r"[0-9.eE+\-]*\Z")
# A decoding error this close to the end of the text read so far may be the text being cut short.
_CUT_MARGIN = 12


# Ends the reason of a bad item after which the rest of its input is not read: that input could
# not be read to its end.
REST_SKIPPED = "the rest of this input is skipped"


@dataclass
class BadInput:
    """An item of the input that is not JSON; it counts as one message, which is rejected."""

    reason: str
    source: str


class _Damaged(Exception):
    """The compressed data under a text stream is damaged; ``line`` is the line being read."""

    def __init__(self, line: int, cause: BaseException) -> None:
        super().__init__(str(cause) or type(cause).__name__)
        self.line = line


class _GzipFileClosingItsFile(gzip.GzipFile):
    """A gzip reader that also closes the file it reads from (``GzipFile(fileobj=...)`` does not)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        super().__init__(fileobj=raw, mode="rb")

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def open_input(name: str) -> IO[str]:
    """A text stream over a file name (or ``-`` for stdin), gunzipped when it is gzip."""
    if name == "-":
        raw = sys.stdin.buffer
    else:
        raw = open(name, "rb")  # noqa: SIM115 - closed by the caller through the text wrapper
    if not hasattr(raw, "peek"):
        raw = io.BufferedReader(raw)
    if raw.peek(2)[:2] == b"\x1f\x8b":
        raw = gzip.GzipFile(fileobj=raw, mode="rb") if name == "-" else _GzipFileClosingItsFile(raw)
    # Bytes that are not UTF-8 are kept as lone surrogates: a message holding them is rejected
    # when its output is written, instead of being silently altered. A byte order mark is dropped.
    # Lines end at a newline only: a carriage return (JSON white space) inside a line does not cut
    # it, and one before the newline (CRLF) stays in the line as white space.
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="\n")


FORMS = ("ndjson", "json", "auto")


def form_of(name: str, form: str | None = None) -> str:
    """How an input is read: ``form`` when given, else by the name's extension (``.gz`` aside):
    ``.ndjson`` and ``.jsonl`` are ``ndjson``, ``.json`` is ``json``, any other name (``-`` too) is
    ``auto``."""
    if form is not None:
        if form not in FORMS:
            raise ValueError(f"unknown input form {form!r} (expected one of {', '.join(FORMS)})")
        return form
    base = name.lower().removesuffix(".gz")
    if base.endswith((".ndjson", ".jsonl")):
        return "ndjson"
    return "json" if base.endswith(".json") else "auto"


class _Pushback:
    """A text stream (``raw``) read through this, so that the end of what was read last can be given
    back (read again next). Runs of blank lines are skipped a large piece at a time (``skip_blank``)
    instead of a line at a time."""

    def __init__(self, raw: IO[str]) -> None:
        self.raw = raw
        self.buffer = getattr(raw, "buffer", None)
        self.head, self.pos = "", 0  # text given back: what is read next, from ``pos``
        self.last, self.from_head = "", False

    def close(self) -> None:
        self.raw.close()

    def read(self, size: int = -1) -> str:
        head, pos = self.head, self.pos
        if pos < len(head):
            text = head[pos:] if size is None or size < 0 else head[pos:pos + size]
            self.pos += len(text)
            self.last, self.from_head = text, True
            if size is None or size < 0:
                text += self.raw.read()
            return text
        text = self.raw.read(size)
        self.last, self.from_head = text, False
        return text

    def give_back(self, count: int) -> None:
        """The last ``count`` characters of the last ``read`` are read again next."""
        if count <= 0:
            return
        if self.from_head:
            self.pos -= count
        else:
            self.head, self.pos = self.last[len(self.last) - count:], 0

    def readline(self, size: int = -1) -> str:
        head, pos = self.head, self.pos
        if pos >= len(head):
            return self.raw.readline(size)
        end = head.find("\n", pos)
        stop = len(head) if end < 0 else end + 1
        if size is not None and size >= 0:
            stop = min(stop, pos + size)
        line = head[pos:stop]
        self.pos = stop
        if stop == len(head) and not line.endswith("\n") and (size is None or size < 0 or len(line) < size):
            line += self.raw.readline(-1 if size is None or size < 0 else size - len(line))
        return line

    def skip_blank(self) -> int:
        """Skip the lines that are blank (JSON white space) from here on; how many. Reads pieces
        growing from a few characters, so that a single blank line costs little."""
        count, size = 0, 256
        while True:
            text = self.read(size)
            if not text:
                return count
            rest = text.lstrip(_JSON_SPACE)
            if rest:
                newline = text.rfind("\n", 0, len(text) - len(rest))
                count += text.count("\n", 0, newline + 1)
                self.give_back(len(text) - newline - 1)
                return count
            newline = text.rfind("\n")
            count += text.count("\n")
            self.give_back(len(text) - newline - 1)  # a blank line not ended in this piece: read again
            if newline < 0:
                return count  # only the end of the input is left, blank and without a newline
            size = min(size * 4, 1 << 20)


def _skip_blank_lines(stream: IO[str], line_no: int) -> int:
    """The line after the run of blank lines from ``line_no`` on (``line_no`` itself when it is not
    blank or the stream cannot skip)."""
    if not isinstance(stream, _Pushback):
        return line_no
    try:
        return line_no + stream.skip_blank()
    except _GZIP_ERRORS as exc:
        raise _Damaged(line_no, exc) from exc


def read_messages(names: Iterable[str], form: str | None = None) -> Iterator[Any]:
    """Every message of every input in order, each input read in ``form_of(name, form)``; an
    undecodable item is yielded as ``BadInput``."""
    for name in names:
        label = "<stdin>" if name == "-" else name
        stream = _Pushback(open_input(name))
        try:
            yield from read_stream(stream, label, form_of(name, form))
        finally:
            if name != "-":
                stream.close()


class Parsed(list):
    """Parsed messages; ``where`` holds each one's input label and line when they are known."""

    where: list | None = None


_REST = object()  # in place of an NDJSON input's lines from the line it comes with on (read in batches)


def _at_source(bad: BadInput) -> tuple[int, BadInput]:
    """A bad item with the line its source names."""
    return int(bad.source.rpartition(":")[2]), bad


@dataclass
class Lines:
    """NDJSON lines not parsed yet (``parse_line`` parses one): ``(line number, text)`` pairs, one
    a message, blank lines left out; a line too long to read is a ``BadInput`` already."""

    label: str
    entries: list


@dataclass
class Text:
    """NDJSON text of whole lines not parsed yet, its first line's number, and how many messages
    (lines that are not blank) it holds; ``Text.messages()`` parses them."""

    label: str
    line: int
    text: str
    count: int

    def messages(self) -> Iterator[Any]:
        label = self.label
        for line_no, line in _lines_not_blank(self.text, self.line):
            yield parse_line(line, label, line_no)


def _lines_not_blank(text: str, first: int) -> Iterator[tuple[int, str]]:
    """The lines of ``text`` (its first is line ``first``) that are not blank, each with its number
    and newline (as a line is read: error columns count it). A long run of blank lines is skipped
    in one step, an empty line without a step of Python."""
    pos, line_no = 0, first
    for run in _LONG_BLANK_RUN.finditer(text):
        segment = text[pos:run.start() + 1]  # up to the newline the run starts with
        yield from _lines_with_text(segment, line_no)
        line_no += segment.count("\n") + text.count("\n", run.start() + 1, run.end())
        pos = run.end()
    yield from _lines_with_text(text[pos:] if pos else text, line_no)


def _lines_with_text(text: str, first: int) -> Iterator[tuple[int, str]]:
    lines = text.split("\n")
    last = first + len(lines) - 1
    for line_no, line in compress(enumerate(lines, first), lines):  # empty lines left out, not looked at
        if line.strip(_JSON_SPACE):
            yield line_no, (line + "\n" if line_no < last else line)


def positions(batch: list | Lines | Text | Span) -> Iterator[tuple[str, int] | None]:
    """Where each message of a batch comes from, in order: its input's label and line, or None where
    that is not kept (a message of a JSON array or of documents; a bad item is always located)."""
    if isinstance(batch, Span):
        return ((batch.label, batch.line + offset) for offset in range(batch.count))
    if isinstance(batch, Text):
        return ((batch.label, line_no) for line_no, _ in _lines_not_blank(batch.text, batch.line))
    if isinstance(batch, Lines):
        return ((batch.label, line_no) for line_no, _ in batch.entries)
    if getattr(batch, "where", None) is not None:
        return iter(batch.where)
    return (_source(item) if isinstance(item, BadInput) else None for item in batch)


def _source(item: BadInput) -> tuple[str, int] | None:
    label, _, line = item.source.rpartition(":")
    return (label, int(line)) if line.isdigit() else None


def parse_line(text: str, label: str, line_no: int) -> Any:
    """One NDJSON line's message, or a ``BadInput`` located at ``label:line_no``."""
    try:
        return loads(text, _loads)
    except _DECODE_ERRORS as exc:
        return _bad_line(exc, label, line_no, text)


def read_batches(names: Iterable[str], size: int = 1000, form: str | None = None
                 ) -> Iterator[list | Lines | Text | Span]:
    """The messages of ``read_messages(names, form)`` in order, in batches of about ``size``: a list
    of parsed messages, or ``Lines``, ``Text`` or ``Span`` of an NDJSON input left for the consumer
    to read and parse (in another process, say). Memory holds one batch at a time."""
    for name in names:
        label = "<stdin>" if name == "-" else name
        stream = _Pushback(open_input(name))
        try:
            yield from _batches(stream, label, size, None if name == "-" else name, form_of(name, form))
        finally:
            if name != "-":
                stream.close()


def _batches(stream: IO[str], label: str, size: int, path: str | None = None, form: str = "auto"
             ) -> Iterator[list | Lines | Text]:
    parsed, where = Parsed(), []
    rest = None
    try:
        for line, item in _read(stream, label, lines=True, form=form):
            if item is _REST:
                rest = line
                break
            parsed.append(item)
            where.append((label, line))
            if len(parsed) >= size:
                parsed.where = where
                yield parsed
                parsed, where = Parsed(), []
    except _Damaged as damage:
        parsed.append(_damaged(damage, label))
        where.append((label, damage.line))
        rest = None
    if parsed:
        parsed.where = where
        yield parsed
    if rest is None:
        return
    if not isinstance(getattr(stream, "buffer", None), gzip.GzipFile):
        # Plain text: read in large pieces of whole lines; a file, where its lines are plain, in
        # spans its consumer reads itself. (Gzip is read a line at a time, so that every line
        # before damage in the stream is still delivered.)
        fd = _regular_file(stream) if path is not None else None
        start = _offset_of_line(fd, rest) if fd is not None else None
        if start is not None:
            yield from _span_batches(fd, path, label, rest, start, size)
        else:
            yield from _text_batches(stream, label, rest, size)
        return
    line_no, entries = rest, []
    limit = _MAX_VALUE + 1
    try:
        while True:
            line = _readline(stream, limit, line_no)
            if not line:
                break
            if len(line) == limit and not line.endswith("\n"):
                _skip_line(stream, line_no)
                entries.append((line_no, _too_long(label, line_no)))
            elif line.strip(_JSON_SPACE):
                entries.append((line_no, line))
            else:
                line_no = _skip_blank_lines(stream, line_no)
            line_no += 1
            if len(entries) >= size:
                yield Lines(label, entries)
                entries = []
    except _Damaged as damage:
        entries.append((damage.line, _damaged(damage, label)))
    if entries:
        yield Lines(label, entries)


def _text_batches(stream: IO[str], label: str, line_no: int, size: int) -> Iterator[list | Text]:
    """NDJSON lines from ``line_no`` on, as ``Text`` batches of about ``size`` messages."""
    limit = _MAX_VALUE + 1
    while True:
        text = stream.read(min(size * _CHARS_PER_MESSAGE, _MAX_VALUE))  # so a line within is never too long
        if not text:
            return
        if not text.endswith("\n"):
            cut = text.rfind("\n") + 1
            head, piece = text[:cut], text[cut:]
            piece_line = line_no + head.count("\n")
            if len(piece) < limit:
                piece += stream.readline(limit - len(piece))
            if len(piece) >= limit and not piece.endswith("\n"):  # a line too long to hold
                if head:
                    yield _text(label, line_no, head)
                _skip_line(stream, piece_line)
                yield [_too_long(label, piece_line)]
                line_no = piece_line + 1
                continue
            text = head + piece
        yield _text(label, line_no, text)
        line_no += text.count("\n")


@dataclass
class Span:
    """Lines of a plain NDJSON file: its bytes ``start`` to ``end``, from line ``line`` on, holding
    ``count`` messages; ``Span.messages()`` parses them. In the reader's process the span holds the
    lines the reader read (``held``), and they are parsed from there. In another process (a span
    is sent without them) it reads them again, through the reader's open descriptor ``fd`` where
    the process shares it, else by the file's name, checking it is still the same file
    (``identity``: device and inode) with the same lines."""

    label: str
    path: str
    fd: int
    identity: tuple[int, int]
    start: int
    end: int
    line: int
    count: int
    held: tuple[bytes, list[bytes]] | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict:
        """What goes to another process: the span without its lines, which that process reads."""
        return {**self.__dict__, "held": None}

    def messages(self) -> Iterator[Any]:
        data, lines = self.held if self.held is not None else self._read()
        # Each line (with its newline; the last may lack it) is a message, read from its bytes, or
        # from its text as any line is when that decides.
        label, first = self.label, self.line
        return loads_lines(data, lines, lambda line, offset: _parse_line_bytes(line, label, first + offset))

    def _read(self) -> tuple[bytes, list[bytes]]:
        """The span's lines read again from the file; ``OSError`` naming the span's first line when
        they are not the lines the reader found there."""
        size = self.end - self.start
        data = _pread_if_same(self.fd, self.identity, size, self.start)
        if data is None:  # another process, which does not share the reader's descriptor
            with open(self.path, "rb") as file:
                data = _pread_if_same(file.fileno(), self.identity, size, self.start)
        same = data is not None and len(data) == size and b"\r" not in data
        lines = data.splitlines(keepends=True) if same else []
        if len(lines) != self.count or not all(map(bytes.startswith, lines, repeat(b"{"))):
            raise OSError(f"{self.label}:{self.line}: the file changed while it was being read")
        return data, lines


def _parse_line_bytes(line: bytes, label: str, line_no: int) -> Any:
    """A line of a span read from its text (with its newline, if it has one), as every NDJSON line is."""
    return parse_line(line.decode("utf-8", "surrogateescape"), label, line_no)


def _pread_if_same(fd: int, identity: tuple[int, int], size: int, offset: int) -> bytes | None:
    try:
        status = os.fstat(fd)
        if (status.st_dev, status.st_ino) != identity:
            return None
        return os.pread(fd, size, offset)
    except OSError:
        return None


_SPAN_BYTES = 1 << 20  # a span holds about this much; a longer line ends the spans (text is read from there)
_BOM = b"\xef\xbb\xbf"


def _regular_file(stream: IO[str]) -> int | None:
    """The descriptor under a text stream when it reads a regular file (not a pipe, a FIFO or a
    terminal, which can be read once only), else None."""
    try:
        fd = stream.buffer.fileno()
        return fd if stat.S_ISREG(os.fstat(fd).st_mode) and hasattr(os, "pread") else None
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def _offset_of_line(fd: int, line_no: int) -> int | None:
    """Where line ``line_no`` of a regular file starts (bytes; lines end at newlines), counted a
    large piece at a time; None when the file has fewer lines."""
    offset = 3 if os.pread(fd, 3, 0) == _BOM else 0
    remaining = line_no - 1
    while remaining:
        piece = os.pread(fd, _SPAN_BYTES, offset)
        if not piece:
            return None
        count = piece.count(b"\n")
        if count < remaining:
            offset, remaining = offset + len(piece), remaining - count
            continue
        end = -1
        for _ in range(remaining):
            end = piece.find(b"\n", end + 1)
        return offset + end + 1
    return offset


def _span_batches(fd: int, path: str, label: str, line_no: int, start: int, size: int
                  ) -> Iterator[list | Text | Span]:
    """The file's NDJSON lines from ``line_no`` (at byte ``start``) on, as ``Span`` batches while
    the lines are plain: each starts an object, ends in a newline (no carriage return; the file's
    last line may lack it) and is shorter than a span. From the first piece where they are not, the
    rest is read as text. Each byte is read once, but for a line cut at the end of a piece, which
    is read again as the start of the next one."""
    status = os.fstat(fd)
    identity = (status.st_dev, status.st_ino)
    if _SPAN_BYTES <= _MAX_VALUE:  # a line in a span is never too long to hold
        while True:
            data = os.pread(fd, _SPAN_BYTES, start)
            if not data:
                return
            lines = data.splitlines(keepends=True)
            end = len(data)
            if end == _SPAN_BYTES and not data.endswith(b"\n"):  # the piece ends inside a line
                if len(lines) == 1:
                    break  # a line longer than a span: left to the text reading, which knows its limits
                end -= len(lines.pop())  # that line starts the next piece
            if data.find(b"\r", 0, end) >= 0 or not all(map(bytes.startswith, lines, repeat(b"{"))):
                break
            yield Span(label, path, fd, identity, start, start + end, line_no, len(lines), (data, lines))
            start += end
            line_no += len(lines)
    raw = os.fdopen(os.dup(fd), "rb")  # the same open file, read on as text from ``start``
    try:
        raw.seek(start)
        stream = io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape", newline="\n")
        yield from _text_batches(stream, label, line_no, size)
    finally:
        raw.close()


def _text(label: str, line_no: int, text: str) -> Text:
    lines = text.count("\n") + (not text.endswith("\n"))
    if text.startswith("{") and text.count("\n{") == lines - 1:
        count = lines  # every line starts a JSON object: none is blank (counted without a loop)
    else:
        count = sum(1 for _ in _lines_not_blank(text, line_no))
    return Text(label, line_no, text, count)


def _damaged(damage: _Damaged, label: str) -> BadInput:
    return BadInput(f"truncated or corrupt gzip: {damage}; {REST_SKIPPED}",
                    f"{label}:{damage.line}")


def read_stream(stream: IO[str], label: str = "<input>", form: str = "auto") -> Iterator[Any]:
    """The messages of one text stream read in ``form`` (``ndjson``, ``json`` or ``auto``); a bad
    item is a ``BadInput`` located at ``label:line``."""
    for _line, item in _located(stream, label, form):
        yield item


def read_located(names: Iterable[str], form: str | None = None) -> Iterator[tuple[str, int, Any]]:
    """``read_messages``, each message with its input's label and the line it starts on (a bad
    item: the line of its defect)."""
    for name in names:
        label = "<stdin>" if name == "-" else name
        stream = _Pushback(open_input(name))
        try:
            for line, item in _located(stream, label, form_of(name, form)):
                yield label, line, item
        finally:
            if name != "-":
                stream.close()


def _located(stream: IO[str], label: str, form: str) -> Iterator[tuple[int, Any]]:
    if not isinstance(stream, _Pushback):
        stream = _Pushback(stream)
    try:
        yield from _read(stream, label, form=form)
    except _Damaged as damage:
        yield damage.line, _damaged(damage, label)


def _read(stream: IO[str], label: str, lines: bool = False, form: str = "auto") -> Iterator[Any]:
    """Reads the input in ``form``, each item with the line it starts on; for ``json`` and ``auto``,
    the form of the text is told from its start (see above). With ``lines``, an NDJSON input ends
    with ``(line, _REST)`` instead of its lines from that line on."""
    line_no, column = 1, 0
    piece = _readline(stream, _CHUNK, line_no)
    if piece.startswith("\ufeff"):
        piece = piece[1:] or _readline(stream, _CHUNK, line_no)
    piece, line_no, column = _skip_blank(stream, piece, line_no, column)
    if not piece:
        return
    content = piece.lstrip(_JSON_SPACE)
    if form != "ndjson" and content.startswith("["):
        if form == "auto" and (piece.endswith("\n") or len(piece) < _CHUNK):  # the whole first line
            value = parse_line(piece, label, line_no)
            if not isinstance(value, BadInput):
                # a JSON value on its own line: the array's elements when nothing follows, else NDJSON
                following, next_no, _ = _skip_blank(stream, _readline(stream, _CHUNK, line_no + 1), line_no + 1, 0)
                if not following:
                    for element in value:
                        yield line_no, element
                    return
                yield line_no, value
                yield from _ndjson_from(stream, label, following, next_no, lines)
                return
        buffer = _Buffer(stream, piece, line_no, column)
        buffer.pos = len(piece) - len(content) + 1
        yield from _array(buffer, label)
        return
    line, too_long = _whole_line(stream, piece, line_no)
    if too_long:
        yield line_no, _too_long(label, line_no)
    elif form != "ndjson" and content.startswith("{"):
        try:
            value = _loads(line)
        except json.JSONDecodeError as exc:
            if exc.msg != "Extra data" and exc.pos >= len(line.rstrip(" \t\r\n")):
                # the start of a value that goes on below it: a pretty-printed document. (A value
                # with more after it on the line is a bad NDJSON line, as on any later line.)
                buffer = _Buffer(stream, line, line_no, column)
                if form == "json":
                    yield from _documents(buffer, label)
                    return
                buffer.skip_space()
                start = buffer.line_of(buffer.pos)
                try:
                    first = buffer.value()
                except _TooDeep as deep:  # a whole value (or one the input ends inside)
                    yield _at_source(_value_error(buffer, deep, label))
                    if deep.end is not None:
                        yield from _documents(buffer, label)
                    return
                except _DECODE_ERRORS:
                    # not a document: a damaged first line, and NDJSON after it
                    yield line_no, _bad_line(exc, label, line_no, line)
                    yield from _lines_held(buffer, label, line_no + 1, lines)
                    return
                yield start, first
                yield from _documents(buffer, label)
                return
            yield line_no, _bad_line(exc, label, line_no, line)
        except _DECODE_ERRORS as exc:
            yield line_no, _bad_line(exc, label, line_no, line)
        else:
            yield line_no, value
    else:
        yield line_no, parse_line(line, label, line_no)
    if lines:
        yield line_no + 1, _REST
        return
    yield from _ndjson(stream, label, line_no + 1)


def _skip_blank(stream: IO[str], piece: str, line_no: int, column: int) -> tuple[str, int, int]:
    """From ``piece`` on, the first piece of the stream that is not blank (empty at the end), with
    its line and column; blank lines are read a piece at a time (a piece ends a line or not)."""
    while piece and not piece.strip(_JSON_SPACE):
        if piece.endswith("\n"):
            line_no, column = _skip_blank_lines(stream, line_no + 1), 0
        else:
            column += len(piece)
        piece = _readline(stream, _CHUNK, line_no)
    return piece, line_no, column


def _ndjson_from(stream: IO[str], label: str, piece: str, line_no: int, lines: bool) -> Iterator[Any]:
    """NDJSON from the line ``piece`` starts (line ``line_no``) on."""
    line, too_long = _whole_line(stream, piece, line_no)
    if too_long:
        yield line_no, _too_long(label, line_no)
    elif line.strip(_JSON_SPACE):
        yield line_no, parse_line(line, label, line_no)
    if lines:
        yield line_no + 1, _REST
        return
    yield from _ndjson(stream, label, line_no + 1)


def _lines_held(buffer: _Buffer, label: str, line_no: int, lines: bool) -> Iterator[Any]:
    """NDJSON from line ``line_no`` on, where the buffer's text from its position starts on the line
    before: the lines it holds (the last completed from the stream), then the stream's."""
    text = buffer.text[buffer.pos:]
    newline = text.find("\n")
    held = text[newline + 1:].split("\n") if newline >= 0 else [""]
    tail = held.pop()  # the part of a line the buffer holds at its end
    for part in held:
        if len(part) >= _MAX_VALUE:
            yield line_no, _too_long(label, line_no)
        elif part.strip(_JSON_SPACE):
            yield line_no, parse_line(part + "\n", label, line_no)
        line_no += 1
    if tail:
        yield from _ndjson_from(buffer.stream, label, tail, line_no, lines)
    elif lines:
        yield line_no, _REST
    else:
        yield from _ndjson(buffer.stream, label, line_no)


def _readline(stream: IO[str], limit: int, line_no: int) -> str:
    try:
        return stream.readline(limit)
    except _GZIP_ERRORS as exc:
        raise _Damaged(line_no, exc) from exc


def _whole_line(stream: IO[str], piece: str, line_no: int) -> tuple[str, bool]:
    """The line that ``piece`` starts, and whether it is longer than ``_MAX_VALUE`` (then the rest of it
    is read and dropped)."""
    if not piece.endswith("\n") and len(piece) <= _MAX_VALUE:
        piece += _readline(stream, _MAX_VALUE + 1 - len(piece), line_no)
    if len(piece) <= _MAX_VALUE or piece.endswith("\n"):
        return piece, False
    _skip_line(stream, line_no)
    return "", True


def _skip_line(stream: IO[str], line_no: int) -> None:
    while True:
        rest = _readline(stream, _CHUNK, line_no)
        if not rest or rest.endswith("\n"):
            return


def _too_long(label: str, line_no: int) -> BadInput:
    return BadInput(f"not JSON: the line is longer than {_MAX_VALUE} characters", f"{label}:{line_no}")


def _why(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg.removesuffix(" at")  # "Invalid control character at": the column follows
    return str(exc)


def _bad_line(exc: BaseException, label: str, line_no: int, line: str) -> BadInput:
    if isinstance(exc, _TooDeep):
        return BadInput(str(exc), f"{label}:{line_no}")
    where = ""
    if isinstance(exc, json.JSONDecodeError):  # the column on this line (a value cut short: its end)
        where = f" at column {min(exc.pos, len(line.rstrip(chr(13) + chr(10)))) + 1}"
    return BadInput(f"not JSON: {_why(exc)}{where}", f"{label}:{line_no}")


def _ndjson(stream: IO[str], label: str, line_no: int) -> Iterator[Any]:
    """One JSON value a line, from line ``line_no`` on."""
    readline = stream.readline
    limit = _MAX_VALUE + 1
    while True:
        try:
            line = readline(limit)
        except _GZIP_ERRORS as exc:
            raise _Damaged(line_no, exc) from exc
        if not line:
            return
        if len(line) == limit and not line.endswith("\n"):
            _skip_line(stream, line_no)
            yield line_no, _too_long(label, line_no)
        elif line.strip(_JSON_SPACE):
            try:
                yield line_no, loads(line, _loads)
            except _DECODE_ERRORS as exc:
                yield line_no, _bad_line(exc, label, line_no, line)
        else:
            line_no = _skip_blank_lines(stream, line_no)
        line_no += 1


class _Buffer:
    """The text of a stream read in chunks, with a position in it. Reading more drops the text before the
    position, so what is held is the value being decoded and one chunk; the line and column of the first
    character held are kept, to locate defects."""

    def __init__(self, stream: IO[str], text: str, line: int, column: int = 0) -> None:
        self.stream = stream
        self.text = text
        self.pos = 0
        self.eof = False
        self.line = line  # the line of text[0]
        self.column = column  # how many characters of that line come before text[0]
        self._counted = (0, line)  # a position in the text and its line, to count lines on from

    def more(self, size: int = 0) -> bool:
        """Drop the text before the position and read ``size`` characters, or a chunk if more; False at the
        end of the stream. Reading as much as is held when a value is cut short keeps decoding linear."""
        if self.eof:
            return False
        self._drop()
        try:
            chunk = self.stream.read(max(size, _CHUNK))
        except _GZIP_ERRORS as exc:
            raise _Damaged(self.line + self.text.count("\n"), exc) from exc
        if not chunk:
            self.eof = True
            return False
        self.text += chunk
        return True

    def _drop(self) -> None:
        pos, text = self.pos, self.text
        if not pos:
            return
        newline = text.rfind("\n", 0, pos)
        if newline < 0:
            self.column += pos
        else:
            self.line += text.count("\n", 0, newline + 1)
            self.column = pos - newline - 1
        self.text = text[pos:]
        self.pos = 0
        self._counted = (0, self.line)

    def where(self, pos: int) -> tuple[int, int]:
        """The line and column (from 1) of ``text[pos]``."""
        newline = self.text.rfind("\n", 0, pos)
        if newline < 0:
            return self.line, self.column + pos + 1
        return self.line + self.text.count("\n", 0, newline + 1), pos - newline

    def line_of(self, pos: int) -> int:
        """The line of ``text[pos]``, counted on from the last position asked about (so that asking
        of each value in turn reads the text once)."""
        counted, line = self._counted
        if pos < counted:
            counted, line = 0, self.line
        line += self.text.count("\n", counted, pos)
        self._counted = (pos, line)
        return line

    def skip_space(self) -> bool:
        """Move to the next character that is not whitespace; False when there is none."""
        while True:
            text = self.text
            pos = self.pos = _SPACE.match(text, self.pos).end()
            if pos < len(text):
                return True
            if not self.more():
                return False

    def value(self) -> Any:
        """Decode the JSON value at the position and move past it. On a defect, raise the decoder's error
        and stay at the start of the value. A value nested deeper than ``MAX_DEPTH`` is ``_TooDeep``,
        after which the position is past it where it ends (at its start where it does not): the same
        whether or not the parser's recursion reached that deep."""
        while True:
            text, pos = self.text, self.pos
            try:
                value, end = _raw_decode(text, pos)
            except RecursionError:  # nested deeper than the limit: where does it end?
                end = _nesting(text, pos)[1]
                if end is None and not self.eof:  # the value goes on in the text not read yet
                    if len(text) - pos > _MAX_VALUE:
                        raise ValueError(f"a value is longer than {_MAX_VALUE} characters") from None
                    self.more(len(text) - pos)
                    continue
                if end is not None:
                    self.pos = end
                raise _TooDeep(end, pos) from None
            except json.JSONDecodeError as exc:
                if self.eof or not (exc.pos >= len(text) - _CUT_MARGIN or exc.msg.startswith("Unterminated")):
                    raise
                if len(text) - pos > _MAX_VALUE:
                    raise ValueError(f"a value is longer than {_MAX_VALUE} characters") from None
                self.more(len(text) - pos)
                continue
            if not self.eof and text[end - 1] in "0123456789" and _NUMBER_TAIL.match(text, end):
                self.more(len(text) - pos)  # the number may go on in the next chunk
                continue
            self.pos = end
            if _could_be_too_deep(text, pos, end) and _nesting(text, pos)[0]:
                raise _TooDeep(end, pos)  # refused whatever the parser's recursion allowed
            return value

    def skip_to_line_starting(self, char: str, pos: int) -> bool:
        """Move to the next line starting with ``char`` after ``text[pos]``; False when there is none."""
        while True:
            found = self.text.find("\n" + char, pos)
            if found >= 0:
                self.pos = found + 1
                return True
            self.pos = max(pos, len(self.text) - 1)  # the last character may be the newline
            if not self.more():
                return False
            pos = self.pos


def _value_error(buffer: _Buffer, exc: BaseException, label: str) -> BadInput:
    """A value that failed to decode, located at its defect (or at its start if the decoder gives no place)."""
    pos = exc.pos if isinstance(exc, json.JSONDecodeError) else buffer.pos
    line, column = buffer.where(pos)
    if isinstance(exc, _TooDeep):
        return BadInput(str(exc), f"{label}:{buffer.where(exc.start)[0]}")
    if buffer.eof and pos >= len(buffer.text):
        return BadInput(f"not JSON: the input ends inside a value ({_why(exc)})", f"{label}:{line}")
    return BadInput(f"not JSON: {_why(exc)} at column {column}", f"{label}:{line}")


def _array(buffer: _Buffer, label: str) -> Iterator[Any]:
    """The elements of a JSON array whose ``[`` is just before the buffer's position."""
    skipped = f"; {REST_SKIPPED}"

    def defect(reason: str) -> tuple[int, BadInput]:
        line, column = buffer.where(buffer.pos)
        return line, BadInput(f"not JSON: {reason} at column {column}{skipped}", f"{label}:{line}")

    if not buffer.skip_space():
        yield defect("the JSON array is not closed")
        return
    if buffer.text[buffer.pos] == "]":
        buffer.pos += 1
    else:
        while True:
            start = buffer.line_of(buffer.pos)
            try:
                yield start, buffer.value()
            except _TooDeep as exc:
                bad = _value_error(buffer, exc, label)
                if exc.end is None:
                    yield _at_source(BadInput(bad.reason + skipped, bad.source))
                    return
                yield _at_source(bad)  # one element refused; the array goes on
            except _DECODE_ERRORS as exc:
                bad = _value_error(buffer, exc, label)
                yield _at_source(BadInput(bad.reason + skipped, bad.source))
                return
            if not buffer.skip_space():
                yield defect("the JSON array is not closed")
                return
            char = buffer.text[buffer.pos]
            if char == "]":
                buffer.pos += 1
                break
            if char != ",":
                yield defect("expected ',' or ']' after an element of the JSON array")
                return
            buffer.pos += 1
            if not buffer.skip_space():
                yield defect("the JSON array is not closed")
                return
            if buffer.text[buffer.pos] == "]":
                yield defect("a comma before the closing ']' (trailing comma)")
                return
            if buffer.text[buffer.pos] == ",":
                yield defect("two commas in a row")
                return
    if buffer.skip_space():
        yield defect("text after the end of the JSON array")


def _documents(buffer: _Buffer, label: str) -> Iterator[Any]:
    """JSON documents, each possibly over several lines. After a bad one, reading goes on at the next line
    starting with ``{``: where pretty-printed documents and NDJSON lines start."""
    while buffer.skip_space():
        start_line = buffer.line_of(buffer.pos)
        try:
            value = buffer.value()
        except _TooDeep as exc:
            yield _at_source(_value_error(buffer, exc, label))
            if exc.end is None:
                return
            continue
        except _DECODE_ERRORS as exc:
            start = buffer.pos  # a failed decoding leaves the position (and the text from it on) as it was
            at = exc.pos if isinstance(exc, json.JSONDecodeError) else start
            following = buffer.text.find("\n{", start, at + 1)
            if following >= 0:
                # a line starting with '{' comes before the defect: this value was cut short there
                line, column = buffer.where(at)
                yield start_line, BadInput(f"not JSON: the value is not complete ({_why(exc)} at line {line} "
                                           f"column {column})", f"{label}:{start_line}")
                buffer.pos = following + 1
                continue
            bad = _value_error(buffer, exc, label)
            if bad.source != f"{label}:{start_line}":
                bad.reason += f", in the value starting at line {start_line}"
            # the lines after the defect's line up to the next line starting with '{' are not read:
            # the reject says which
            defect_line = buffer.where(at)[0]
            found = buffer.skip_to_line_starting("{", at)
            last = buffer.where(buffer.pos)[0] - 1 if found else buffer.where(max(len(buffer.text) - 1, 0))[0]
            if last > defect_line:
                bad.reason += (f"; line {last} is skipped" if last == defect_line + 1 else
                               f"; lines {defect_line + 1} to {last} are skipped")
            yield _at_source(bad)
            if not found:
                return
            continue
        yield start_line, value
