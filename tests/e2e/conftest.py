"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Without a Chromium executable the browser tests are skipped (with one line saying so at
the end of the run) — except in CI (`CI=true`), where a missing browser is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls
# from a thread with a running loop unless told that this is fine (it is, in tests).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"

_skip_notice = pytest.StashKey[str]()


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM


def _chromium_missing(path: str) -> bool:
    return not (os.path.isfile(path) and os.access(path, os.X_OK))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    notice = config.stash.get(_skip_notice, None)
    if notice:
        terminalreporter.write_line(notice, yellow=True, bold=True)


@pytest.fixture(scope="session")
def browser(request: pytest.FixtureRequest) -> Iterator[Any]:
    path = chromium_path()
    if _chromium_missing(path):
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"Browser tests cannot run in CI: no Chromium at {path} "
                "(install Debian's chromium or set CHROMIUM_PATH).",
                pytrace=False,
            )
        notice = (
            f"Browser tests skipped: no Chromium at {path} "
            "(install Debian's chromium or set CHROMIUM_PATH)"
        )
        request.config.stash[_skip_notice] = notice
        pytest.skip(notice)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser tab, 1280 px wide, whose relative URLs go to the live server."""
    context = browser.new_context(
        viewport=VIEWPORT, base_url=live_server.url, reduced_motion="reduce"
    )
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


@pytest.fixture
def screenshot(page: Any) -> Callable[[str], Path]:
    """`screenshot("03-companies")` saves the whole page to screenshots/03-companies.png."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(step: str) -> Path:
        # Wait until htmx has swapped and settled, so the picture shows the final page.
        page.wait_for_function(
            "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
        )
        path = SCREENSHOTS / f"{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
