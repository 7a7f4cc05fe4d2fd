"""Input reading: every form, streamed."""

from __future__ import annotations

import gzip
import io
import json

from engine import reader
from engine.reader import BadInput, read_stream
from support import flat_batches


def _read(text, form="auto"):
    return list(read_stream(io.StringIO(text), form=form))


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


# --- the form of an input is decided by its start, and a bad start loses nothing ---------------------------


def _sources(items):
    return [item.source if isinstance(item, BadInput) else item for item in items]


def test_a_byte_order_mark_does_not_change_the_form():
    assert _read('\ufeff{"a":1}\n{"b":2}\n') == [{"a": 1}, {"b": 2}]
    assert _read('\ufeff[{"a":1}]') == [{"a": 1}]


def test_a_byte_order_mark_in_a_file_is_dropped(tmp_path):
    path = tmp_path / "bom.ndjson"
    path.write_bytes(b'\xef\xbb\xbf{"a":1}\n{"b":2}\n')
    assert list(reader.read_messages([str(path)])) == [{"a": 1}, {"b": 2}]


def test_a_bad_first_line_is_one_bad_item_and_the_next_lines_are_read():
    assert _sources(_read('nonsense\n{"a":1}\n{"b":2}\n')) == ["<input>:1", {"a": 1}, {"b": 2}]
    assert _sources(_read('{"a": nonsense}\n{"b":2}\n\n{"c":3}\n')) == ["<input>:1", {"b": 2}, {"c": 3}]
    assert _sources(_read('{"a": 1, "b": [1, 2}\n{"c":3}\n')) == ["<input>:1", {"c": 3}]


def test_a_cut_first_line_loses_only_itself():
    assert _sources(_read('{"a":\n{"b":2}\n{"c":3}\n')) == ["<input>:1", {"b": 2}, {"c": 3}]
    assert _sources(_read('{"a": 1\n{"b":2}\n')) == ["<input>:1", {"b": 2}]
    assert _sources(_read('{"a": "text\n{"b":2}\n')) == ["<input>:1", {"b": 2}]


def test_a_cut_line_later_in_a_file_of_documents_loses_only_itself():
    text = json.dumps({"a": [1, 2]}, indent=2) + '\n{"b":\n{"c":3}\n' + json.dumps({"d": 4}, indent=2)
    assert _sources(_read(text)) == [{"a": [1, 2]}, "<input>:7", {"c": 3}, {"d": 4}]


def test_first_line_decides_ndjson_even_for_lines_that_are_not_objects():
    assert _read('"text"\n42\n{"a":1}\n') == ["text", 42, {"a": 1}]
    # a first line holding a value and more is a bad NDJSON line, as any later line would be: the
    # numbering of the lines after it does not change, and nothing after the value is translated
    items = _read('{"a":1}{"b":2}\n{"c":3}')
    assert isinstance(items[0], BadInput) and "Extra data at column 8" in items[0].reason and items[1:] == [{"c": 3}]
    assert _sources(_read('{"a":1} trailing\n{"c":3}\n{"d":"cut short\n')) == ["<input>:1", {"c": 3}, "<input>:3"]
    assert _read('{"c":3}\n{"d":"cut short\n')[1].reason == "not JSON: Invalid control character at column 16"
    assert _read('{"c":3}\n{"e": "unterminated"\n')[1].reason == "not JSON: Expecting ',' delimiter at column 21"


def test_bad_first_line_reads_in_chunks_not_quadratically(monkeypatch):
    monkeypatch.setattr(reader, "_CHUNK", 16)
    reads = []

    class Counting(io.StringIO):
        def read(self, size=-1):
            reads.append(size)
            return super().read(size)

        def readline(self, size=-1):
            reads.append(size)
            return super().readline(size)

    lines = ["oops"] + [json.dumps({"n": n, "pad": "x" * 50}) for n in range(2000)]
    items = list(read_stream(Counting("\n".join(lines) + "\n")))
    assert len(items) == 2001 and items[-1]["n"] == 1999 and isinstance(items[0], BadInput)
    assert len(reads) < 2100
    reads.clear()
    big = {"text": "y" * 200_000}
    assert list(read_stream(Counting(json.dumps(big, indent=1)))) == [big]
    assert len(reads) < 40  # the read size grows with the value: no re-decoding per small chunk


