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


# Every Content-Security-Policy violation reaches the console: Chromium's own message, and
# this listener's for the `securitypolicyviolation` event (added before any page script runs).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " blocked " +
                (event.blockedURI || "inline") + " at " + event.sourceFile + ":" +
                event.lineNumber);
});
"""


def csp_violation(message: Any) -> str | None:
    text = message.text
    if "CSP violation" in text or "Content Security Policy" in text:
        return f"{message.type}: {text}"
    return None


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser tab, 1280 px wide, whose relative URLs go to the live server.

    The test fails if anything the page does is refused by the Content-Security-Policy.
    """
    context = browser.new_context(
        viewport=VIEWPORT, base_url=live_server.url, reduced_motion="reduce"
    )
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    violations: list[str] = []
    tab.on("console", lambda message: violations.append(csp_violation(message) or ""))
    yield tab
    context.close()
    found = [violation for violation in violations if violation]
    assert not found, "Content-Security-Policy violations:\n" + "\n".join(found)


@pytest.fixture
def screenshot(page: Any) -> Callable[[str], Path]:
    """`screenshot("03-companies")` saves the whole page to screenshots/03-companies.png."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(step: str) -> Path:
        # Wait until htmx has swapped and settled, so the picture shows the final page (a
        # locator, not wait_for_function: that evaluates a string, which the policy forbids).
        from playwright.sync_api import expect

        expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
        path = SCREENSHOTS / f"{step}.png"
        # caret="initial": hiding the caret gives inputs a style attribute, which htmx then
        # copies while it settles a swap and the policy refuses.
        page.screenshot(path=str(path), full_page=True, caret="initial")
        return path

    return take
