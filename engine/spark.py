"""Translating on Apache Spark (``pip install 'seg2amp[spark]'``): ``translate(df, platform,
settings)`` takes a DataFrame of message lines (``spark.read.text(...)``: a ``value`` column, gzip
included) and gives a DataFrame of outputs and one of rejects, made by the same code as
``seg2amp translate`` (``batches.translate_batch``: the kept plan, its checks, the same bytes).

The rule set is loaded on the driver first, so a bad rule set or bad settings fail there, with
the command's located message, before any task runs. What the executors need travels as data in
a broadcast (the platform, the settings, and the rule set's and schemas' files where they are not
the bundled ones); each Python worker loads it once, on its first batch, and keeps it for every
later batch and task (Spark reuses its Python workers). Partitions are translated as Arrow batches
(``mapInArrow``), not row by row."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import msgspec

OUTPUT_SCHEMA = ("kind string, source string, row long, target string, body string, "
                 "error string, path string, record string")
_LOADED: dict[str, Any] = {}  # per Python worker: the translator of each payload, loaded once


class _OutputLine(msgspec.Struct):
    """One line the command writes: its body kept as its own text."""

    target: str
    body: msgspec.Raw
    input: int


def translate(df: Any, platform: str, settings: dict | None = None, rules: str | None = None,
              schemas: str | None = None, column: str = "value") -> tuple[Any, Any]:
    """``(outputs, rejects)`` of a DataFrame of message lines. ``outputs``: ``source`` (the input
    file), ``row`` (a stable id of the line in this read), ``target``, ``body`` (JSON text, as the
    command writes it). ``rejects``: ``source``, ``row``, ``error``, ``path``, and ``record`` (the
    command's rejection or warning record, as JSON text). Both come from one pass: cache
    ``translate_all`` to use both without translating twice."""
    both = translate_all(df, platform, settings, rules, schemas, column)
    outputs = both.where("kind = 'output'").select("source", "row", "target", "body")
    rejects = both.where("kind = 'reject'").select("source", "row", "error", "path", "record")
    return outputs, rejects


def translate_all(df: Any, platform: str, settings: dict | None = None, rules: str | None = None,
                  schemas: str | None = None, column: str = "value") -> Any:
    """Outputs and rejects in one DataFrame, told apart by ``kind`` (``output``, ``reject``)."""
    from pyspark.sql import functions as F

    from .translator import load

    load(platform, settings or {}, rules, schemas)  # on the driver: a bad rule set fails here, located
    payload = json.dumps({"platform": platform, "settings": settings or {},
                          "rules": _files(rules) if rules else None,
                          "schemas": _files(schemas) if schemas else None}, sort_keys=True)
    shared = df.sparkSession.sparkContext.broadcast(payload)
    lines = df.select(F.col(column).alias("value"), F.input_file_name().alias("source"),
                      F.monotonically_increasing_id().alias("row"))

    def run(batches: Any) -> Any:
        return _translate_batches(shared.value, batches)

    return lines.mapInArrow(run, OUTPUT_SCHEMA)


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


def _translate_batches(payload: str, batches: Any) -> Any:
    import pyarrow as pa

    from .batches import translate_batch
    from .reader import Lines

    translator = _translator(payload)
    decode = msgspec.json.Decoder(_OutputLine).decode
    for batch in batches:
        values = batch.column("value").to_pylist()
        sources = batch.column("source").to_pylist()
        rows = batch.column("row").to_pylist()
        columns: dict[str, list] = {name: [] for name in ("kind", "source", "row", "target", "body", "error", "path",
                                                         "record")}
        start = 0
        while start < len(values):  # a run of lines of one file at a time
            end = start
            while end < len(values) and sources[end] == sources[start]:
                end += 1
            # a line's number in a reject's text is its row id + 1: the file's line number where
            # Spark reads the file as one partition (the id of a later partition's rows starts
            # at its number times 2**33)
            kept = [(rows[i] + 1, values[i]) for i in range(start, end)
                    if values[i] is not None and values[i].strip()]
            if kept:
                source = sources[start]
                label = source[len("file://"):] if source.startswith("file://") else source
                result = translate_batch(translator, Lines(label, kept), 1)
                _add(columns, result, kept, source, decode)
            start = end
        yield pa.RecordBatch.from_pydict(columns)


def _add(columns: dict[str, list], result: Any, kept: list, source: str, decode: Any) -> None:
    """The outputs and rejects of one translated run of lines, as columns."""
    if result.spooled:  # pragma: no cover - a batch translated here is never spooled
        raise RuntimeError("a spooled batch in a Spark task")
    data = result.data
    outputs = data.split(b"\n")[:-1] if data else []
    for text in outputs:
        line = decode(text)
        columns["kind"].append("output")
        columns["source"].append(source)
        columns["row"].append(kept[line.input - 1][0] - 1)
        columns["target"].append(line.target)
        columns["body"].append(bytes(line.body).decode("utf-8"))
        for name in ("error", "path", "record"):
            columns[name].append(None)
    for record in result.rejects:
        index = record.get("input")
        columns["kind"].append("reject")
        columns["source"].append(source)
        columns["row"].append(kept[index - 1][0] - 1 if isinstance(index, int) and 0 < index <= len(kept) else None)
        columns["target"].append(None)
        columns["body"].append(None)
        columns["error"].append(record.get("error") or record.get("warning"))
        columns["path"].append(record.get("path"))
        columns["record"].append(json.dumps(record, ensure_ascii=False))
