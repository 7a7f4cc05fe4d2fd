"""Translating on Apache Spark (``pip install 'seg2amp[spark]'``): ``translate(df, platform,
settings)`` takes a DataFrame of message lines (``spark.read.text(...)``: a ``value`` column, gzip
included) and gives a DataFrame of outputs and one of rejects, made by the same code as
``seg2amp translate`` (``batches.translate_batch``: the kept plan, its checks, the same bytes).

The rule set is loaded on the driver first, so a bad rule set or bad settings fail there, with
the command's located message, before any task runs. What the executors need travels as data in
a broadcast (the platform, the settings, and the rule set's and schemas' files where they are not
the bundled ones); each Python worker loads it once, on its first batch, and keeps it for every
later batch and task (Spark reuses its Python workers). Partitions are translated as Arrow batches
(``mapInArrow``: measured against mapInPandas, an RDD and a row UDF by ``bench/spark.py --apis``).

Where each line came from: ``source`` (the file, as Spark names it), ``offset`` (the byte the part
of the file Spark read it from starts at: 0, unless Spark split an uncompressed file into several
parts) and ``line`` (its line number counted from there: the file's own line number when
``offset`` is 0, as for every gzip file), and ``row``, Spark's stable id of the line. They are
exact for a DataFrame as ``spark.read.text`` gives it (nothing filtered or reordered before)."""

from __future__ import annotations

import atexit
import functools
import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import msgspec

from .writing import reject_line

COLUMNS_SCHEMA = ("kind string, source string, offset long, line long, row long, target string, body string, "
                  "error string, path string, record string")
LINES_SCHEMA = "kind string, value string"
COUNTS = ("read", "translated", "rejected", "written")
_LOADED: dict[str, Any] = {}  # per Python worker: the translator of each payload, loaded once


class _OutputLine(msgspec.Struct):
    """One line the command writes: its body kept as its own text."""

    target: str
    body: msgspec.Raw
    input: int


def translate(df: Any, platform: str, settings: dict | None = None, rules: str | None = None,
              schemas: str | None = None, column: str = "value") -> tuple[Any, Any]:
    """``(outputs, rejects)`` of a DataFrame of message lines. ``outputs``: ``source``, ``offset``,
    ``line``, ``row`` (where the line came from: see the module's text), ``target``, ``body``
    (JSON text, as the command writes it). ``rejects``: the same four, ``error``, ``path``, and
    ``record`` (the command's rejection or warning record, as JSON text). Both come from one
    pass: cache ``translate_all`` to use both without translating twice."""
    both = translate_all(df, platform, settings, rules, schemas, column)
    where = ["source", "offset", "line", "row"]
    outputs = both.where("kind = 'output'").select(*where, "target", "body")
    rejects = both.where("kind = 'reject'").select(*where, "error", "path", "record")
    return outputs, rejects


def translate_all(df: Any, platform: str, settings: dict | None = None, rules: str | None = None,
                  schemas: str | None = None, column: str = "value", counts: dict | None = None) -> Any:
    """Outputs and rejects in one DataFrame, told apart by ``kind`` (``output``, ``reject``).
    ``counts``: as for ``translate_lines``."""
    return _translated(df, platform, settings, rules, schemas, column, "columns", counts)


def translate_lines(df: Any, platform: str, settings: dict | None = None, rules: str | None = None,
                    schemas: str | None = None, column: str = "value", counts: dict | None = None) -> Any:
    """``kind`` and ``value``: each output and reject as one NDJSON line, what ``seg2amp
    spark-translate`` writes. An output: ``{"target", "body", "file", "line"}`` (``"offset"`` too
    where it is not 0), which ``seg2amp send`` reads; a reject: the command's record, its
    ``input`` (a message number in one run) replaced by ``file`` and ``line``. ``counts``: Spark
    accumulators by the names of ``COUNTS``, added to by each task."""
    return _translated(df, platform, settings, rules, schemas, column, "lines", counts)


def _translated(df: Any, platform: str, settings: dict | None, rules: str | None, schemas: str | None,
                column: str, shape: str, counts: dict | None) -> Any:
    from pyspark.sql import functions as F

    from .translator import load

    load(platform, settings or {}, rules, schemas)  # on the driver: a bad rule set fails here, located
    payload = json.dumps({"platform": platform, "settings": settings or {},
                          "rules": _files(rules) if rules else None,
                          "schemas": _files(schemas) if schemas else None}, sort_keys=True)
    shared = df.sparkSession.sparkContext.broadcast(payload)
    lines = df.select(F.col(column).alias("value"), F.input_file_name().alias("source"),
                      F.input_file_block_start().alias("offset"),
                      F.monotonically_increasing_id().alias("row"))
    counters = tuple(counts[name] for name in COUNTS) if counts else None

    def run(batches: Any) -> Any:
        return _translate_batches(shared.value, batches, shape, counters)

    return lines.mapInArrow(run, COLUMNS_SCHEMA if shape == "columns" else LINES_SCHEMA)


