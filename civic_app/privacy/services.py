"""Anonymise personal data past its retention period, leaving the public record intact.

The retention period is ``PRIVACY_RETENTION_DAYS`` (stated in the consent text). A citizen's
last activity is the latest of their sign-up, last sign-in and the newest ``updated_at`` /
``created_at`` of any row that references them through a foreign key to ``users.id`` (meeting
requests, card items they raised ...), so a request still being handled keeps its requester.

Features register purgers: ``register_purger(name, fn(session, cutoff, now, dry_run) -> int)``
returning how many records they anonymised (or would anonymise when ``dry_run``). Purgers run in
one transaction with the user anonymisation; the CLI commits once, or rolls back on a dry run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from civic_app.accounts.models import User, UserRole, new_session_token
from civic_app.accounts.roles import CITIZEN_ROLES
from civic_app.audit.services import record
from civic_app.extensions import db

Purger = Callable[[Session, dt.datetime, dt.datetime, bool], int]

ANONYMOUS_NAME = "(파기됨)"
PURGE_ACTION = "privacy.purge"

_purgers: dict[str, Purger] = {}


def register_purger(name: str, fn: Purger) -> None:
    """Add (or replace) a feature's purger. Call from the feature's ``init_app``."""
    _purgers[name] = fn


def registered_purgers() -> dict[str, Purger]:
    return dict(_purgers)


@dataclass
class PurgeReport:
    cutoff: dt.datetime
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def cutoff_for(now: dt.datetime, retention_days: int) -> dt.datetime:
    if retention_days < 1:
        raise ValueError("retention must be at least one day")
    return now - dt.timedelta(days=retention_days)


def _user_fk_activity(session: Session) -> list[sa.Select]:
    """One ``SELECT user_id, max(time)`` per table holding a foreign key to ``users.id``."""
    selects = []
    users = User.__table__
    for table in db.metadata.sorted_tables:
        if table is users:
            continue
        time_cols = [c for c in (table.c.get("updated_at"), table.c.get("created_at")) if c is not None]
        if not time_cols:
            continue
        stamp = time_cols[0] if len(time_cols) == 1 else sa.func.coalesce(*time_cols)
        for fk in table.foreign_keys:
            if fk.column.table is users and fk.column.name == "id":
                col = fk.parent
                selects.append(
                    sa.select(col.label("user_id"), sa.func.max(stamp).label("at"))
                    .where(col.is_not(None))
                    .group_by(col)
                )
    return selects


def stale_citizen_ids(session: Session, cutoff: dt.datetime) -> list[int]:
    """Citizens not yet anonymised whose every trace is older than ``cutoff``."""
    non_citizen = sa.select(UserRole.user_id).where(UserRole.role.not_in(CITIZEN_ROLES))
    last_own = sa.func.coalesce(User.last_login_at, User.created_at)
    candidates = sa.select(User.id).where(
        User.anonymized_at.is_(None),
        User.id.not_in(non_citizen),
        last_own < cutoff,
        User.created_at < cutoff,
    )
    recent: set[int] = set()
    for sub in _user_fk_activity(session):
        inner = sub.subquery()
        recent.update(session.scalars(sa.select(inner.c.user_id).where(inner.c.at >= cutoff)).all())
    return [uid for uid in session.scalars(candidates.order_by(User.id)).all() if uid not in recent]


def anonymise_user(user: User, *, now: dt.datetime) -> None:
    """Replace the personal fields; the row stays so the public record keeps its references."""
    user.name = ANONYMOUS_NAME
    user.email = f"anonymized-{user.id}@invalid.invalid"
    user.phone = None
    user.password_hash = "!"  # noqa: S105 - not a hash: no password can ever match it
    user.session_token = new_session_token()
    user.active = False
    user.locale = None
    user.optional_consent_at = None
    user.anonymized_at = now


def purge_users(session: Session, cutoff: dt.datetime, now: dt.datetime, dry_run: bool) -> int:
    ids = stale_citizen_ids(session, cutoff)
    if dry_run or not ids:
        return len(ids)
    for start in range(0, len(ids), 500):
        for user in session.scalars(sa.select(User).where(User.id.in_(ids[start : start + 500]))):
            anonymise_user(user, now=now)
    session.flush()
    return len(ids)


def purge_email_outbox(session: Session, cutoff: dt.datetime, now: dt.datetime, dry_run: bool) -> int:
    """E-mails finished before the cutoff keep their status but lose address and body."""
    from civic_app.notify.models import (
        CHANNEL_EMAIL,
        STATUS_FAILED,
        STATUS_SENT,
        STATUS_WITHDRAWN,
        OutboxMessage,
    )

    placeholder = "anonymized@invalid.invalid"
    where = (
        OutboxMessage.channel == CHANNEL_EMAIL,
        OutboxMessage.created_at < cutoff,
        OutboxMessage.status.in_((STATUS_SENT, STATUS_FAILED, STATUS_WITHDRAWN)),
        sa.or_(OutboxMessage.recipient.is_(None), OutboxMessage.recipient != placeholder),
    )
    count = session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(*where)) or 0
    if dry_run or not count:
        return count
    session.execute(
        sa.update(OutboxMessage)
        .where(*where)
        .values(recipient=placeholder, payload={"subject": "", "body": "", "attachments": []}, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return count


register_purger("users", purge_users)
register_purger("email_outbox", purge_email_outbox)


def run_purge(
    session: Session,
    *,
    now: dt.datetime,
    retention_days: int,
    dry_run: bool = False,
    actor_id: int | None = None,
) -> PurgeReport:
    """Run every purger; flush, never commit. A real run leaves one audit entry."""
    cutoff = cutoff_for(now, retention_days)
    report = PurgeReport(cutoff=cutoff, dry_run=dry_run)
    purgers = registered_purgers()
    # Accounts first: a feature's purger may touch ``updated_at`` of rows that reference users,
    # which must not make their owners look recently active.
    order = ["users", *[n for n in purgers if n != "users"]]
    for name in order:
        report.counts[name] = purgers[name](session, cutoff, now, dry_run)
    if not dry_run:
        record(
            session,
            actor_id=actor_id,
            action=PURGE_ACTION,
            now=now,
            detail={"cutoff": cutoff.isoformat(), "counts": report.counts},
        )
        session.flush()
    return report
