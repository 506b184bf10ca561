"""Places and who holds them: booking a slot, releasing it, the waiting list and its carry-over,
and what a cancelled, moved or held session does to its bookings.

Booking relies on the database: ``meeting_bookings.slot_id`` is UNIQUE and the insert uses
ON CONFLICT DO NOTHING, so of many concurrent bookings of one slot exactly one wins. The queue
place of a request (``queue_since``) never changes, so a carried-over request keeps its turn.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, lazyload

from civic_app.dongs.models import Host
from civic_app.errors import InvalidTransition
from civic_app.meetings.base import add_event, field_error, require_staff, transition
from civic_app.meetings.models import (
    ROUTE_MAYOR,
    SESSION_HELD,
    SESSION_SCHEDULED,
    SLOT_TONGTONG,
    ST_BOOKED,
    ST_WAITLISTED,
    MeetingBooking,
    MeetingRequest,
    MeetingSlot,
    TongtongSession,
)
from civic_app.meetings.notices import host_title, notify
from civic_app.meetings.texts import ko, ko_datetime


def mayor_host(session: Session) -> Host | None:
    """The mayor's host row (the active host of the first rank)."""
    return session.scalar(select(Host).where(Host.active.is_(True)).order_by(Host.rank, Host.id).limit(1))


# --- one slot --------------------------------------------------------------------------------------
def insert_booking(
    session: Session, req: MeetingRequest, slot: MeetingSlot, *, now: dt.datetime
) -> MeetingBooking | None:
    """INSERT ... ON CONFLICT (slot_id) DO NOTHING: None when the slot is already taken."""
    session.flush()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(MeetingBooking)
        .values(
            slot_id=slot.id,
            request_id=req.id,
            host_id=slot.host_id,
            session_id=slot.session_id,
            start_at=slot.start_at,
            end_at=slot.end_at,
            location=slot.location,
            active=True,
            sequence=0,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["slot_id"])
        .returning(MeetingBooking.id)
    )
    booking_id = session.execute(stmt).scalar()
    if booking_id is None:
        return None
    booking = session.get(MeetingBooking, booking_id)
    if booking not in req.bookings:
        req.bookings.append(booking)
    return booking


def book_slot(
    session: Session, req: MeetingRequest, slot: MeetingSlot, *, actor, now: dt.datetime
) -> MeetingBooking | None:
    """Book ``slot`` for ``req``. Returns the booking, or None when the slot is full (then the
    request waits on the list, keeping its queue place)."""
    if not slot.active or slot.start_at <= now:
        raise field_error("slot_id", _("이 면담 시간은 예약할 수 없습니다."))
    if slot.session is not None and slot.session.status != SESSION_SCHEDULED:
        raise field_error("slot_id", _("취소되었거나 끝난 회차입니다."))
    booking = insert_booking(session, req, slot, now=now)
    if booking is None:
        return None
    if booking.host_id is None and slot.kind == SLOT_TONGTONG:
        booking.host = mayor_host(session)
    session.flush()
    return booking


def book_first_free(
    session: Session, req: MeetingRequest, slots: list[MeetingSlot], *, actor, now: dt.datetime
) -> MeetingBooking | None:
    """The first of ``slots`` that can still be had (a slot taken meanwhile is skipped);
    the booked slots are removed from ``slots``."""
    while slots:
        booking = book_slot(session, req, slots.pop(0), actor=actor, now=now)
        if booking is not None:
            return booking
    return None


def confirm_booking(
    session: Session,
    req: MeetingRequest,
    booking: MeetingBooking,
    *,
    actor,
    now: dt.datetime,
    notify_citizen: bool = True,
) -> None:
    """The request is booked: its timeline says when, where and with whom, and the citizen gets
    the invitation (unless the caller writes one e-mail of its own)."""
    transition(req, ST_BOOKED, now)
    note = ko(
        "%(when)s %(host)s 면담이 확정되었습니다 (장소: %(place)s).",
        when=ko_datetime(booking.start_at),
        host=host_title(session, booking),
        place=booking.location,
    )
    add_event(session, req, "booked", note, actor=actor, now=now)
    if notify_citizen:
        notify(
            session, req, f"booked-{booking.id}", ko("면담 일정이 확정되었습니다"), now=now, booking=booking
        )


