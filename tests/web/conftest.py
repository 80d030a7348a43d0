"""Fixtures of the browser tests (helpers to import live in ``webutil``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from webutil import browser, need_browser


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Headless Chromium (Debian's, driven by Playwright), one per test module."""
    need_browser()
    with browser() as b:
        yield b
