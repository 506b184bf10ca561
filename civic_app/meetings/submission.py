"""The citizen's side of a request: submitting it (or staff logging a walk-in), withdrawing it and
asking for another session."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civic_app.errors import InvalidTransition, ValidationFailed
from civic_app.integrity import allocator
from civic_app.meetings.base import add_event, field_error, require_owner, require_staff, transition
from civic_app.meetings.booking import carry_over, give_back, insert_booking, release_active
from civic_app.meetings.models import (
    ACTIVE_STATUSES,
    CATEGORIES,
    ROOM_NAME,
    SESSION_SCHEDULED,
    SLOT_ROOM,
    ST_BOOKED,
    ST_SUBMITTED,
    ST_WAITLISTED,
    ST_WITHDRAWN,
    MeetingBooking,
    MeetingRequest,
    MeetingSlot,
    TongtongSession,
)
from civic_app.meetings.notices import notify
from civic_app.meetings.texts import ko, ko_datetime
from civic_app.timeutil import to_seoul, today_seoul

CONSENT_VERSION = "tongtong-2026-11"
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
# extension → (content type, magic prefixes)
ATTACHMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}


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
        raise field_error("attachment", _("첨부 파일은 PDF, PNG, JPG만 올릴 수 있습니다."))
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise field_error("attachment", _("첨부 파일은 5MB 이하여야 합니다."))
    content_type, magics = ATTACHMENT_TYPES[ext]
    if not any(data.startswith(m) for m in magics):
        raise field_error("attachment", _("파일 내용이 확장자와 맞지 않습니다."))
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
        require_staff(actor)
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
    note = ko("방문 접수했습니다.") if walk_in else ko("신청을 접수했습니다. 담당자가 검토합니다.")
    add_event(session, req, "submitted", note, actor=actor, now=now)
    notify(session, req, "submitted", ko("신청을 접수했습니다"), now=now)
    session.flush()
    return req


def log_walk_in(
    session: Session, *, actor, now: dt.datetime, room_start: dt.datetime, room_minutes: int = 30, **data
) -> MeetingRequest:
    """A walk-in or group visit: a request on the citizen's behalf and the 상담실 booked."""
    require_staff(actor)
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
        raise field_error("room_start", _("그 시간에는 직소민원 상담실이 이미 예약되어 있습니다."))
    session.add(slot)
    session.flush()
    booking = insert_booking(session, req, slot, now=now)
    assert booking is not None  # a fresh slot cannot be taken
    add_event(session, req, "room", ko("직소민원 상담실에서 상담합니다."), actor=actor, now=now)
    return req


# --- the citizen's changes ---------------------------------------------------------------------------
def _before_deadline(req: MeetingRequest, now: dt.datetime) -> None:
    booking = req.active_booking
    if booking is not None and today_seoul(now) >= to_seoul(booking.start_at).date():
        raise InvalidTransition(_("면담 전날까지만 바꿀 수 있습니다."))


def withdraw(session: Session, req: MeetingRequest, *, actor, now: dt.datetime) -> None:
    require_owner(req, actor)
    if req.status not in ACTIVE_STATUSES:
        raise InvalidTransition(_("지금 상태에서는 신청을 철회할 수 없습니다."))
    _before_deadline(req, now)
    freed = release_active(session, req, now=now)
    transition(req, ST_WITHDRAWN, now)
    add_event(session, req, "withdrawn", ko("신청인이 신청을 철회했습니다."), actor=actor, now=now)
    notify(session, req, "withdrawn", ko("신청 철회 확인"), now=now, cancel_booking=freed)
    give_back(session, freed, actor=None, now=now)
    session.flush()


def ask_other_session(
    session: Session, req: MeetingRequest, *, session_id: int, actor, now: dt.datetime
) -> str:
    """The citizen asks for another 통통데이 session; the queue place is kept.

    Before a booking the choice replaces the preferred sessions (a waiting request is booked
    there when it has a free place). A booked citizen's choice becomes a change request that
    staff see flagged in the queue; the booking moves only when staff accept it. Returns
    ``"changed"`` or ``"requested"``."""
    require_owner(req, actor)
    if req.status not in ACTIVE_STATUSES:
        raise InvalidTransition(_("지금 상태에서는 회차를 바꿀 수 없습니다."))
    _before_deadline(req, now)
    target = session.get(TongtongSession, session_id)
    if target is None or target.status != SESSION_SCHEDULED or target.start_at <= now:
        raise field_error("session_id", _("고를 수 없는 회차입니다."))
    booking = req.active_booking
    if req.status == ST_BOOKED and booking is not None:
        if booking.session_id == target.id:
            raise field_error("session_id", _("이미 이 회차로 예약되어 있습니다."))
        req.change_session = target
        req.change_requested_at = now
        req.updated_at = now
        note = ko(
            "신청인이 %(when)s 회차로 바꾸기를 요청했습니다. 담당자가 확인할 때까지 지금 예약(%(now)s)은 그대로입니다.",
            when=ko_datetime(target.start_at),
            now=ko_datetime(booking.start_at),
        )
        add_event(session, req, "change_requested", note, actor=actor, now=now)
        key = f"change-requested-{target.id}-{len(req.events)}"
        notify(session, req, key, ko("회차 변경 요청 접수"), now=now)
        session.flush()
        return "requested"
    req.preferred_session_ids = [target.id]
    req.updated_at = now
    note = ko("신청인이 %(when)s 회차를 희망했습니다.", when=ko_datetime(target.start_at))
    add_event(session, req, "reschedule", note, actor=actor, now=now)
    if req.status == ST_WAITLISTED:
        carry_over(session, actor=actor, now=now)
    session.flush()
    return "changed"
