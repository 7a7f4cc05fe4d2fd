"""Translating in batches and in worker processes (``translate --jobs N``) gives exactly what one
process gives: the same output lines in input order, the same rejections, the same summary."""

from __future__ import annotations

import gzip
import json
import os
import sys

import pytest

from engine import reader
from engine.cli import main
from engine.reader import BadInput, Lines, Span, Text, parse_line, read_batches, read_messages
from support import API_KEY, ROOT

sys.path.insert(0, str(ROOT / "bench"))
import corpus  # noqa: E402

INPUTS = {
    "ndjson": '{"a":1}\n\n  \n{"b":2\n{"c":3}\n' * 5,
    "bad-first-line": '{"a":\n{"b":2}\n{"c":3}\n',
    "array": '[{"a":1},\n {"b":2}, {"c":3}]',
    "document": '{\n  "a": 1\n}\n',
    "bom": '\ufeff{"a":1}\n{"b":2}\n',
    "empty": "",
}


def _flatten(batches):
    for batch in batches:
        if isinstance(batch, (Text, Span)):
            messages = list(batch.messages())
            assert len(messages) == batch.count
            yield from messages
        elif isinstance(batch, Lines):
            for line_no, entry in batch.entries:
                yield entry if isinstance(entry, BadInput) else parse_line(entry, batch.label, line_no)
        else:
            yield from batch


@pytest.mark.parametrize("name", INPUTS)
@pytest.mark.parametrize("size", [1, 2, 1000])
def test_batches_hold_the_messages_read_one_by_one(tmp_path, name, size):
    path = tmp_path / f"{name}.ndjson"
    path.write_text(INPUTS[name], encoding="utf-8")
    assert list(_flatten(read_batches([str(path)], size))) == list(read_messages([str(path)]))


@pytest.mark.parametrize("chars", [1, 7, 30, 1000])
def test_text_read_in_pieces_keeps_lines_numbers_and_refusals(tmp_path, monkeypatch, chars):
    """Pieces of plain text end inside lines, across blank lines and over a line too long."""
    monkeypatch.setattr(reader, "_CHARS_PER_MESSAGE", chars)
    monkeypatch.setattr(reader, "_MAX_VALUE", 60)
    text = ('{"a":1}\n\n   \n{"b":2\r\n{"c":"' + "x" * 100 + '"}\n{"d":4}\n\t\n{"e":5}') * 3
    path = tmp_path / "pieces.ndjson"
    path.write_text(text, encoding="utf-8")
    batched = list(_flatten(read_batches([str(path)], 2)))
    assert batched == list(read_messages([str(path)]))
    assert [item.source for item in batched if isinstance(item, BadInput)][:2] == [f"{path}:4", f"{path}:5"]
    assert sum(isinstance(item, dict) for item in batched) == 5  # {"e":5}{"a":1} is one bad line


def test_batches_of_damaged_gzip_end_with_the_same_located_item(tmp_path):
    whole = gzip.compress(("".join(json.dumps({"n": i}) + "\n" for i in range(3000))).encode())
    path = tmp_path / "cut.ndjson.gz"
    path.write_bytes(whole[: len(whole) // 2])
    batched = list(_flatten(read_batches([str(path)], 100)))
    assert batched == list(read_messages([str(path)]))
    assert isinstance(batched[-1], BadInput) and "gzip" in batched[-1].reason


def _translate(capsys, tmp_path, jobs, inputs):
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"apiKey": API_KEY, "trackAllPages": True}))
    code = main(["translate", "--platform", "server", "--settings", str(settings), "--jobs", str(jobs), *inputs])
    out, err = capsys.readouterr()
    return code, out, err


def test_jobs_give_the_same_output_in_the_same_order(tmp_path, capsys):
    lines = [json.dumps(message) for message in corpus.messages(4500, seed=4)]
    lines[10] = '{"broken": '
    lines[2500] = json.dumps({"type": "group", "userId": "user-12345"})  # rejected: no groupId
    lines.insert(3000, "")
    first = tmp_path / "first.ndjson"
    first.write_text("\n".join(lines) + "\n")
    second = tmp_path / "second.ndjson.gz"
    second.write_bytes(gzip.compress(("\n".join(lines[:1500]) + "\n").encode()))
    one = _translate(capsys, tmp_path, 1, [str(first), str(second)])
    assert one[0] == 1 and "6000 messages read" in one[2]
    for jobs in (2, 3):
        assert _translate(capsys, tmp_path, jobs, [str(first), str(second)]) == one
    numbers = [json.loads(line)["input"] for line in one[1].splitlines()]
    assert numbers == sorted(numbers) and numbers[-1] == 6000


