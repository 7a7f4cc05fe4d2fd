"""Shared pytest fixtures."""

from __future__ import annotations

import pytest

from support import API_KEY


@pytest.fixture
def api_key() -> str:
    return API_KEY
