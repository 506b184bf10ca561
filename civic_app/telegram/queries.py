"""Read-only queries for the staff queue pages."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civic_app.notify.models import (
    CHANNEL_TELEGRAM,
    STATUS_FAILED,
    STATUS_PENDING_APPROVAL,
    STATUS_QUEUED,
    STATUS_SENDING,
    STATUS_SENT,
    STATUS_WITHDRAWN,
    OutboxMessage,
)

TABS: dict[str, tuple[str, ...]] = {
    "pending": (STATUS_PENDING_APPROVAL,),
    "queued": (STATUS_QUEUED, STATUS_SENDING),
    "sent": (STATUS_SENT,),
    "failed": (STATUS_FAILED,),
    "withdrawn": (STATUS_WITHDRAWN,),
}


def tab_counts(session: Session) -> dict[str, int]:
    rows = dict(
        session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.channel == CHANNEL_TELEGRAM)
            .group_by(OutboxMessage.status)
        ).all()
    )
    return {tab: sum(rows.get(s, 0) for s in statuses) for tab, statuses in TABS.items()}


def messages(session: Session, tab: str, *, limit: int = 100) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.channel == CHANNEL_TELEGRAM, OutboxMessage.status.in_(TABS[tab]))
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )
