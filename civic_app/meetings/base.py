"""What every 통통데이 rule is built of: who may act, a status change, a timeline step.

The bottom of the feature's services: ``notices``, ``booking``, ``submission``, ``review``,
``outcomes``, ``schedule`` and ``rights`` import it; it imports none of them. Every function takes
the session, the acting user and ``now``; it flushes at most, never commits.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import inspect
from sqlalchemy.orm import Session, lazyload

from civic_app.accounts.roles import CIVIC_OFFICE_ROLES
from civic_app.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from civic_app.meetings.models import MeetingRequest, RequestEvent
from civic_app.meetings.texts import KoText
from civic_app.web.policy import DEPARTMENT

# The 소통 office that runs 통통데이 (reviews requests, runs sessions); not every staff role.
# The role constants live in web/policy.py until accounts owns them.
OFFICE_ROLES: frozenset[str] = CIVIC_OFFICE_ROLES  # 소통민원팀 runs 통통데이 (one definition, in accounts)


def is_staff(actor) -> bool:
    """A member of the office (:data:`OFFICE_ROLES`)."""
    return actor is not None and bool(actor.role_set & OFFICE_ROLES)


def require_staff(actor) -> None:
    if not is_staff(actor):
        raise NotAllowed(_("면담 신청을 검토할 권한이 없습니다."))


def is_department_of(actor, department_id: int | None) -> bool:
    """A department account of ``department_id`` (the department a request or follow-up was
    handed to)."""
    return (
        actor is not None
        and department_id is not None
        and DEPARTMENT in actor.role_set
        and getattr(actor, "department_id", None) == department_id
    )


def require_staff_or_department(actor, department_id: int | None) -> None:
    if not (is_staff(actor) or is_department_of(actor, department_id)):
        raise NotAllowed(_("이 일을 처리할 권한이 없습니다."))


def require_owner(req: MeetingRequest, actor) -> None:
    if actor is None or req.requester_id != actor.id:
        raise NotAllowed(_("본인의 신청만 바꿀 수 있습니다."))


def field_error(field: str, message: str) -> ValidationFailed:
    """An input error shown on one field of the form (and as the error's message)."""
    return ValidationFailed(message, [(field, message)])


def transition(req: MeetingRequest, status: str, now: dt.datetime) -> None:
    if not req.can_transition_to(status):
        raise InvalidTransition(_("지금 상태에서는 이 처리를 할 수 없습니다."))
    req.status = status
    req.updated_at = now


def add_event(
    session: Session, req: MeetingRequest, kind: str, note: str, *, actor, now: dt.datetime
) -> None:
    """One step of the request's timeline. ``note`` is stored text: Korean by rule (see
    :mod:`civic_app.meetings.texts`), never in the acting user's language."""
    parts = note.parts if isinstance(note, KoText) else None
    event = RequestEvent(
        at=now, kind=kind, note=str(note), note_parts=parts, actor_id=getattr(actor, "id", None)
    )
    if req.id is not None and "events" in inspect(req).unloaded:
        # The timeline is not loaded (a decision in a hurry): add the row without reading the
        # whole timeline first; a later read of req.events flushes and sees it.
        event.request_id = req.id
        session.add(event)
    else:
        req.events.append(event)


def get_request(session: Session, request_id: int, *, history: bool = True) -> MeetingRequest:
    """The request (404 when there is none). ``history=False``: its timeline and follow-ups are
    not loaded with it (a decision does not read them; they load when something does)."""
    options = [] if history else [lazyload(MeetingRequest.events), lazyload(MeetingRequest.followups)]
    req = session.get(MeetingRequest, request_id, options=options)
    if req is None:
        raise NotFound(_("신청을 찾을 수 없습니다."))
    return req
