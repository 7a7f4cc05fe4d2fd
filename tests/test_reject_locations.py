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
