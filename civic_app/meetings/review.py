"""Staff decisions on a request: the mayor (a 통통데이 place or the waiting list), a deputy or
director instead, a written answer by a department, a decline; and the answer to a booked
citizen's request for another session."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.dongs.models import Department, Host
from civic_app.errors import Conflict, InvalidTransition, ValidationFailed
from civic_app.meetings.base import add_event, field_error, require_staff, transition
from civic_app.meetings.booking import (
    book_first_free,
    book_next_free,
    book_slot,
    confirm_booking,
    free_slots,
    give_back,
    release_active,
)
from civic_app.meetings.models import (
    ANSWER_DAYS_DEFAULT,
    ROUTE_DECLINED,
    ROUTE_DEPUTY,
    ROUTE_DIRECTOR,
    ROUTE_MAYOR,
    ROUTE_REFERRAL,
    ROUTE_WRITTEN,
    SESSION_SCHEDULED,
    SLOT_HOST,
    SLOT_TONGTONG,
    ST_BOOKED,
    ST_DECLINED,
    ST_REFERRED,
    ST_SUBMITTED,
    ST_WAITLISTED,
    MeetingBooking,
    MeetingRequest,
    MeetingSlot,
    TongtongSession,
)
from civic_app.meetings.notices import notify
from civic_app.meetings.texts import (
    REASONS_BY_ACTION,
    action_of_route,
    decision_text,
    ko,
    ko_date,
    ko_datetime,
)
from civic_app.timeutil import today_seoul
from civic_app.web.filters import format_datetime


def record_decision(
    req: MeetingRequest, route: str, reason_code: str, note: str, *, actor, now: dt.datetime
) -> None:
    """Who decided what, when and why (the reason must fit the decision)."""
    require_staff(actor)
    if req.status not in (ST_SUBMITTED, ST_WAITLISTED, ST_BOOKED):
        raise InvalidTransition(_("이미 처리가 끝난 신청입니다."))
    if reason_code not in REASONS_BY_ACTION[action_of_route(route)]:
        raise field_error("reason_code", _("사유를 골라 주세요."))
    req.route = route
    req.reason_code = reason_code
    req.decision_note = note.strip() or None
    req.decided_at = now
    req.decided_by_id = actor.id


def decision_note(req: MeetingRequest) -> str:
    """The timeline's note of the decision (stored Korean)."""
    return decision_text(req.route, req.reason_code, req.decision_note)


def decide_mayor(
    session: Session,
    req: MeetingRequest,
    *,
    actor,
    now: dt.datetime,
    reason_code: str = "mayor_priority",
    note: str = "",
    slot: MeetingSlot | None = None,
) -> MeetingBooking | None:
    """Book the mayor in a 통통데이 session (the given slot, the preferred session or the next
    one with a free place). A full session puts the request on the waiting list."""
    record_decision(req, ROUTE_MAYOR, reason_code, note, actor=actor, now=now)
    freed = release_active(session, req, now=now)
    add_event(session, req, "decided", decision_note(req), actor=actor, now=now)
    if slot is not None:
        if slot.kind != SLOT_TONGTONG:
            raise field_error("slot_id", _("통통데이 면담 시간을 골라 주세요."))
        # A slot staff chose that is already taken puts the request on the waiting list: the
        # database decides which of two concurrent decisions gets a slot.
        booking = book_slot(session, req, slot, actor=actor, now=now)
    else:
        # No slot chosen: the request's candidate sessions (its chosen ones, then later ones).
        booking = book_next_free(session, req, actor=actor, now=now)
    if booking is not None:
        confirm_booking(session, req, booking, actor=actor, now=now)
    else:
        if req.status != ST_WAITLISTED:
            transition(req, ST_WAITLISTED, now)
        note = ko(
            "선택한 면담 시간이 이미 찼습니다. 대기 명단에 올렸고, 자리가 나면 신청 순서대로 자동 배정합니다."
        )
        add_event(session, req, "full", note, actor=actor, now=now)
        key = f"waitlisted-{req.id}-{len(req.events)}"
        notify(session, req, key, ko("면담 대기 안내"), now=now, cancel_booking=freed)
    give_back(session, freed, actor=actor, now=now)
    session.flush()
    return booking


def decide_fallback(
    session: Session,
    req: MeetingRequest,
    *,
    slot: MeetingSlot,
    reason_code: str,
    note: str,
    actor,
    now: dt.datetime,
) -> MeetingBooking | None:
    """Book the deputy mayor or a director in one of their slots, saying why not the mayor."""
    if slot.kind != SLOT_HOST or slot.host is None:
        raise field_error("slot_id", _("부시장·실국소장 면담 시간을 골라 주세요."))
    if not note.strip():
        raise field_error("note", _("시장 면담이 아닌 이유를 시민에게 알려 주세요."))
    route = ROUTE_DEPUTY if slot.host.rank == Host.RANK_DEPUTY else ROUTE_DIRECTOR
    record_decision(req, route, reason_code, note, actor=actor, now=now)
    freed = release_active(session, req, now=now)
    booking = book_slot(session, req, slot, actor=actor, now=now)
    if booking is None:
        raise Conflict(_next_free_host_slot_message(session, slot, now))
    add_event(session, req, "decided", decision_note(req), actor=actor, now=now)
    confirm_booking(session, req, booking, actor=actor, now=now)
    give_back(session, freed, actor=actor, now=now)
    session.flush()
    return booking


