"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Without Chromium (or the playwright package) they are skipped with the reason; CI sets
E2E_REQUIRED=1, which turns that skip into a failure.
"""
import os
import shutil
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# Playwright's sync API runs an event loop in this thread; the ORM calls our fixtures make
# are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def _unavailable_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    if not _chromium_path():
        return "Chromium is not installed (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _unavailable_reason()
    if reason:
        if os.environ.get("E2E_REQUIRED") == "1":
            pytest.fail(f"browser tests are required here (E2E_REQUIRED=1) but {reason}")
        pytest.skip(f"browser test skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(request):
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page, name: str):
        page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}-{name}.png"), full_page=True)

    return take


@pytest.fixture
def portal_sign_in():
    """Sign a partner in through the login form: portal_sign_in(page, live_server.url, email)."""
    from tests.partners.factories import PASSWORD

    def sign_in(page, base: str, email: str, password: str = PASSWORD) -> None:
        page.goto(f"{base}/partner/login")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/partner/dashboard")

    return sign_in
