"""Browser fixtures: the app served by a real uvicorn on a loopback port, and headless Chromium.

Without /usr/bin/chromium the browser tests are skipped, except under CI=true where they fail.
"""

import os
from pathlib import Path

import pytest

from tests.support.live import serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture
def live_server(app):
    """The same app the API helpers talk to, listening on a free port; yields its base URL."""
    with serving(app) as url:
        yield url


# Module scope: Playwright's sync API keeps an event loop running on this thread while it is
# open, which would stop later tests (and code under test) from using asyncio.run().
@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is required under CI=true", pytrace=False)
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()