M = {"type": "track", "event": "E", "userId": "user-12345"}
LINE = json.dumps(M)


def test_a_bad_first_line_does_not_change_how_an_ndjson_file_is_read(tmp_path):
    """Whatever the first line of an NDJSON file holds, every other line is read, one a line."""
    texts = {
        "array": f"[1,2]\n{LINE}\n{LINE}\n",
        "cut": f'{{"type":"track",\n[1]\n {LINE}\n{LINE}\n',
        "cut-object": f'{{"a":\n  "b": 1}}\n\n{LINE}\n',
        "one-array-line": f"[{LINE},{LINE}]\n",
    }
    for name, text in texts.items():
        lines = [(n, line) for n, line in enumerate(text.split("\n"), 1) if line.strip()]
        for suffix in (".ndjson", ".jsonl", ".ndjson.gz", ".JSONL.gz"):
            path = tmp_path / f"{name}{suffix}"
            data = text.encode()
            path.write_bytes(gzip.compress(data) if suffix.lower().endswith(".gz") else data)
            for items in (list(reader.read_messages([str(path)])), list(flat_batches([str(path)]))):
                assert len(items) == len(lines), (name, suffix, items)
                for (number, line), item in zip(lines, items, strict=True):
                    if isinstance(item, BadInput):
                        assert item.source == f"{path}:{number}"
                    else:
                        assert item == json.loads(line)


def test_the_form_is_told_by_the_name_or_given():
    assert [reader.form_of(name) for name in ("a.ndjson", "a.jsonl.gz", "a.json", "A.JSON.GZ", "-", "a.txt")] == \
        ["ndjson", "ndjson", "json", "json", "auto", "auto"]
    assert reader.form_of("a.json", "ndjson") == "ndjson" and reader.form_of("a.ndjson", "auto") == "auto"


def test_auto_reads_a_file_with_a_damaged_first_line_line_by_line(tmp_path):
    assert _read(f"[1,2]\n\n{LINE}\n{LINE}\n") == [[1, 2], M, M]
    assert _sources(_read(f'{{"type":"track",\n[1]\n {LINE}\n{LINE}\n')) == ["<input>:1", [1], M, M]
    assert _read(f"[{LINE},\n{LINE}]\n") == [M, M] and _read(f"[{LINE},{LINE}]\n\n") == [M, M]
    # json keeps reading an array, then refuses what follows it
    assert _sources(_read(f"[1,2]\n{LINE}\n", "json")) == [1, 2, "<input>:2"]
    path = tmp_path / "cut.txt"
    path.write_text('{"type":"track",\n' + f"{LINE}\n" * 3000)
    assert len(list(reader.read_messages([str(path)]))) == len(list(flat_batches([str(path)]))) == 3001


def test_format_is_given_on_the_command_line(tmp_path, capsys):
    from engine.cli import main
    from support import FIXTURES

    path = tmp_path / "messages.json"
    path.write_text(f"[1,2]\n{LINE}\n{LINE}\n")
    settings = str(FIXTURES / "samples" / "settings.json")
    for command in ("translate", "explain"):
        main([command, "-p", "server", "-s", settings, "--format", "ndjson", str(path)])
        captured = capsys.readouterr()
        assert captured.out.count("user-12345") == 2, command
    main(["translate", "-p", "server", "-s", settings, str(path)])  # .json: an array, and text after it
    assert "user-12345" not in capsys.readouterr().out


# --- arrays are strict ------------------------------------------------------------------------------------


def test_text_after_the_array_is_reported():
    assert _sources(_read('[{"a":1}]\n\n{"b":2}\n', "json")) == [{"a": 1}, "<input>:3"]
    assert _sources(_read('[{"a":1}]  \n\n')) == [{"a": 1}]
    # auto: a whole array on the first line with lines after it is an NDJSON line (one message)
    assert _sources(_read('[{"a":1}]\n\n{"b":2}\n')) == [[{"a": 1}], {"b": 2}]


