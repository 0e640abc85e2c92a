"""Debian's chromium driven by Playwright (never `playwright install`), and where the browser
tests leave their screenshots: `FOREWARN_ARTEFACTS` or tmp/artefacts under the checkout."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTEFACTS = Path(
    os.environ.get("FOREWARN_ARTEFACTS", Path(__file__).resolve().parents[2] / "tmp" / "artefacts")
)

playwright_sync = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def browser_page() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: apt-get install chromium chromium-driver")
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()


@pytest.fixture
def artefacts(request: pytest.FixtureRequest) -> Path:
    """A directory for this test's screenshots, kept after the run."""
    where = ARTEFACTS / request.node.name.replace("/", "_")
    where.mkdir(parents=True, exist_ok=True)
    return where
