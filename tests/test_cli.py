"""The command line as a user runs it: inputs in every accepted form, outputs, rejects, the
summary line, exit codes, another rules folder, --help."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main
from engine.resources import default_rules_dir
from support import API_KEY, FIXTURES, name_server_named_pages, translate

SAMPLES = FIXTURES / "samples"
TRACK = {"type": "track", "event": "Song Played", "userId": "user-12345", "messageId": "m-1"}
PAGE = {"type": "page", "userId": "user-12345", "name": "Home", "messageId": "m-2"}


@pytest.fixture
def settings(tmp_path) -> Path:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"apiKey": API_KEY, "trackNamedPages": True}))
    return path


def _run(capsys, *args):
    code = main(["translate", "--platform", "server", *map(str, args)])
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    return code, lines, captured.err


def _summary(err: str) -> str:
    return err.strip().splitlines()[-1]


def test_sample_data_translates(capsys):
    code, lines, err = _run(capsys, "--settings", SAMPLES / "settings.json", SAMPLES / "messages.ndjson")
    assert code == 0
    assert _summary(err) == "seg2amp: 8 messages read, 8 translated, 0 rejected, 11 outputs written"
    assert [line["input"] for line in lines] == [1, 2, 3, 4, 4, 4, 5, 6, 6, 7, 8]
    assert all(set(line) == {"target", "body", "input"} for line in lines)
    assert all("api_key" not in json.dumps(line) and API_KEY not in json.dumps(line) for line in lines)


@pytest.mark.parametrize("form", ["ndjson", "array", "pretty-array", "document", "gzip"])
def test_input_forms(tmp_path, settings, capsys, form):
    path = tmp_path / "in.json"
    if form == "ndjson":
        path.write_text(json.dumps(TRACK) + "\n\n" + json.dumps(PAGE) + "\n")
    elif form == "array":
        path.write_text(json.dumps([TRACK, PAGE]))
    elif form == "pretty-array":
        path.write_text(json.dumps([TRACK, PAGE], indent=2))
    elif form == "document":
        path.write_text(json.dumps(TRACK, indent=2) + "\n" + json.dumps(PAGE, indent=2))
    else:
        path = tmp_path / "in.ndjson.gz"
        path.write_bytes(gzip.compress((json.dumps(TRACK) + "\n" + json.dumps(PAGE) + "\n").encode()))
    code, lines, err = _run(capsys, "-s", settings, path)
    assert code == 0, err
    expected = [(number, output["body"]["event_type"]) for number, message in enumerate([TRACK, PAGE], 1)
                for output in translate("server", {"trackNamedPages": True}, message)]
    assert [(line["input"], line["body"]["event_type"]) for line in lines] == expected and len(expected) == 2


def test_several_inputs_are_numbered_across_files(tmp_path, settings, capsys):
    (tmp_path / "a.ndjson").write_text(json.dumps(TRACK) + "\n")
    (tmp_path / "b.ndjson").write_text(json.dumps(PAGE) + "\n")
    code, lines, _ = _run(capsys, "-s", settings, tmp_path / "a.ndjson", tmp_path / "b.ndjson")
    assert [line["input"] for line in lines] == [1, 2]


def test_rejects_go_to_stderr_and_the_run_goes_on(settings, capsys):
    code, lines, err = _run(capsys, "-s", SAMPLES / "settings.json", SAMPLES / "rejected.ndjson")
    assert code == 1
    rejects = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [(r["input"], r["path"]) for r in rejects] == [(1, "$.groupId"), (2, "$"), (3, "$.user_id"), (4, "$")]
    assert "not JSON" in rejects[3]["error"] and "rejected.ndjson:4" in rejects[3]["error"]
    assert [line["input"] for line in lines] == [5]
    assert _summary(err) == "seg2amp: 5 messages read, 1 translated, 4 rejected, 1 outputs written"


def test_rejects_file_and_output_file(tmp_path, settings, capsys):
    out, bad = tmp_path / "out.ndjson", tmp_path / "bad.ndjson"
    code = main(["translate", "-p", "server", "-s", str(SAMPLES / "settings.json"), "-o", str(out),
                 "--rejects", str(bad), str(SAMPLES / "rejected.ndjson")])
    err = capsys.readouterr().err
    assert code == 1
    assert len(bad.read_text().splitlines()) == 4 and len(out.read_text().splitlines()) == 1
    assert err.strip().splitlines() == ["seg2amp: 5 messages read, 1 translated, 4 rejected, 1 outputs written"]


def test_message_that_is_not_an_object(tmp_path, settings, capsys):
    path = tmp_path / "in.ndjson"
    path.write_text('[1, 2]\n"text"\n')
    code, _, err = _run(capsys, "-s", settings, path)
    assert code == 1
    assert '"input":1' in err and "must be a JSON object" in err


def test_edited_copy_of_the_rules_is_used(tmp_path, settings, capsys):
    folder = tmp_path / "my-rules"
    shutil.copytree(default_rules_dir(), folder)
    name_server_named_pages(folder, "Visited {{ name }} ({{ category }})")
    path = tmp_path / "in.ndjson"
    path.write_text(json.dumps({**PAGE, "category": "Docs"}) + "\n")
    code, lines, _ = _run(capsys, "-s", settings, "--rules", folder, path)
    assert code == 0 and lines[0]["body"]["event_type"] == "Visited Home (Docs)"


def test_broken_rules_exit_2_with_location(tmp_path, settings, capsys):
    folder = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), folder)
    (folder / "server.yaml").write_text((folder / "server.yaml").read_text().replace("on: identify", "on: [identify"))
    code, lines, err = _run(capsys, "-s", settings, "--rules", folder, SAMPLES / "messages.ndjson")
    assert code == 2 and lines == []
    assert "server.yaml:" in err and "invalid YAML" in err


def test_missing_input_file_exits_2(tmp_path, settings, capsys):
    code, _, err = _run(capsys, "-s", settings, tmp_path / "nope.ndjson")
    assert code == 2 and "nope.ndjson" in err


def test_help_teaches(capsys):
    with pytest.raises(SystemExit):
        main(["translate", "--help"])
    out = capsys.readouterr().out
    for phrase in ("--platform", "--settings", "--rules", "--rejects", "NDJSON", ".gz", "Exit status", "Examples"):
        assert phrase in out


def test_platforms_lists_server_and_its_targets(capsys):
    assert main(["platforms"]) == 0
    out = capsys.readouterr().out
    assert "server" in out and "httpapi" in out and "usermap" in out and "deletions" in out


def test_installed_command_reads_stdin_from_any_directory(tmp_path):
    """The console script (or the module, when it is not on PATH) from outside the repository:
    the bundled rules and schemas are found without the checkout."""
    command = [shutil.which("seg2amp")] if shutil.which("seg2amp") else [sys.executable, "-m", "engine.cli"]
    (tmp_path / "settings.json").write_text(json.dumps({"apiKey": API_KEY}))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    result = subprocess.run([*command, "translate", "-p", "server", "-s", "settings.json"], cwd=tmp_path,
                            input=json.dumps(TRACK) + "\n", capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["body"]["event_type"] == "Song Played"
    assert "1 messages read, 1 translated" in result.stderr


def test_benchmark_runs_on_a_small_corpus():
    bench = Path(__file__).resolve().parent.parent / "bench" / "run.py"
    result = subprocess.run([sys.executable, str(bench), "--messages", "200", "--rounds", "1", "--repeats", "1"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    for line in ("json loop", "seg2amp --jobs 1", "seg2amp, empty input", "python -c pass", "peak RSS",
                 "1. one process (--jobs 1) / json loop", "2. start-up", "3. default --jobs / json loop, 30k",
                 "4. device (web) / cloud", "stages in process", "parse", "input check", "rules", "output checks",
                 "writing", "reading, batching", "the command loop, all of it", "hand-written yardstick"):
        assert line in result.stdout, line


def test_inputs_are_checked_before_anything_is_translated(tmp_path, settings, capsys):
    sample = str(FIXTURES / "samples" / "messages.ndjson")
    assert main(["translate", "-p", "server", "-s", str(settings), sample, str(tmp_path / "nope.ndjson")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "nope.ndjson: no such file" in err
    assert main(["translate", "-p", "server", "-s", str(settings), "-", "-"]) == 2
    assert "standard input ('-') can be read only once" in capsys.readouterr().err
    assert main(["explain", "-p", "server", "-s", str(settings), "-", "-"]) == 2
    capsys.readouterr()


def test_an_output_that_is_also_an_input_is_refused(tmp_path, settings, capsys):
    source = tmp_path / "self.ndjson"
    source.write_bytes((FIXTURES / "samples" / "messages.ndjson").read_bytes())
    before = source.read_bytes()
    assert main(["translate", "-p", "server", "-s", str(settings), "-o", str(source), str(source)]) == 2
    assert "writing to it would destroy it" in capsys.readouterr().err and source.read_bytes() == before
    link = tmp_path / "link.ndjson"
    link.symlink_to(source)
    assert main(["translate", "-p", "server", "-s", str(settings), "--rejects", str(link), str(source)]) == 2
    assert "writing to it would destroy it" in capsys.readouterr().err and source.read_bytes() == before
    # stdin read from the file that -o would empty
    with source.open("rb") as stdin:
        result = subprocess.run([sys.executable, "-m", "engine.cli", "translate", "-p", "server", "-s", str(settings),
                                 "-o", str(source)], stdin=stdin, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "is the input standard input" in result.stderr
    assert source.read_bytes() == before


def test_outputs_and_rejects_in_one_file_or_a_missing_folder_are_refused(tmp_path, settings, capsys):
    source = str(FIXTURES / "samples" / "messages.ndjson")
    same = str(tmp_path / "both.ndjson")
    assert main(["translate", "-p", "server", "-s", str(settings), "-o", same, "--rejects", same, source]) == 2
    assert "cannot go to the same file" in capsys.readouterr().err
    real, link = tmp_path / "out.real", tmp_path / "out.link"
    real.write_text("keep\n")
    link.symlink_to(real)
    command = ["translate", "-p", "server", "-s", str(settings), "-o", str(real)]
    assert main([*command, "--rejects", str(link), source]) == 2
    assert "are one file" in capsys.readouterr().err and real.read_text() == "keep\n"
    missing = str(tmp_path / "nofolder" / "rejects.ndjson")
    assert main([*command, "--rejects", missing, source]) == 2
    assert "does not exist" in capsys.readouterr().err and real.read_text() == "keep\n"


@pytest.mark.parametrize("redirect, refused", [
    ("--rejects {f} > {f}", "standard output is redirected to {f}: outputs and rejects"),
    ("-o {f} 2> {f}", "standard error is redirected to {f}: outputs and rejects"),
    ("--rejects {r} -o {o} 2> {f}", None),
    ("--rejects {f} 2> {f}", "standard error is redirected to {f}: rejects and the summary"),
    ("> {f} 2> {f}", "standard output and standard error are one file opened twice"),
    ("> {f} 2>&1", ""),
    (">> {f} 2>> {f}", ""),
])
def test_stdout_or_stderr_redirected_onto_a_file_written_is_refused(tmp_path, settings, redirect, refused):
    """Two places written in one file, opened twice, would overwrite each other: refused (exit 2,
    nothing written); one open file shared (2>&1) or appended to twice only interleaves lines."""
    source = tmp_path / "mixed.ndjson"
    source.write_text("".join(json.dumps({**TRACK, "userId": "user-12345" if n % 3 else "abc"}) + "\n"
                              for n in range(30)))
    names = {"f": tmp_path / "same.ndjson", "r": tmp_path / "r.ndjson", "o": tmp_path / "o.ndjson"}
    names["f"].write_text("")
    command = (f"{sys.executable} -m engine.cli translate -p server -s {settings} {source} "
               + redirect.format(**names))
    result = subprocess.run(["/bin/sh", "-c", command], cwd=FIXTURES.parent, capture_output=True, text=True,
                            timeout=120)
    text = names["f"].read_text()
    if refused is None:
        assert result.returncode == 1 and "seg2amp: 30 messages read" in text
    elif refused:
        error = f"seg2amp: error: {refused.format(**names)}"
        assert result.returncode == 2 and error in result.stderr + text and '"input"' not in text
    else:
        assert result.returncode == 1 and text.count('"target"') == 20 and text.count('"error"') == 10
        assert "30 messages read" in text


@pytest.mark.parametrize("closed, options, status, said", [
    (">&-", [], 2, "standard output is closed: the outputs would be lost"),
    ("2>&-", [], 2, "standard error is closed: rejects and the summary would be lost"),
    ("2>&-", ["--rejects", "{r}"], 1, None),
    (">&-", ["-o", "{o}"], 1, "5 messages read, 1 translated, 4 rejected, 1 outputs written"),
])
def test_a_closed_stdout_or_stderr_is_an_error_on_the_stream_left_or_is_not_needed(tmp_path, closed, options,
                                                                                   status, said):
    """Outputs or rejects with nowhere to go stop the run before anything runs (exit 2), said on
    the stream that is open; with a file given instead, the run goes on and writes nothing into
    the other stream that is not meant for it."""
    names = {"r": tmp_path / "rejects.ndjson", "o": tmp_path / "out.ndjson"}
    command = [sys.executable, "-m", "engine.cli", "translate", "-p", "server", "-s", str(SAMPLES / "settings.json"),
               *(option.format(**names) for option in options), str(SAMPLES / "rejected.ndjson")]
    result = subprocess.run(["/bin/sh", "-c", " ".join(command) + " " + closed], cwd=FIXTURES.parent,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == status and "Traceback" not in result.stdout + result.stderr
    left = result.stderr if closed == ">&-" else result.stdout
    if said is None:
        assert [json.loads(line)["input"] for line in left.splitlines()] == [5]
        assert names["r"].read_text().count("\n") == 4
    else:
        assert said in left.strip().splitlines()[-1]
    if status == 2:
        assert left.count("\n") == 1


def test_a_reader_of_stderr_that_goes_away_ends_the_run_with_exit_2(tmp_path):
    """Rejects written to a pipe nobody reads any more are lost: the run stops and says so by its
    exit status, the only place left to say it, without a traceback."""
    group = json.dumps({"type": "group", "userId": "user-12345"})
    source = tmp_path / "in.ndjson"
    source.write_text((group + "\n") * 3000)
    run = [sys.executable, "-m", "engine.cli", "translate", "-p", "server", "-s", str(SAMPLES / "settings.json"),
           str(source)]
    script = " ".join(run) + " 2>&1 >/dev/null | head -c 10 >/dev/null; echo ${PIPESTATUS[0]}"
    result = subprocess.run(["/bin/bash", "-c", script], cwd=FIXTURES.parent, capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.strip() == "2" and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["explain", "-p", "server"], ["diff"], ["lint"], ["platforms"],
                                     ["docs", "--out", "-"]])
def test_a_command_whose_answer_goes_to_a_closed_stdout_stops_with_exit_2(command):
    run = [sys.executable, "-m", "engine.cli", *command]
    if command[0] in ("explain", "diff"):
        run += ["-s", str(SAMPLES / "settings.json"), str(SAMPLES / "messages.ndjson")]
    result = subprocess.run(["/bin/sh", "-c", " ".join(run) + " >&-"], cwd=FIXTURES.parent, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "seg2amp: error: standard output is closed" in result.stderr