def _files(folder: str) -> dict[str, str]:
    """A folder's files as text, by their path in it: what a rule set or schemas folder is."""
    root = Path(folder)
    return {path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(root.rglob("*")) if path.is_file()}


def _translator(payload: str) -> Any:
    """The translator of a payload, loaded once in this Python worker."""
    found = _LOADED.get(payload)
    if found is None:
        from .translator import load

        spec = json.loads(payload)
        folders = {}
        for name in ("rules", "schemas"):
            if spec[name] is not None:
                place = Path(tempfile.mkdtemp(prefix=f"seg2amp-{name}-"))  # this worker's own
                atexit.register(shutil.rmtree, place, True)  # removed when the worker ends
                for relative, text in spec[name].items():
                    target = place / relative
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(text, encoding="utf-8")
                folders[name] = str(place)
        found = _LOADED[payload] = load(spec["platform"], spec["settings"], folders.get("rules"),
                                        folders.get("schemas"))
    return found


def _file_name(source: str) -> str:
    """A file's name for people: a local path where Spark names a ``file:`` URI, else the URI."""
    return unquote(urlsplit(source).path) if source.startswith("file:") else source


class _Part:
    """One part of one input file in a task (Spark reads a part whole, in one task, its lines one
    after another, their row ids consecutive): what its lines are called in texts and records, and
    the row id of its first line, from which a line's number is counted."""

    def __init__(self, source: str, offset: int, first_row: int) -> None:
        self.known = bool(source)  # a DataFrame not read from files has no source
        self.source = source if self.known else None
        self.offset = offset if self.known and offset >= 0 else None
        self.file = _file_name(source) if self.known else "<dataframe>"
        # the label in a reject's text ("file:line"): a later part's lines are counted from its first byte
        self.label = self.file if not self.offset else f"{self.file}[from byte {self.offset}]"
        self.first_row = first_row
        tail = b',"file":' + msgspec.json.encode(self.file)
        if self.offset:
            tail += b',"offset":%d' % self.offset
        self.tail = tail + b',"line":%d}'
        # an output line's end, ',"input":N}' where N is the line's number, made into this part's
        # in one substitution over a batch's text (a body holds no raw newline, so '}\n' ends a line)
        self.ending = tail.replace(b"\\", b"\\\\") + b',"line":\\g<1>}\n'


_INPUT_END = re.compile(rb',"input":(\d+)\}\n')


def _runs(batch: Any) -> list[tuple[int, int, Any, Any, int]]:
    """A batch's runs of lines of one part of one file: (start, end, source, offset, row id of the
    run's first line). A batch of one part (the usual case) is told by Arrow, without a Python
    object a row."""
    import pyarrow.compute as pc

    sources, offsets, rows = batch.column("source"), batch.column("offset"), batch.column("row")
    count = batch.num_rows
    if sources.null_count == 0 and offsets.null_count == 0 and \
            pc.all(pc.equal(sources, sources[0])).as_py() and pc.all(pc.equal(offsets, offsets[0])).as_py():
        return [(0, count, sources[0].as_py(), offsets[0].as_py(), rows[0].as_py())]
    names, starts, ids = sources.to_pylist(), offsets.to_pylist(), rows.to_pylist()
    runs, start = [], 0
    while start < count:
        end = start + 1
        while end < count and names[end] == names[start] and starts[end] == starts[start]:
            end += 1
        runs.append((start, end, names[start], starts[start], ids[start]))
        start = end
    return runs


