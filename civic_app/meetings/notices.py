"""What 통통데이 tells people: the citizen's e-mails (with the calendar invitation), the daily
meeting reminders and the departments' deadline reminders.

Everything goes through the outbox in the caller's transaction. Subjects and bodies are stored
text, written in Korean by rule (:mod:`civic_app.meetings.texts`): the outbox keeps them, and the
acting user's language has nothing to do with what the citizen receives.
"""

from __future__ import annotations

import datetime as dt
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.accounts.models import User, UserRole
from civic_app.dongs.models import Host
from civic_app.events import ChangeEvent, publish_change
from civic_app.ical import CalEvent, build_calendar
from civic_app.meetings.models import ST_BOOKED, ST_REFERRED, FollowUp, MeetingBooking, MeetingRequest
from civic_app.meetings.texts import MAYOR, STATUS_NAMES, ko, ko_datetime, next_step_text, why_text
from civic_app.notify.services import enqueue_email
from civic_app.timeutil import to_seoul, today_seoul
from civic_app.web.policy import DEPARTMENT
from civic_app.workdays.services import WorkCalendar


# --- links and the calendar invitation -----------------------------------------------------------
def absolute_url(path: str) -> str:
    """PUBLIC_BASE_URL + path: e-mails are read outside the site."""
    return current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/") + path


def request_url(req: MeetingRequest) -> str:
    """The citizen's page of the request (a walk-in without an account: the public page)."""
    return absolute_url(f"/tongtong/requests/{req.code}" if req.requester_id else "/tongtong")


def invitation_uid(req: MeetingRequest) -> str:
    """One UID for the citizen's invitation to the request's meeting, whatever booking holds it."""
    return f"meeting-request-{req.id}@civic_app"


def _mail_from_address() -> str:
    return parseaddr(current_app.config.get("MAIL_FROM", ""))[1] or "no-reply@civic.example.kr"


def host_title(session: Session, booking: MeetingBooking) -> str:
    host = session.get(Host, booking.host_id) if booking.host_id else None
    return host.title if host else MAYOR


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


def _invitation(session: Session, req: MeetingRequest, booking: MeetingBooking, *, cancel: bool, now) -> dict:
    method = "CANCEL" if cancel else "REQUEST"
    return {
        "filename": "tongtong.ics",
        "content_type": "text/calendar",
        "content": invitation_ics(req, booking, host_title(session, booking), cancel=cancel, now=now),
        "method": method,
    }


# --- the citizen's e-mail --------------------------------------------------------------------------
def notify(
    session: Session,
    req: MeetingRequest,
    key: str,
    title: str,
    *,
    now: dt.datetime,
    booking: MeetingBooking | None = None,
    cancel_booking: MeetingBooking | None = None,
    what: str | None = None,
) -> None:
    """E-mail the requester through the outbox (walk-ins without an address get none), with the
    subject ``[통통데이] <title> (<code>)``: what happened (``what``, else the last timeline
    note), why, what happens next and the absolute link to the request's page. A booking attaches
    the invitation (REQUEST); ``cancel_booking`` attaches its cancellation when an invitation was
    sent before. ``key`` makes the message unique (the outbox drops a repeat)."""
    publish_change(session, ChangeEvent("request_status", req.id, now, detail=key))
    if not req.requester_email:
        return
    what = what if what is not None else (req.events[-1].note if req.events else "")
    lines = [
        ko("신청 번호: %(code)s", code=req.code),
        ko("주제: %(t)s", t=req.topic),
        ko("현재 상태: %(s)s", s=STATUS_NAMES.get(req.status, req.status)),
        "",
        ko("무슨 일이 있었나요: %(t)s", t=what),
    ]
    why = why_text(req)
    if why:
        lines.append(ko("왜: %(t)s", t=why))
    active = booking or req.active_booking
    if active is not None and req.status == ST_BOOKED:
        lines.append(
            ko(
                "면담 일시: %(when)s, 장소: %(place)s",
                when=ko_datetime(active.start_at),
                place=active.location,
            )
        )
    lines += [
        ko("다음 단계: %(t)s", t=next_step_text(req)),
        "",
        ko("신청 화면: %(url)s", url=request_url(req)),
    ]
    attachments = []
    if booking is not None:
        attachments.append(_invitation(session, req, booking, cancel=False, now=now))
    elif cancel_booking is not None and (req.ics_sequence or 0) > 0:
        attachments.append(_invitation(session, req, cancel_booking, cancel=True, now=now))
    enqueue_email(
        session,
        to=req.requester_email,
        subject=ko("[통통데이] %(title)s (%(code)s)", title=title, code=req.code),
        body="\n".join(lines),
        kind="tongtong_notice",
        dedupe_key=f"tongtong-{req.id}-{key}",
        now=now,
        attachments=attachments,
        subject_ref=f"meeting:{req.id}",
    )


