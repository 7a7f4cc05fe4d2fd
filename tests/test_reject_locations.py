"""Every reject of a message read from a line names its input (``file``) and physical line
(``line``) beside ``input`` (its number among all inputs): first lines, later lines, after blank
lines, gzip, standard input, plain files read in spans, worker processes."""

from __future__ import annotations

import gzip
import io
import json

import pytest

from engine.cli import main
from support import FIXTURES

SETTINGS = str(FIXTURES / "samples" / "settings.json")
GOOD = json.dumps({"type": "track", "event": "E", "userId": "user-12345"})
NO_GROUP = json.dumps({"type": "group", "userId": "user-12345"})  # valid JSON, rejected: no groupId


def _lines(count):
    """``count`` lines with blank ones and rejects among them; the physical line of each reject."""
    lines, bad = [], []
    for number in range(count):
        if number % 7 == 3:
            lines.append("")
        if number % 97 in (0, 50):
            lines.append(NO_GROUP)
            bad.append(len(lines))
        elif number % 211 == 5:
            lines.append("nonsense")
            bad.append(len(lines))
        else:
            lines.append(GOOD)
    return lines, bad


@pytest.mark.parametrize("count", [40, 3000])
@pytest.mark.parametrize("jobs", [1, 2])
def test_rejects_name_their_file_and_line(tmp_path, capsys, monkeypatch, count, jobs):
    lines, bad = _lines(count)
    text = "\n".join(lines) + "\n"
    plain, zipped = tmp_path / "in.ndjson", tmp_path / "in.ndjson.gz"
    plain.write_text(text)
    zipped.write_bytes(gzip.compress(text.encode()))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    names = [str(plain), str(zipped), "-"]
    main(["translate", "-p", "server", "-s", SETTINGS, "-j", str(jobs), *names])
    rejects = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    labels = [str(plain), str(zipped), "<stdin>"]
    assert [(record["file"], record["line"]) for record in rejects] == [(label, n) for label in labels for n in bad]
    messages = sum(1 for line in lines if line)
    inputs = [n for k in range(3) for n, line in enumerate((line for line in lines if line), 1 + k * messages)
              if line != GOOD]
    assert [record["input"] for record in rejects] == inputs


def _pretty_array(messages: list[str]) -> tuple[str, list[int]]:
    """A JSON array with each element pretty-printed over several lines; each element's first line."""
    text, starts = "[\n", []
    for number, message in enumerate(messages):
        starts.append(text.count("\n") + 1)
        text += json.dumps(json.loads(message), indent=2) + (",\n" if number < len(messages) - 1 else "\n")
    return text + "]\n", starts


def _documents(messages: list[str]) -> tuple[str, list[int]]:
    text, starts = "", []
    for message in messages:
        starts.append(text.count("\n") + 1)
        text += json.dumps(json.loads(message), indent=2) + "\n\n"
    return text, starts


@pytest.mark.parametrize("shape", ["array", "documents", "one-line array"])
@pytest.mark.parametrize("jobs", [1, 2])
def test_rejects_of_json_arrays_and_documents_name_the_line_each_message_starts(tmp_path, capsys, shape, jobs):
    messages = [NO_GROUP if number % 300 in (1, 299) else GOOD for number in range(1500)]
    if shape == "array":
        text, starts = _pretty_array(messages)
    elif shape == "documents":
        text, starts = _documents(messages)
    else:
        text, starts = "[" + ", ".join(messages) + "]\n", [1] * len(messages)
    path = tmp_path / "in.json"
    path.write_text(text)
    main(["translate", "-p", "server", "-s", SETTINGS, "-j", str(jobs), str(path)])
    rejects = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    expected = [(str(path), starts[n], n + 1) for n, message in enumerate(messages) if message == NO_GROUP]
    assert [(record.get("file"), record.get("line"), record["input"]) for record in rejects] == expected


def test_explain_and_diff_name_the_file_and_line_of_a_reject(tmp_path, capsys):
    text, starts = _documents([GOOD, NO_GROUP])
    path = tmp_path / "in.json"
    path.write_text(text + "nonsense\n")
    main(["explain", "-p", "server", "-s", SETTINGS, "--json", str(path)])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["file"], r["line"]) for r in records] == [(str(path), starts[0]), (str(path), starts[1]),
                                                          (str(path), text.count("\n") + 1)]
    main(["explain", "-p", "server", "-s", SETTINGS, str(path)])
    out = capsys.readouterr().out
    assert any(line.startswith("message 2 (") and f"{path}:{starts[1]})" in line for line in out.splitlines())
    main(["diff", "--platforms", "server,web", "-s", SETTINGS, "--json", str(path)])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["file"], r["line"]) for r in records] == [(str(path), starts[0]), (str(path), starts[1]),
                                                          (str(path), text.count("\n") + 1)]
    assert records[1]["platforms"]["server"]["rejected"]["line"] == starts[1]
    main(["diff", "--platforms", "server,web", "-s", SETTINGS, str(path)])
    assert f"message 2 ({path}:{starts[1]})" in capsys.readouterr().out
