"""Rules of 통통데이 requests: submission, review decisions, booking, waiting list, outcome.

Every function takes the session, the acting user and ``now``; it flushes, never commits.
Booking relies on the database: ``meeting_bookings.slot_id`` is UNIQUE and the insert uses
ON CONFLICT DO NOTHING, so of many concurrent bookings of one slot exactly one wins.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civic_app.dongs.models import Department, Host
from civic_app.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from civic_app.ical import CalEvent, build_calendar
from civic_app.integrity import allocator
from civic_app.meetings.models import (
    ACTIVE_STATUSES,
    ANSWER_DAYS_DEFAULT,
    CATEGORIES,
    ROOM_NAME,
    ROUTE_DECLINED,
    ROUTE_DEPUTY,
    ROUTE_DIRECTOR,
    ROUTE_MAYOR,
    ROUTE_REFERRAL,
    ROUTE_WRITTEN,
    SESSION_SCHEDULED,
    SLOT_HOST,
    SLOT_ROOM,
    SLOT_TONGTONG,
    ST_ANSWERED,
    ST_BOOKED,
    ST_DECLINED,
    ST_HELD,
    ST_REFERRED,
    ST_SUBMITTED,
    ST_WAITLISTED,
    ST_WITHDRAWN,
    FollowUp,
    MeetingBooking,
    MeetingRequest,
    MeetingSlot,
    RequestEvent,
    TongtongSession,
)
from civic_app.notify.services import enqueue_email, enqueue_telegram
from civic_app.timeutil import SEOUL, to_seoul, today_seoul
from civic_app.web.filters import format_datetime

CONSENT_VERSION = "tongtong-2026-11"
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
# extension → (content type, magic prefixes)
ATTACHMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}
STAFF_ROLES = frozenset({"civic_staff", "admin"})

REASON_CODES: dict[str, object] = {
    "mayor_priority": _l("시장 직접 면담이 필요한 사안"),
    "mayor_full": _l("시장 면담 일정이 가득 참"),
    "field_host": _l("소관 분야 책임자가 바로 답할 수 있는 사안"),
    "urgent": _l("빠른 면담이 필요해 가장 가까운 일정으로 배정"),
    "department_matter": _l("담당 부서 처리로 충분한 사안"),
    "duplicate": _l("같은 내용의 신청이 이미 처리 중"),
    "out_of_scope": _l("시 소관이 아닌 사안"),
    "insufficient": _l("신청 내용이 부족함"),
}


# The reasons that fit each decision (the form of each lists only its own; the first is the
# default): a decline never defaults to "the mayor must meet this".
REASONS_BY_ACTION: dict[str, tuple[str, ...]] = {
    "mayor": ("mayor_priority", "urgent"),
    "fallback": ("mayor_full", "field_host", "urgent"),
    "written": ("department_matter", "duplicate", "insufficient", "out_of_scope"),
    "decline": ("out_of_scope", "duplicate", "insufficient"),
}


def action_of_route(route: str) -> str:
    return {
        ROUTE_MAYOR: "mayor",
        ROUTE_DEPUTY: "fallback",
        ROUTE_DIRECTOR: "fallback",
        ROUTE_WRITTEN: "written",
        ROUTE_REFERRAL: "written",
        ROUTE_DECLINED: "decline",
    }[route]


def reason_label(code: str | None) -> str:
    return str(REASON_CODES.get(code or "", code or ""))


def route_label(route: str | None) -> str:
    return str(
        {
            ROUTE_MAYOR: _l("시장 면담"),
            ROUTE_DEPUTY: _l("부시장 면담"),
            ROUTE_DIRECTOR: _l("실·국·소장 면담"),
            ROUTE_WRITTEN: _l("서면 답변"),
            ROUTE_REFERRAL: _l("부서 이관"),
            ROUTE_DECLINED: _l("불채택"),
        }.get(route or "", "")
    )


def status_label(status: str) -> str:
    return str(
        {
            ST_SUBMITTED: _l("검토 대기"),
            ST_WAITLISTED: _l("면담 대기"),
            ST_BOOKED: _l("면담 확정"),
            ST_HELD: _l("면담 완료"),
            ST_REFERRED: _l("부서 답변 대기"),
            ST_ANSWERED: _l("답변 완료"),
            ST_DECLINED: _l("불채택"),
            ST_WITHDRAWN: _l("신청 철회"),
        }.get(status, status)
    )


# --- helpers -------------------------------------------------------------------------------------
def is_staff(actor) -> bool:
    return actor is not None and bool(actor.role_set & STAFF_ROLES)


def _require_staff(actor) -> None:
    if not is_staff(actor):
        raise NotAllowed(_("면담 신청을 검토할 권한이 없습니다."))


def is_department_of(actor, department_id: int | None) -> bool:
    """A department account of ``department_id`` (the department a request or follow-up was
    handed to)."""
    return (
        actor is not None
        and department_id is not None
        and "department" in actor.role_set
        and getattr(actor, "department_id", None) == department_id
    )


def _require_staff_or_department(actor, department_id: int | None) -> None:
    if not (is_staff(actor) or is_department_of(actor, department_id)):
        raise NotAllowed(_("이 일을 처리할 권한이 없습니다."))


def _require_owner(req: MeetingRequest, actor) -> None:
    if actor is None or req.requester_id != actor.id:
        raise NotAllowed(_("본인의 신청만 바꿀 수 있습니다."))


def _transition(req: MeetingRequest, status: str, now: dt.datetime) -> None:
    if not req.can_transition_to(status):
        raise InvalidTransition(_("지금 상태에서는 이 처리를 할 수 없습니다."))
    req.status = status
    req.updated_at = now


def add_event(
    session: Session, req: MeetingRequest, kind: str, note: str, *, actor, now: dt.datetime
) -> None:
    events = req.events  # load the collection first: a load after the append would repeat it
    events.append(RequestEvent(at=now, kind=kind, note=note, actor_id=getattr(actor, "id", None)))


def next_code(session: Session, year: int) -> str:
    """``TT-YYYY-NNNN`` from the year's counter row, locked until the transaction ends: two
    submissions at once get two numbers, and a rolled-back one gives its number back."""
    prefix = f"TT-{year}-"

    def highest() -> int:  # codes written before the counter existed
        last = session.scalar(
            select(MeetingRequest.code)
            .where(MeetingRequest.code.like(prefix + "%"))
            .order_by(func.length(MeetingRequest.code).desc(), MeetingRequest.code.desc())
            .limit(1)
        )
        return int(last.rsplit("-", 1)[1]) if last and last.rsplit("-", 1)[1].isdigit() else 0

    number = allocator.next_value(session, "meeting_request_code", str(year), floor=highest)
    return f"{prefix}{number:04d}"


def check_attachment(filename: str, data: bytes) -> tuple[str, str]:
    """Return (extension, content type) or raise: only PDF/PNG/JPEG up to 5 MB."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in ATTACHMENT_TYPES:
        raise ValidationFailed(
            _("첨부 파일은 PDF, PNG, JPG만 올릴 수 있습니다."),
            [("attachment", _("첨부 파일은 PDF, PNG, JPG만 올릴 수 있습니다."))],
        )
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(
            _("첨부 파일은 5MB 이하여야 합니다."), [("attachment", _("첨부 파일은 5MB 이하여야 합니다."))]
        )
    content_type, magics = ATTACHMENT_TYPES[ext]
    if not any(data.startswith(m) for m in magics):
        raise ValidationFailed(
            _("파일 내용이 확장자와 맞지 않습니다."),
            [("attachment", _("파일 내용이 확장자와 맞지 않습니다."))],
        )
    return ext, content_type


