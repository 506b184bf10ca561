"""통통데이 part of a citizen's data rights (see ``civic_app.accounts.rights``).

Export: the citizen's own requests, unmasked, with their timeline. Erase (회원 탈퇴): requests
still in progress are withdrawn at once (whatever the change deadline: the citizen is leaving),
a freed place goes to the waiting list, staff see the withdrawal in the request's timeline and
the office mailbox gets the request codes; then the contact details and the attachment of every
request of the citizen are destroyed. Topic, outcome and public summary stay: they are the
public record, shown masked.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.meetings.base import add_event, transition
from civic_app.meetings.booking import give_back, release_active
from civic_app.meetings.models import ACTIVE_STATUSES, ST_WITHDRAWN, MeetingRequest
from civic_app.meetings.texts import ko
from civic_app.notify.services import enqueue_email
from civic_app.timeutil import iso_seoul

ANONYMOUS_NAME = "(파기됨)"


def _requests(session: Session, user) -> list[MeetingRequest]:
    return list(
        session.scalars(
            select(MeetingRequest).where(MeetingRequest.requester_id == user.id).order_by(MeetingRequest.id)
        )
    )


def export(session: Session, user) -> list[dict]:
    out = []
    for req in _requests(session, user):
        out.append(
            {
                "code": req.code,
                "status": req.status,
                "created_at": iso_seoul(req.created_at),
                "requester_name": req.requester_name,
                "requester_phone": req.requester_phone,
                "requester_email": req.requester_email,
                "topic": req.topic,
                "category": req.category,
                "desired_outcome": req.desired_outcome,
                "dong": req.dong.name if req.dong else None,
                "is_group": req.is_group,
                "party_size": req.party_size,
                "accessibility": req.accessibility,
                "attachment_name": req.attachment_name,
                "consent_at": iso_seoul(req.consent_at),
                "consent_version": req.consent_version,
                "publish_consent": req.publish_consent,
                "decision_note": req.decision_note,
                "answer_text": req.answer_text,
                "outcome": req.outcome,
                "public_summary": req.public_summary,
                "timeline": [{"at": iso_seoul(e.at), "kind": e.kind, "note": e.note} for e in req.events],
            }
        )
    return out


def erase(
    session: Session, user, *, now: dt.datetime, staff_email: str | None = None, upload_dir: str | None = None
) -> list[Path]:
    """Returns the uploaded files to delete once the transaction has committed."""
    withdrawn = []
    files: list[Path] = []
    for req in _requests(session, user):
        if req.status in ACTIVE_STATUSES:
            freed = release_active(session, req, now=now)
            transition(req, ST_WITHDRAWN, now)
            add_event(
                session, req, "withdrawn", ko("회원 탈퇴로 신청이 철회되었습니다."), actor=user, now=now
            )
            withdrawn.append(req.code)
            give_back(session, freed, actor=None, now=now)
        if req.attachment_path and upload_dir:
            files.append(Path(upload_dir) / Path(req.attachment_path).name)
        _destroy_personal_fields(req, now=now)
    session.flush()
    if withdrawn and staff_email:
        enqueue_email(
            session,
            to=staff_email,
            subject=ko("[통통데이] 회원 탈퇴로 철회된 신청: %(n)d건", n=len(withdrawn)),
            body=ko(
                "신청인이 회원 탈퇴하여 다음 신청이 철회되었습니다. 예약된 자리는 대기자에게 "
                "넘어갔습니다.\n\n%(codes)s",
                codes="\n".join(withdrawn),
            ),
            kind="tongtong_withdrawn_account_deleted",
            dedupe_key=f"tongtong-account-deleted-{user.id}",
            now=now,
        )
    return files


def _destroy_personal_fields(req: MeetingRequest, *, now: dt.datetime) -> None:
    req.requester_name = ANONYMOUS_NAME
    req.requester_phone = None
    req.requester_email = None
    req.accessibility = None
    req.attachment_name = None
    req.attachment_path = None
    req.attachment_type = None
    req.updated_at = now
