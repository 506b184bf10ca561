"""Browser: publishing shows the deadline and what is missing; a late report becomes a correction."""

from __future__ import annotations

import datetime as dt

import pytest

from civic_app.committee.committees import get_committee
from civic_app.committee.reports import open_quarter, submit_entry
from civic_app.extensions import db
from civic_app.timeutil import today_seoul, utcnow
from tests.e2e.conftest import assert_accessible
from tests.e2e.test_committee_flow import sign_in, sign_out
from tests.factories import make_department, make_user
from tests.factories_committee import make_task

pytestmark = pytest.mark.e2e


def test_publish_with_a_missing_report_then_a_late_report_is_published_as_a_correction(
    browser, page, live_server, session
):
    road = make_department("도로과", code="ROAD")
    secretariat = make_user("committee_secretariat", email="sec@example.com")
    road_user = make_user("department", email="road@example.com", department=road)
    make_task("U-1", title="보행 환경 개선", field="도시계획/환경", department=road)
    make_task("U-2", title="가로등 교체", field="도시계획/환경", department=road)
    quarter = open_quarter(
        session,
        get_committee(session),
        year=2026,
        quarter=4,
        deadline=today_seoul(utcnow()) + dt.timedelta(days=7),  # the live server reads the real clock
        actor=secretariat,
        now=utcnow(),
    )
    submit_entry(
        session, quarter.entries[0], actor=road_user, now=utcnow(), progress_text="보도 확장", progress_pct=40
    )
    db.session.commit()

    # The secretariat publishes early, without JavaScript: the confirmation page says what is missing.
    context = browser.new_context(
        locale="ko-KR", viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    nojs = context.new_page()
    sign_in(nojs, live_server, "sec@example.com")
    nojs.goto(f"{live_server}/committee/admin/quarters/{quarter.id}")
    assert nojs.get_by_role("button", name="검토를 마치고 공개").count() == 0  # no one-click publish
    nojs.get_by_role("link", name="공개 전 확인").click()
    check = nojs.locator("section", has_text="공개 전에 확인하세요").inner_text()
    assert "마감까지 7일 남았습니다" in check
    assert "1 / 2건" in check
    missing = nojs.locator("table", has_text="미제출 과제").inner_text()
    assert "U-2 가로등 교체" in missing
    assert "U-1" not in missing
    nojs.get_by_role("button", name="공개", exact=True).click()  # not confirmed
    assert "공개하려면 확인란에 표시해 주세요." in nojs.content()
    nojs.get_by_label("위 내용을 확인했고, 이대로 공개합니다.").check()
    nojs.get_by_role("button", name="공개", exact=True).click()
    assert "분기 보고를 공개했습니다." in nojs.content()
    context.close()

    # The department reports the missing task after publication: it is accepted and marked late.
    sign_in(page, live_server, "road@example.com")
    page.goto(f"{live_server}/committee/department")
    page.get_by_role("link", name="보고하기 U-2").click()
    assert "이미 공개되었습니다" in page.content()
    assert_accessible(page)
    page.get_by_label("추진상황").fill("LED 교체 착수")
    page.get_by_label("진척률 (%)").fill("10")
    page.get_by_role("button", name="보고 제출").click()
    page.wait_for_load_state()
    assert "보고를 제출했습니다." in page.content()
    sign_out(page)

    # The secretariat sees it late and publishes a correction with its reason.
    sign_in(page, live_server, "sec@example.com")
    page.goto(f"{live_server}/committee/admin/quarters/{quarter.id}")
    assert "지연 제출" in page.locator("tr", has_text="U-2").inner_text()
    page.get_by_role("link", name="정정본 공개 준비").click()
    assert "LED 교체 착수" in page.locator("section", has_text="1판과 달라지는 내용").inner_text()
    assert_accessible(page)
    page.get_by_label("정정 사유 (공개)").fill("도로과 지연 보고 반영")
    page.get_by_label("위 내용을 확인했고, 이대로 공개합니다.").check()
    page.get_by_role("button", name="정정본 공개").click()
    page.wait_for_load_state()
    assert "정정본(2판)을 공개했습니다." in page.content()
    sign_out(page)

    # Anyone reads the corrected report, what changed, and the first version.
    page.goto(f"{live_server}/committee/reports/{quarter.id}")
    assert "정정" in page.locator("h1").inner_text()
    changes = page.locator("section", has_text="정정 내용").inner_text()
    assert "도로과 지연 보고 반영" in changes
    assert "U-2 가로등 교체" in changes
    assert "10%" in changes
    assert "지연 제출" in page.locator("tr", has_text="U-2").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="1판").click()
    page.wait_for_load_state()
    assert "이 판은 정정되었습니다." in page.content()
    assert "미제출" in page.locator("tr", has_text="U-2").inner_text()
    assert "LED" not in page.content()
