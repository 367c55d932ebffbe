"""Debian's Chromium through Playwright, as every browser test starts it: where it is, its flags,
the viewports, signing in to the console, and where screenshots go."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.harness import ROOT

CHROMIUM = os.environ.get("LAPORHUB_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
DOCS = ROOT / "docs" / "screenshots"


def require_browser() -> Any:
    """Playwright's sync API with Chromium present, or skip locally and fail under CI=true."""
    problem = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem, sync_playwright = "the playwright package is not installed (pip install -e '.[test]')", None
    if problem is None and not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        problem = f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem + " (CI=true: the browser test must run)")
        pytest.skip(problem)
    return sync_playwright


def sign_in(page: Any, base: str, key: str) -> None:
    """The console's sign-in (a destination key is sent on to its portal)."""
    page.goto(f"{base}/admin#/signin")
    page.fill("#key", key)
    page.click("#signin")


class Shots:
    """Screenshots to test-output/<folder>/; those the README shows (`docs`) also to
    docs/screenshots/ when LAPORHUB_UPDATE_SCREENSHOTS=1, so a test run leaves tracked files alone."""

    def __init__(self, folder: str, docs: bool = False, settle_ms: int = 0) -> None:
        self.folders = [ROOT / "test-output" / folder]
        if docs and os.environ.get("LAPORHUB_UPDATE_SCREENSHOTS"):
            self.folders.append(DOCS)
        self.settle_ms = settle_ms

    def __call__(self, page: Any, name: str, height: int | None = None) -> None:
        """The whole page, or its first `height` pixels (a phone's page is one long column)."""
        if self.settle_ms:
            page.wait_for_timeout(self.settle_ms)  # chart animations settle
        clip = {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": height} if height else None
        for folder in self.folders:
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True, clip=clip)
