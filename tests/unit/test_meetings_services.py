"""Request rules: submission, decisions, booking, waiting list, cancellation, outcome."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from civic_app.cards.models import CardItem
from civic_app.errors import InvalidTransition, NotAllowed, ValidationFailed
from civic_app.meetings import schedule
from civic_app.meetings.booking import mark_session_held
from civic_app.meetings.models import MeetingBooking
from civic_app.meetings.notices import remind_overdue
from civic_app.meetings.outcomes import (
    add_followup,
    answer_is_overdue,
    complete_followup,
    record_answer,
    record_interim,
    record_outcome,
)
from civic_app.meetings.queries import queue_info, statistics_for
from civic_app.meetings.review import (
    accept_change,
    decide_fallback,
    decide_mayor,
    decide_written,
    decline,
    suggest_hosts,
)
from civic_app.meetings.submission import ask_other_session, log_walk_in, withdraw
from civic_app.notify.models import OutboxMessage
from tests.factories import NOW, make_department, make_dong, make_host, make_user
from tests.factories_meetings import (
    make_host_slot,
    make_mayor,
    make_request,
    make_sessions,
    make_staff,
    next_session,
)


def _mails(session, req):
    return list(
        session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.channel == "email", OutboxMessage.subject_ref == f"meeting:{req.id}"
            )
        )
    )


def test_submit_gives_a_reference_code_and_a_timeline(session):
    make_sessions()
    first = make_request()
    second = make_request()
    assert first.code == "TT-2026-0001"
    assert second.code == "TT-2026-0002"
    assert first.status == "submitted"
    assert [e.kind for e in first.events] == ["submitted"]
    info = queue_info(session, second, NOW)
    assert info.place == 2
    assert info.estimated is not None  # 3 free places in the next session


def test_submit_needs_consent_and_checks_attachment(session):
    citizen = make_user("citizen")
    with pytest.raises(ValidationFailed) as exc:
        make_request(citizen, consent=False)
    assert exc.value.errors[0][0] == "consent"
    with pytest.raises(ValidationFailed, match="PDF"):
        make_request(citizen, attachment=("virus.exe", b"MZ..."), upload_dir="/tmp")
    with pytest.raises(ValidationFailed, match="확장자"):
        make_request(citizen, attachment=("fake.pdf", b"\x89PNG\r\n\x1a\n"), upload_dir="/tmp")
    with pytest.raises(ValidationFailed, match="5MB"):
        make_request(citizen, attachment=("big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024)), upload_dir="/tmp")


def test_mayor_decision_books_and_mails_an_ics(session):
    make_mayor()
    make_sessions()
    staff = make_staff()
    req = make_request()
    booking = decide_mayor(session, req, actor=staff, now=NOW)
    assert booking is not None
    assert req.status == "booked"
    assert booking.host.title == "시장"
    assert booking.start_at == next_session().start_at
    mail = next(m for m in _mails(session, req) if m.payload["attachments"])
    att = mail.payload["attachments"][0]
    assert att["filename"] == "tongtong.ics"
    assert f"UID:meeting-request-{req.id}@civic_app" in att["content"]
    assert "METHOD:REQUEST" in att["content"]


def test_citizen_cannot_decide(session):
    make_sessions()
    citizen = make_user("citizen")
    req = make_request(citizen)
    with pytest.raises(NotAllowed):
        decide_mayor(session, req, actor=citizen, now=NOW)


def test_full_session_waitlists_and_promotes_on_withdrawal(session):
    make_sessions(dt.date(2026, 11, 1), dt.date(2026, 11, 30))  # one upcoming session: 11-26
    staff = make_staff()
    target = next_session()
    reqs = [make_request() for _ in range(4)]
    for req in reqs:
        decide_mayor(session, req, actor=staff, now=NOW, slot=None)
    # Three places; no later session has a free place, so the fourth waits.
    assert [r.active_booking.session_id for r in reqs[:3]] == [target.id] * 3
    assert reqs[3].status == "waitlisted"
    # Asking for a taken slot: a clear "full" answer, the request waits on the list.
    late = make_request()
    booking = decide_mayor(session, late, actor=staff, now=NOW, slot=target.slots[0])
    assert booking is None
    assert late.status == "waitlisted"
    assert "이미 찼습니다" in late.events[-1].note
    # A booked citizen withdraws: the oldest waiting request gets the place.
    owner = session.get(type(make_user()), reqs[1].requester_id)
    withdraw(session, reqs[1], actor=owner, now=NOW)
    assert reqs[3].status == "booked"
    assert reqs[3].active_booking.session_id == target.id
    assert any(e.kind == "promoted" for e in reqs[3].events)
    assert late.status == "waitlisted"


def test_cancelled_session_keeps_queue_places(session):
    sessions = [s for s in make_sessions(dt.date(2026, 11, 1), dt.date(2026, 12, 31)) if s.start_at > NOW]
    assert len(sessions) == 3  # 11-26, 12-10, 12-24: nine places
    staff = make_staff()
    first = sessions[0]
    reqs = [make_request(now=NOW - dt.timedelta(days=30 - i)) for i in range(9)]
    for req in reqs:
        decide_mayor(session, req, actor=staff, now=NOW)
    newer = make_request(now=NOW - dt.timedelta(days=1))
    decide_mayor(session, newer, actor=staff, now=NOW)
    assert newer.status == "waitlisted"  # every place is taken
    waiting_before = newer.queue_since
    affected = schedule.cancel_session(
        session, first, reason="시장 긴급 재난 현장 방문", actor=staff, now=NOW
    )
    assert affected == reqs[:3]
    assert first.status == "cancelled"
    assert first.sequence == 1
    for req in reqs[:3]:
        assert req.status == "waitlisted"
        assert any("시장 긴급 재난 현장 방문" in e.note for e in req.events)
        cancel = [m for m in _mails(session, req) if "cancelled" in m.dedupe_key]
        assert len(cancel) == 1
        assert "시장 긴급 재난 현장 방문" in cancel[0].payload["body"]
        assert "METHOD:CANCEL" in cancel[0].payload["attachments"][0]["content"]
    assert session.scalar(select(MeetingBooking).where(MeetingBooking.slot_id == first.slots[0].id)) is None
    # A place frees up: the oldest queue place wins, not the newer request that waited longer
    # on the list.
    owner = session.get(type(make_user()), reqs[4].requester_id)
    withdraw(session, reqs[4], actor=owner, now=NOW)
    assert reqs[0].status == "booked"
    assert reqs[0].active_booking.session_id == sessions[1].id
    assert newer.status == "waitlisted"
    assert reqs[0].queue_since < newer.queue_since == waiting_before


def test_withdraw_only_until_the_day_before(session):
    make_sessions()
    staff = make_staff()
    citizen = make_user("citizen")
    req = make_request(citizen)
    booking = decide_mayor(session, req, actor=staff, now=NOW)
    same_day = booking.start_at - dt.timedelta(hours=2)
    with pytest.raises(InvalidTransition, match="전날"):
        withdraw(session, req, actor=citizen, now=same_day)
    with pytest.raises(NotAllowed):
        withdraw(session, req, actor=make_user("citizen"), now=NOW)
    withdraw(session, req, actor=citizen, now=NOW)
    assert req.status == "withdrawn"


def test_fallback_needs_a_reason_and_books_the_deputy(session):
    make_sessions()
    staff = make_staff()
    deputy = make_host("부시장", rank=2)
    slot = make_host_slot(deputy, NOW + dt.timedelta(days=3))
    with pytest.raises(ValidationFailed, match="입력 내용"):
        make_host_slot(deputy, NOW + dt.timedelta(days=3, minutes=10))  # overlaps
    req = make_request()
    with pytest.raises(ValidationFailed):
        decide_fallback(session, req, slot=slot, reason_code="mayor_full", note=" ", actor=staff, now=NOW)
    booking = decide_fallback(
        session,
        req,
        slot=slot,
        reason_code="mayor_full",
        note="시장 일정이 다음 달까지 찼습니다.",
        actor=staff,
        now=NOW,
    )
    assert req.route == "deputy"
    assert req.status == "booked"
    assert booking.host_id == deputy.id
    assert "시장 일정이 다음 달까지 찼습니다." in req.events[-2].note
    other = make_request()
    from civic_app.errors import Conflict

    with pytest.raises(Conflict):
        decide_fallback(session, other, slot=slot, reason_code="mayor_full", note="x", actor=staff, now=NOW)


def test_suggest_hosts_by_field(session):
    make_host("부시장", rank=2)
    road = make_host("안전건설국장", rank=3, field="도로·교통")
    make_host("복지문화국장", rank=3, field="복지")
    req = make_request(category="도로·교통")
    assert suggest_hosts(session, req)[0] == road


def test_written_answer_default_deadline_and_interim(session):
    staff = make_staff()
    dept = make_department("도로과")
    req = make_request()
    decide_written(
        session,
        req,
        route="referral",
        department=dept,
        reason_code="department_matter",
        note="",
        actor=staff,
        now=NOW,
    )
    assert req.status == "referred"
    assert req.answer_due == dt.date(2026, 12, 4)  # 14 days after 2026-11-20
    later = NOW + dt.timedelta(days=20)
    assert answer_is_overdue(req, later)
    record_interim(
        session, req, text="현장 측량 중입니다.", new_due=dt.date(2026, 12, 31), actor=staff, now=later
    )
    assert not answer_is_overdue(req, later)
    record_answer(session, req, text="내년 예산에 반영합니다.", actor=staff, now=later)
    assert req.status == "answered"


def test_decline_needs_a_reason(session):
    staff = make_staff()
    req = make_request()
    with pytest.raises(ValidationFailed):
        decline(session, req, reason_code="out_of_scope", note="", actor=staff, now=NOW)
    decline(session, req, reason_code="out_of_scope", note="도 소관입니다.", actor=staff, now=NOW)
    assert req.status == "declined"
    assert "도 소관입니다." in req.events[-1].note


def test_outcome_followups_card_and_public_summary(session):
    make_sessions()
    staff = make_staff()
    dong = make_dong("중앙동")
    dept = make_department("도로과")
    citizen = make_user("citizen", name="홍길동", phone="010-9876-5432", email="hong@example.com")
    req = make_request(citizen, dong_id=dong.id)
    booking = decide_mayor(session, req, actor=staff, now=NOW)
    after = booking.end_at + dt.timedelta(hours=1)
    for leaky in (
        "보도를 설치하기로 했습니다. 문의 010-9876-5432",
        "홍 길동 님과 합의",
        "hong [at] example.com",
    ):
        with pytest.raises(ValidationFailed) as refused:  # the privacy guard refuses public text
            record_outcome(
                session,
                req,
                attended=True,
                outcome="보도 설치에 합의",
                public_summary=leaky,
                actor=staff,
                now=after,
            )
        assert refused.value.errors[0][0] == "public_summary"
        assert req.status == "booked"
    record_outcome(
        session,
        req,
        attended=True,
        outcome="보도 설치에 합의",
        public_summary="보도를 설치하기로 했습니다.",
        actor=staff,
        now=after,
    )
    assert req.status == "held"
    post = session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "telegram"))
    assert post.kind == "tongtong_summary"
    assert post.payload["url"] == f"/tongtong/summaries/{req.id}"
    text = str(post.payload)
    assert "홍길동" not in text
    assert "9876-5432" not in text.replace("****-5432", "")
    assert "hong@" not in text
    item = add_followup(
        session,
        req,
        title="보도 설치 예산 검토",
        department=dept,
        due_date=dt.date(2026, 12, 1),
        local_budget=True,
        actor=staff,
        now=after,
    )
    card = session.get(CardItem, item.card_item_id)
    assert card.source_kind == "meeting"
    assert card.source_ref == req.id
    assert card.dong_id == dong.id
    assert item.is_overdue(dt.date(2026, 12, 2))
    reminded = remind_overdue(session, now=NOW + dt.timedelta(days=15), staff_email="office@example.kr")
    assert reminded == [item]
    stats = statistics_for(session, NOW + dt.timedelta(days=15))
    assert stats.overdue_followups == 1
    assert {r: n for r, n, _s in stats.by_route}["mayor"] == 1
    complete_followup(session, item, note="", actor=staff, now=after)
    assert item.status == "done"


def test_no_public_summary_without_consent(session):
    make_sessions()
    staff = make_staff()
    req = make_request(publish_consent=False)
    booking = decide_mayor(session, req, actor=staff, now=NOW)
    with pytest.raises(ValidationFailed):
        record_outcome(
            session,
            req,
            attended=True,
            outcome="합의",
            public_summary="요약",
            actor=staff,
            now=booking.end_at + dt.timedelta(hours=1),
        )


def test_walk_in_books_the_consultation_room(session):
    staff = make_staff()
    start = NOW + dt.timedelta(hours=1)
    data = {
        "topic": "집단 민원 방문",
        "category": "환경",
        "desired_outcome": "악취 해결",
        "dong_id": None,
        "is_group": True,
        "party_size": 12,
        "preferred_session_ids": [],
        "accessibility": None,
        "consent": True,
        "publish_consent": False,
        "requester": {"name": "김대표", "phone": "010-1111-2222", "email": None},
    }
    req = log_walk_in(session, actor=staff, now=NOW, room_start=start, **data)
    assert req.walk_in
    assert req.active_booking.location == "직소민원 상담실"
    with pytest.raises(ValidationFailed, match="상담실"):
        log_walk_in(session, actor=staff, now=NOW, room_start=start + dt.timedelta(minutes=10), **data)


def test_moving_a_session_by_hand_updates_bookings_and_survives_generation(session):
    make_sessions()
    staff = make_staff()
    req = make_request()
    booking = decide_mayor(session, req, actor=staff, now=NOW)
    target = next_session()
    with pytest.raises(ValidationFailed):
        schedule.move_session(session, target, day=dt.date(2026, 11, 28), reason="주말", actor=staff, now=NOW)
    schedule.move_session(
        session, target, day=dt.date(2026, 11, 27), reason="시장 해외 출장", actor=staff, now=NOW
    )
    assert target.moved_from == dt.date(2026, 11, 26)
    assert target.sequence == 1
    assert booking.start_at == target.start_at
    assert booking.sequence == 1
    assert "시장 해외 출장" in req.events[-1].note
    ics = next(m for m in _mails(session, req) if "moved" in m.dedupe_key).payload["attachments"][0][
        "content"
    ]
    assert f"UID:meeting-request-{req.id}@civic_app" in ics
    assert "SEQUENCE:1" in ics
    lines = schedule.generate(
        session, schedule.current_rule(session), dt.date(2026, 11, 1), dt.date(2026, 11, 30), now=NOW
    )
    assert {x.action for x in lines} == {"exists"}
    assert target.start_at.astimezone(dt.timezone(dt.timedelta(hours=9))).date() == dt.date(2026, 11, 27)


def test_citizen_asks_for_another_session_keeping_the_queue_place(session):
    sessions = make_sessions()
    staff = make_staff()
    citizen = make_user("citizen")
    req = make_request(citizen)
    first = decide_mayor(session, req, actor=staff, now=NOW)
    queued_at = req.queue_since
    later = [s for s in sessions if s.start_at > NOW][2]
    # After booking, the change is a request for staff: the booking stays.
    assert ask_other_session(session, req, session_id=later.id, actor=citizen, now=NOW) == "requested"
    assert req.status == "booked"
    assert req.active_booking is first
    assert req.change_session_id == later.id
    accept_change(session, req, actor=staff, now=NOW)
    assert req.active_booking.session_id == later.id
    assert req.change_session_id is None
    assert req.queue_since == queued_at
    assert len([b for b in req.bookings if b.active]) == 1


def test_unserved_requests_carry_over_to_the_next_session(session):
    sessions = [s for s in make_sessions() if s.start_at > NOW]
    staff = make_staff()
    target = sessions[0]
    booked = [make_request() for _ in range(3)]
    for req in booked:
        decide_mayor(session, req, actor=staff, now=NOW, slot=None)
    # A request that chose only this session and waits for it (data from before the fix).
    waiting = make_request(preferred_session_ids=[target.id])
    waiting.status, waiting.route = "waitlisted", "mayor"
    session.flush()
    after = target.end_at + dt.timedelta(hours=1)
    mark_session_held(session, target, actor=staff, now=after)
    assert target.status == "held"
    assert waiting.status == "booked"
    assert waiting.active_booking.session_id == sessions[1].id
    assert any(e.kind == "promoted" for e in waiting.events)