def test_a_missing_comma_in_an_array_is_reported():
    assert _sources(_read('[{"a":1} {"b":2}]')) == [{"a": 1}, "<input>:1"]
    items = _read('[\n  {"a":1},\n  {"b":2}\n  {"c":3}\n]\n')
    assert _sources(items) == [{"a": 1}, {"b": 2}, "<input>:4"]
    assert "','" in items[-1].reason


def test_a_trailing_comma_in_an_array_is_reported():
    assert _sources(_read('[{"a":1},]')) == [{"a": 1}, "<input>:1"]
    assert _sources(_read('[\n{"a":1},\n{"b":2},\n]\n')) == [{"a": 1}, {"b": 2}, "<input>:4"]
    assert _sources(_read('[,{"a":1}]')) == ["<input>:1"]
    assert _sources(_read('[{"a":1},,{"b":2}]')) == [{"a": 1}, "<input>:1"]


# --- array and document errors are located ----------------------------------------------------------------


def test_array_errors_name_the_line():
    items = _read('[\n{"a":1},\n{"b": nonsense},\n{"c":3}\n]')
    assert _sources(items) == [{"a": 1}, "<input>:3"]
    assert _sources(_read('[\n{"a":1},\n{"b":\n')) == [{"a": 1}, "<input>:4"]
    assert _sources(_read('[\n{"a":1}\n\n')) == [{"a": 1}, "<input>:4"]
    assert _sources(_read('[\n{"n": 1e400}]')) == ["<input>:2"]


def test_lines_skipped_after_a_bad_document_are_named():
    text = '{\n "a": 1\n}\n{\n "b": nonsense\n}\n  {"x": 1}\n[2]\n{"c": 3}\n{"d": nonsense}\n\n  {"e": 5}\n'
    items = _read(text)
    assert _sources(items) == [{"a": 1}, "<input>:5", {"c": 3}, "<input>:10"]
    assert items[1].reason.endswith("; lines 6 to 8 are skipped")
    assert items[3].reason.endswith("; lines 11 to 12 are skipped")
    items = _read('{\n "a": 1\n}\n{"b": nonsense,\n "c": 1}\n{"d": 4}\n')
    assert _sources(items) == [{"a": 1}, "<input>:4", {"d": 4}] and items[1].reason.endswith("; line 5 is skipped")
    items = _read('{\n "a": 1\n}\n{"b": nonsense}\n{"d": 4}\n')
    assert _sources(items) == [{"a": 1}, "<input>:4", {"d": 4}] and "skipped" not in items[1].reason


def test_document_errors_name_the_line():
    items = _read('{\n  "a": 1,\n  "b": nonsense\n}\n', "json")
    assert _sources(items) == ["<input>:3"] and "column 8" in items[0].reason
    assert _sources(_read('{\n  "a": [1,\n   2,\n', "json")) == ["<input>:4"]
    # auto: a first value that is not whole is a damaged first line; every line after it is read
    assert _sources(_read('{\n  "a": 1,\n  "b": nonsense\n}\n')) == [f"<input>:{n}" for n in range(1, 5)]


def test_errors_name_the_file(tmp_path):
    path = tmp_path / "in.json"
    path.write_text('[\n{"a":1}\n{"b":2}]')
    assert [item.source for item in reader.read_messages([str(path)]) if isinstance(item, BadInput)] == \
        [f"{path}:3"]


def test_values_cut_anywhere_by_chunks(monkeypatch):
    messages = [{"n": 1.5, "e": -2.5e-3, "big": 12345678901234567890, "t": True, "f": False, "z": None,
                 "s": "caf\u00e9 \\\" \U0001f600", "l": [[], {}, [1, [2.25]]]}, 7, 0.125, -1e5, "x"]
    array = json.dumps(messages, ensure_ascii=True)
    documents = "\n".join(json.dumps(m, ensure_ascii=True, indent=1) for m in messages)
    for size in range(1, 14):
        monkeypatch.setattr(reader, "_CHUNK", size)
        assert _read(array) == messages, size
        assert _read(documents) == messages, size


def test_a_line_longer_than_the_limit_is_one_bad_item(monkeypatch):
    monkeypatch.setattr(reader, "_MAX_VALUE", 100)
    items = _read('{"a":1}\n{"b":"' + "x" * 300 + '"}\n{"c":3}\n')
    assert _sources(items) == [{"a": 1}, "<input>:2", {"c": 3}]


