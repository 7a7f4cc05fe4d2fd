"""The rule author's edit loop (issue 14, F1 and F2): in a copy of the checkout, a rule edited in
`rules/` is what pytest and `seg2amp check` see, whatever seg2amp the environment has installed;
the failures name the fixture file, case and line; after the fixture's `expect:` is updated,
`pytest --snapshot-update` rewrites the changed snapshots (it does not delete them)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main
from support import FIXTURES, ROOT, documented_case, name_server_named_pages

PAGES_TEST = "tests/test_page_naming.py"
SNAPSHOTS = "tests/__snapshots__/test_page_naming.ambr"
# The rule author's change: server named pages called "Edited (Category) (Name)" (the review's task
# 3 made them "Viewed ..."), on the spec's page {"name": "Settings", "category": "Merchant"}; the
# name before it is the one the fixture states, whatever the rules say today.
OLD_NAME = documented_case("page-and-screen", "server-page-track-named-pages").expect[0]["body"]["event_type"]
NEW_NAME = "Edited Merchant Settings"


def _case_line(fixture: Path, name: str) -> int:
    """The line of ``- name: <name>`` in a fixture file."""
    lines = fixture.read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if line.strip() == f"- name: {name}")


def _copy_checkout(tmp_path: Path) -> Path:
    """What a checkout holds for the page-naming tests: the engine, rules, schemas, fixtures, the
    project file (pytest's configuration) and the tests involved."""
    copy = tmp_path / "checkout"
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("engine", "rules", "schemas", "fixtures"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", copy)
    for name in ("tests/conftest.py", "tests/support.py", PAGES_TEST, SNAPSHOTS):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, copy / name)
    return copy


def _run_pytest(copy: Path, *options: str) -> subprocess.CompletedProcess:
    """pytest as a user runs it in the copy: the installed `pytest` script (not `python -m`, which
    would put the current folder first on the path), without PYTHONPATH, so that what the copy's
    own configuration imports is what runs."""
    script = Path(sys.executable).parent / "pytest"
    command = [str(script)] if script.is_file() else [sys.executable, "-c", "import sys, pytest; "
                                                                            "sys.path.pop(0); sys.exit(pytest.main())"]
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run([*command, "-q", "-p", "no:cacheprovider", *options, PAGES_TEST], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_rule_edited_in_a_checkout_is_what_its_tests_see(tmp_path):
    """F1: pytest in a checkout tests that checkout's rules (and engine), not the installed copy;
    the failure names the fixture file, line and case. `pytest --snapshot-update` rewrites the two
    changed snapshots (F2: it used to delete them, the stated outcome failing before the snapshot was
    reached); once the fixture's `expect:` states the new name, pytest passes."""
    copy = _copy_checkout(tmp_path)
    name_server_named_pages(copy / "rules" / "amplitude", "Edited {{ category }} {{ name }}")

    failed = _run_pytest(copy)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    fixture = copy / "fixtures" / "page-and-screen.yaml"
    line = _case_line(fixture, "server-page-track-named-pages")
    assert (f"fixtures/page-and-screen.yaml:{line}: case 'server-page-track-named-pages'" in failed.stdout), \
        failed.stdout[-3000:]
    assert f"'event_type' is '{NEW_NAME}', stated '{OLD_NAME}'" in failed.stdout

    # --snapshot-update before the fixture says the new name (what the README used to advise): the
    # stated outcomes still fail, and the two changed snapshots are rewritten, not deleted as unused.
    before = (copy / SNAPSHOTS).read_text()
    updated = _run_pytest(copy, "--snapshot-update")
    assert updated.returncode == 1, updated.stdout[-3000:] + updated.stderr
    assert f"case 'server-page-track-named-pages' (server): output 1 'event_type' is '{NEW_NAME}'" in updated.stdout
    assert "deleted" not in updated.stdout and "2 snapshots updated" in updated.stdout, updated.stdout[-2000:]
    after = (copy / SNAPSHOTS).read_text()
    changed = [(old, new) for old, new in zip(before.splitlines(), after.splitlines(), strict=True) if old != new]
    assert changed == [(f"        'event_type': '{OLD_NAME}',", f"        'event_type': '{NEW_NAME}',")] * 2

    # The fixture states the new name (only the server cases: web keeps its names); all pass.
    text = fixture.read_text()
    for case in ("server-page-track-named-pages", "server-page-several-settings"):
        start = text.index(f"- name: {case}\n")
        end = text.index("- name:", start + 1)
        stated = text[start:end].replace(f"event_type: {OLD_NAME}", f"event_type: {NEW_NAME}")
        assert stated != text[start:end]
        text = text[:start] + stated + text[end:]
    fixture.write_text(text)
    passed = _run_pytest(copy)
    assert passed.returncode == 0, passed.stdout[-3000:]


def test_check_names_every_case_that_differs_from_its_stated_outcome(tmp_path, capsys):
    """F2: `seg2amp check` runs every documented example against a rule set: per case that differs,
    the fixture file, line, case and stated vs actual; exit 1."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules" / "amplitude", rules)
    name_server_named_pages(rules, "Edited {{ category }} {{ name }}")
    fixtures = tmp_path / "fixtures"  # the examples of pages and of tracks: the other files run the same way
    fixtures.mkdir()
    for name in ("base-settings.json", "page-and-screen.yaml", "track.yaml"):
        shutil.copy(FIXTURES / name, fixtures)
    code = main(["check", "--rules", str(rules), "--fixtures", str(fixtures)])
    out, err = capsys.readouterr()
    assert code == 1
    fixture = fixtures / "page-and-screen.yaml"
    named = _case_line(fixture, "server-page-track-named-pages")
    several = _case_line(fixture, "server-page-several-settings")
    stated = [output["body"]["event_type"] for output in documented_case("page-and-screen", "server-page-several-"
                                                                         "settings").expect]
    position = stated.index(OLD_NAME) + 1
    assert out.splitlines() == [
        f"{fixture}:{named}: case 'server-page-track-named-pages' (server): "
        f"output 1 'event_type' is '{NEW_NAME}', stated '{OLD_NAME}'",
        f"{fixture}:{several}: case 'server-page-several-settings' (server): "
        f"output {position} 'event_type' is '{NEW_NAME}', stated '{OLD_NAME}'",
    ]
    total = sum(len(re.findall(r"(?m)^  - name: ", path.read_text())) for path in fixtures.glob("*.yaml"))
    assert err.strip().splitlines()[-1] == f"seg2amp check: {total} documented cases, {total - 2} hold, 2 differ"


def test_check_passes_on_the_bundled_rules(capsys):
    code = main(["check", "--fixtures", str(FIXTURES)])
    out, err = capsys.readouterr()
    assert code == 0, out
    assert out == ""
    assert re.fullmatch(r"seg2amp check: (\d+) documented cases, \1 hold, 0 differ\n", err), err


@pytest.mark.parametrize("problem", ["no-fixtures", "empty-fixtures", "broken-rules", "broken-fixture"])
def test_check_errors_exit_2(tmp_path, capsys, problem):
    rules, fixtures = ROOT / "rules" / "amplitude", FIXTURES
    if problem == "no-fixtures":
        fixtures = tmp_path / "missing"
    elif problem == "empty-fixtures":
        fixtures = tmp_path / "empty"
        fixtures.mkdir()
    elif problem == "broken-rules":
        rules = tmp_path / "rules"
        shutil.copytree(ROOT / "rules" / "amplitude", rules)
        (rules / "server.yaml").write_text((rules / "server.yaml").read_text().replace(
            "event_type: {select: eventType, from: vars}", "event_type: {select: 'eventType[', from: vars}"))
    else:
        fixtures = tmp_path / "fixtures"
        shutil.copytree(FIXTURES, fixtures)
        (fixtures / "track.yaml").write_text("cases: [{name: x}]\n")
    code = main(["check", "--rules", str(rules), "--fixtures", str(fixtures)])
    err = capsys.readouterr().err
    assert code == 2
    expected = {"no-fixtures": "missing", "empty-fixtures": "no documented example to check",
                "broken-rules": "server.yaml:", "broken-fixture": "track.yaml:1"}[problem]
    assert err.startswith("seg2amp: error: ") and expected in err, err


@pytest.mark.parametrize("command", [["check"], ["lint"], ["docs", "--out", "-"]])
def test_authoring_commands_say_when_they_do_not_read_the_rules_here(tmp_path, monkeypatch, capsys, command):
    """F1, for an install that is a copy (pip install ., not -e): run in a folder whose rules/ differ
    from the rules seg2amp reads, `check`, `lint` and `docs` say which they read and how to read
    these; the same rules, or --rules, say nothing."""
    rules = tmp_path / "rules" / "amplitude"
    shutil.copytree(ROOT / "rules" / "amplitude", rules)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "no-examples").mkdir()  # the rules are what matters here: no documented example to run
    options = ["--fixtures", "no-examples"] if command[0] != "lint" else []
    main([*command, *options])
    assert "seg2amp: note" not in capsys.readouterr().err
    name_server_named_pages(rules, "Edited {{ category }} {{ name }}")
    main([*command, *options])
    err = capsys.readouterr().err
    assert err.startswith(f"seg2amp: note: reading the installed rules ({ROOT / 'rules' / 'amplitude'}), not "
                          f"rules/amplitude here, which differ from them; pass --rules rules/amplitude, or install "
                          f"this checkout with pip install -e . to read its rules\n"), err
    main([*command, *(["rules/amplitude"] if command[0] == "lint" else ["--rules", "rules/amplitude"]), *options])
    assert "seg2amp: note" not in capsys.readouterr().err
