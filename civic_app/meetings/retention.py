"""Personal-data retention for 통통데이 requests, registered with the privacy purge.

A request whose last change is older than the retention period loses the requester's contact
details (name, phone, e-mail, accessibility needs); what was asked and decided stays, as the
public record (shown masked). A request still being handled keeps them, however old.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from civic_app.meetings.models import ACTIVE_STATUSES, MeetingRequest
from civic_app.privacy.services import ANONYMOUS_NAME


def purge_requests(session: Session, cutoff: dt.datetime, now: dt.datetime, dry_run: bool) -> int:
    """The purger (``privacy.services.register_purger``): how many requests lose (or, with
    ``dry_run``, would lose) their contact details."""
    last_change = func.coalesce(MeetingRequest.updated_at, MeetingRequest.created_at)
    where = (
        last_change < cutoff,
        MeetingRequest.status.not_in(ACTIVE_STATUSES),
        or_(
            MeetingRequest.requester_name != ANONYMOUS_NAME,
            MeetingRequest.requester_phone.is_not(None),
            MeetingRequest.requester_email.is_not(None),
            MeetingRequest.accessibility.is_not(None),
        ),
    )
    count = session.scalar(select(func.count(MeetingRequest.id)).where(*where)) or 0
    if count and not dry_run:
        session.execute(
            update(MeetingRequest)
            .where(*where)
            .values(
                requester_name=ANONYMOUS_NAME,
                requester_phone=None,
                requester_email=None,
                accessibility=None,
            )
            .execution_options(synchronize_session=False)
        )
    return count
