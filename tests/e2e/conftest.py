"""Fixtures the end-to-end browser tests share."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.browser import ARGS, CHROMIUM, require_browser


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright (skipped where it is missing, failed under CI=true)."""
    sync_playwright = require_browser()
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()
