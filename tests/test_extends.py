"""`extends` merges every file once, in first-seen order, so that a file reached twice (a diamond:
web extends _device.yaml and _pages.yaml, which both extend _common.yaml) cannot undo an override
made by a file merged after its first appearance."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.loader import load_variant
from engine.resources import default_rules_dir
from engine.translator import schema_store

OVERRIDE = """
  - name: integrations.disabled
    spec: (overridden for device mode)
    on: [track]
    emit: []
    stop: true
"""


@pytest.fixture
def rules(tmp_path) -> Path:
    folder = tmp_path / "amplitude"
    shutil.copytree(default_rules_dir(), folder)
    return folder


def _rule(raw, name: str) -> dict:
    [rule] = [r for r in raw.rules if r["name"] == name]
    return rule


def test_an_override_in_one_branch_of_a_diamond_is_kept(rules):
    (rules / "_device.yaml").write_text((rules / "_device.yaml").read_text() + OVERRIDE)
    store = schema_store()
    ios = load_variant(rules, "ios", store)  # _common -> _device -> _mobile -> ios: no diamond
    web = load_variant(rules, "web", store)  # _device and _pages both extend _common
    assert _rule(ios, "integrations.disabled")["spec"] == "(overridden for device mode)"
    assert _rule(web, "integrations.disabled")["spec"] == "(overridden for device mode)"
    assert _rule(web, "integrations.disabled").file.endswith("_device.yaml")
    server = load_variant(rules, "server", store)  # not through _device.yaml: _common's own rule
    assert _rule(server, "integrations.disabled")["spec"] == "(Segment spec, Common Fields > integrations)"


def test_each_extended_file_is_merged_once_in_first_seen_order(rules):
    web = load_variant(rules, "web", schema_store())
    assert [Path(f).name for f in web.files] == ["_common.yaml", "_device.yaml", "_pages.yaml", "web.yaml"]
    assert [r["name"] for r in web.rules].count("integrations.disabled") == 1
