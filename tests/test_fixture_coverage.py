"""Every documented example in fixtures/ is exercised by a behaviour test, once."""

from __future__ import annotations

import re

import engine
from engine.yamlsource import load_yaml_file, plain
from support import FIXTURES, ROOT


def test_every_fixture_file_is_used_by_a_behaviour_test():
    used: list[str] = []
    for path in (ROOT / "tests").glob("test_*.py"):
        for call in re.findall(r"documented_cases\(([^)]*)\)", path.read_text()):
            used += re.findall(r'"([a-z0-9-]+)"', call)
    files = sorted(p.stem for p in FIXTURES.glob("*.yaml"))
    assert sorted(set(used)) == files
    assert len(used) == len(set(used)), "a fixture file is used by two tests"


def test_cases_are_unique_and_name_known_platforms_and_messages():
    platforms = set(engine.platforms())
    for path in FIXTURES.glob("*.yaml"):
        document = plain(load_yaml_file(path))
        names = [case["name"] for case in document["cases"]]
        assert len(names) == len(set(names)), path.name
        messages = document.get("messages") or {}
        for case in document["cases"]:
            assert case["platform"] in platforms, (path.name, case["name"])
            assert ("expect" in case) != ("rejected" in case), (path.name, case["name"])
            if "message" in case:
                assert case["message"] in messages, (path.name, case["name"])
