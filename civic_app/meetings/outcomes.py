"""After the decision: the department's written answer (or an interim one with a new deadline),
the meeting's outcome and its public summary, and the follow-up actions."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from civic_app.accounts.models import User
from civic_app.cards.items import create_item
from civic_app.dongs.models import Department
from civic_app.errors import InvalidTransition, ValidationFailed
from civic_app.meetings.base import (
    add_event,
    field_error,
    require_staff,
    require_staff_or_department,
    transition,
)
from civic_app.meetings.models import ST_ANSWERED, ST_BOOKED, ST_HELD, ST_REFERRED, FollowUp, MeetingRequest
from civic_app.meetings.notices import notify
from civic_app.meetings.texts import ko, ko_date
from civic_app.notify.services import enqueue_telegram
from civic_app.privacy import guard
from civic_app.satisfaction import triggers as satisfaction_triggers
from civic_app.timeutil import today_seoul


# --- the department's answer ---------------------------------------------------------------------
def answer_is_overdue(req: MeetingRequest, now: dt.datetime) -> bool:
    return req.status == ST_REFERRED and req.answer_due is not None and req.answer_due < today_seoul(now)


def record_interim(
    session: Session, req: MeetingRequest, *, text: str, new_due: dt.date | None, actor, now: dt.datetime
) -> None:
    """The answer slips: an interim answer and a new deadline, both shown to the citizen."""
    require_staff_or_department(actor, req.department_id)
    if req.status != ST_REFERRED:
        raise InvalidTransition(_("부서 답변 대기 중인 신청만 중간 답변을 남길 수 있습니다."))
    if new_due is None:
        raise field_error("new_due", _("새 답변 기한을 입력해 주세요."))
    if not text.strip() or new_due <= today_seoul(now):
        raise field_error("text", _("중간 답변과 오늘 이후의 새 기한을 입력해 주세요."))
    req.interim_answer = text.strip()
    req.interim_at = now
    req.answer_due = new_due
    req.updated_at = now
    note = ko("중간 답변: %(t)s (새 기한 %(d)s)", t=text.strip(), d=ko_date(new_due))
    add_event(session, req, "interim", note, actor=actor, now=now)
    notify(session, req, f"interim-{len(req.events)}", ko("중간 답변 안내"), now=now)
    session.flush()


def record_answer(session: Session, req: MeetingRequest, *, text: str, actor, now: dt.datetime) -> None:
    require_staff_or_department(actor, req.department_id)
    if not text.strip():
        raise field_error("text", _("답변 내용을 입력해 주세요."))
    transition(req, ST_ANSWERED, now)
    req.answer_text = text.strip()
    req.answered_at = now
    add_event(session, req, "answered", ko("답변: %(t)s", t=text.strip()), actor=actor, now=now)
    notify(session, req, f"answered-{req.id}", ko("답변 안내"), now=now)
    satisfaction_triggers.after_written_answer(session, req, now=now)
    session.flush()


# --- the meeting's outcome -----------------------------------------------------------------------
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
    require_staff(actor)
    booking = req.active_booking
    if req.status != ST_BOOKED or booking is None:
        raise InvalidTransition(_("확정된 면담에만 결과를 기록할 수 있습니다."))
    if booking.start_at > now:
        raise InvalidTransition(_("면담이 끝난 뒤에 결과를 기록할 수 있습니다."))
    if not outcome.strip():
        raise field_error("outcome", _("면담 결과를 입력해 주세요."))
    summary = public_summary.strip()
    if summary and not req.publish_consent:
        raise field_error("public_summary", _("신청인이 결과 공개에 동의하지 않았습니다."))
    require_public_text(session, req, {"public_summary": summary})
    transition(req, ST_HELD, now)
    req.attended = attended
    req.outcome = outcome.strip()
    req.held_at = now
    req.public_summary = summary or None
    note = (
        ko("면담을 마쳤습니다. 결과: %(o)s", o=req.outcome)
        if attended
        else ko("신청인이 참석하지 않았습니다.")
    )
    add_event(session, req, "held", note, actor=actor, now=now)
    notify(session, req, f"held-{req.id}", ko("면담 결과 안내"), now=now)
    satisfaction_triggers.after_meeting_held(session, req, now=now)
    if req.public_summary:
        publish_summary(session, req, now=now)
    session.flush()


def require_public_text(session: Session, req: MeetingRequest, fields: dict[str, str | None]) -> None:
    """Refuse text meant for a public surface that carries personal data: the requester's own
    name, phone or e-mail in any shape, any phone or e-mail, or the name of any citizen."""
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


# --- follow-up actions ---------------------------------------------------------------------------
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
    require_staff(actor)
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
    note = ko("후속 조치: %(t)s (기한 %(d)s)", t=item.title, d=ko_date(due_date))
    if local_budget:
        note += " " + ko("동 관리카드에 올렸습니다.")
    add_event(session, req, "followup", note, actor=actor, now=now)
    session.flush()
    return item


def complete_followup(session: Session, item: FollowUp, *, note: str, actor, now: dt.datetime) -> None:
    require_staff_or_department(actor, item.department_id)
    if item.status != "open":
        raise InvalidTransition(_("이미 끝난 후속 조치입니다."))
    item.status = "done"
    item.done_at = now
    item.done_note = note.strip() or None
    done = ko("후속 조치 완료: %(t)s", t=item.title)
    add_event(session, item.request, "followup_done", done, actor=actor, now=now)
    session.flush()
