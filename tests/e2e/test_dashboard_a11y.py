"""The dashboard in Chromium on a phone-sized screen: no serious or critical axe violations,
no horizontal scrolling of the page, no CSP violations, charts with text alternatives."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.e2e


def test_dashboard_is_accessible_on_a_phone(app, session, demo_city, live_server, page):
    console_errors: list[str] = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server}/dashboard")
    assert page.locator("h1").inner_text() == "소통 현황"
    charts = page.locator("svg.chart[role=img]")
    assert charts.count() == 4
    for i in range(charts.count()):
        labelled = charts.nth(i).get_attribute("aria-labelledby").split()
        assert all(page.locator(f"#{ident}").count() == 1 for ident in labelled)
    assert page.locator("#table-plan tbody tr").count() >= 1
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways on a phone: {width}"
    assert_accessible(page)

    # The filter form works without JavaScript: choose a dong and submit.
    page.select_option("#f-dong", label="중앙동")
    page.get_by_role("button", name="보기").click()
    page.wait_for_url("**/dashboard?*dong=*")
    assert "중앙동 기준으로" in page.locator("main").inner_text()
    assert_accessible(page)
    assert not [e for e in console_errors if "Content Security Policy" in e], console_errors
