"""Where the other processes offer a survey: one call each, placed in their services.

- 통통데이: ``after_meeting_held`` (meetings ``record_outcome``, the citizen attended) and
  ``after_written_answer`` (meetings ``record_answer``, the department's written answer);
- 동 관리카드: ``after_card_done`` (cards ``transition`` to 완료), one invitation per author;
- 온라인 제안: the department's answer calls :func:`civic_app.satisfaction.services.offer_survey`
  with ``process="suggestion"`` (wired where that feature answers).

Each function reads the subject it is given and does nothing when there is nobody to ask.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from civic_app.satisfaction.models import PROCESS_CARD, PROCESS_TONGTONG
from civic_app.satisfaction.services import offer_survey

if TYPE_CHECKING:
    from civic_app.cards.models import CardItem
    from civic_app.meetings.models import MeetingRequest


def meeting_department_id(req: MeetingRequest) -> int | None:
    """The department answerable for a request: the one that answered, else the host's own
    department (a director's meeting); the mayor's and deputy mayor's meetings have none."""
    if req.department_id is not None:
        return req.department_id
    booking = req.active_booking
    host = booking.host if booking is not None else None
    return host.department_id if host is not None else None


def _offer_for_request(session: Session, req: MeetingRequest, *, now: dt.datetime) -> None:
    offer_survey(
        session,
        process=PROCESS_TONGTONG,
        subject_ref=f"meeting:{req.id}",
        department_id=meeting_department_id(req),
        user_id=req.requester_id,
        email=req.requester_email,
        now=now,
        about=req.topic,
    )


def after_meeting_held(session: Session, req: MeetingRequest, *, now: dt.datetime) -> None:
    """A 통통데이 meeting took place (its outcome was recorded): ask the citizen, if they came."""
    if req.attended:
        _offer_for_request(session, req, now=now)


def after_written_answer(session: Session, req: MeetingRequest, *, now: dt.datetime) -> None:
    """The department answered a request in writing (written answer or referral)."""
    _offer_for_request(session, req, now=now)


def after_card_done(session: Session, item: CardItem, *, now: dt.datetime) -> None:
    """A 동 관리카드 item reached 완료: ask each person who raised it (and left an address)."""
    from civic_app.cards.models import DONE
    from civic_app.cards.notices import author_emails

    if item.status != DONE:
        return
    for email in author_emails(session, item):
        offer_survey(
            session,
            process=PROCESS_CARD,
            subject_ref=f"card:{item.id}",
            department_id=item.department_id,
            email=email,
            now=now,
            about=item.title,
        )