# --- submission ------------------------------------------------------------------------------------
def submit_request(
    session: Session,
    *,
    actor,
    now: dt.datetime,
    topic: str,
    category: str,
    desired_outcome: str,
    dong_id: int | None,
    is_group: bool,
    party_size: int,
    preferred_session_ids: list[int],
    accessibility: str | None,
    consent: bool,
    publish_consent: bool,
    attachment: tuple[str, bytes] | None = None,
    upload_dir: str | None = None,
    walk_in: bool = False,
    requester: dict | None = None,
) -> MeetingRequest:
    """A citizen's request (or a walk-in logged by staff with ``requester`` data)."""
    errors: list[tuple[str, str]] = []
    if not consent:
        errors.append(("consent", _("개인정보 수집·이용에 동의해야 신청할 수 있습니다.")))
    if not topic.strip():
        errors.append(("topic", _("면담 주제를 입력해 주세요.")))
    if category not in CATEGORIES:
        errors.append(("category", _("분야를 골라 주세요.")))
    if not desired_outcome.strip():
        errors.append(("desired_outcome", _("바라는 내용을 입력해 주세요.")))
    if not 1 <= party_size <= 30:
        errors.append(("party_size", _("참석 인원은 1명에서 30명 사이여야 합니다.")))
    if walk_in:
        _require_staff(actor)
        if not requester or not (requester.get("name") or "").strip():
            errors.append(("requester_name", _("신청인 이름을 입력해 주세요.")))
    if errors:
        raise ValidationFailed(_("입력 내용을 확인해 주세요."), errors)
    ext = content_type = None
    if attachment is not None:
        ext, content_type = check_attachment(attachment[0], attachment[1])
    if walk_in:
        assert requester is not None
        name, phone, email, requester_id = (
            requester["name"].strip(),
            requester.get("phone") or None,
            requester.get("email") or None,
            None,
        )
    else:
        name, phone, email, requester_id = actor.name, actor.phone, actor.email, actor.id
    valid_sessions = set(
        session.scalars(
            select(TongtongSession.id).where(
                TongtongSession.id.in_(preferred_session_ids or [0]),
                TongtongSession.status == SESSION_SCHEDULED,
            )
        )
    )
    req = MeetingRequest(
        code=next_code(session, to_seoul(now).year),
        requester_id=requester_id,
        requester_name=name,
        requester_phone=phone,
        requester_email=email,
        topic=topic.strip(),
        category=category,
        desired_outcome=desired_outcome.strip(),
        dong_id=dong_id or None,
        is_group=is_group,
        party_size=party_size,
        preferred_session_ids=[i for i in preferred_session_ids if i in valid_sessions],
        accessibility=(accessibility or "").strip() or None,
        consent_at=now,
        consent_version=CONSENT_VERSION,
        publish_consent=publish_consent,
        walk_in=walk_in,
        status=ST_SUBMITTED,
        queue_since=now,
        created_at=now,
        updated_at=now,
    )
    session.add(req)
    session.flush()
    if attachment is not None and upload_dir:
        folder = Path(upload_dir)
        folder.mkdir(parents=True, exist_ok=True)
        stored = f"{uuid.uuid4().hex}.{ext}"
        (folder / stored).write_bytes(attachment[1])
        req.attachment_name = Path(attachment[0]).name[:200]
        req.attachment_path = stored
        req.attachment_type = content_type
    add_event(
        session,
        req,
        "submitted",
        _("방문 접수했습니다.") if walk_in else _("신청을 접수했습니다. 담당자가 검토합니다."),
        actor=actor,
        now=now,
    )
    _notify(session, req, "submitted", _("[통통데이] 신청을 접수했습니다 (%(code)s)", code=req.code), now=now)
    session.flush()
    return req


def log_walk_in(
    session: Session, *, actor, now: dt.datetime, room_start: dt.datetime, room_minutes: int = 30, **data
) -> MeetingRequest:
    """A walk-in or group visit: a request on the citizen's behalf and the 상담실 booked."""
    _require_staff(actor)
    req = submit_request(session, actor=actor, now=now, walk_in=True, **data)
    slot = MeetingSlot(
        kind=SLOT_ROOM,
        host_id=None,
        start_at=room_start,
        end_at=room_start + dt.timedelta(minutes=room_minutes),
        location=ROOM_NAME,
        active=True,
        created_at=now,
    )
    overlap = session.scalar(
        select(func.count(MeetingBooking.id))
        .join(MeetingSlot, MeetingBooking.slot_id == MeetingSlot.id)
        .where(
            MeetingSlot.kind == SLOT_ROOM,
            MeetingSlot.start_at < slot.end_at,
            MeetingSlot.end_at > slot.start_at,
        )
    )
    if overlap:
        raise ValidationFailed(
            _("그 시간에는 직소민원 상담실이 이미 예약되어 있습니다."),
            [("room_start", _("그 시간에는 직소민원 상담실이 이미 예약되어 있습니다."))],
        )
    session.add(slot)
    session.flush()
    booking = _insert_booking(session, req, slot, now=now)
    assert booking is not None  # a fresh slot cannot be taken
    add_event(session, req, "room", _("직소민원 상담실에서 상담합니다."), actor=actor, now=now)
    return req


# --- citizen changes ---------------------------------------------------------------------------------
def _before_deadline(req: MeetingRequest, now: dt.datetime) -> None:
    booking = req.active_booking
    if booking is not None and today_seoul(now) >= to_seoul(booking.start_at).date():
        raise InvalidTransition(_("면담 전날까지만 바꿀 수 있습니다."))


