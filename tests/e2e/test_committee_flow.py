"""Browser: a quarter opened, reported, published, shown with its change; a member evaluates."""

from __future__ import annotations

import datetime as dt

import pytest

from civic_app.committee.committees import get_committee
from civic_app.committee.evaluations import open_evaluation_round
from civic_app.committee.reports import open_quarter, publish_quarter, submit_entry
from civic_app.extensions import db
from tests.e2e.conftest import assert_accessible
from tests.factories import NOW, PASSWORD, make_department, make_user
from tests.factories_committee import make_member, make_task

pytestmark = pytest.mark.e2e


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("이메일").fill(email)
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.wait_for_load_state()


def sign_out(page) -> None:
    page.get_by_role("button", name="로그아웃").click()
    page.wait_for_load_state()


def test_quarter_report_round_trip_and_member_evaluation(page, live_server, session):
    road = make_department("도로과", code="ROAD")
    secretariat = make_user("committee_secretariat", email="sec@example.com")
    make_user("department", email="road@example.com", department=road)
    member_user = make_user("committee_member", email="member@example.com")
    make_member("윤위원", user=member_user, field="도시계획/환경")
    make_task("U-1", title="보행 환경 개선", field="도시계획/환경", department=road)
    committee = get_committee(session)
    earlier = open_quarter(
        session,
        committee,
        year=2026,
        quarter=3,
        deadline=dt.date(2026, 10, 20),
        actor=secretariat,
        now=NOW - dt.timedelta(days=60),
    )
    submit_entry(
        session, earlier.entries[0], actor=secretariat, now=NOW, progress_text="설계 착수", progress_pct=20
    )
    publish_quarter(session, earlier, actor=secretariat, now=NOW - dt.timedelta(days=30))
    open_evaluation_round(session, committee, year=2026, half=2, actor=secretariat, now=NOW)
    db.session.commit()

    # The secretariat opens the next quarter.
    sign_in(page, live_server, "sec@example.com")
    page.goto(f"{live_server}/committee/admin")
    page.get_by_label("연도").first.fill("2026")
    page.get_by_label("분기", exact=True).select_option("4")
    deadline = dt.date.today() + dt.timedelta(days=14)  # the live server reads the real clock
    page.get_by_label("보고 마감일").fill(deadline.isoformat())
    page.get_by_role("button", name="분기 열기").click()
    page.wait_for_load_state()
    assert "2026년 4분기 보고" in page.locator("h1").inner_text()
    assert_accessible(page)
    sign_out(page)

    # The responsible department reports.
    sign_in(page, live_server, "road@example.com")
    page.goto(f"{live_server}/committee/department")
    page.get_by_role("link", name="보고하기 U-1").click()
    assert_accessible(page)
    page.get_by_label("추진상황").fill("보도 확장 공사 진행")
    page.get_by_label("진척률 (%)").fill("55")
    page.get_by_label("향후 계획").fill("연말 준공")
    page.get_by_role("button", name="보고 제출").click()
    page.wait_for_load_state()
    assert "보고를 제출했습니다." in page.content()
    sign_out(page)

    # The secretariat reviews and publishes.
    sign_in(page, live_server, "sec@example.com")
    page.goto(f"{live_server}/committee/admin")
    page.get_by_role("link", name="2026년 4분기").click()
    page.get_by_role("button", name="검토 완료 U-1").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="공개 전 확인").click()
    page.wait_for_load_state()
    assert "모든 과제가 보고되었습니다." in page.content()
    page.get_by_label("총평 (공개)").fill("4분기 추진상황입니다.")
    page.get_by_label("위 내용을 확인했고, 이대로 공개합니다.").check()
    page.get_by_role("button", name="공개", exact=True).click()
    page.wait_for_load_state()
    assert "분기 보고를 공개했습니다." in page.content()
    sign_out(page)

    # Anyone reads the published report with the change from the last quarter.
    page.goto(f"{live_server}/committee/reports")
    page.get_by_role("link", name="2026년 4분기").click()
    row = page.locator("tr", has_text="U-1")
    assert "보도 확장 공사 진행" in row.inner_text()
    assert "20% → 55% (+35%p)" in row.inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="U-1 보행 환경 개선").click()
    assert "55%" in page.locator(".facts").inner_text()
    page.goto(f"{live_server}/committee/")
    assert_accessible(page)

    # A member scores a task of their sub-committee.
    sign_in(page, live_server, "member@example.com")
    page.goto(f"{live_server}/committee/evaluate")
    card = page.locator("section.card", has_text="U-1")
    card.get_by_label("점수 (1~5)").select_option("4")
    card.get_by_label("의견").fill("속도가 적절합니다.")
    assert "0 / 1 평가 완료" in page.locator(".evaluation-progress").inner_text()
    assert "55%" in card.inner_text()  # the latest report, published above
    assert "보도 확장 공사 진행" in card.inner_text()
    card.get_by_role("button", name="평가 저장").click()
    page.wait_for_load_state()
    assert "U-1 과제 평가를 저장했습니다." in page.content()
    assert "평가함: 4점" in page.locator("section.card", has_text="U-1").inner_text()
    assert "1 / 1 평가 완료" in page.locator(".evaluation-progress").inner_text()
    assert_accessible(page)
    # The member reads the reports of the task before the next evaluation.
    page.locator("section.card", has_text="U-1").get_by_role("link", name="공개 보고 보기 U-1").click()
    page.wait_for_load_state()
    assert "2026년 4분기 추진상황" in page.locator("h1").inner_text()