def test_jobs_must_be_a_positive_number(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["translate", "--platform", "server", "--jobs", "0"])
    assert stop.value.code == 2 and "expected a whole number of 1 or more" in capsys.readouterr().err


@pytest.mark.parametrize("jobs", ["99999999999999999999", "100000"])
def test_jobs_has_an_upper_bound(capsys, jobs):
    """A mistyped --jobs would start processes until the system refuses: it is refused first."""
    from engine.cli import max_jobs

    with pytest.raises(SystemExit) as stop:
        main(["translate", "--platform", "server", "--jobs", jobs])
    assert stop.value.code == 2 and f"expected at most {max_jobs()} worker processes" in capsys.readouterr().err
    assert max_jobs() >= 64


def test_workers_outputs_reach_an_output_file_in_order_and_leave_no_spool_behind(tmp_path, capsys, monkeypatch):
    import tempfile

    spools = []
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(**kwargs):
        spools.append(real_mkdtemp(prefix="spool-", dir=tmp_path))
        return spools[-1]

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    source = tmp_path / "in.ndjson"
    source.write_text("".join(json.dumps(m) + "\n" for m in corpus.messages(5000, seed=9)))
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"apiKey": API_KEY}))
    written = {}
    for jobs in (1, 2):
        target = tmp_path / f"out{jobs}.ndjson"
        code = main(["translate", "--platform", "server", "--settings", str(settings), "--jobs", str(jobs),
                     "--output", str(target), str(source)])
        assert code == 0 and "5000 messages read" in capsys.readouterr().err
        written[jobs] = target.read_bytes()
    assert written[1] == written[2] and written[1].count(b"\n") > 4000
    assert len(spools) == 1 and not os.path.exists(spools[0])


def test_a_spool_that_cannot_be_written_sends_the_outputs_back_through_the_pipe(tmp_path, capsys, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "mkdtemp", lambda **kwargs: str(tmp_path / "missing" / "spool"))
    source = tmp_path / "in.ndjson"
    source.write_text("".join(json.dumps(m) + "\n" for m in corpus.messages(3000, seed=5)))
    one = _translate(capsys, tmp_path, 1, [str(source)])
    assert _translate(capsys, tmp_path, 2, [str(source)]) == one and one[0] == 0