def withdraw(session: Session, req: MeetingRequest, *, actor, now: dt.datetime) -> None:
    _require_owner(req, actor)
    if req.status not in ACTIVE_STATUSES:
        raise InvalidTransition(_("지금 상태에서는 신청을 철회할 수 없습니다."))
    _before_deadline(req, now)
    freed = _release_active(session, req, now=now)
    _transition(req, ST_WITHDRAWN, now)
    add_event(session, req, "withdrawn", _("신청인이 신청을 철회했습니다."), actor=actor, now=now)
    _notify(
        session,
        req,
        "withdrawn",
        _("[통통데이] 신청 철회 확인 (%(code)s)", code=req.code),
        now=now,
        cancel_booking=freed,
    )
    if freed is not None and freed.tongtong_session is not None:
        promote_waitlist(session, freed.tongtong_session, actor=None, now=now)
    session.flush()


def ask_other_session(
    session: Session, req: MeetingRequest, *, session_id: int, actor, now: dt.datetime
) -> str:
    """The citizen asks for another 통통데이 session; the queue place is kept.

    Before a booking the choice replaces the preferred sessions (a waiting request is booked
    there when it has a free place). A booked citizen's choice becomes a change request that
    staff see flagged in the queue; the booking moves only when staff accept it. Returns
    ``"changed"`` or ``"requested"``."""
    _require_owner(req, actor)
    if req.status not in ACTIVE_STATUSES:
        raise InvalidTransition(_("지금 상태에서는 회차를 바꿀 수 없습니다."))
    _before_deadline(req, now)
    target = session.get(TongtongSession, session_id)
    if target is None or target.status != SESSION_SCHEDULED or target.start_at <= now:
        raise ValidationFailed(_("고를 수 없는 회차입니다."), [("session_id", _("고를 수 없는 회차입니다."))])
    booking = req.active_booking
    if req.status == ST_BOOKED and booking is not None:
        if booking.session_id == target.id:
            raise ValidationFailed(
                _("이미 이 회차로 예약되어 있습니다."),
                [("session_id", _("이미 이 회차로 예약되어 있습니다."))],
            )
        req.change_session = target
        req.change_requested_at = now
        req.updated_at = now
        add_event(
            session,
            req,
            "change_requested",
            _(
                "신청인이 %(when)s 회차로 바꾸기를 요청했습니다. 담당자가 확인할 때까지 지금 예약(%(now)s)은 "
                "그대로입니다.",
                when=format_datetime(target.start_at),
                now=format_datetime(booking.start_at),
            ),
            actor=actor,
            now=now,
        )
        _notify(
            session,
            req,
            f"change-requested-{target.id}-{len(req.events)}",
            _("[통통데이] 회차 변경 요청 접수 (%(code)s)", code=req.code),
            now=now,
        )
        session.flush()
        return "requested"
    req.preferred_session_ids = [target.id]
    req.updated_at = now
    add_event(
        session,
        req,
        "reschedule",
        _("신청인이 %(when)s 회차를 희망했습니다.", when=format_datetime(target.start_at)),
        actor=actor,
        now=now,
    )
    if req.status == ST_WAITLISTED:
        carry_over(session, actor=actor, now=now)
    session.flush()
    return "changed"


def accept_change(session: Session, req: MeetingRequest, *, actor, now: dt.datetime) -> MeetingBooking:
    """Staff accept a booked citizen's change request: the booking moves to the asked session
    (the invitation keeps its UID with a higher SEQUENCE) and the freed place goes to the
    waiting list."""
    from civic_app.errors import Conflict

    _require_staff(actor)
    target = session.get(TongtongSession, req.change_session_id) if req.change_session_id else None
    if target is None or req.status != ST_BOOKED or req.active_booking is None:
        raise InvalidTransition(_("처리할 회차 변경 요청이 없습니다."))
    if target.status != SESSION_SCHEDULED or target.start_at <= now:
        raise ValidationFailed(
            _("요청한 회차는 더 이상 예약할 수 없습니다. 요청을 거절해 주세요."),
            [("change", _("요청한 회차는 더 이상 예약할 수 없습니다. 요청을 거절해 주세요."))],
        )
    slots = free_slots(session, target)
    if not slots:
        raise Conflict(_("요청한 회차에 남은 자리가 없습니다. 자리가 난 뒤 수락하거나 요청을 거절해 주세요."))
    freed = _release_active(session, req, now=now)
    booking = None
    for slot in slots:
        booking = book_slot(session, req, slot, actor=actor, now=now)
        if booking is not None:
            break
    if booking is None:
        raise Conflict(_("요청한 회차에 남은 자리가 없습니다. 자리가 난 뒤 수락하거나 요청을 거절해 주세요."))
    req.preferred_session_ids = [target.id]
    add_event(session, req, "change_accepted", _("회차 변경 요청을 수락했습니다."), actor=actor, now=now)
    _booked(session, req, booking, actor=actor, now=now)
    if freed is not None and freed.tongtong_session is not None:
        promote_waitlist(session, freed.tongtong_session, actor=actor, now=now)
    session.flush()
    return booking


def reject_change(session: Session, req: MeetingRequest, *, note: str, actor, now: dt.datetime) -> None:
    """Staff turn a change request down; the booking stays and the citizen is told why."""
    _require_staff(actor)
    if req.change_session_id is None:
        raise InvalidTransition(_("처리할 회차 변경 요청이 없습니다."))
    if not note.strip():
        raise ValidationFailed(
            _("거절 사유를 시민에게 알려 주세요."), [("note", _("거절 사유를 시민에게 알려 주세요."))]
        )
    req.change_session = None
    req.change_requested_at = None
    req.updated_at = now
    booking = req.active_booking
    text = _("회차 변경 요청을 받아들이지 못했습니다. 사유: %(r)s.", r=note.strip())
    if booking is not None:
        text += " " + _("지금 예약(%(when)s)은 그대로입니다.", when=format_datetime(booking.start_at))
    add_event(session, req, "change_rejected", text, actor=actor, now=now)
    _notify(
        session,
        req,
        f"change-rejected-{len(req.events)}",
        _("[통통데이] 회차 변경 요청 결과 (%(code)s)", code=req.code),
        now=now,
    )
    session.flush()