def release_active(session: Session, req: MeetingRequest, *, now: dt.datetime) -> MeetingBooking | None:
    """Free the request's place (the booking row stays, without its slot); returns the booking."""
    booking = req.active_booking
    if booking is None:
        return None
    booking.active = False
    booking.slot_id = None
    booking.sequence += 1
    booking.updated_at = now
    req.change_session = None  # a pending change request ends with the booking
    req.change_requested_at = None
    session.flush()
    return booking


def give_back(session: Session, freed: MeetingBooking | None, *, actor, now: dt.datetime) -> None:
    """A place of a 통통데이 session was released: the waiting list moves up."""
    if freed is not None and freed.tongtong_session is not None:
        carry_over(session, actor=actor, now=now)


# --- sessions and the waiting list ---------------------------------------------------------------
def free_slots(session: Session, tsession: TongtongSession) -> list[MeetingSlot]:
    """The session's active slots nobody holds, earliest first (one statement: what a loser of
    a contended booking is told at once)."""
    taken = select(MeetingBooking.id).where(MeetingBooking.slot_id == MeetingSlot.id)
    return list(
        session.scalars(
            select(MeetingSlot)
            .where(MeetingSlot.session_id == tsession.id, MeetingSlot.active.is_(True), ~taken.exists())
            .order_by(MeetingSlot.start_at, MeetingSlot.id)
            .options(lazyload(MeetingSlot.booking))
        )
    )


def open_sessions(session: Session, now: dt.datetime, limit: int = 24) -> list[TongtongSession]:
    """The next scheduled sessions, earliest first."""
    return list(
        session.scalars(
            select(TongtongSession)
            .where(TongtongSession.status == SESSION_SCHEDULED, TongtongSession.start_at > now)
            .order_by(TongtongSession.start_at, TongtongSession.id)
            .limit(limit)
        )
    )


def candidate_sessions(req: MeetingRequest, upcoming: list[TongtongSession]) -> list[TongtongSession]:
    """Where a request for the mayor may be booked, in order: the sessions the citizen chose
    that are still open, then (when those are full) every later session; with no chosen
    session still open (none chosen, or cancelled or held since), every upcoming session."""
    chosen_ids = set(req.preferred_session_ids or [])
    chosen = [s for s in upcoming if s.id in chosen_ids]
    if not chosen:
        return list(upcoming)
    first = chosen[0].start_at
    return chosen + [s for s in upcoming if s.id not in chosen_ids and s.start_at > first]


def _free_slot_map(session: Session, upcoming: list[TongtongSession]) -> dict[int, list[MeetingSlot]]:
    """Free slots of many sessions in one statement."""
    ids = [s.id for s in upcoming]
    taken = set(
        session.scalars(
            select(MeetingBooking.slot_id)
            .join(MeetingSlot, MeetingBooking.slot_id == MeetingSlot.id)
            .where(MeetingSlot.session_id.in_(ids or [0]))
        )
    )
    return {s.id: [x for x in s.slots if x.active and x.id not in taken] for s in upcoming}


def book_candidates(
    session: Session,
    req: MeetingRequest,
    upcoming: list[TongtongSession],
    free: dict[int, list[MeetingSlot]],
    *,
    actor,
    now: dt.datetime,
) -> MeetingBooking | None:
    """The first free place among the request's candidate sessions (``free`` is used up)."""
    for tsession in candidate_sessions(req, upcoming):
        booking = book_first_free(session, req, free[tsession.id], actor=actor, now=now)
        if booking is not None:
            return booking
    return None


def book_next_free(
    session: Session, req: MeetingRequest, *, actor, now: dt.datetime
) -> MeetingBooking | None:
    """The first free place among the request's candidate sessions, or None (all full)."""
    upcoming = open_sessions(session, now)
    return book_candidates(session, req, upcoming, _free_slot_map(session, upcoming), actor=actor, now=now)


