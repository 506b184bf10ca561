"""Personal feed tokens: issue (renew), revoke, resolve. Flush, never commit."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.audit.services import record
from civic_app.calendar.models import FeedToken


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def active_token(session: Session, user_id: int) -> FeedToken | None:
    return session.scalar(
        select(FeedToken)
        .where(FeedToken.user_id == user_id, FeedToken.revoked_at.is_(None))
        .order_by(FeedToken.id.desc())
        .limit(1)
    )


def revoke(session: Session, *, user_id: int, now: dt.datetime) -> int:
    """Revoke every active token of ``user_id``; their URLs answer 404 from now on."""
    tokens = session.scalars(
        select(FeedToken).where(FeedToken.user_id == user_id, FeedToken.revoked_at.is_(None))
    ).all()
    for token in tokens:
        token.revoked_at = now
    session.flush()
    return len(tokens)


def renew(session: Session, *, user_id: int, now: dt.datetime) -> str:
    """Revoke the old address and return a new secret (the only time it is seen in clear)."""
    revoke(session, user_id=user_id, now=now)
    raw = secrets.token_urlsafe(32)
    session.add(FeedToken(user_id=user_id, token_hash=hash_token(raw), created_at=now))
    session.flush()
    return raw


FEED_FETCH_ACTION = "calendar.personal_feed"


def find(session: Session, raw: str) -> FeedToken | None:
    """The token row for ``raw`` (active or revoked), else None."""
    if not raw or len(raw) > 128:
        return None
    return session.scalar(select(FeedToken).where(FeedToken.token_hash == hash_token(raw)))


def record_fetch(
    session: Session,
    token: FeedToken,
    *,
    now: dt.datetime,
    ip: str | None,
    user_agent: str | None,
    served: bool,
) -> None:
    """Access log of a feed fetch: the feed shows staff's view of citizens' meetings, and its URL
    may have been shared; a revoked address still polled is logged too (``served`` False)."""
    record(
        session,
        actor_id=token.user_id,
        action=FEED_FETCH_ACTION,
        now=now,
        target_type="calendar_feed_token",
        target_id=token.id,
        detail={"served": served, "user_agent": (user_agent or "")[:200]},
        ip=ip,
    )


def resolve(session: Session, raw: str) -> FeedToken | None:
    """The active token for ``raw`` whose owner may still sign in, else None."""
    token = find(session, raw)
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    return token