def _translate_batches(payload: str, batches: Any, shape: str, counters: tuple | None) -> Any:
    import pyarrow as pa

    from .batches import translate_batch
    from .reader import JSON_SPACE, Lines

    translator = _translator(payload)
    decode = msgspec.json.Decoder(_OutputLine).decode
    part, key_of_part = None, None  # the part being read: its lines come one after another, never again later
    totals = [0, 0, 0, 0]
    for batch in batches:
        if not batch.num_rows:
            continue
        values = batch.column("value").to_pylist()
        columns: dict[str, list] = ({name: [] for name in ("kind", "source", "offset", "line", "row", "target",
                                                          "body", "error", "path", "record")}
                                    if shape == "columns" else {"kind": [], "value": []})
        texts = []  # shape "lines": the outputs' NDJSON text, run by run
        for start, end, source, offset, row in _runs(batch):
            if part is None or key_of_part != (source, offset):
                part, key_of_part = _Part(source or "", offset if offset is not None else -1, row), (source, offset)
            first = row - part.first_row + 1  # the line number of the run's first line
            kept = [(number, text) for number, text in enumerate(values[start:end], first)
                    if text is not None and text.strip(JSON_SPACE)]
            if not kept:
                continue
            whole = len(kept) == end - start  # no blank line: a message's number is its line's
            result = translate_batch(translator, Lines(part.label, kept), first if whole else 1)
            line_of = _same if whole else functools.partial(_line_in, kept)
            rejected = sum(1 for record in result.rejects if "error" in record)
            for place, number in enumerate((len(kept), result.translated, rejected, result.written)):
                totals[place] += number
            if shape == "columns":
                _add_columns(columns, result, line_of, part, decode)
            elif whole:
                texts.append(_INPUT_END.sub(part.ending, _output_text(result)))
                _add_rejects(columns, result, line_of, part)
            else:
                texts.append(_retailed(_output_text(result), line_of, part))
                _add_rejects(columns, result, line_of, part)
        if shape == "columns":
            yield pa.RecordBatch.from_pydict(columns)
        else:
            yield _lines_batch(pa, b"".join(texts), columns)
    if counters:
        for counter, total in zip(counters, totals, strict=True):
            counter.add(total)


def _same(index: int) -> int:
    return index


def _line_in(kept: list, index: int) -> int:
    return kept[index - 1][0]


def _retailed(text: bytes, line_of: Any, part: _Part) -> bytes:
    """Output lines whose message numbers are not their line numbers (the run had blank lines):
    each line's end made the part's one at a time."""
    lines = []
    for output in text.split(b"\n")[:-1] if text else ():
        cut = output.rindex(b',"input":')
        lines.append(output[:cut] + part.tail % line_of(int(output[cut + 9:-1])) + b"\n")
    return b"".join(lines)


def _lines_batch(pa: Any, text: bytes, rejects: dict[str, list]) -> Any:
    """The outputs' NDJSON text split into lines by Arrow (no Python string a line), then the
    reject lines."""
    import pyarrow.compute as pc

    outputs = pc.split_pattern(pa.array([text], pa.binary()), pattern=b"\n").flatten()
    outputs = outputs.slice(0, len(outputs) - 1).cast(pa.string())  # the empty piece after the last newline
    values = pa.concat_arrays([outputs, pa.array(rejects["value"], pa.string())])
    kinds = pa.array(["output"] * len(outputs) + rejects["kind"], pa.string())
    return pa.RecordBatch.from_arrays([kinds, values], names=["kind", "value"])


def _output_text(result: Any) -> bytes:
    if result.spooled:  # pragma: no cover - a batch translated here is never spooled
        raise RuntimeError("a spooled batch in a Spark task")
    return result.data


def _add_columns(columns: dict[str, list], result: Any, line_of: Any, part: _Part, decode: Any) -> None:
    """The outputs and rejects of one translated run of lines, as columns."""
    text = _output_text(result)
    for output in text.split(b"\n")[:-1] if text else ():
        line = decode(output)
        _where(columns, "output", part, line_of(line.input))
        columns["target"].append(line.target)
        columns["body"].append(bytes(line.body).decode("utf-8"))
        for name in ("error", "path", "record"):
            columns[name].append(None)
    for record in result.rejects:
        number = _record_line(record, line_of, part)
        _where(columns, "reject", part, number)
        columns["target"].append(None)
        columns["body"].append(None)
        columns["error"].append(record.get("error") or record.get("warning"))
        columns["path"].append(record.get("path"))
        columns["record"].append(reject_line(record)[:-1].decode())


def _where(columns: dict[str, list], kind: str, part: _Part, number: int | None) -> None:
    columns["kind"].append(kind)
    columns["source"].append(part.source)
    columns["offset"].append(part.offset)
    columns["line"].append(number if part.known else None)
    columns["row"].append(None if number is None else number + part.first_row - 1)


def _add_rejects(columns: dict[str, list], result: Any, line_of: Any, part: _Part) -> None:
    for record in result.rejects:
        _record_line(record, line_of, part)
        columns["kind"].append("reject")
        columns["value"].append(reject_line(record)[:-1].decode())


def _record_line(record: dict, line_of: Any, part: _Part) -> int | None:
    """A reject record made ready for Spark's output: its message number in the run replaced by
    the file, the part's offset where not 0, and the line (returned)."""
    index = record.pop("input", None)
    number = line_of(index) if isinstance(index, int) else record.get("line")
    record.pop("line", None)
    record["file"] = part.file
    if part.offset:
        record["offset"] = part.offset
    record["line"] = number
    return number
