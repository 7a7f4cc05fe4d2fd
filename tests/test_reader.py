"""Input reading: every form, streamed."""

from __future__ import annotations

import io
import json

from engine import reader
from engine.reader import BadInput, read_stream


def _read(text):
    return list(read_stream(io.StringIO(text)))


def test_ndjson_with_blank_lines_and_a_bad_line():
    items = _read('{"a":1}\n\n  \n{"b":2\n{"c":3}\n')
    assert items[0] == {"a": 1} and items[2] == {"c": 3}
    assert isinstance(items[1], BadInput) and items[1].source == "<input>:4"


def test_array_split_across_chunks(monkeypatch):
    monkeypatch.setattr(reader, "_CHUNK", 7)
    messages = [{"n": i, "text": "x" * (i * 5)} for i in range(20)] + [12345678]
    assert _read(json.dumps(messages, indent=1)) == messages


def test_documents_split_across_chunks(monkeypatch):
    monkeypatch.setattr(reader, "_CHUNK", 5)
    text = json.dumps({"a": [1, 2, {"b": "}"}]}, indent=2) + "\n" + json.dumps({"c": 1}, indent=2)
    assert _read(text) == [{"a": [1, 2, {"b": "}"}]}, {"c": 1}]


def test_unclosed_array_and_garbage():
    assert isinstance(_read('[{"a":1}, {"b":')[-1], BadInput)
    items = _read('[{"a":1}, nonsense]')
    assert items[0] == {"a": 1} and isinstance(items[1], BadInput)


def test_empty_input():
    assert _read("") == [] and _read("\n  \n") == [] and _read("[]") == []