# --- gzip -------------------------------------------------------------------------------------------------


def _gzipped_lines(count):
    lines = [json.dumps({"n": n, "pad": f"p{n * 7919 % 1000}"}) for n in range(count)]
    return lines, gzip.compress(("\n".join(lines) + "\n").encode())


def test_a_truncated_gzip_file_is_one_located_bad_item_after_what_was_read(tmp_path):
    lines, data = _gzipped_lines(3000)
    path = tmp_path / "cut.ndjson.gz"
    path.write_bytes(data[: len(data) // 2])
    items = list(reader.read_messages([str(path)]))
    assert all(isinstance(item, dict) for item in items[:-1]) and len(items) > 100
    assert [item["n"] for item in items[:-1]] == list(range(len(items) - 1))
    assert isinstance(items[-1], BadInput) and "truncated or corrupt gzip" in items[-1].reason
    assert items[-1].source.startswith(str(path))


def test_a_corrupt_gzip_file_is_one_located_bad_item(tmp_path):
    lines, data = _gzipped_lines(3000)
    for name, damaged in [("crc", data[:-8] + bytes(8)), ("bytes", data[:200] + b"\xff" * 50 + data[250:]),
                          ("header", data[:3] + b"\xff" + data[4:]), ("tail", data + b"garbage")]:
        path = tmp_path / f"{name}.gz"
        path.write_bytes(damaged)
        items = list(reader.read_messages([str(path), str(path)]))
        bad = [item for item in items if isinstance(item, BadInput)]
        assert bad and all("truncated or corrupt gzip" in item.reason and str(path) in item.source
                           for item in bad), name


def test_translate_reports_a_truncated_gzip_file_as_bad_input(tmp_path, capsys):
    from engine.cli import main
    from support import FIXTURES

    samples = FIXTURES / "samples"
    data = gzip.compress((samples / "messages.ndjson").read_bytes())
    path = tmp_path / "cut.ndjson.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    code = main(["translate", "--platform", "server", "--settings", str(samples / "settings.json"), str(path)])
    err = capsys.readouterr().err
    assert code == 2  # an input that cannot be read to its end
    rejects = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert len(rejects) == 1 and "truncated or corrupt gzip" in rejects[0]["error"]
    assert str(path) in rejects[0]["error"]
    assert " 1 rejected, " in err.strip().splitlines()[-1]


def test_runs_of_blank_lines_are_read_in_large_pieces(tmp_path, monkeypatch):
    """A gzip of millions of newlines costs a few reads, not one a line; line numbers stay right."""
    from engine.reader import Lines, Span, Text, parse_line

    opened = []
    original = reader.open_input

    class Counting:
        def __init__(self, raw):
            self.raw, self.buffer, self.calls = raw, raw.buffer, 0

        def read(self, size=-1):
            self.calls += 1
            return self.raw.read(size)

        def readline(self, size=-1):
            self.calls += 1
            return self.raw.readline(size)

        def close(self):
            self.raw.close()

    monkeypatch.setattr(reader, "open_input", lambda name: opened.append(Counting(original(name))) or opened[-1])
    text = "\n" * 2_000_000 + LINE + "\n" * 1_000_000 + "oops\n" + (" \n\n\t\r\n" + LINE + "\n") * 50 + "\n" * 500_000
    path = tmp_path / "blank.ndjson.gz"
    path.write_bytes(gzip.compress(text.encode()))
    for form in ("ndjson", "auto"):
        items = list(reader.read_messages([str(path)], form))
        batched = []
        for batch in reader.read_batches([str(path)], 7, form):
            if isinstance(batch, Lines):
                batched += [entry if isinstance(entry, BadInput) else parse_line(entry, batch.label, number)
                            for number, entry in batch.entries]
            else:
                batched += list(batch.messages()) if isinstance(batch, (Text, Span)) else batch
        assert items == batched and len(items) == 52 and items[0] == items[-1] == M
        assert items[1].source == f"{path}:3000001"
        assert all(stream.calls < 2000 for stream in opened), [stream.calls for stream in opened]
        opened.clear()
