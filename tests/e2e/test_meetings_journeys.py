"""Browser: the 통통데이 journeys of issue 14 as citizens and staff walk them, with the e-mails
(and their .ics invitations) read from a real local SMTP server.

1. A session is cancelled: its citizens move to the next sessions with free places in queue
   order, see the new date on their page and get it by e-mail (same invitation UID, SEQUENCE 1).
2. A booked citizen asks for another session: staff see it flagged, accept it, and only then
   does the booking move.
5. One invitation per request: booked (SEQUENCE 0), moved by staff (1), a reminder on the
   working day before, withdrawn after a confirmation dialog (METHOD:CANCEL, 2).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from civic_app.extensions import db
from civic_app.meetings.outcomes import add_followup, record_answer
from civic_app.meetings.review import decide_mayor, decide_written
from civic_app.notify.mailer import deliver_once
from civic_app.timeutil import SEOUL, utcnow
from civic_app.web.filters import format_date
from civic_app.workdays.services import WorkCalendar
from tests.e2e.conftest import assert_accessible
from tests.e2e.test_meetings_flow import _login, _logout
from tests.factories import make_user
from tests.factories_meetings import make_mayor, make_request, make_sessions, make_staff

pytestmark = pytest.mark.e2e


def _deliver(app, smtp_server) -> None:
    config = {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_server.port, "SMTP_STARTTLS": False}
    deliver_once(db.session, config, now_fn=lambda: utcnow() + dt.timedelta(days=60))


def _mails_to(smtp_server, address: str) -> list:
    return [m for m in smtp_server.messages if m["To"] == address]


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _invitation(message) -> str | None:
    for part in message.iter_attachments():
        if part.get_content_type() == "text/calendar":
            body = part.get_content()
            return (body.decode() if isinstance(body, bytes) else body).replace("\r\n ", "")
    return None


def _field(ics: str, name: str) -> str:
    """A property of the calendar (METHOD) or of its VEVENT (not of the VTIMEZONE)."""
    if name != "METHOD":
        ics = ics[ics.index("BEGIN:VEVENT") :]
    return re.search(rf"^{name}[:;](.*?)\r?$", ics, re.M).group(1)


def _kdate(value: dt.datetime) -> str:
    local = value.astimezone(SEOUL)
    return f"{local.year}년 {local.month}월 {local.day}일"


def _upcoming(now: dt.datetime):
    sessions = make_sessions((now - dt.timedelta(days=1)).date(), (now + dt.timedelta(days=150)).date())
    return [s for s in sessions if s.start_at > now + dt.timedelta(days=2)]


def test_cancelled_session_carries_citizens_over_in_queue_order(page, live_server, session, app, smtp_server):
    now = utcnow()
    make_mayor()
    upcoming = _upcoming(now)
    first, second, third = upcoming[0], upcoming[1], upcoming[2]
    staff = make_staff(email="tt-j1-staff@example.com")
    older = make_user("citizen", name="김먼저", email="tt-j1-older@example.com")
    newer = make_user("citizen", name="박나중", email="tt-j1-newer@example.com")
    # Both chose only the first session; the older request joined the queue first.
    reqs = [
        make_request(older, now=now - dt.timedelta(days=5), preferred_session_ids=[first.id]),
        make_request(newer, now=now - dt.timedelta(days=3), preferred_session_ids=[first.id]),
    ]
    for req in reqs:
        decide_mayor(db.session, req, actor=staff, now=now)
    # The second session has one free place left.
    for _i in range(2):
        decide_mayor(
            db.session, make_request(now=now, preferred_session_ids=[second.id]), actor=staff, now=now
        )
    db.session.commit()
    codes = [r.code for r in reqs]

    # Staff cancel the first session with a reason.
    _login(page, live_server, staff)
    page.goto(f"{live_server}/staff/tongtong/sessions")
    assert page.get_by_text("flask tongtong generate").count() == 0
    page.locator(f'[data-confirm="cancel-session-{first.id}"] > summary').click()  # confirmation dialog
    page.locator(f"#reason-{first.id}").fill("시장 긴급 재난 현장 방문")
    page.locator(f"#cancel-session-{first.id} button[type=submit]").click()
    page.get_by_text("회차를 취소했습니다. 안내한 신청 2건").wait_for()
    assert_accessible(page)
    _logout(page)

    # Each citizen sees the date they now have: the older one the nearer session.
    for user, code, session_row in ((older, codes[0], second), (newer, codes[1], third)):
        _login(page, live_server, user)
        page.goto(f"{live_server}/tongtong/requests/{code}")
        assert page.locator("#tt-status").inner_text() == "면담 확정"
        facts = page.locator("dl.facts").inner_text()
        assert _kdate(session_row.start_at) in facts
        assert _kdate(first.start_at) not in facts
        assert "시장 긴급 재난 현장 방문" in page.locator("ol.timeline").inner_text()
        assert_accessible(page)
        _logout(page)

    # And by e-mail: which date, why, and the same invitation updated.
    _deliver(app, smtp_server)
    for address, code, session_row in (
        ("tt-j1-older@example.com", codes[0], second),
        ("tt-j1-newer@example.com", codes[1], third),
    ):
        mails = _mails_to(smtp_server, address)
        booked, cancelled = mails[-2], mails[-1]
        assert "회차 취소 안내" in cancelled["Subject"]
        body = _text(cancelled)
        assert "시장 긴급 재난 현장 방문" in body
        assert _kdate(session_row.start_at) in body
        assert f"{live_server}/tongtong/requests/{code}" in body
        before, after = _invitation(booked), _invitation(cancelled)
        assert _field(after, "UID") == _field(before, "UID")
        assert (_field(before, "SEQUENCE"), _field(after, "SEQUENCE")) == ("0", "1")
        assert _field(after, "METHOD") == "REQUEST"
        local = session_row.start_at.astimezone(SEOUL)
        assert _field(after, "DTSTART").startswith("TZID=Asia/Seoul:" + local.strftime("%Y%m%dT14"))


def test_booked_citizen_change_waits_for_staff(page, live_server, session, app, smtp_server):
    now = utcnow()
    make_mayor()
    upcoming = _upcoming(now)
    staff = make_staff(email="tt-j2-staff@example.com")
    citizen = make_user("citizen", name="최변경", email="tt-j2@example.com")
    req = make_request(citizen, now=now)
    booking = decide_mayor(db.session, req, actor=staff, now=now)
    assert booking.session_id == upcoming[0].id
    db.session.commit()
    target = upcoming[2]

    # The citizen asks for a later session: the page says it waits for staff.
    _login(page, live_server, citizen)
    page.goto(f"{live_server}/tongtong/requests/{req.code}")
    page.get_by_label("다른 회차").select_option(str(target.id))
    page.get_by_role("button", name="다른 회차 요청").click()
    page.get_by_text("회차 변경을 요청했습니다. 담당자가 확인할 때까지 지금 예약은 그대로입니다.").wait_for()
    assert page.get_by_text("희망 회차를 바꿨습니다").count() == 0
    facts = page.locator("dl.facts").inner_text()
    assert _kdate(upcoming[0].start_at) in facts  # still the booked date
    assert _kdate(target.start_at) in page.locator("#tt-change").inner_text()
    assert_accessible(page)
    _logout(page)

    # Staff see the request flagged in the queue and accept it.
    _login(page, live_server, staff)
    page.locator("summary", has_text="전체 메뉴").click()  # on a phone the menus are behind 전체 메뉴
    page.get_by_role("link", name="면담 신청 검토").click()
    row = page.locator(f"#req-{req.id}")
    assert "회차 변경 요청" in row.inner_text()
    row.get_by_role("link", name=req.code).click()
    box = page.locator("#change-request")
    assert _kdate(target.start_at) in box.inner_text()
    assert_accessible(page)
    box.get_by_role("button", name="변경 수락").click()
    page.get_by_text("회차 변경을 수락했습니다").wait_for()
    _logout(page)

    # Only now has the booking moved.
    _login(page, live_server, citizen)
    page.goto(f"{live_server}/tongtong/requests/{req.code}")
    facts = page.locator("dl.facts").inner_text()
    assert _kdate(target.start_at) in facts
    assert page.locator("#tt-change").count() == 0
    assert "회차 변경 요청을 수락했습니다" in page.locator("ol.timeline").inner_text()
    _logout(page)

    _deliver(app, smtp_server)
    mails = _mails_to(smtp_server, "tt-j2@example.com")
    subjects = [m["Subject"] for m in mails]
    assert any("회차 변경 요청 접수" in s for s in subjects)
    received = next(m for m in mails if "회차 변경 요청 접수" in m["Subject"])
    assert _invitation(received) is None  # nothing moved yet
    invitations = [_invitation(m) for m in mails if _invitation(m)]
    assert len(invitations) == 2  # booked, then moved on acceptance
    first, moved = invitations
    assert _field(moved, "UID") == _field(first, "UID")
    assert _field(moved, "SEQUENCE") == "1"
    assert _kdate(target.start_at) in _text(mails[-1])


def test_one_invitation_from_booking_to_withdrawal(page, live_server, session, app, smtp_server, monkeypatch):
    now = utcnow()
    make_mayor()
    upcoming = _upcoming(now)
    staff = make_staff(email="tt-j5-staff@example.com")
    citizen = make_user("citizen", name="정초대", email="tt-j5@example.com")
    req = make_request(citizen, now=now, preferred_session_ids=[upcoming[1].id])
    db.session.commit()

    # Staff book the mayor (the citizen's chosen session), then move the session by a day.
    _login(page, live_server, staff)
    page.goto(f"{live_server}/staff/tongtong/requests/{req.id}")
    assert _kdate(upcoming[1].start_at) in page.locator("#tt-preferred").inner_text()
    page.get_by_role("button", name="시장 면담 배정").first.click()
    page.get_by_text("시장 면담을 배정했습니다").wait_for()
    rule_day = upcoming[1].start_at.astimezone(SEOUL).date()
    calendar = WorkCalendar.load(db.session, rule_day, rule_day + dt.timedelta(days=14))
    moved_day = next(
        rule_day + dt.timedelta(days=n)
        for n in range(1, 14)
        if calendar.is_working_day(rule_day + dt.timedelta(days=n))
    )
    page.goto(f"{live_server}/staff/tongtong/sessions")
    page.locator(f"#day-{upcoming[1].id}").fill(moved_day.isoformat())
    page.locator(f"#mreason-{upcoming[1].id}").fill("시장 국외 출장")
    page.locator(f"#mreason-{upcoming[1].id}").locator("xpath=..").get_by_role(
        "button", name="회차 옮기기"
    ).click()
    page.get_by_text("회차를 옮겼습니다").wait_for()
    _logout(page)

    # The daily run on the working day before the meeting sends a reminder.
    import civic_app.meetings.cli as tongtong_cli

    day_before = dt.datetime.combine(moved_day - dt.timedelta(days=1), dt.time(9), tzinfo=SEOUL)
    monkeypatch.setattr(tongtong_cli, "utcnow", lambda: day_before.astimezone(dt.UTC))
    db.session.expire_all()  # the test's own session: forget what it read before the browser acted
    result = app.test_cli_runner().invoke(args=["tongtong", "remind"])
    assert "면담 알림 1건" in result.output, result.output

    # The citizen withdraws: a confirmation first (an htmx dialog), then the withdrawal.
    _login(page, live_server, citizen)
    page.goto(f"{live_server}/tongtong/requests/{req.code}")
    page.get_by_role("link", name="신청 철회").click()
    dialog = page.get_by_role("alertdialog")
    dialog.wait_for()
    assert page.url.endswith(f"/tongtong/requests/{req.code}")  # a dialog, not a new page
    assert "되돌릴 수 없고" in dialog.inner_text()
    assert_accessible(page)
    dialog.get_by_role("link", name="아니요, 그대로 둡니다").click()
    assert page.locator("#tt-status").inner_text() == "면담 확정"
    page.get_by_role("link", name="신청 철회").click()
    page.get_by_role("alertdialog").get_by_role("button", name="예, 철회합니다").click()
    page.get_by_text("신청을 철회했습니다.", exact=True).wait_for()
    assert page.locator("#tt-status").inner_text() == "신청 철회"
    _logout(page)

    _deliver(app, smtp_server)
    mails = _mails_to(smtp_server, "tt-j5@example.com")
    invitations = [(m, _invitation(m)) for m in mails if _invitation(m)]
    assert len({_field(i, "UID") for _m, i in invitations}) == 1
    assert [_field(i, "SEQUENCE") for _m, i in invitations] == ["0", "1", "2"]
    assert [_field(i, "METHOD") for _m, i in invitations] == ["REQUEST", "REQUEST", "CANCEL"]
    assert _field(invitations[-1][1], "STATUS") == "CANCELLED"
    assert invitations[1][1].count(moved_day.strftime("%Y%m%d")) >= 1
    reminder = next(m for m in mails if "면담 알림" in m["Subject"])
    assert _invitation(reminder) is None
    # (the daily command runs with the test app's PUBLIC_BASE_URL)
    assert f"{app.config['PUBLIC_BASE_URL']}/tongtong/requests/{req.code}" in _text(reminder)
    assert "면담이 다가왔습니다" in _text(reminder)


def test_closing_a_session_day_warns_then_carries_citizens_over(page, live_server, session, app, smtp_server):
    """7. An admin declares a 임시공휴일 on a 통통데이 with a confirmed meeting: the conflict is
    shown before saving; the admin cancels the session; the citizen is carried over and told."""
    now = utcnow()
    make_mayor()
    upcoming = _upcoming(now)
    staff = make_staff(email="tt-j7-staff@example.com")
    admin = make_user("admin", name="관리자", email="tt-j7-admin@example.com")
    citizen = make_user("citizen", name="한휴일", email="tt-j7@example.com")
    req = make_request(citizen, now=now, preferred_session_ids=[upcoming[0].id])
    decide_mayor(db.session, req, actor=staff, now=now)
    db.session.commit()
    day = upcoming[0].start_at.astimezone(SEOUL).date()

    _login(page, live_server, admin)
    page.goto(f"{live_server}/admin/workdays")
    page.get_by_label("날짜").fill(day.isoformat())
    page.get_by_label("사유").first.fill("임시공휴일 (국가 기념일)")
    page.get_by_role("button", name="추가").first.click()
    conflict = page.locator("#closure-conflict")
    conflict.wait_for()
    assert "확정된 면담 1건" in conflict.inner_text()
    assert_accessible(page)
    conflict.get_by_label("취소 (예약한 시민은 대기 순서대로 다음 회차로)").check()
    page.get_by_role("button", name="확인하고 추가").click()
    page.get_by_text("그날의 통통데이 회차를 처리하고 예약한 시민에게 알렸습니다.").wait_for()
    _logout(page)

    # The session is no longer bookable on the public page.
    page.goto(f"{live_server}/tongtong")
    assert _kdate(upcoming[0].start_at) not in page.locator("main").inner_text()

    _login(page, live_server, citizen)
    page.goto(f"{live_server}/tongtong/requests/{req.code}")
    assert page.locator("#tt-status").inner_text() == "면담 확정"
    facts = page.locator("dl.facts").inner_text()
    assert _kdate(upcoming[1].start_at) in facts
    assert "임시공휴일 (국가 기념일)" in page.locator("ol.timeline").inner_text()
    _logout(page)

    _deliver(app, smtp_server)
    last = _mails_to(smtp_server, "tt-j7@example.com")[-1]
    assert "회차 취소 안내" in last["Subject"]
    assert "임시공휴일 (국가 기념일)" in _text(last)
    assert _kdate(upcoming[1].start_at) in _text(last)
    assert _field(_invitation(last), "SEQUENCE") == "1"


def test_department_answers_referred_requests_and_closes_followups(
    page, live_server, session, app, smtp_server
):
    """11. A request referred to 도로과: the department's clerk finds it in the work queue (no
    403), gives an interim answer with a new deadline and then the answer, and closes an overdue
    follow-up it was reminded of; the citizen receives each answer by e-mail."""
    from tests.factories import make_department

    now = utcnow()
    make_mayor()
    make_sessions(now.date(), (now + dt.timedelta(days=60)).date())
    road = make_department("도로과")
    staff = make_staff(email="tt-j11-staff@example.com")
    clerk = make_user("department", name="도로주무관", department=road, email="tt-j11-road@example.com")
    citizen = make_user("citizen", name="윤답변", email="tt-j11@example.com")
    req = make_request(citizen, now=now - dt.timedelta(days=20))
    decide_written(
        db.session,
        req,
        route="referral",
        department=road,
        reason_code="department_matter",
        note="도로과가 직접 답합니다.",
        actor=staff,
        now=now - dt.timedelta(days=19),
        due=(now - dt.timedelta(days=1)).date(),
    )
    held = make_request(citizen, now=now - dt.timedelta(days=40))
    decide_written(
        db.session,
        held,
        route="written",
        department=road,
        reason_code="department_matter",
        note="",
        actor=staff,
        now=now - dt.timedelta(days=39),
    )
    record_answer(db.session, held, text="검토했습니다.", actor=staff, now=now - dt.timedelta(days=30))
    add_followup(
        db.session,
        held,
        title="횡단보도 도색",
        department=road,
        due_date=(now - dt.timedelta(days=3)).date(),
        local_budget=False,
        actor=staff,
        now=now - dt.timedelta(days=30),
    )
    db.session.commit()
    app.test_cli_runner().invoke(args=["tongtong", "remind"])  # the daily run

    _login(page, live_server, clerk)
    page.locator("summary", has_text="전체 메뉴").click()  # on a phone the menus are behind 전체 메뉴
    page.get_by_role("link", name="통통데이 부서 업무").click()
    assert "기한 지남" in page.locator(f"#answer-{req.id}").inner_text()
    assert (
        "횡단보도 도색" in page.locator("#followups").locator("xpath=following-sibling::div[1]").inner_text()
    )
    assert_accessible(page)
    page.locator(f"#answer-{req.id}").get_by_role("link", name=req.code).click()
    assert page.locator("#tt-status").inner_text() == "부서 답변 대기"
    form = page.locator("#answer-form")
    form.get_by_label("답변 내용").fill("현장 측량을 마치고 설계 중입니다.")
    new_due = (now + dt.timedelta(days=21)).astimezone(SEOUL).date()
    form.get_by_label("새 답변 기한").fill(new_due.isoformat())
    assert_accessible(page)
    form.get_by_role("button", name="중간 답변 기록").click()
    page.get_by_text("저장했습니다. 시민에게 이메일로 알렸습니다.").wait_for()
    page.locator("#answer-form").get_by_label("답변 내용").fill("내년 3월 보도를 설치합니다.")
    page.locator("#answer-form").get_by_role("button", name="답변 보내기").click()
    page.get_by_text("저장했습니다. 시민에게 이메일로 알렸습니다.").wait_for()
    assert page.locator("#tt-status").inner_text() == "답변 완료"
    page.goto(f"{live_server}/department/tongtong")
    page.locator("#followups").locator("xpath=following-sibling::div[1]").get_by_role(
        "button", name="완료"
    ).click()
    page.get_by_text("후속 조치를 완료로 바꿨습니다").wait_for()
    assert "맡은 후속 조치가 없습니다" in page.content()
    _logout(page)

    _login(page, live_server, citizen)
    page.goto(f"{live_server}/tongtong/requests/{req.code}")
    assert page.locator("#tt-status").inner_text() == "답변 완료"
    assert "현장 측량을 마치고 설계 중입니다." in page.locator("ol.timeline").inner_text()
    _logout(page)

    _deliver(app, smtp_server)
    to_clerk = _mails_to(smtp_server, "tt-j11-road@example.com")
    assert any("횡단보도 도색" in m["Subject"] for m in to_clerk)
    assert any(req.code in m["Subject"] for m in to_clerk)  # the overdue answer
    assert all("/department/tongtong" in _text(m) for m in to_clerk)
    to_citizen = _mails_to(smtp_server, "tt-j11@example.com")
    interim = next(m for m in to_citizen if "중간 답변" in m["Subject"])
    assert "현장 측량을 마치고 설계 중입니다." in _text(interim)
    assert format_date(new_due, english=False) in _text(interim)  # the Korean date, not ISO
    final = next(m for m in to_citizen if m["Subject"] == f"[통통데이] 답변 안내 ({req.code})")
    assert "내년 3월 보도를 설치합니다." in _text(final)
    assert f"{live_server}/tongtong/requests/{req.code}" in _text(final)
