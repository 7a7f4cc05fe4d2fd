"""Messages nested deeper than ``reader.MAX_DEPTH`` are refused the same way wherever they are read
(first line, later lines, arrays, documents, gzip, stdin, worker processes), before any parser's
recursion decides: ``--jobs`` does not change the result."""

from __future__ import annotations

import gzip
import io
import json

from engine import reader
from engine.cli import main
from engine.reader import BadInput, read_stream
from support import FIXTURES

M = json.dumps({"type": "track", "event": "E", "userId": "user-12345"})
SETTINGS = str(FIXTURES / "samples" / "settings.json")
REASON = f"the message is nested deeper than {reader.MAX_DEPTH} levels"


def deep(depth, opening="["):
    """A track message nested ``depth`` levels in all (its own object and properties included)."""
    closing = "]" if opening == "[" else "}"
    inner = (opening + ('"k":' if opening == "{" else "")) * (depth - 2) + ("1" if opening == "{" else "")
    return ('{"type":"track","event":"E","userId":"user-12345","properties":{"p":' + inner
            + closing * (depth - 2) + "}}")


def test_the_depth_of_the_helper_messages():
    value = json.loads(deep(40, "{"))
    depth, node = 0, value
    while isinstance(node, dict):
        depth, node = depth + 1, node.get("properties", node.get("p", node.get("k")))
    assert depth == 40


def test_a_message_deeper_than_the_limit_is_a_located_reject_wherever_it_is():
    limit = reader.MAX_DEPTH
    for opening in "[{":
        ok, bad = deep(limit, opening), deep(limit + 1, opening)
        for form in ("ndjson", "auto", "json"):
            items = list(read_stream(io.StringIO(f"{bad}\n{ok}\n{bad}\n{M}\n"), "in", form))
            assert isinstance(items[0], BadInput) and items[0].reason == REASON and items[0].source == "in:1"
            assert items[1] == json.loads(ok) and items[3] == json.loads(M)
            assert isinstance(items[2], BadInput) and (items[2].reason, items[2].source) == (REASON, "in:3")
        # in an array: the element is refused and the array goes on; in documents likewise
        for text in (f"[\n{ok},\n{bad},\n{M}\n]", f"{json.dumps(json.loads(ok), indent=1)}\n{bad}\n{M}\n"):
            items = list(read_stream(io.StringIO(text), "in", "json"))
            assert len(items) == 3 and items[0] == json.loads(ok) and items[2] == json.loads(M)
            assert isinstance(items[1], BadInput) and items[1].reason == REASON
            assert items[1].source == f"in:{text[:text.index(bad)].count(chr(10)) + 1}"
    for depth in (limit + 1, 980, 5000):  # deeper than the parser's recursion reaches, too
        items = list(read_stream(io.StringIO(f"[{deep(depth)},{M}]"), "in", "json"))
        assert [getattr(item, "reason", item) for item in items] == [REASON, json.loads(M)]


def _run(tmp_path, capsys, jobs, inputs, stdin=None, monkeypatch=None):
    out, rejects = tmp_path / f"out{jobs}", tmp_path / f"rejects{jobs}"
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = main(["translate", "-p", "server", "-s", SETTINGS, "-j", str(jobs), "-o", str(out),
                 "--rejects", str(rejects), *inputs])
    summary = capsys.readouterr().err
    return code, out.read_bytes(), rejects.read_bytes(), summary


def test_jobs_give_the_same_result_for_deep_messages(tmp_path, capsys, monkeypatch):
    depths = [100, 500, reader.MAX_DEPTH, reader.MAX_DEPTH + 1, 700, 960, 975, 990, 1100, 20000]
    lines = [M] * 1500 + [deep(depth, opening) for depth in depths for opening in "[{"] + [M] * 1500
    text = "\n".join(lines) + "\n"
    path = tmp_path / "deep.ndjson"
    path.write_text(text)
    zipped = tmp_path / "deep.ndjson.gz"
    zipped.write_bytes(gzip.compress(text.encode()))
    first = _run(tmp_path, capsys, 1, [str(path)])
    rejects = [json.loads(line) for line in first[2].splitlines()]
    too_deep = [record for record in rejects if REASON in record["error"]]
    assert len(too_deep) == 2 * 7
    assert f"{path}:1507)" in too_deep[0]["error"]  # the first line deeper than the limit
    # read, but nested deeper than the 40 levels Amplitude accepts in properties: its output is refused
    assert [record["input"] for record in rejects if record not in too_deep] == [1501, 1502, 1503, 1504, 1505, 1506]
    for jobs in (1, 2):
        assert _run(tmp_path, capsys, jobs, [str(path)]) == first
        gz = _run(tmp_path, capsys, jobs, [str(zipped)])
        assert gz[:2] == first[:2] and gz[2] == first[2].replace(str(path).encode(), str(zipped).encode())
    piped = _run(tmp_path, capsys, 1, ["-"], text.encode(), monkeypatch)
    assert piped[:2] == first[:2] and piped[2] == first[2].replace(str(path).encode(), b"<stdin>")
    # the deep lines first: the first line of an input is read as the others
    lines = lines[1500:1520] + lines[:1500]
    path.write_text("\n".join(lines) + "\n")
    assert _run(tmp_path, capsys, 1, [str(path)]) == _run(tmp_path, capsys, 2, [str(path)])
