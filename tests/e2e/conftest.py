"""Browser tests: a live server in a thread and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from civic_app import create_app
from tests.conftest import no_fsync, test_config

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def live_app(database_url: str, app):
    """A second app on the same database, with CSRF on as in production."""
    application = create_app(test_config(database_url, WTF_CSRF_ENABLED=True))
    no_fsync(application)
    return application


@pytest.fixture(scope="session")
def live_server(live_app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    live_app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Debian chromium not found at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    # A visitor whose phone asks for less motion: KRDS's smooth scrolling and transitions are
    # off (static/css/app.css), so Playwright does not wait for an element to stop moving.
    context = browser.new_context(
        locale="ko-KR", viewport={"width": 390, "height": 844}, reduced_motion="reduce"
    )
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()


def assert_accessible(page) -> None:
    """axe-core on the current page: no serious or critical violations.

    axe is injected once per document (570 KB of script) and run as often as asked, so a page
    checked at several viewport widths parses it once."""
    from axe_playwright_python.base import AXE_SCRIPT

    if not page.evaluate("() => typeof window.axe === 'object' && typeof window.axe.run === 'function'"):
        page.evaluate(AXE_SCRIPT)
    response = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    bad = [v for v in response["violations"] if v.get("impact") in ("serious", "critical")]
    summary = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}" for v in bad
    )
    assert not bad, f"accessibility violations on {page.url}:\n{summary}"
