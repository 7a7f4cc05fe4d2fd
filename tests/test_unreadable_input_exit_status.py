"""An input that cannot be read to its end (damaged gzip, a JSON array with a defect) ends the run
with exit status 2, after what was read before the damage is translated; a bad line does not."""

from __future__ import annotations

import gzip
import json

import pytest

from engine.cli import main
from support import FIXTURES

M = json.dumps({"type": "track", "event": "E", "userId": "user-12345"})
SETTINGS = str(FIXTURES / "samples" / "settings.json")
GOOD = ("\n".join([M] * 3000) + "\n").encode()
DAMAGED = {
    "truncated.ndjson.gz": gzip.compress(GOOD)[: len(gzip.compress(GOOD)) // 2],
    "garbage.ndjson.gz": gzip.compress(GOOD) + b"garbage",
    "comma.json": f"[{M},\n{M},\n]".encode(),
    "missing-comma.json": f"[{M},\n{M}\n{M}]".encode(),
    "not-closed.json": f"[{M},\n{M},\n".encode(),
    "text-after.json": f"[{M}]\n{M}\n".encode(),
}


@pytest.mark.parametrize("name", DAMAGED)
@pytest.mark.parametrize("jobs", [1, 2])
def test_an_input_that_cannot_be_read_to_its_end_exits_2(tmp_path, capsys, name, jobs):
    path = tmp_path / name
    path.write_bytes(DAMAGED[name])
    good = tmp_path / "good.ndjson"
    good.write_bytes(GOOD)
    code = main(["translate", "-p", "server", "-s", SETTINGS, "-j", str(jobs), str(path), str(good)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out.count("\n") > 3000  # what was read before the damage, and the next input
    assert "the rest of this input is skipped" in captured.err
    assert captured.err.strip().splitlines()[-1].startswith("seg2amp: ")


def test_bad_lines_alone_exit_1(tmp_path, capsys):
    path = tmp_path / "bad-lines.ndjson.gz"
    path.write_bytes(gzip.compress(f"[1,2]\n{M}\nnonsense\n{M}\n".encode()))
    assert main(["translate", "-p", "server", "-s", SETTINGS, str(path)]) == 1
    assert "2 rejected" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["explain", "-p", "server"], ["diff", "--platforms", "server,web"]])
@pytest.mark.parametrize("name", ["truncated.ndjson.gz", "missing-comma.json"])
def test_explain_and_diff_exit_2_for_an_input_cut_short(tmp_path, capsys, command, name):
    path = tmp_path / name
    path.write_bytes(DAMAGED[name])
    assert main([*command, "-s", SETTINGS, "--json", str(path)]) == 2
    assert "the rest of this input is skipped" in capsys.readouterr().out
