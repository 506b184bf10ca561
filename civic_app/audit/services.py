from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from civic_app.audit.models import AuditLog

VIEW_PERSONAL_DATA = "personal_data.view"


def record(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    now: dt.datetime,
    target_type: str | None = None,
    target_id: object = None,
    detail: dict | None = None,
    ip: str | None = None,
) -> AuditLog:
    """Write an audit entry in the caller's transaction."""
    entry = AuditLog(
        at=now,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        detail=detail,
        ip=ip,
    )
    session.add(entry)
    session.flush()
    return entry
