"""Lines end at a newline only, and only JSON white space makes a line blank: every other line of
an NDJSON input is one message or one reject, at its physical line number."""

from __future__ import annotations

import gzip
import json

import pytest

from engine import reader
from engine.cli import main
from engine.reader import BadInput
from support import FIXTURES, flat_batches

M = json.dumps({"type": "track", "event": "E", "userId": "user-12345"})
SETTINGS = str(FIXTURES / "samples" / "settings.json")


def _both(path):
    one, two = list(reader.read_messages([str(path)])), list(flat_batches([str(path)]))
    assert one == two
    return one


@pytest.mark.parametrize("suffix", [".ndjson", ".txt", ".ndjson.gz"])
def test_a_carriage_return_inside_a_line_does_not_cut_it(tmp_path, suffix):
    text = f'{M}\n{{"type":"track",\r"event":"E","userId":"user-12345"}}\n{M}\r\n\r\n{M}\rnot json\n{M}\r\n'
    path = tmp_path / f"cr{suffix}"
    path.write_bytes(gzip.compress(text.encode()) if suffix.endswith(".gz") else text.encode())
    items = _both(path)
    message = json.loads(M)
    assert items[:3] == [message] * 3 and items[4] == message and len(items) == 5
    assert isinstance(items[3], BadInput) and items[3].source == f"{path}:5"


def test_a_carriage_return_in_a_file_read_in_spans_and_pieces(tmp_path):
    lines = [M] * 5000
    lines[1234] = M.replace(",", ",\r", 1)
    lines[4321] = "garbage\rmore"
    path = tmp_path / "many.ndjson"
    path.write_text("\n".join(lines) + "\n", newline="")
    items = _both(path)
    assert len(items) == 5000 and isinstance(items[4321], BadInput) and items[4321].source == f"{path}:4322"
    assert all(item == json.loads(M) for number, item in enumerate(items) if number != 4321)


def test_a_carriage_return_does_not_change_the_count_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "cr.ndjson"
    path.write_bytes(f'{M}\n{{"type":"track",\r"event":"E","userId":"user-12345"}}\n{M}\n'.encode())
    assert main(["translate", "-p", "server", "-s", SETTINGS, str(path)]) == 0
    assert "3 messages read, 3 translated, 0 rejected" in capsys.readouterr().err


SPACES = ["\u00a0", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\u0085", "\u2028", "\u3000", " \u00a0\t"]


@pytest.mark.parametrize("suffix", [".ndjson", ".txt", ".ndjson.gz", ".json"])
def test_a_line_of_white_space_that_is_not_json_is_a_reject(tmp_path, suffix):
    lines = [M] + SPACES + ["", " \t\r", M]
    text = "\n".join(lines) + "\n"
    path = tmp_path / f"ws{suffix}"
    path.write_bytes(gzip.compress(text.encode()) if suffix.endswith(".gz") else text.encode())
    items = _both(path)
    assert items[0] == items[-1] == json.loads(M) and len(items) == len(SPACES) + 2
    assert [item.source for item in items[1:-1]] == [f"{path}:{n}" for n in range(2, len(SPACES) + 2)]


def test_a_first_line_of_other_white_space_is_a_reject(tmp_path):
    for space in SPACES:
        path = tmp_path / "first.txt"
        path.write_bytes(f"{space}\n{M}\n".encode())
        items = _both(path)
        assert len(items) == 2 and isinstance(items[0], BadInput) and items[1] == json.loads(M), repr(space)


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_runs_of_blank_lines_long_and_short_keep_every_line_number(tmp_path, capsys, monkeypatch, source):
    """Blank lines (long runs skipped in one step, short ones and lines of JSON white space among
    messages) are neither messages nor rejects, and every line after them keeps its number."""
    import io
    import random

    rng = random.Random(5)
    lines, bad = [], []
    for number in range(3000):
        run = rng.choice([0, 0, 1, 2, 63, 64, 65, 300])
        lines.extend(rng.choice(["", " ", "\t", "\r", " \t "]) for _ in range(run))
        if number % 37 == 5:
            lines.append("  nonsense ")
            bad.append(len(lines))
        else:
            lines.append(rng.choice([M, " " + M, M + " \r"]))
    text = "\n".join(lines) + rng.choice(["", "\n", "\n  ", "\n\n\n"])
    path = tmp_path / "in.txt"  # read as text, not in spans: not every line starts an object
    path.write_text(text)
    if source == "stdin":
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    main(["translate", "-p", "server", "-s", SETTINGS, str(path) if source == "file" else "-"])
    err = capsys.readouterr().err
    rejects = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [record["line"] for record in rejects] == bad
    assert f"seg2amp: 3000 messages read, {3000 - len(bad)} translated" in err