def _next_free_host_slot_message(session: Session, taken: MeetingSlot, now: dt.datetime) -> str:
    """The race loser's answer (shown to them at once): the slot is gone, and the same host's
    next free one."""
    booked = select(MeetingBooking.slot_id).where(MeetingBooking.slot_id.is_not(None))
    nxt = session.scalar(
        select(MeetingSlot)
        .where(
            MeetingSlot.host_id == taken.host_id,
            MeetingSlot.kind == SLOT_HOST,
            MeetingSlot.active.is_(True),
            MeetingSlot.start_at > now,
            MeetingSlot.id != taken.id,
            MeetingSlot.id.not_in(booked),
        )
        .order_by(MeetingSlot.start_at)
        .limit(1)
    )
    if nxt is None:
        return _("이 면담 시간은 방금 다른 신청에 배정되었습니다. 다른 시간을 골라 주세요.")
    return _(
        "이 면담 시간은 방금 다른 신청에 배정되었습니다. %(host)s의 다음 빈 시간은 %(when)s입니다.",
        host=taken.host.title,
        when=format_datetime(nxt.start_at),
    )


def suggest_hosts(session: Session, req: MeetingRequest) -> list[Host]:
    """Fallback hosts by field: directors of the request's category first, then the deputy."""
    hosts = session.scalars(
        select(Host).where(Host.active.is_(True), Host.rank > 1).order_by(Host.rank, Host.id)
    ).all()
    return sorted(hosts, key=lambda h: (0 if h.field == req.category else 1, h.rank, h.id))


def _close_with(
    session: Session, req: MeetingRequest, status: str, note: str, key: str, *, actor, now: dt.datetime
) -> None:
    """A decision that takes the request out of the queue: its place goes back to the waiting
    list and the citizen is told what was decided and why."""
    freed = release_active(session, req, now=now)
    transition(req, status, now)
    add_event(session, req, "decided", note, actor=actor, now=now)
    notify(session, req, key, ko("신청 처리 안내"), now=now, cancel_booking=freed)
    give_back(session, freed, actor=actor, now=now)
    session.flush()


def decide_written(
    session: Session,
    req: MeetingRequest,
    *,
    route: str,
    department: Department,
    reason_code: str,
    note: str,
    actor,
    now: dt.datetime,
    due: dt.date | None = None,
) -> None:
    """Hand to a department as an ordinary civil complaint with an answer deadline."""
    if route not in (ROUTE_WRITTEN, ROUTE_REFERRAL):
        raise ValidationFailed(_("처리 방식을 골라 주세요."))
    record_decision(req, route, reason_code, note, actor=actor, now=now)
    due = due or today_seoul(now) + dt.timedelta(days=ANSWER_DAYS_DEFAULT)
    if due < today_seoul(now):
        raise field_error("due", _("답변 기한은 오늘 이후여야 합니다."))
    req.department_id = department.id
    req.answer_due = due
    where = ko("담당: %(dept)s, 답변 기한: %(due)s", dept=department.name, due=ko_date(due))
    _close_with(
        session, req, ST_REFERRED, f"{decision_note(req)} {where}", f"referred-{req.id}", actor=actor, now=now
    )


def decline(
    session: Session, req: MeetingRequest, *, reason_code: str, note: str, actor, now: dt.datetime
) -> None:
    if not note.strip():
        raise field_error("note", _("불채택 사유를 시민에게 알려 주세요."))
    record_decision(req, ROUTE_DECLINED, reason_code, note, actor=actor, now=now)
    _close_with(session, req, ST_DECLINED, decision_note(req), f"declined-{req.id}", actor=actor, now=now)


# --- a booked citizen's request for another session ----------------------------------------------
def accept_change(session: Session, req: MeetingRequest, *, actor, now: dt.datetime) -> MeetingBooking:
    """Staff accept a booked citizen's change request: the booking moves to the asked session
    (the invitation keeps its UID with a higher SEQUENCE) and the freed place goes to the
    waiting list."""
    require_staff(actor)
    target = session.get(TongtongSession, req.change_session_id) if req.change_session_id else None
    if target is None or req.status != ST_BOOKED or req.active_booking is None:
        raise InvalidTransition(_("처리할 회차 변경 요청이 없습니다."))
    if target.status != SESSION_SCHEDULED or target.start_at <= now:
        raise field_error("change", _("요청한 회차는 더 이상 예약할 수 없습니다. 요청을 거절해 주세요."))
    full = _("요청한 회차에 남은 자리가 없습니다. 자리가 난 뒤 수락하거나 요청을 거절해 주세요.")
    slots = free_slots(session, target)
    if not slots:
        raise Conflict(full)
    freed = release_active(session, req, now=now)
    booking = book_first_free(session, req, slots, actor=actor, now=now)
    if booking is None:
        raise Conflict(full)
    req.preferred_session_ids = [target.id]
    add_event(session, req, "change_accepted", ko("회차 변경 요청을 수락했습니다."), actor=actor, now=now)
    confirm_booking(session, req, booking, actor=actor, now=now)
    give_back(session, freed, actor=actor, now=now)
    session.flush()
    return booking


def reject_change(session: Session, req: MeetingRequest, *, note: str, actor, now: dt.datetime) -> None:
    """Staff turn a change request down; the booking stays and the citizen is told why."""
    require_staff(actor)
    if req.change_session_id is None:
        raise InvalidTransition(_("처리할 회차 변경 요청이 없습니다."))
    if not note.strip():
        raise field_error("note", _("거절 사유를 시민에게 알려 주세요."))
    req.change_session = None
    req.change_requested_at = None
    req.updated_at = now
    booking = req.active_booking
    text = ko("회차 변경 요청을 받아들이지 못했습니다. 사유: %(r)s.", r=note.strip())
    if booking is not None:
        text += " " + ko("지금 예약(%(when)s)은 그대로입니다.", when=ko_datetime(booking.start_at))
    add_event(session, req, "change_rejected", text, actor=actor, now=now)
    notify(session, req, f"change-rejected-{len(req.events)}", ko("회차 변경 요청 결과"), now=now)
    session.flush()
