"""Destructive actions confirm first (macros/krds.html `confirm`): without JavaScript the button
opens a confirmation panel in the page and only its own submit button deletes; with JavaScript
the same panel is a modal dialog that takes the focus, closes with Esc or 닫기, and deletes on
confirm. Both pass axe."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from civic_app.extensions import db
from civic_app.workdays.models import ClosedDate
from tests.e2e.conftest import assert_accessible
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.e2e


def _login(page, live_server, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("이메일").fill(email)
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.get_by_text("로그인했습니다").wait_for()


def _closed_days() -> list[str]:
    db.session.expire_all()
    reasons = [c.reason for c in db.session.scalars(select(ClosedDate).order_by(ClosedDate.day))]
    db.session.commit()  # end the read so that the live server may write (SQLite locks)
    return reasons


def test_delete_confirms_without_javascript(browser, live_server, session):
    admin = make_user("admin", email="confirm-nojs@example.com")
    db.session.add_all(
        [
            ClosedDate(day=dt.date(2027, 5, 3), reason="임시공휴일 하나"),
            ClosedDate(day=dt.date(2027, 6, 7), reason="임시공휴일 둘"),
        ]
    )
    db.session.commit()
    context = browser.new_context(
        locale="ko-KR", viewport={"width": 320, "height": 700}, java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        _login(page, live_server, admin.email)
        page.goto(f"{live_server}/admin/workdays")
        item = page.locator("li", has_text="임시공휴일 하나")
        # The first click only shows the question; nothing is deleted yet.
        item.locator("summary", has_text="삭제").click()
        panel = item.get_by_role("dialog", name="휴무일을 삭제할까요?")
        panel.wait_for()
        assert "임시공휴일 하나" in panel.inner_text()
        assert _closed_days() == ["임시공휴일 하나", "임시공휴일 둘"]
        # (page.evaluate, and so axe, cannot run with JavaScript off; the JS test runs axe on the
        # same panel.)
        panel.get_by_role("button", name="삭제").click()
        page.locator("li", has_text="임시공휴일 하나").wait_for(state="detached")
        page.wait_for_load_state("networkidle")
        assert _closed_days() == ["임시공휴일 둘"]
    finally:
        context.close()


def test_delete_confirms_in_a_modal_with_javascript(page, live_server, session):
    admin = make_user("admin", email="confirm-js@example.com")
    db.session.add(ClosedDate(day=dt.date(2027, 5, 3), reason="임시공휴일 셋"))
    db.session.commit()
    _login(page, live_server, admin.email)
    page.goto(f"{live_server}/admin/workdays")
    item = page.locator("li", has_text="임시공휴일 셋")
    item.locator("summary", has_text="삭제").click()
    dialog = page.get_by_role("dialog", name="휴무일을 삭제할까요?")
    dialog.wait_for()
    # A modal: fixed over the page, focus inside, Esc closes it and returns focus.
    assert dialog.evaluate("el => getComputedStyle(el).position") == "fixed"
    assert dialog.evaluate("el => el.contains(document.activeElement)")
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    assert_accessible(page)
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert _closed_days() == ["임시공휴일 셋"]
    # 닫기 closes it too; 삭제 in the dialog deletes.
    item.locator("summary", has_text="삭제").click()
    dialog.get_by_role("button", name="닫기").click()
    dialog.wait_for(state="hidden")
    item.locator("summary", has_text="삭제").click()
    dialog.get_by_role("button", name="삭제").click()
    page.get_by_text("등록된 휴무일이 없습니다.").wait_for()
    page.wait_for_load_state("networkidle")  # no request in flight when the tables are cleaned
    assert _closed_days() == []
