"""Follows in a citizen's data rights (``civic_app.accounts.rights``): exported with the
account, and deleted on 회원 탈퇴 (by account, by the account's address)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from civic_app.follow import services
from civic_app.follow.models import Follow
from civic_app.timeutil import iso_seoul


def _rows(session: Session, user) -> list[Follow]:
    address = services.normalise_email(user.email)
    return list(
        session.scalars(
            select(Follow)
            .where(or_(Follow.user_id == user.id, Follow.address == address))
            .order_by(Follow.id)
        )
    )


def export(session: Session, user) -> list[dict]:
    return [
        {
            "target": f"{row.target_kind}:{row.target_id}",
            "channel": row.channel,
            "address": row.address if row.channel == "email" else None,
            "frequency": row.frequency,
            "status": row.status,
            "created_at": iso_seoul(row.created_at),
        }
        for row in _rows(session, user)
    ]


def erase(session: Session, user, *, now: dt.datetime, **_context: object) -> None:
    services.unsubscribe(session, _rows(session, user), now=now)
