"""Browser: a citizen applies for 통통데이, staff route it to the deputy mayor with a reason,
the meeting is held and followed up; the citizen sees every step; the .ics mail arrives."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from civic_app.extensions import db
from civic_app.meetings.models import MeetingBooking, MeetingRequest
from civic_app.notify.mailer import deliver_once
from civic_app.timeutil import utcnow
from tests.e2e.conftest import assert_accessible
from tests.factories import PASSWORD, make_department, make_dong, make_host, make_user
from tests.factories_meetings import make_host_slot, make_mayor, make_sessions

pytestmark = pytest.mark.e2e
REASON = "시장 일정이 다음 달까지 차 있어 도로 분야를 맡은 부시장이 더 빨리 만납니다."


def _login(page, live_server, user) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("이메일").fill(user.email)
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.get_by_text("로그인했습니다").wait_for()


def _logout(page) -> None:
    page.get_by_role("button", name="로그아웃").click()
    page.get_by_text("로그아웃했습니다").wait_for()


def test_request_to_outcome_with_deputy_fallback(page, live_server, session, app, smtp_server):
    now = utcnow()
    make_mayor()
    deputy = make_host("부시장", rank=2, person_name="이부시장", field="도로·교통")
    make_sessions(dt.date(2026, 11, 1), (now + dt.timedelta(days=120)).date())
    make_host_slot(deputy, now + dt.timedelta(days=3))
    make_dong("가온동")
    make_department("도로과")
    citizen = make_user("citizen", name="홍길순", email="tt-e2e@example.com", phone="010-4444-5555")
    staff = make_user("civic_staff", name="소통주무관", email="tt-staff@example.com")
    db.session.commit()

    # 1. The citizen applies.
    _login(page, live_server, citizen)
    page.goto(f"{live_server}/tongtong")
    page.get_by_role("link", name="면담 신청하기").click()
    page.get_by_label("면담 주제").fill("통학로 보도 설치")
    page.get_by_label("분야").select_option("도로·교통")
    page.get_by_label("바라는 내용").fill("초등학교 앞 보도가 없어 아이들이 차도로 다닙니다.")
    page.get_by_label("관련 동").select_option(label="가온동")
    page.get_by_label("위 개인정보 수집·이용에 동의합니다 (필수)").check()
    page.get_by_label("개인정보를 뺀 면담 결과 요약 공개에 동의합니다 (선택)").check()
    assert_accessible(page)
    page.get_by_role("button", name="신청하기").click()
    page.get_by_text("신청을 접수했습니다. 신청 번호는").wait_for()
    code = db.session.scalar(select(MeetingRequest.code))
    assert code.startswith(f"TT-{now.year}-")
    assert page.get_by_text("검토 대기").first.is_visible()
    assert page.get_by_text("대기 순서", exact=True).is_visible()
    assert_accessible(page)
    status_url = page.url
    _logout(page)

    # 2. Staff review: fallback to the deputy mayor with a reason.
    _login(page, live_server, staff)
    page.locator("summary", has_text="전체 메뉴").click()  # on a phone the menus are behind 전체 메뉴
    page.get_by_role("link", name="면담 신청 검토").click()
    assert page.get_by_text("홍*순").is_visible()
    assert_accessible(page)
    page.get_by_role("link", name=code).click()
    assert page.get_by_text("tt-e2e@example.com").is_visible()  # unmasked for staff, logged
    form = page.locator("#fallback-form")
    form.get_by_label("면담 시간").select_option(index=0)
    form.get_by_label("사유").select_option("mayor_full")
    form.get_by_label("시민에게 보내는 설명").fill(REASON)
    assert_accessible(page)
    form.get_by_role("button", name="대리 면담 배정").click()
    page.get_by_text("대리 면담을 배정했습니다").wait_for()
    _logout(page)

    # 3. The citizen sees the decision and the reason.
    _login(page, live_server, citizen)
    page.goto(status_url)
    assert page.locator("#tt-status").inner_text() == "면담 확정"
    assert REASON in page.locator("#tt-reason").inner_text()
    assert "시장 면담 일정이 가득 참" in page.locator("#tt-reason").inner_text()
    assert page.get_by_text("부시장 면담").first.is_visible()
    _logout(page)

    # The meeting takes place (time passes).
    db.session.expire_all()
    booking = db.session.scalar(select(MeetingBooking).where(MeetingBooking.active.is_(True)))
    booking.start_at = now - dt.timedelta(hours=2)
    booking.end_at = now - dt.timedelta(hours=1, minutes=30)
    db.session.commit()

    # 4. Staff record the outcome and a follow-up that goes to the dong's card.
    _login(page, live_server, staff)
    page.goto(f"{live_server}/staff/tongtong/requests")
    page.goto(f"{live_server}/staff/tongtong/requests/{booking.request_id}")
    outcome = page.locator("#outcome-form")
    outcome.get_by_label("면담 결과 (합의 내용)").fill("내년 상반기에 보도를 설치하기로 함.")
    outcome.get_by_label("공개 요약 (개인정보 없이, 신청인이 동의한 경우만)").fill(
        "초등학교 앞 보도를 내년에 설치합니다."
    )
    outcome.get_by_role("button", name="결과 기록").click()
    page.get_by_text("면담 결과를 기록했습니다").wait_for()
    follow = page.locator("#followup-form")
    follow.get_by_label("후속 조치").fill("보도 설치 예산 편성")
    follow.get_by_label("담당 부서").select_option(label="도로과")
    follow.get_by_label("기한").fill((now + dt.timedelta(days=30)).date().isoformat())
    follow.get_by_label("지역 예산 사안 (동 관리카드에 올림)").check()
    follow.get_by_role("button", name="후속 조치 추가").click()
    page.get_by_text("후속 조치를 추가했습니다").wait_for()
    assert page.get_by_text("동 관리카드 #").is_visible()
    page.goto(f"{live_server}/staff/tongtong/sessions")
    assert_accessible(page)
    page.goto(f"{live_server}/staff/tongtong/stats")
    assert_accessible(page)
    _logout(page)

    # 5. The citizen sees every step.
    _login(page, live_server, citizen)
    page.goto(status_url)
    assert page.locator("#tt-status").inner_text() == "면담 완료"
    assert "보도를 설치하기로" in page.locator("#tt-outcome").inner_text()
    timeline = page.locator("ol.timeline").inner_text()
    for step in (
        "신청을 접수했습니다",
        "결정: 부시장 면담",
        REASON,
        "면담이 확정되었습니다",
        "면담을 마쳤습니다",
        "후속 조치",
    ):
        assert step in timeline, step
    assert_accessible(page)
    for url in ("/tongtong", "/tongtong/stats", f"/tongtong/summaries/{booking.request_id}"):
        page.goto(f"{live_server}{url}")
        assert "홍길순" not in page.content()
        assert_accessible(page)

    # 6. The mails (with the .ics for the fixed meeting) reach a real SMTP server.
    config = {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_server.port, "SMTP_STARTTLS": False}
    counts = deliver_once(db.session, config, now_fn=utcnow)
    assert counts["sent"] >= 3
    to_citizen = [m for m in smtp_server.messages if m["To"] == "tt-e2e@example.com"]
    ics = [
        part
        for m in to_citizen
        for part in m.iter_attachments()
        if part.get_content_type() == "text/calendar"
    ]
    assert len(ics) == 1
    body = ics[0].get_content()
    body = body.decode() if isinstance(body, bytes) else body
    assert f"UID:meeting-request-{booking.request_id}@civic_app" in body
    assert "METHOD:REQUEST" in body
    assert ics[0].get_filename() == "tongtong.ics"