# --- booking -----------------------------------------------------------------------------------------
def _insert_booking(session: Session, req: MeetingRequest, slot: MeetingSlot, *, now: dt.datetime):
    """INSERT ... ON CONFLICT (slot_id) DO NOTHING: None when the slot is already taken."""
    session.flush()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = (
        insert(MeetingBooking)
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


def _resolve_host(session: Session, slot: MeetingSlot, booking: MeetingBooking) -> None:
    if booking.host_id is None and slot.kind == SLOT_TONGTONG:
        from civic_app.meetings.schedule import mayor_host

        host = mayor_host(session)
        booking.host = host


def book_slot(session: Session, req: MeetingRequest, slot: MeetingSlot, *, actor, now: dt.datetime):
    """Book ``slot`` for ``req``. Returns the booking, or None when the slot is full (then the
    request waits on the list, keeping its queue place)."""
    if not slot.active or slot.start_at <= now:
        raise ValidationFailed(
            _("이 면담 시간은 예약할 수 없습니다."), [("slot_id", _("이 면담 시간은 예약할 수 없습니다."))]
        )
    if slot.session is not None and slot.session.status != SESSION_SCHEDULED:
        raise ValidationFailed(
            _("취소되었거나 끝난 회차입니다."), [("slot_id", _("취소되었거나 끝난 회차입니다."))]
        )
    booking = _insert_booking(session, req, slot, now=now)
    if booking is None:
        return None
    _resolve_host(session, slot, booking)
    session.flush()
    return booking


def _book_in_session(
    session: Session, req: MeetingRequest, tsession: TongtongSession, *, actor, now: dt.datetime
):
    for slot in free_slots(session, tsession):
        booking = book_slot(session, req, slot, actor=actor, now=now)
        if booking is not None:
            _booked(session, req, booking, actor=actor, now=now)
            return booking
    return None


def free_slots(session: Session, tsession: TongtongSession) -> list[MeetingSlot]:
    taken = set(
        session.scalars(
            select(MeetingBooking.slot_id)
            .join(MeetingSlot, MeetingBooking.slot_id == MeetingSlot.id)
            .where(MeetingSlot.session_id == tsession.id)
        )
    )
    return [s for s in tsession.slots if s.active and s.id not in taken]


def _booked(
    session: Session,
    req: MeetingRequest,
    booking: MeetingBooking,
    *,
    actor,
    now: dt.datetime,
    notify: bool = True,
) -> None:
    _transition(req, ST_BOOKED, now)
    host = session.get(Host, booking.host_id) if booking.host_id else None
    note = _(
        "%(when)s %(host)s 면담이 확정되었습니다 (장소: %(place)s).",
        when=format_datetime(booking.start_at),
        host=host.title if host else _("시장"),
        place=booking.location,
    )
    add_event(session, req, "booked", note, actor=actor, now=now)
    if not notify:
        return
    _notify(
        session,
        req,
        f"booked-{booking.id}",
        _("[통통데이] 면담 일정이 확정되었습니다 (%(code)s)", code=req.code),
        now=now,
        booking=booking,
        host_title=host.title if host else _("시장"),
    )


def _release_active(session: Session, req: MeetingRequest, *, now: dt.datetime) -> MeetingBooking | None:
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


def _upcoming(session: Session, now: dt.datetime, limit: int = 24) -> list[TongtongSession]:
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


def carry_over(
    session: Session, *, actor, now: dt.datetime, quiet: frozenset[int] | set[int] = frozenset()
) -> list[MeetingRequest]:
    """Book the waiting list into free places, oldest queue place first: each waiting request
    takes the first free place among its candidate sessions (its chosen sessions, then the
    next sessions with free places). The queue place (``queue_since``) never changes, so a
    carried-over request keeps its turn. Citizens are e-mailed their new date (except the
    requests in ``quiet``: their caller writes one e-mail saying why and when)."""
    upcoming = _upcoming(session, now)
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
        booking = None
        for tsession in candidate_sessions(req, upcoming):
            slots = free[tsession.id]
            while slots and booking is None:
                booking = book_slot(session, req, slots.pop(0), actor=actor, now=now)
            if booking is not None:
                break
        if booking is None:
            continue
        add_event(
            session,
            req,
            "promoted",
            _(
                "대기 순서가 되어 자리가 배정되었습니다: %(when)s 회차 (대기 순서는 그대로 유지).",
                when=format_datetime(booking.start_at),
            ),
            actor=actor,
            now=now,
        )
        _booked(session, req, booking, actor=actor, now=now, notify=req.id not in quiet)
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
    for booking in bookings:
        req = booking.request
        _release_active(session, req, now=now)
        _transition(req, ST_WAITLISTED, now)
        note = _(
            "%(when)s 회차가 취소되었습니다 (사유: %(reason)s).",
            when=format_datetime(tsession.start_at),
            reason=reason,
        )
        add_event(session, req, "session_cancelled", note, actor=actor, now=now)
        affected.append((req, booking))
    session.flush()
    carry_over(session, actor=actor, now=now, quiet={req.id for req, _b in affected})
    for req, old in affected:
        new = req.active_booking if req.status == ST_BOOKED else None
        if new is not None:
            what = _(
                "%(when)s 회차가 취소되었습니다 (사유: %(reason)s). 대기 순서를 그대로 유지해 %(new)s 회차로 "
                "옮겼습니다.",
                when=format_datetime(tsession.start_at),
                reason=reason,
                new=format_datetime(new.start_at),
            )
        else:
            what = _(
                "%(when)s 회차가 취소되었습니다 (사유: %(reason)s). 남은 자리가 있는 회차가 없어 대기 순서를 "
                "그대로 유지한 채 기다리며, 자리가 나면 바로 배정해 알려 드립니다.",
                when=format_datetime(tsession.start_at),
                reason=reason,
            )
        _notify(
            session,
            req,
            f"cancelled-{tsession.id}-{old.id}",
            _("[통통데이] 회차 취소 안내 (%(code)s)", code=req.code),
            now=now,
            what=what,
            booking=new,
            cancel_booking=old if new is None else None,
        )
    session.flush()
    return [req for req, _b in affected]


def mark_session_held(session: Session, tsession: TongtongSession, *, actor, now: dt.datetime) -> None:
    """The session took place; unserved waiting requests carry over to the next sessions."""
    _require_staff(actor)
    if tsession.status != SESSION_SCHEDULED:
        raise InvalidTransition(_("예정된 회차만 진행 완료로 바꿀 수 있습니다."))
    if tsession.start_at > now:
        raise InvalidTransition(_("아직 열리지 않은 회차입니다."))
    tsession.status = "held"
    tsession.sequence += 1
    tsession.updated_at = now
    session.flush()
    carry_over(session, actor=actor, now=now)
    session.flush()


def session_moved(session: Session, booking: MeetingBooking, *, reason: str, actor, now: dt.datetime) -> None:
    """Tell a booked citizen that the session moved; the invitation keeps its UID."""
    req = booking.request
    host = booking.host
    add_event(
        session,
        req,
        "session_moved",
        _(
            "면담 일시가 %(when)s(으)로 바뀌었습니다 (사유: %(reason)s).",
            when=format_datetime(booking.start_at),
            reason=reason,
        ),
        actor=actor,
        now=now,
    )
    _notify(
        session,
        req,
        f"moved-{booking.id}-{booking.sequence}",
        _("[통통데이] 면담 일시 변경 안내 (%(code)s)", code=req.code),
        now=now,
        booking=booking,
        host_title=host.title if host else _("시장"),
    )


# --- decisions -------------------------------------------------------------------------------------
def _decide(req: MeetingRequest, route: str, reason_code: str, note: str, *, actor, now: dt.datetime) -> None:
    _require_staff(actor)
    if req.status not in (ST_SUBMITTED, ST_WAITLISTED, ST_BOOKED):
        raise InvalidTransition(_("이미 처리가 끝난 신청입니다."))
    if reason_code not in REASONS_BY_ACTION[action_of_route(route)]:
        raise ValidationFailed(_("사유를 골라 주세요."), [("reason_code", _("사유를 골라 주세요."))])
    req.route = route
    req.reason_code = reason_code
    req.decision_note = note.strip() or None
    req.decided_at = now
    req.decided_by_id = actor.id


def _decision_note(req: MeetingRequest) -> str:
    text = _(
        "결정: %(route)s. 사유: %(reason)s.",
        route=route_label(req.route),
        reason=reason_label(req.reason_code),
    )
    if req.decision_note:
        text += " " + req.decision_note
    return text


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
    _decide(req, ROUTE_MAYOR, reason_code, note, actor=actor, now=now)
    freed = _release_active(session, req, now=now)
    add_event(session, req, "decided", _decision_note(req), actor=actor, now=now)
    booking = None
    if slot is not None:
        if slot.kind != SLOT_TONGTONG:
            raise ValidationFailed(
                _("통통데이 면담 시간을 골라 주세요."), [("slot_id", _("통통데이 면담 시간을 골라 주세요."))]
            )
        booking = book_slot(session, req, slot, actor=actor, now=now)
        if booking is not None:
            _booked(session, req, booking, actor=actor, now=now)
    else:
        # No slot chosen: the request's candidate sessions (its chosen ones, then later ones).
        # A slot staff chose that is already taken puts the request on the waiting list: the
        # database decides which of two concurrent decisions gets a slot.
        for tsession in candidate_sessions(req, _upcoming(session, now)):
            booking = _book_in_session(session, req, tsession, actor=actor, now=now)
            if booking is not None:
                break
    if booking is None:
        if req.status != ST_WAITLISTED:
            _transition(req, ST_WAITLISTED, now)
        add_event(
            session,
            req,
            "full",
            _(
                "선택한 면담 시간이 이미 찼습니다. 대기 명단에 올렸고, 자리가 나면 신청 순서대로 자동 배정합니다."
            ),
            actor=actor,
            now=now,
        )
        _notify(
            session,
            req,
            f"waitlisted-{req.id}-{len(req.events)}",
            _("[통통데이] 면담 대기 안내 (%(code)s)", code=req.code),
            now=now,
            cancel_booking=freed,
        )
    if freed is not None and freed.tongtong_session is not None:
        promote_waitlist(session, freed.tongtong_session, actor=actor, now=now)
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
        raise ValidationFailed(
            _("부시장·실국소장 면담 시간을 골라 주세요."),
            [("slot_id", _("부시장·실국소장 면담 시간을 골라 주세요."))],
        )
    if not note.strip():
        raise ValidationFailed(
            _("시장 면담이 아닌 이유를 시민에게 알려 주세요."),
            [("note", _("시장 면담이 아닌 이유를 시민에게 알려 주세요."))],
        )
    route = ROUTE_DEPUTY if slot.host.rank == Host.RANK_DEPUTY else ROUTE_DIRECTOR
    _decide(req, route, reason_code, note, actor=actor, now=now)
    freed = _release_active(session, req, now=now)
    booking = book_slot(session, req, slot, actor=actor, now=now)
    if booking is None:
        from civic_app.errors import Conflict

        raise Conflict(_next_free_host_slot_message(session, slot, now))
    add_event(session, req, "decided", _decision_note(req), actor=actor, now=now)
    _booked(session, req, booking, actor=actor, now=now)
    if freed is not None and freed.tongtong_session is not None:
        promote_waitlist(session, freed.tongtong_session, actor=actor, now=now)
    session.flush()
    return booking


def _next_free_host_slot_message(session: Session, taken: MeetingSlot, now: dt.datetime) -> str:
    """The race loser's answer: the slot is gone, and the same host's next free one."""
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
    _decide(req, route, reason_code, note, actor=actor, now=now)
    due = due or today_seoul(now) + dt.timedelta(days=ANSWER_DAYS_DEFAULT)
    if due < today_seoul(now):
        raise ValidationFailed(
            _("답변 기한은 오늘 이후여야 합니다."), [("due", _("답변 기한은 오늘 이후여야 합니다."))]
        )
    freed = _release_active(session, req, now=now)
    _transition(req, ST_REFERRED, now)
    req.department_id = department.id
    req.answer_due = due
    add_event(
        session,
        req,
        "decided",
        _decision_note(req)
        + " "
        + _("담당: %(dept)s, 답변 기한: %(due)s", dept=department.name, due=due.isoformat()),
        actor=actor,
        now=now,
    )
    _notify(
        session,
        req,
        f"referred-{req.id}",
        _("[통통데이] 신청 처리 안내 (%(code)s)", code=req.code),
        now=now,
        cancel_booking=freed,
    )
    if freed is not None and freed.tongtong_session is not None:
        promote_waitlist(session, freed.tongtong_session, actor=actor, now=now)
    session.flush()


def answer_is_overdue(req: MeetingRequest, now: dt.datetime) -> bool:
    return req.status == ST_REFERRED and req.answer_due is not None and req.answer_due < today_seoul(now)


def record_interim(
    session: Session, req: MeetingRequest, *, text: str, new_due: dt.date, actor, now: dt.datetime
) -> None:
    """The answer slips: an interim answer and a new deadline, both shown to the citizen."""
    _require_staff_or_department(actor, req.department_id)
    if req.status != ST_REFERRED:
        raise InvalidTransition(_("부서 답변 대기 중인 신청만 중간 답변을 남길 수 있습니다."))
    if not text.strip() or new_due <= today_seoul(now):
        raise ValidationFailed(
            _("중간 답변과 오늘 이후의 새 기한을 입력해 주세요."),
            [("text", _("중간 답변과 오늘 이후의 새 기한을 입력해 주세요."))],
        )
    req.interim_answer = text.strip()
    req.interim_at = now
    req.answer_due = new_due
    req.updated_at = now
    add_event(
        session,
        req,
        "interim",
        _("중간 답변: %(t)s (새 기한 %(d)s)", t=text.strip(), d=new_due.isoformat()),
        actor=actor,
        now=now,
    )
    _notify(
        session,
        req,
        f"interim-{len(req.events)}",
        _("[통통데이] 중간 답변 안내 (%(code)s)", code=req.code),
        now=now,
    )
    session.flush()


def record_answer(session: Session, req: MeetingRequest, *, text: str, actor, now: dt.datetime) -> None:
    _require_staff_or_department(actor, req.department_id)
    if not text.strip():
        raise ValidationFailed(_("답변 내용을 입력해 주세요."), [("text", _("답변 내용을 입력해 주세요."))])
    _transition(req, ST_ANSWERED, now)
    req.answer_text = text.strip()
    req.answered_at = now
    add_event(session, req, "answered", _("답변: %(t)s", t=text.strip()), actor=actor, now=now)
    _notify(session, req, f"answered-{req.id}", _("[통통데이] 답변 안내 (%(code)s)", code=req.code), now=now)
    session.flush()


def decline(
    session: Session, req: MeetingRequest, *, reason_code: str, note: str, actor, now: dt.datetime
) -> None:
    if not note.strip():
        raise ValidationFailed(
            _("불채택 사유를 시민에게 알려 주세요."), [("note", _("불채택 사유를 시민에게 알려 주세요."))]
        )
    _decide(req, ROUTE_DECLINED, reason_code, note, actor=actor, now=now)
    freed = _release_active(session, req, now=now)
    _transition(req, ST_DECLINED, now)
    add_event(session, req, "decided", _decision_note(req), actor=actor, now=now)
    _notify(
        session,
        req,
        f"declined-{req.id}",
        _("[통통데이] 신청 처리 안내 (%(code)s)", code=req.code),
        now=now,
        cancel_booking=freed,
    )
    if freed is not None and freed.tongtong_session is not None:
        promote_waitlist(session, freed.tongtong_session, actor=actor, now=now)
    session.flush()


# --- after the meeting -------------------------------------------------------------------------------
def record_outcome(
    session: Session,
    req: MeetingRequest,
    *,
    attended: bool,
    outcome: str,
    public_summary: str,
    actor,
    now: dt.datetime,
    public_url: str | None = None,
) -> None:
    _require_staff(actor)
    booking = req.active_booking
    if req.status != ST_BOOKED or booking is None:
        raise InvalidTransition(_("확정된 면담에만 결과를 기록할 수 있습니다."))
    if booking.start_at > now:
        raise InvalidTransition(_("면담이 끝난 뒤에 결과를 기록할 수 있습니다."))
    if not outcome.strip():
        raise ValidationFailed(
            _("면담 결과를 입력해 주세요."), [("outcome", _("면담 결과를 입력해 주세요."))]
        )
    summary = public_summary.strip()
    if summary and not req.publish_consent:
        raise ValidationFailed(
            _("신청인이 결과 공개에 동의하지 않았습니다."),
            [("public_summary", _("신청인이 결과 공개에 동의하지 않았습니다."))],
        )
    require_public_text(session, req, {"public_summary": summary})
    _transition(req, ST_HELD, now)
    req.attended = attended
    req.outcome = outcome.strip()
    req.held_at = now
    req.public_summary = summary or None
    add_event(
        session,
        req,
        "held",
        (
            _("면담을 마쳤습니다. 결과: %(o)s", o=req.outcome)
            if attended
            else _("신청인이 참석하지 않았습니다.")
        ),
        actor=actor,
        now=now,
    )
    _notify(session, req, f"held-{req.id}", _("[통통데이] 면담 결과 안내 (%(code)s)", code=req.code), now=now)
    if req.public_summary:
        publish_summary(session, req, now=now)
    session.flush()


def require_public_text(session: Session, req: MeetingRequest, fields: dict[str, str | None]) -> None:
    """Refuse text meant for a public surface that carries personal data: the requester's own
    name, phone or e-mail in any shape, any phone or e-mail, or the name of any citizen."""
    from civic_app.accounts.models import User
    from civic_app.privacy import guard

    names, phones, emails = req.personal_data()
    account = session.get(User, req.requester_id) if req.requester_id else None
    if account is not None:
        names.append(account.name)
        phones.append(account.phone or "")
        emails.append(account.email)
    guard.require_public(fields, [*names, *guard.known_names(session)], phones=phones, emails=emails)


def publish_summary(session: Session, req: MeetingRequest, *, now: dt.datetime) -> None:
    """A public Telegram post: category, dong, host and the consented summary written by staff.
    The citizen's own topic text is left out: it may name people."""
    if not (req.publish_consent and req.public_summary):
        return
    lines = [f"분야: {req.category}"]
    if req.dong is not None:
        lines.append(f"동: {req.dong.name}")
    host = req.active_booking.host if req.active_booking else None
    if host is not None:
        lines.append(f"면담: {host.title}")
    enqueue_telegram(
        session,
        kind="tongtong_summary",
        payload={
            "title": f"통통데이 면담 결과 · {req.category}" + (f" · {req.dong.name}" if req.dong else ""),
            "summary": req.safe_summary,
            "url": f"/tongtong/summaries/{req.id}",
            "lines": lines,
        },
        dedupe_key=f"tongtong-summary-{req.id}",
        subject_ref=f"meeting:{req.id}",
        now=now,
    )


def add_followup(
    session: Session,
    req: MeetingRequest,
    *,
    title: str,
    department: Department | None,
    due_date: dt.date,
    local_budget: bool,
    actor,
    now: dt.datetime,
) -> FollowUp:
    """A follow-up action; a local budget matter also becomes an item on the dong's card."""
    _require_staff(actor)
    errors = []
    if not title.strip():
        errors.append(("title", _("후속 조치 내용을 입력해 주세요.")))
    if local_budget and req.dong_id is None:
        errors.append(
            ("local_budget", _("지역 예산 사안은 관련 동이 있어야 동 관리카드로 넘길 수 있습니다."))
        )
    if errors:
        raise ValidationFailed(_("입력 내용을 확인해 주세요."), errors)
    if req.status not in (ST_HELD, ST_ANSWERED, ST_REFERRED):
        raise InvalidTransition(_("면담이나 답변 뒤에 후속 조치를 기록할 수 있습니다."))
    # the title is shown on the public summary page and on the dong's public card
    require_public_text(session, req, {"title": title.strip()})
    item = FollowUp(
        request_id=req.id,
        title=title.strip(),
        department_id=department.id if department else None,
        due_date=due_date,
        local_budget=local_budget,
        status="open",
        created_at=now,
    )
    session.add(item)
    session.flush()
    if local_budget:
        from civic_app.cards.services import create_item

        card = create_item(
            session,
            dong_id=req.dong_id,
            title=title.strip(),
            description=f"통통데이 {req.code}: {req.safe_topic}",
            category=req.category,
            source_kind="meeting",
            source_ref=req.id,
            actor_id=actor.id,
            now=now,
            department_id=department.id if department else None,
        )
        item.card_item_id = card.id
    if item not in req.followups:
        req.followups.append(item)
    note = _("후속 조치: %(t)s (기한 %(d)s)", t=item.title, d=due_date.isoformat())
    if local_budget:
        note += " " + _("동 관리카드에 올렸습니다.")
    add_event(session, req, "followup", note, actor=actor, now=now)
    session.flush()
    return item


def complete_followup(session: Session, item: FollowUp, *, note: str, actor, now: dt.datetime) -> None:
    _require_staff_or_department(actor, item.department_id)
    if item.status != "open":
        raise InvalidTransition(_("이미 끝난 후속 조치입니다."))
    item.status = "done"
    item.done_at = now
    item.done_note = note.strip() or None
    add_event(
        session, item.request, "followup_done", _("후속 조치 완료: %(t)s", t=item.title), actor=actor, now=now
    )
    session.flush()


def _department_addresses(session: Session, department_id: int | None) -> list[str]:
    from civic_app.accounts.models import User, UserRole

    if department_id is None:
        return []
    return list(
        session.scalars(
            select(User.email)
            .join(UserRole, UserRole.user_id == User.id)
            .where(User.department_id == department_id, UserRole.role == "department", User.active.is_(True))
            .order_by(User.id)
        ).unique()
    )


def remind_overdue(session: Session, *, now: dt.datetime, staff_email: str | None = None) -> list[FollowUp]:
    """Overdue follow-ups get one reminder a day, at the accounts of the department that owns
    them (and at the office mailbox ``staff_email`` when set); so do written answers past their
    deadline."""
    today = today_seoul(now)
    items = session.scalars(
        select(FollowUp).where(FollowUp.status == "open", FollowUp.due_date < today)
    ).all()
    link = absolute_url("/department/tongtong")
    for item in items:
        if item.reminded_at is not None and to_seoul(item.reminded_at).date() == today:
            continue
        item.reminded_at = now
        body = "\n".join(
            [
                _(
                    "신청 %(code)s의 후속 조치 기한(%(d)s)이 지났습니다.",
                    code=item.request.code,
                    d=item.due_date.isoformat(),
                ),
                _("후속 조치: %(t)s", t=item.title),
                _("진행 상황을 기록하거나 끝났으면 완료로 바꿔 주세요."),
                "",
                _("업무 화면: %(url)s", url=link),
            ]
        )
        for address in [
            *_department_addresses(session, item.department_id),
            *([staff_email] if staff_email else []),
        ]:
            enqueue_email(
                session,
                to=address,
                subject=_("[통통데이] 기한이 지난 후속 조치: %(t)s", t=item.title),
                body=body,
                kind="tongtong_followup_reminder",
                dedupe_key=f"tongtong-followup-{item.id}-{today.isoformat()}-{address}",
                now=now,
            )
    answers = session.scalars(
        select(MeetingRequest).where(
            MeetingRequest.status == ST_REFERRED,
            MeetingRequest.answer_due.is_not(None),
            MeetingRequest.answer_due < today,
        )
    ).all()
    for req in answers:
        body = "\n".join(
            [
                _(
                    "신청 %(code)s의 답변 기한(%(d)s)이 지났습니다. 답변하거나, 늦어지면 새 기한과 함께 중간 답변을 남겨 "
                    "주세요 (시민에게 이메일로 갑니다).",
                    code=req.code,
                    d=req.answer_due.isoformat(),
                ),
                "",
                _("업무 화면: %(url)s", url=link),
            ]
        )
        for address in [
            *_department_addresses(session, req.department_id),
            *([staff_email] if staff_email else []),
        ]:
            enqueue_email(
                session,
                to=address,
                subject=_("[통통데이] 답변 기한이 지났습니다 (%(code)s)", code=req.code),
                body=body,
                kind="tongtong_answer_reminder",
                dedupe_key=f"tongtong-answer-{req.id}-{today.isoformat()}-{address}",
                now=now,
            )
    session.flush()
    return items


def get_request(session: Session, request_id: int) -> MeetingRequest:
    req = session.get(MeetingRequest, request_id)
    if req is None:
        raise NotFound(_("신청을 찾을 수 없습니다."))
    return req


# --- notices -----------------------------------------------------------------------------------------
def invitation_uid(req: MeetingRequest) -> str:
    """One UID for the citizen's invitation to the request's meeting, whatever booking holds it."""
    return f"meeting-request-{req.id}@civic_app"


def _mail_from_address() -> str:
    from email.utils import parseaddr

    from flask import current_app

    return parseaddr(current_app.config.get("MAIL_FROM", ""))[1] or "no-reply@civic.example.kr"


def invitation_ics(
    req: MeetingRequest, booking: MeetingBooking, host_title: str, *, cancel: bool, now: dt.datetime
) -> str:
    """The citizen's invitation (RFC 5546): METHOD:REQUEST for a new or changed meeting,
    METHOD:CANCEL when it ends; the same UID each time and a SEQUENCE that rises on every one."""
    sequence = req.ics_sequence or 0
    req.ics_sequence = sequence + 1
    event = CalEvent(
        uid=invitation_uid(req),
        start=booking.start_at,
        end=booking.end_at,
        summary=f"통통데이 면담 ({host_title})",
        dtstamp=now,
        sequence=sequence,
        status="CANCELLED" if cancel else "CONFIRMED",
        location=booking.location,
        description=f"{req.code}",
        url=request_url(req),
        organizer=_mail_from_address(),
        attendees=(req.requester_email,) if req.requester_email else (),
    )
    method = "CANCEL" if cancel else "REQUEST"
    return build_calendar([event], name="통통데이", method=method).decode()


def absolute_url(path: str) -> str:
    """PUBLIC_BASE_URL + path: e-mails are read outside the site."""
    from flask import current_app

    return current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/") + path


def request_url(req: MeetingRequest) -> str:
    """The citizen's page of the request (a walk-in without an account: the public page)."""
    return absolute_url(f"/tongtong/requests/{req.code}" if req.requester_id else "/tongtong")


def _next_step(req: MeetingRequest) -> str:
    if req.status == ST_SUBMITTED:
        return _("담당자가 검토한 뒤 결과를 알려 드립니다.")
    if req.status == ST_WAITLISTED:
        return _(
            "대기 순서를 그대로 유지하며, 자리가 나는 가장 가까운 회차에 자동으로 배정하고 알려 드립니다."
        )
    if req.status == ST_BOOKED:
        if req.change_session_id is not None:
            return _("담당자가 회차 변경 요청을 확인하면 결과를 알려 드립니다.")
        return _(
            "면담 전날까지 철회하거나 다른 회차를 요청할 수 있습니다. 면담 전 근무일에 알림을 한 번 더 보내 드립니다."
        )
    if req.status == ST_REFERRED:
        due = req.answer_due.isoformat() if req.answer_due else ""
        dept = req.department.name if req.department else ""
        return _("%(dept)s에서 %(due)s까지 답변합니다.", dept=dept, due=due)
    if req.status == ST_HELD:
        return _("후속 조치가 정해지면 진행 상황을 신청 화면에서 확인할 수 있습니다.")
    if req.status == ST_ANSWERED:
        return _("더 궁금한 점은 새로 신청해 주세요.")
    if req.status == ST_DECLINED:
        return _("다른 방법이 필요하면 언제든 새로 신청할 수 있습니다.")
    return _("신청이 끝났습니다. 필요하면 언제든 새로 신청할 수 있습니다.")


def _why(req: MeetingRequest) -> str:
    """Why: the decision and its reason (a fallback says why not the mayor)."""
    if not req.route:
        return ""
    text = _(
        "결정: %(route)s. 사유: %(reason)s.",
        route=route_label(req.route),
        reason=reason_label(req.reason_code),
    )
    if req.route in (ROUTE_DEPUTY, ROUTE_DIRECTOR):
        text = _("시장 면담이 아닌 이유: %(reason)s.", reason=reason_label(req.reason_code)) + " " + text
    if req.decision_note:
        text += " " + req.decision_note
    return text


def _notify(
    session: Session,
    req: MeetingRequest,
    key: str,
    subject: str,
    *,
    now: dt.datetime,
    booking: MeetingBooking | None = None,
    host_title: str | None = None,
    cancel_booking: MeetingBooking | None = None,
    what: str | None = None,
) -> None:
    """E-mail the requester through the outbox (walk-ins without an address get none): what
    happened, why, what happens next and the absolute link to the request's page. A booking
    attaches the invitation (REQUEST); ``cancel_booking`` attaches its cancellation when an
    invitation was sent before."""
    if not req.requester_email:
        return
    what = what if what is not None else (req.events[-1].note if req.events else "")
    lines = [
        _("신청 번호: %(code)s", code=req.code),
        _("주제: %(t)s", t=req.topic),
        _("현재 상태: %(s)s", s=status_label(req.status)),
        "",
        _("무슨 일이 있었나요: %(t)s", t=what),
    ]
    why = _why(req)
    if why:
        lines.append(_("왜: %(t)s", t=why))
    active = booking or req.active_booking
    if active is not None and req.status == ST_BOOKED:
        lines.append(
            _(
                "면담 일시: %(when)s, 장소: %(place)s",
                when=format_datetime(active.start_at),
                place=active.location,
            )
        )
    lines += [_("다음 단계: %(t)s", t=_next_step(req)), "", _("신청 화면: %(url)s", url=request_url(req))]
    attachments = []
    if booking is not None:
        host = session.get(Host, booking.host_id) if booking.host_id else None
        title = host_title or (host.title if host else _("시장"))
        attachments.append(
            {
                "filename": "tongtong.ics",
                "content_type": "text/calendar",
                "content": invitation_ics(req, booking, title, cancel=False, now=now),
                "method": "REQUEST",
            }
        )
    elif cancel_booking is not None and (req.ics_sequence or 0) > 0:
        host = session.get(Host, cancel_booking.host_id) if cancel_booking.host_id else None
        attachments.append(
            {
                "filename": "tongtong.ics",
                "content_type": "text/calendar",
                "content": invitation_ics(
                    req, cancel_booking, host.title if host else _("시장"), cancel=True, now=now
                ),
                "method": "CANCEL",
            }
        )
    enqueue_email(
        session,
        to=req.requester_email,
        subject=subject,
        body="\n".join(lines),
        kind="tongtong_notice",
        dedupe_key=f"tongtong-{req.id}-{key}",
        now=now,
        attachments=attachments,
        subject_ref=f"meeting:{req.id}",
    )


def previous_working_day(calendar, day: dt.date) -> dt.date:
    other = day - dt.timedelta(days=1)
    for _i in range(30):
        if calendar.is_working_day(other):
            return other
        other -= dt.timedelta(days=1)
    return day - dt.timedelta(days=1)


def send_meeting_reminders(session: Session, *, now: dt.datetime) -> list[MeetingBooking]:
    """On the working day before a meeting (or later, before the meeting day, when the daily
    run was missed), e-mail the citizen a reminder once."""
    from civic_app.workdays.services import WorkCalendar

    today = today_seoul(now)
    horizon = now + dt.timedelta(days=31)
    bookings = session.scalars(
        select(MeetingBooking)
        .join(MeetingRequest, MeetingBooking.request_id == MeetingRequest.id)
        .where(
            MeetingBooking.active.is_(True),
            MeetingBooking.start_at > now,
            MeetingBooking.start_at < horizon,
            MeetingRequest.status == ST_BOOKED,
        )
        .order_by(MeetingBooking.start_at)
    ).all()
    if not bookings:
        return []
    calendar = WorkCalendar.load(
        session, today - dt.timedelta(days=31), horizon.date() + dt.timedelta(days=1)
    )
    sent = []
    for booking in bookings:
        req = booking.request
        day = to_seoul(booking.start_at).date()
        if not (previous_working_day(calendar, day) <= today < day) or not req.requester_email:
            continue
        host = booking.host
        what = _(
            "%(when)s %(host)s 면담이 다가왔습니다 (장소: %(place)s).",
            when=format_datetime(booking.start_at),
            host=host.title if host else _("시장"),
            place=booking.location,
        )
        _notify(
            session,
            req,
            f"reminder-{booking.id}-{day.isoformat()}",
            _(
                "[통통데이] 면담 알림: %(when)s (%(code)s)",
                when=format_datetime(booking.start_at),
                code=req.code,
            ),
            now=now,
            what=what,
        )
        sent.append(booking)
    session.flush()
    return sent


def seoul_slot_time(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SEOUL).astimezone(dt.UTC)