# --- the daily run: meeting reminders and overdue work -------------------------------------------
def previous_working_day(calendar: WorkCalendar, day: dt.date) -> dt.date:
    other = day - dt.timedelta(days=1)
    for _i in range(30):
        if calendar.is_working_day(other):
            return other
        other -= dt.timedelta(days=1)
    return day - dt.timedelta(days=1)


def send_meeting_reminders(session: Session, *, now: dt.datetime) -> list[MeetingBooking]:
    """On the working day before a meeting (or later, before the meeting day, when the daily
    run was missed), e-mail the citizen a reminder once."""
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
        when = ko_datetime(booking.start_at)
        what = ko(
            "%(when)s %(host)s 면담이 다가왔습니다 (장소: %(place)s).",
            when=when,
            host=host_title(session, booking),
            place=booking.location,
        )
        title = ko("면담 알림: %(when)s", when=when)
        notify(session, req, f"reminder-{booking.id}-{day.isoformat()}", title, now=now, what=what)
        sent.append(booking)
    session.flush()
    return sent


def _department_addresses(session: Session, department_id: int | None) -> list[str]:
    if department_id is None:
        return []
    return list(
        session.scalars(
            select(User.email)
            .join(UserRole, UserRole.user_id == User.id)
            .where(User.department_id == department_id, UserRole.role == DEPARTMENT, User.active.is_(True))
            .order_by(User.id)
        ).unique()
    )


def remind_overdue(session: Session, *, now: dt.datetime, staff_email: str | None = None) -> list[FollowUp]:
    """Overdue follow-ups get one reminder a day, at the accounts of the department that owns
    them (and at the office mailbox ``staff_email`` when set); so do written answers past their
    deadline."""
    today = today_seoul(now)
    link = ko("업무 화면: %(url)s", url=absolute_url("/department/tongtong"))

    def remind(department_id: int | None, kind: str, key: str, subject: str, *lines: str) -> None:
        body = "\n".join([*lines, "", link])
        for address in [
            *_department_addresses(session, department_id),
            *([staff_email] if staff_email else []),
        ]:
            dedupe_key = f"tongtong-{key}-{today.isoformat()}-{address}"
            enqueue_email(
                session, to=address, subject=subject, body=body, kind=kind, dedupe_key=dedupe_key, now=now
            )

    items = session.scalars(
        select(FollowUp).where(FollowUp.status == "open", FollowUp.due_date < today)
    ).all()
    for item in items:
        if item.reminded_at is not None and to_seoul(item.reminded_at).date() == today:
            continue
        item.reminded_at = now
        due = ko(
            "신청 %(code)s의 후속 조치 기한(%(d)s)이 지났습니다.", code=item.request.code, d=item.due_date
        )
        remind(
            item.department_id,
            "tongtong_followup_reminder",
            f"followup-{item.id}",
            ko("[통통데이] 기한이 지난 후속 조치: %(t)s", t=item.title),
            due,
            ko("후속 조치: %(t)s", t=item.title),
            ko("진행 상황을 기록하거나 끝났으면 완료로 바꿔 주세요."),
        )
    answers = session.scalars(
        select(MeetingRequest).where(
            MeetingRequest.status == ST_REFERRED,
            MeetingRequest.answer_due.is_not(None),
            MeetingRequest.answer_due < today,
        )
    ).all()
    for req in answers:
        late = ko(
            "신청 %(code)s의 답변 기한(%(d)s)이 지났습니다. 답변하거나, 늦어지면 새 기한과 함께 중간 답변을 "
            "남겨 주세요 (시민에게 이메일로 갑니다).",
            code=req.code,
            d=req.answer_due,
        )
        subject = ko("[통통데이] 답변 기한이 지났습니다 (%(code)s)", code=req.code)
        remind(req.department_id, "tongtong_answer_reminder", f"answer-{req.id}", subject, late)
    session.flush()
    return items
