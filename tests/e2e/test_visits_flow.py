"""Browser: staff plan a cycle, move a visit, publish, hold it, record two suggestions, publish
results; the public dong page shows the visit and its suggestions; the outbox post is anonymous."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from civic_app.extensions import db
from civic_app.notify.models import OutboxMessage
from civic_app.timeutil import to_seoul, today_seoul, utcnow
from civic_app.visits.models import Visit
from civic_app.visits.rules import BlockedDays
from tests.e2e.conftest import assert_accessible
from tests.factories import PASSWORD, make_department, make_dong, make_user

pytestmark = pytest.mark.e2e


def _past_working_day(session, today: dt.date) -> dt.date:
    """The last open day before today (it may fall in last year in early January)."""
    start = today - dt.timedelta(days=40)
    blocked = BlockedDays.load(session, start, today)
    day = today - dt.timedelta(days=1)
    while blocked.is_blocked(day):
        day -= dt.timedelta(days=1)
    assert day >= start
    return day


def test_staff_run_a_visit_end_to_end(page, live_server, session):
    staff = make_user("civic_staff", name="박담당", email="visits-e2e@example.com", phone="010-2222-3333")
    make_dong("가온동", code="4199080000", contested_area=True)
    make_dong("나래동", code="4199080300")
    make_dong("다솜동", code="4199080600")
    make_department("도로과")
    db.session.commit()
    today = today_seoul(utcnow())
    target = _past_working_day(session, today)

    page.goto(f"{live_server}/login")
    page.get_by_label("이메일").fill(staff.email)
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()

    page.goto(f"{live_server}/staff/visits")
    # A one-year cycle holding the target day, so the visit can be held (it lies in the past).
    page.get_by_label("시작일").fill(f"{target.year}-01-01")
    page.get_by_label("종료일").fill(f"{target.year}-12-31")
    page.get_by_label("연도별 방문 수").fill("3")
    page.get_by_role("button", name="초안 계획 만들기").click()
    page.get_by_text("초안 계획을 만들었습니다").wait_for()
    assert page.get_by_text("쟁점민원 지역 우선").is_visible()

    page.locator("tbody tr").filter(has_text="나래동").get_by_role("link").click()
    page.get_by_label("새 날짜").fill(target.isoformat())
    page.get_by_role("button", name="옮기기", exact=True).click()
    page.get_by_text("방문 일정을 옮겼습니다").wait_for()

    page.locator("main > p > a").first.click()  # breadcrumb back to the cycle
    page.get_by_role("button", name=re.compile("계획 공개")).click()
    page.get_by_text("방문 3건을 공개했습니다").wait_for()

    page.locator("tbody tr").filter(has_text="나래동").get_by_role("link").click()
    page.get_by_label("주민과의 대화").check()
    page.get_by_label("현장탐방").check()
    page.get_by_label("참석 주민 수").fill("27")
    page.get_by_label("소셜기자단").check()
    page.get_by_label("도로과").check()
    page.get_by_role("button", name="진행 기록 저장").click()
    page.get_by_text("진행 결과를 기록했습니다").wait_for()

    for title, category in (
        ("마을버스 정류장 승차대 설치", "도로·교통"),
        ("하천변 산책로 조명 보강", "안전"),
    ):
        page.get_by_label("건의 제목").fill(title)
        page.get_by_label("내용").fill("민원인 010-4444-5555 연락 요망")
        page.get_by_label("분류").select_option(category)
        page.get_by_role("button", name="건의사항 등록").click()
        # the dong's card is public: the privacy guard names what to remove
        page.get_by_text("공개 글에 개인정보(전화번호: 010-4444-5555)가 있습니다").first.wait_for()
        page.get_by_label("건의 제목").fill(title)
        page.get_by_label("내용").fill("민원인 연락 요망")
        page.get_by_label("분류").select_option(category)
        page.get_by_role("button", name="건의사항 등록").click()
        page.get_by_text("건의사항을 동 관리카드에 올렸습니다").wait_for()

    page.get_by_label("공개 결과 요약").fill(
        "주민 27명과 교통·안전 현안을 이야기했습니다. 도로과가 후속 조치합니다."
    )
    page.get_by_role("button", name="결과 공개").click()
    page.get_by_text("결과를 공개하고").wait_for()

    page.goto(f"{live_server}/visits/dongs/4199080300")
    assert page.get_by_role("heading", name="나래동").is_visible()
    assert page.get_by_text("마을버스 정류장 승차대 설치").is_visible()
    assert page.get_by_text("하천변 산책로 조명 보강").is_visible()
    content = page.content()
    assert "홍길순" not in content
    assert "010-4444" not in content
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("나래동 정기 동방문")).click()
    assert page.get_by_text("주민 27명과 교통·안전 현안을 이야기했습니다").is_visible()

    db.session.expire_all()
    visit = session.scalar(select(Visit).where(Visit.status == "results_published"))
    assert to_seoul(visit.start_at).date() == target
    message = session.scalar(select(OutboxMessage).where(OutboxMessage.subject_ref == f"visit:{visit.id}"))
    assert message.kind == "visit_result"
    dumped = json.dumps(message.payload, ensure_ascii=False)
    assert "마을버스 정류장 승차대 설치" in dumped
    for personal in ("홍길순", "010-", "박담당", "visits-e2e@"):
        assert personal not in dumped
