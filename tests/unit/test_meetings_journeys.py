"""Issue 14 journeys at the service level: carry-over keeping the queue place, change requests
after booking, one invitation per request (UID, SEQUENCE, METHOD:CANCEL), reminders the working
day before, and e-mails that say what, why, what next and where (absolute links)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from civic_app.errors import Conflict, ValidationFailed
from civic_app.meetings import schedule
from civic_app.meetings.booking import free_slots, mark_session_held
from civic_app.meetings.notices import send_meeting_reminders
from civic_app.meetings.outcomes import record_interim
from civic_app.meetings.queries import queue_info
from civic_app.meetings.review import (
    accept_change,
    decide_fallback,
    decide_mayor,
    decide_written,
    decline,
    reject_change,
)
from civic_app.meetings.submission import ask_other_session, withdraw
from civic_app.notify.models import OutboxMessage
from civic_app.timeutil import SEOUL
from civic_app.workdays.models import ClosedDate
from tests.factories import NOW, make_department, make_host, make_user
from tests.factories_meetings import make_host_slot, make_mayor, make_request, make_sessions, make_staff

BASE = "http://civic.test"


def _mails(session, req) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.channel == "email", OutboxMessage.subject_ref == f"meeting:{req.id}")
            .order_by(OutboxMessage.id)
        )
    )


def _ics(mail: OutboxMessage) -> str:
    return mail.payload["attachments"][0]["content"]


def _field(ics: str, name: str) -> str:
    return re.search(rf"^{name}[:;](.*)$", ics.replace("\r\n ", ""), re.M).group(1).strip()


def _upcoming(session):
    return [s for s in make_sessions(dt.date(2026, 11, 1), dt.date(2027, 1, 31)) if s.start_at > NOW]


def test_cancelled_session_carries_requests_to_the_next_free_session_in_queue_order(session):
    make_mayor()
    sessions = _upcoming(session)  # 11-26, 12-10, 12-24, 01-14, 01-28
    staff = make_staff()
    # Three citizens chose only 11-26 (the issue: they stayed waiting for a cancelled date).
    chosen = [
        make_request(now=NOW - dt.timedelta(days=10 - i), preferred_session_ids=[sessions[0].id])
        for i in range(3)
    ]
    for req in chosen:
        decide_mayor(session, req, actor=staff, now=NOW)
    assert [r.active_booking.session_id for r in chosen] == [sessions[0].id] * 3
    # 12-10 has two free places only.
    newer = make_request(now=NOW - dt.timedelta(days=1), preferred_session_ids=[sessions[1].id])
    decide_mayor(session, newer, actor=staff, now=NOW)
    schedule.cancel_session(session, sessions[0], reason="시장 긴급 재난 현장 방문", actor=staff, now=NOW)
    # Queue order kept: the two oldest take 12-10, the third the next free session (12-24).
    assert [r.status for r in chosen] == ["booked"] * 3
    assert [r.active_booking.session_id for r in chosen] == [sessions[1].id, sessions[1].id, sessions[2].id]
    assert newer.active_booking.session_id == sessions[1].id
    for req in chosen:
        mail = [m for m in _mails(session, req) if "cancelled" in m.dedupe_key]
        assert len(mail) == 1, "one e-mail per citizen"
        body = mail[0].payload["body"]
        new_date = req.active_booking.start_at.astimezone(SEOUL)
        assert "시장 긴급 재난 현장 방문" in body
        assert f"{new_date.month}월 {new_date.day}일" in body  # which date they now have
        assert f"{BASE}/tongtong/requests/{req.code}" in body
        ics = _ics(mail[0])
        assert "METHOD:REQUEST" in ics
        assert _field(ics, "UID") == f"meeting-request-{req.id}@civic_app"
        assert _field(ics, "SEQUENCE") == "1"  # an update of the invitation sent at booking
    # Their page no longer promises the cancelled date.
    info = queue_info(session, chosen[2], NOW)
    assert info.estimated == chosen[2].active_booking.start_at


def test_held_session_carries_its_waiting_requests(session):
    sessions = _upcoming(session)
    staff = make_staff()
    waiting = make_request(preferred_session_ids=[sessions[0].id])
    waiting.status, waiting.route = "waitlisted", "mayor"  # waiting for 11-26 (before the fix)
    session.flush()
    mark_session_held(session, sessions[0], actor=staff, now=sessions[0].end_at + dt.timedelta(hours=1))
    assert waiting.status == "booked"
    assert waiting.active_booking.session_id == sessions[1].id
    assert any(m.dedupe_key.endswith(f"booked-{waiting.active_booking.id}") for m in _mails(session, waiting))


def test_full_chosen_session_moves_to_the_next_free_one_and_the_estimate_honours_the_choice(session):
    sessions = _upcoming(session)
    staff = make_staff()
    later = sessions[3]
    # The estimate honours the chosen session (not the next session with a free place).
    req = make_request(preferred_session_ids=[later.id])
    assert queue_info(session, req, NOW).estimated == later.start_at
    others = [make_request(preferred_session_ids=[later.id]) for _ in range(3)]
    for other in [req, *others[:2]]:
        decide_mayor(session, other, actor=staff, now=NOW)
    assert req.active_booking.session_id == later.id
    # The chosen session is full: the fourth goes to the next session after it.
    decide_mayor(session, others[2], actor=staff, now=NOW)
    assert others[2].active_booking.session_id == sessions[4].id
    # Waiting for review: the requests ahead that chose the same date fill it first.
    fresh = [make_request(preferred_session_ids=[sessions[2].id]) for _ in range(4)]
    assert queue_info(session, fresh[2], NOW).estimated == sessions[2].start_at
    # The fourth: 12-24 is taken by the three ahead and 01-14 is full, so 01-28.
    assert queue_info(session, fresh[3], NOW).estimated == sessions[4].start_at


def test_change_request_after_booking_moves_only_when_staff_accept(session):
    sessions = _upcoming(session)
    staff = make_staff()
    citizen = make_user("citizen", email="tt-change@example.com")
    req = make_request(citizen)
    first = decide_mayor(session, req, actor=staff, now=NOW)
    assert ask_other_session(session, req, session_id=sessions[2].id, actor=citizen, now=NOW) == "requested"
    assert req.active_booking is first
    assert req.change_session_id == sessions[2].id
    assert "지금 예약" in req.events[-1].note
    with pytest.raises(ValidationFailed):
        reject_change(session, req, note=" ", actor=staff, now=NOW)
    reject_change(session, req, note="그날은 시장 해외 출장", actor=staff, now=NOW)
    assert req.change_session_id is None
    assert req.active_booking is first
    rejected = _mails(session, req)[-1]
    assert "그날은 시장 해외 출장" in rejected.payload["body"]
    # Asked again; the target fills up before staff look: accepting says so, nothing moves.
    ask_other_session(session, req, session_id=sessions[2].id, actor=citizen, now=NOW)
    for other in [make_request() for _ in range(3)]:
        decide_mayor(session, other, actor=staff, now=NOW, slot=free_slots(session, sessions[2])[0])
    with pytest.raises(Conflict):
        accept_change(session, req, actor=staff, now=NOW)
    assert req.active_booking is first
    # Another session: accepted, the booking moves and the freed place goes to the waiting list.
    ask_other_session(session, req, session_id=sessions[3].id, actor=citizen, now=NOW)
    moved = accept_change(session, req, actor=staff, now=NOW)
    assert moved.session_id == sessions[3].id
    assert not first.active
    ics = _ics(_mails(session, req)[-1])
    assert _field(ics, "UID") == f"meeting-request-{req.id}@civic_app"
    assert _field(ics, "SEQUENCE") == "1"
    assert "METHOD:REQUEST" in ics


def test_one_uid_per_request_with_rising_sequence_and_cancel(session):
    make_mayor()
    sessions = _upcoming(session)
    staff = make_staff()
    citizen = make_user("citizen", email="tt-uid@example.com")
    req = make_request(citizen)
    decide_mayor(session, req, actor=staff, now=NOW)
    schedule.move_session(
        session, sessions[0], day=dt.date(2026, 11, 27), reason="시장 출장", actor=staff, now=NOW
    )
    ask_other_session(session, req, session_id=sessions[1].id, actor=citizen, now=NOW)
    accept_change(session, req, actor=staff, now=NOW)
    withdraw(session, req, actor=citizen, now=NOW)
    invitations = [_ics(m) for m in _mails(session, req) if m.payload["attachments"]]
    assert [_field(i, "UID") for i in invitations] == [f"meeting-request-{req.id}@civic_app"] * 4
    assert [_field(i, "SEQUENCE") for i in invitations] == ["0", "1", "2", "3"]
    assert [_field(i, "METHOD") for i in invitations] == ["REQUEST", "REQUEST", "REQUEST", "CANCEL"]
    assert _field(invitations[-1], "STATUS") == "CANCELLED"
    assert "ORGANIZER" in invitations[-1]
    assert "mailto:tt-uid@example.com" in invitations[-1]


def test_decline_after_booking_and_cancelled_session_without_places_send_cancel(session):
    sessions = [s for s in make_sessions(dt.date(2026, 11, 1), dt.date(2026, 11, 30)) if s.start_at > NOW]
    staff = make_staff()
    declined, waiting = make_request(), make_request()
    decide_mayor(session, declined, actor=staff, now=NOW)
    decide_mayor(session, waiting, actor=staff, now=NOW)
    decline(session, declined, reason_code="out_of_scope", note="도 소관 사업입니다.", actor=staff, now=NOW)
    assert "METHOD:CANCEL" in _ics(_mails(session, declined)[-1])
    schedule.cancel_session(session, sessions[0], reason="태풍", actor=staff, now=NOW)
    assert waiting.status == "waitlisted"  # no other session has a place
    last = _mails(session, waiting)[-1]
    assert "METHOD:CANCEL" in _ics(last)
    assert "태풍" in last.payload["body"]
    assert "대기" in last.payload["body"]


def test_reminder_goes_out_on_the_working_day_before(session, app):
    sessions = _upcoming(session)
    staff = make_staff()
    req = make_request()
    decide_mayor(session, req, actor=staff, now=NOW, slot=sessions[1].slots[0])  # 12-10 (Thu)
    session.add(ClosedDate(day=dt.date(2026, 12, 9), reason="시 개청 기념일"))  # the Wednesday is closed
    session.flush()

    def at(day: dt.date) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=SEOUL).astimezone(dt.UTC)

    assert send_meeting_reminders(session, now=at(dt.date(2026, 12, 7))) == []
    sent = send_meeting_reminders(session, now=at(dt.date(2026, 12, 8)))  # Tuesday
    assert [b.request_id for b in sent] == [req.id]
    send_meeting_reminders(session, now=at(dt.date(2026, 12, 9)))
    reminders = [m for m in _mails(session, req) if "reminder" in m.dedupe_key]
    assert len(reminders) == 1
    assert "12월 10일" in reminders[0].payload["subject"]
    assert f"{BASE}/tongtong/requests/{req.code}" in reminders[0].payload["body"]
    assert send_meeting_reminders(session, now=at(dt.date(2026, 12, 10))) == []


def test_emails_state_what_why_next_and_link(session):
    make_mayor()
    make_sessions()
    deputy = make_host("부시장", rank=2, field="도로·교통")
    slot = make_host_slot(deputy, NOW + dt.timedelta(days=3))
    staff = make_staff()
    req = make_request()
    decide_fallback(
        session,
        req,
        slot=slot,
        reason_code="mayor_full",
        note="부시장이 더 빨리 만납니다.",
        actor=staff,
        now=NOW,
    )
    body = _mails(session, req)[-1].payload["body"]
    assert "시장 면담이 아닌 이유: 시장 면담 일정이 가득 참" in body
    assert "부시장이 더 빨리 만납니다." in body
    assert "다음 단계:" in body
    assert f"{BASE}/tongtong/requests/{req.code}" in body
    # Interim answers are e-mailed too.
    written = make_request()
    decide_written(
        session,
        written,
        route="written",
        department=make_department("도로과"),
        reason_code="department_matter",
        note="",
        actor=staff,
        now=NOW,
    )
    record_interim(
        session, written, text="현장 측량 중입니다.", new_due=dt.date(2026, 12, 31), actor=staff, now=NOW
    )
    interim = _mails(session, written)[-1]
    assert "중간 답변" in interim.payload["subject"]
    assert "현장 측량 중입니다." in interim.payload["body"]
    assert "2026년 12월 31일 (목)" in interim.payload["body"]  # the Korean date, not ISO
    assert f"{BASE}/tongtong/requests/{written.code}" in interim.payload["body"]
