"""The README's samples of the rules and of their outputs are what the repository and the engine give
(issue 14, F21): the short example of "The rules" is in server.yaml as shown, the outputs that
"Changing a behaviour" shows are those of its edit, and the editor section's sample error is the
real output of `lint` and `translate` for the edit it describes. Line numbers (`server.yaml:344`)
are compared as `server.yaml:N`, so that an edit that only moves lines does not fail here; a
failure here means a sample of the README to update."""

from __future__ import annotations

import re
import shutil

import pytest

from engine.cli import main
from support import FIXTURES, ROOT

README = (ROOT / "README.md").read_text()


def _lines(text: str | list[str]) -> list[str]:
    """Lines with the line numbers of file:line left out."""
    lines = text.splitlines() if isinstance(text, str) else text
    return [re.sub(r"\.yaml:\d+", ".yaml:N", line) for line in lines]


def _block_after(marker: str) -> str:
    """The first fenced block after ``marker`` in the README, without its fences."""
    start = README.index("```", README.index(marker))
    body = README.index("\n", start) + 1
    return README[body:README.rindex("\n", body, README.index("```", body))]


def test_the_short_example_is_in_server_yaml_as_shown():
    block = _block_after("A short example, as it is in `server.yaml`")
    without_comments = "\n".join(re.sub(r"\s+# .*$", "", line) for line in block.splitlines())
    server = (ROOT / "rules" / "amplitude" / "server.yaml").read_text()
    server = "\n".join(line.rstrip() for line in server.splitlines())
    assert "\n".join("  " + line for line in without_comments.splitlines()) in server, \
        "the README's short example (## The rules) is no longer in server.yaml as shown: update it"


def test_the_editor_sections_sample_error_is_the_real_output(tmp_path, monkeypatch, capsys):
    block = _block_after("With `event_type: event` of the rule `track`").splitlines()
    rules = tmp_path / "my-rules"
    shutil.copytree(ROOT / "rules" / "amplitude", rules)
    server = (rules / "server.yaml").read_text()
    track = server.index("\n  - name: track\n")
    field = server.index("        event_type: event\n", track)
    (rules / "server.yaml").write_text(server[:field] + "        event_type: event[\n" +
                                       server[field + len("        event_type: event\n"):])
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.ndjson").write_text("")
    assert block[0] == "$ seg2amp lint my-rules"
    assert main(["lint", "my-rules"]) == 1
    out, err = capsys.readouterr()
    assert _lines(block[1:3]) == _lines(out.splitlines() + err.splitlines())
    assert block[3] == "$ seg2amp translate -p server -s fixtures/samples/settings.json --rules my-rules in.ndjson"
    assert main(["translate", "-p", "server", "-s", str(FIXTURES / "samples" / "settings.json"),
                 "--rules", "my-rules", "in.ndjson"]) == 2
    err = capsys.readouterr().err
    assert _lines(block[4:]) == _lines([err.strip().replace(str(tmp_path.resolve()), "/...")])


def test_changing_a_behaviour_shows_the_real_check_output(tmp_path, monkeypatch, capsys):
    """The edit of "Changing a behaviour", step 2, made in a copy of the rules, gives the output of
    `seg2amp check` that step 3 shows."""
    edit = [line[3:] for line in _block_after("**Edit it** in `rules/amplitude/`").splitlines()]
    shown = [line[3:] for line in _block_after("**See what it changes in every documented example.**").splitlines()]
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules" / "amplitude", rules)
    server = (rules / "server.yaml").read_text()
    before = "\n".join(line for line in edit if "vars:" not in line and "eventType:" not in line) + "\n"
    if "\n".join(edit) + "\n" in server:
        pytest.skip("the rules here already hold the README's example edit (a checkout that followed it)")
    assert before in server
    (rules / "server.yaml").write_text(server.replace(before, "\n".join(edit) + "\n"))
    monkeypatch.chdir(ROOT)
    assert shown[0] == "$ seg2amp check"
    assert main(["check", "--rules", str(rules)]) == 1
    out, err = capsys.readouterr()
    assert _lines(shown[1:]) == _lines(out.splitlines() + err.splitlines()[-1:])


def test_changing_a_behaviour_shows_the_real_explain_output(tmp_path, capsys):
    """Step 1 of "Changing a behaviour": the lines of `seg2amp explain` it shows are in its output."""
    edit = "\n".join(line[3:] for line in _block_after("**Edit it** in `rules/amplitude/`").splitlines())
    if edit + "\n" in (ROOT / "rules" / "amplitude" / "server.yaml").read_text():
        pytest.skip("the rules here already hold the README's example edit (a checkout that followed it)")
    step = README[README.index("1. **Find the rule.**"):README.index("2. **Edit it**")]
    message = re.search(r"`page.json`: `(\{.*?\})`", step).group(1)
    shown = [line[3:] for line in _block_after("1. **Find the rule.**").splitlines()]
    assert shown[:2] == ["$ seg2amp explain -p server -s fixtures/samples/settings.json page.json", "..."]
    (tmp_path / "page.json").write_text(message)
    assert main(["explain", "-p", "server", "-s", str(FIXTURES / "samples" / "settings.json"),
                 str(tmp_path / "page.json")]) == 0
    out = _lines(capsys.readouterr().out)
    assert all(line in out for line in _lines(shown[2:])), "\n".join(out[:8])