def carry_over(
    session: Session, *, actor, now: dt.datetime, quiet: frozenset[int] | set[int] = frozenset()
) -> list[MeetingRequest]:
    """Book the waiting list into free places, oldest queue place first: each waiting request
    takes the first free place among its candidate sessions (its chosen sessions, then the
    next sessions with free places). Citizens are e-mailed their new date (except the
    requests in ``quiet``: their caller writes one e-mail saying why and when)."""
    upcoming = open_sessions(session, now)
    if not upcoming:
        return []
    free = _free_slot_map(session, upcoming)
    if not any(free.values()):
        return []
    waiting = session.scalars(
        select(MeetingRequest)
        .where(MeetingRequest.status == ST_WAITLISTED, MeetingRequest.route == ROUTE_MAYOR)
        .order_by(MeetingRequest.queue_since, MeetingRequest.id)
    ).all()
    moved: list[MeetingRequest] = []
    for req in waiting:
        booking = book_candidates(session, req, upcoming, free, actor=actor, now=now)
        if booking is None:
            continue
        note = ko(
            "대기 순서가 되어 자리가 배정되었습니다: %(when)s 회차 (대기 순서는 그대로 유지).",
            when=ko_datetime(booking.start_at),
        )
        add_event(session, req, "promoted", note, actor=actor, now=now)
        confirm_booking(session, req, booking, actor=actor, now=now, notify_citizen=req.id not in quiet)
        moved.append(req)
        if not any(free.values()):
            break
    session.flush()
    return moved


def promote_waitlist(
    session: Session, tsession: TongtongSession, *, actor, now: dt.datetime
) -> list[MeetingRequest]:
    """A place of ``tsession`` was freed: the waiting list moves up (see :func:`carry_over`)."""
    return carry_over(session, actor=actor, now=now)


def release_session_bookings(
    session: Session, tsession: TongtongSession, *, reason: str, actor, now: dt.datetime
) -> list[MeetingRequest]:
    """A cancelled session: its citizens go back to the waiting list with their queue place and
    are carried over to the next session with free places; each is e-mailed once, with the
    reason and the new date (an updated invitation, same UID) or, when no session has a free
    place, that they wait (the invitation is cancelled)."""
    affected: list[tuple[MeetingRequest, MeetingBooking]] = []
    bookings = session.scalars(
        select(MeetingBooking).where(
            MeetingBooking.session_id == tsession.id, MeetingBooking.active.is_(True)
        )
    ).all()
    cancelled = ko(
        "%(when)s 회차가 취소되었습니다 (사유: %(reason)s).",
        when=ko_datetime(tsession.start_at),
        reason=reason,
    )
    for booking in bookings:
        req = booking.request
        release_active(session, req, now=now)
        transition(req, ST_WAITLISTED, now)
        add_event(session, req, "session_cancelled", cancelled, actor=actor, now=now)
        affected.append((req, booking))
    session.flush()
    carry_over(session, actor=actor, now=now, quiet={req.id for req, _b in affected})
    for req, old in affected:
        new = req.active_booking if req.status == ST_BOOKED else None
        if new is not None:
            then = ko(
                "대기 순서를 그대로 유지해 %(new)s 회차로 옮겼습니다.",
                new=ko_datetime(new.start_at),
            )
        else:
            then = ko(
                "남은 자리가 있는 회차가 없어 대기 순서를 그대로 유지한 채 기다리며, 자리가 나면 바로 배정해 "
                "알려 드립니다."
            )
        notify(
            session,
            req,
            f"cancelled-{tsession.id}-{old.id}",
            ko("회차 취소 안내"),
            now=now,
            what=f"{cancelled} {then}",
            booking=new,
            cancel_booking=old if new is None else None,
        )
    session.flush()
    return [req for req, _b in affected]


def mark_session_held(session: Session, tsession: TongtongSession, *, actor, now: dt.datetime) -> None:
    """The session took place; unserved waiting requests carry over to the next sessions."""
    require_staff(actor)
    if tsession.status != SESSION_SCHEDULED:
        raise InvalidTransition(_("예정된 회차만 진행 완료로 바꿀 수 있습니다."))
    if tsession.start_at > now:
        raise InvalidTransition(_("아직 열리지 않은 회차입니다."))
    tsession.status = SESSION_HELD
    tsession.sequence += 1
    tsession.updated_at = now
    session.flush()
    carry_over(session, actor=actor, now=now)
    session.flush()


def session_moved(session: Session, booking: MeetingBooking, *, reason: str, actor, now: dt.datetime) -> None:
    """Tell a booked citizen that the session moved; the invitation keeps its UID."""
    req = booking.request
    note = ko(
        "면담 일시가 %(when)s(으)로 바뀌었습니다 (사유: %(reason)s).",
        when=ko_datetime(booking.start_at),
        reason=reason,
    )
    add_event(session, req, "session_moved", note, actor=actor, now=now)
    notify(
        session,
        req,
        f"moved-{booking.id}-{booking.sequence}",
        ko("면담 일시 변경 안내"),
        now=now,
        booking=booking,
    )
