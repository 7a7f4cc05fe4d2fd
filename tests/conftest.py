"""Shared pytest fixtures."""

from __future__ import annotations

import pytest

from support import API_KEY


@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture(scope="session", autouse=True)
def _own_code_cache(tmp_path_factory):
    """Each test run keeps compiled plans in a folder of its own (engine/codecache.py), not the
    user's cache, so that two runs sharing the machine share nothing; child processes inherit it."""
    import os

    folder = tmp_path_factory.mktemp("code-cache")
    folder.chmod(0o700)
    previous = os.environ.get("SEG2AMP_CACHE")
    os.environ["SEG2AMP_CACHE"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("SEG2AMP_CACHE", None)
    else:
        os.environ["SEG2AMP_CACHE"] = previous
