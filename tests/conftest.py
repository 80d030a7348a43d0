"""Shared fixtures. Helpers to import live in modules of their own (``corridor_docs``,
``scenes``): a name imported from ``conftest`` would be ambiguous, as tests/render has a
conftest.py too."""

from __future__ import annotations

from typing import Any

import pytest
from corridor_docs import corridor


@pytest.fixture
def corridor_doc() -> dict[str, Any]:
    return corridor()