@pytest.mark.parametrize("signame, status", [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_run_stopped_by_a_signal_stops_its_workers_and_removes_its_spool(tmp_path, signame, status):
    import signal
    import subprocess
    import time

    source = tmp_path / "in.ndjson"
    text = "".join(json.dumps(message) + "\n" for message in corpus.messages(80000, seed=3))
    source.write_text(text * 4)  # long enough that a loaded machine still signals the run mid-way
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"apiKey": API_KEY}))
    target = tmp_path / "out.ndjson"
    spool = tmp_path / "spool"  # this run's own: another test run on the machine has its own
    env = {**os.environ, "SEG2AMP_SPOOL": str(spool)}
    process = subprocess.Popen([sys.executable, "-m", "engine.cli", "translate", "-p", "server", "-s", str(settings),
                                "--jobs", "2", "-o", str(target), str(source)], cwd=ROOT, env=env,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while (not target.exists() or target.stat().st_size < 2_000_000) and time.monotonic() < deadline:
        time.sleep(0.05)  # until the workers' outputs are arriving
    spooled = [p.name for p in spool.iterdir()] if spool.is_dir() else []
    process.send_signal(getattr(signal, signame))
    err = process.communicate(timeout=60)[1]
    assert process.returncode == status, err
    if signame == "SIGINT":
        assert "(interrupted)" in err and "Traceback" not in err
    assert [name[:8] for name in spooled] == ["seg2amp-"] and list(spool.iterdir()) == []
    deadline = time.monotonic() + 10
    while subprocess.run(["pgrep", "-f", str(source)], capture_output=True).stdout and time.monotonic() < deadline:
        time.sleep(0.05)  # workers stopped by the run end within moments
    assert subprocess.run(["pgrep", "-f", str(source)], capture_output=True, text=True).stdout.split() == []


def test_spans_read_from_bytes_give_what_lines_read_as_text_give(tmp_path):
    """Every line starts an object, so the file is read in spans from its bytes; lines orjson does
    not take as the reference would (bad JSON, bytes that are not UTF-8, 19-digit numbers, NaN)
    are read from their text, with the same values, reasons and columns."""
    lines = [b'{"a":1}', b'{"b":', b'{"c":"\xff\xfe"}', b'{"d":12345678901234567890123}', b'{"e":NaN}',
             b'{"f":"\xc3\xa9"}', b'{"g":1} {"h":2}', b'{"i":' + b"[" * 600 + b"]" * 600 + b"}"]
    path = tmp_path / "spans.ndjson"
    path.write_bytes(b"\n".join(lines * 3))  # no final newline
    batches = list(read_batches([str(path)], 1000))
    assert any(isinstance(batch, Span) for batch in batches)
    assert list(_flatten(batches)) == list(read_messages([str(path)]))


def test_a_span_parsed_where_it_was_read_locates_a_bad_line_between_good_ones(tmp_path):
    """In the reader's process a span's lines are parsed from the bytes the reader read: a bad line
    in the middle is one located item (line and column) between the messages around it."""
    lines = [json.dumps({"n": n}) for n in range(200)]
    lines[120] = '{"n": 120, "oops"}'
    path = tmp_path / "middle.ndjson"
    path.write_text("\n".join(lines) + "\n")
    [span] = [batch for batch in read_batches([str(path)], 1000) if isinstance(batch, Span)]
    assert span.held is not None and span.line == 2 and span.count == 199
    messages = list(span.messages())
    assert messages[:119] == [{"n": n} for n in range(1, 120)] and messages[120:] == [{"n": n} for n in range(121, 200)]
    assert messages[119] == BadInput("not JSON: Expecting ':' delimiter at column 18", f"{path}:121")
    assert [{"n": 0}, *messages] == list(read_messages([str(path)]))


def test_spans_cut_where_pieces_end_inside_lines(tmp_path, monkeypatch):
    """A piece of the file that ends inside a line leaves that line to the next span; a line longer
    than a span, and what follows it, are read as text. Nothing is lost, doubled or renumbered."""
    monkeypatch.setattr(reader, "_SPAN_BYTES", 64)
    lines = [json.dumps({"n": n, "pad": "x" * (n % 23)}) for n in range(60)]
    lines[7] = '{"n": 7, "bad": }'
    lines[45] = json.dumps({"n": 45, "long": "y" * 100})
    path = tmp_path / "cut.ndjson"
    path.write_text("\n".join(lines))  # no final newline
    batches = list(read_batches([str(path)], 1000))
    spans = [batch for batch in batches if isinstance(batch, Span)]
    assert len(spans) > 10 and all(len(b"".join(span.held[1])) <= 64 for span in spans)
    assert isinstance(batches[-1], Text) and batches[-1].line <= 46
    assert list(_flatten(batches)) == list(read_messages([str(path)]))


def test_a_span_sent_to_another_process_reads_its_lines_again_and_names_a_changed_file(tmp_path):
    import pickle

    path = tmp_path / "sent.ndjson"
    path.write_text("".join(json.dumps({"n": n}) + "\n" for n in range(50)))
    [span] = [batch for batch in read_batches([str(path)], 1000) if isinstance(batch, Span)]
    sent = pickle.loads(pickle.dumps(span))
    assert sent.held is None and sent == span
    assert list(sent.messages()) == list(span.messages()) == [{"n": n} for n in range(1, 50)]
    path.write_text("".join(json.dumps({"n": n}) + "\n" for n in range(40)))  # the same file, shorter
    with pytest.raises(OSError, match=f"^{path}:2: the file changed while it was being read$"):
        list(sent.messages())
    assert list(span.messages()) == [{"n": n} for n in range(1, 50)]  # held: read once, as it was


def test_spawned_workers_build_their_translator_with_the_factory_they_are_given(monkeypatch):
    """Where processes cannot be forked, each worker calls the picklable translator factory; without
    one, workers cannot be started and the error says why."""
    import functools
    import io
    import multiprocessing

    from engine import load
    from engine.batches import translate_batches, write_result

    def outputs(results):
        out = io.BytesIO()
        for result in results:
            write_result(out, result)
        return out.getvalue()

    def chunks():
        messages = list(corpus.messages(300, seed=2))
        return [messages[start:start + 50] for start in range(0, 300, 50)]

    make = functools.partial(load, "server", {"apiKey": API_KEY})
    one = outputs(translate_batches(chunks(), make(), 1))
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert outputs(translate_batches(chunks(), make(), 2, make)) == one and one.count(b"\n") > 250
    with pytest.raises(ValueError, match="cannot be forked on this system, and no translator factory"):
        outputs(translate_batches(chunks(), make(), 2))
