"""Browser tests: the distribution's Chromium, driven by Playwright, over the
portal served by pytest-django's ``live_server``.

No browser is ever downloaded: Chromium comes from the system package
(``make system-packages``) or from ``LEDGERBRIDGE_CHROMIUM``. Without one the
tests are skipped, saying so. One browser serves the whole package; each test
gets its own context (cookies, storage) and, when it fails, leaves a screenshot
in ``var/browser-artifacts/``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

CHROMIUM_ENV = "LEDGERBRIDGE_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(settings.BASE_DIR) / "var" / "browser-artifacts"
# Playwright's own waits; a page of this portal answers in well under a second.
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)


def chromium_path() -> str | None:
    """The Chromium to drive: ``LEDGERBRIDGE_CHROMIUM``, else the system one."""
    wanted = os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM
    if os.path.isfile(wanted) and os.access(wanted, os.X_OK):
        return wanted
    return shutil.which(wanted)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, for the failure screenshot."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="package")
def browser():
    """One headless Chromium for every test of the package."""
    executable = chromium_path()
    if executable is None:
        wanted = os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM
        pytest.skip(
            f"Chromium is not installed ({wanted}): run make system-packages, "
            f"or set {CHROMIUM_ENV} to a Chromium executable"
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio event loop running in this thread
    # while it is started, so Django would refuse the tests' own ORM calls with
    # SynchronousOnlyOperation although nothing here is async. The documented
    # way out is DJANGO_ALLOW_ASYNC_UNSAFE; it is set only while the browser
    # runs, and put back when the package's tests are done.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=executable,
                headless=True,
                args=["--no-sandbox", "--disable-dev-shm-usage"],
            )
            try:
                yield chromium
            finally:
                chromium.close()


@pytest.fixture(autouse=True)
def _quick_passwords(settings):
    """Signing in hashes the password twice per test (the user is made, then
    logs in); a fast hasher keeps the browser tests quick. Tests only."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def page(browser, live_server, transactional_db, request) -> Iterator:
    """A fresh browser context on the live portal; a screenshot if the test fails."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1400, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
            tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        context.close()
