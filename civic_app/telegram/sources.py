"""Read-only data the digest and the resident commands show, from other features' query
functions (``meetings.queries``, ``visits.queries``, ``cards.queries``), never their models.
Database errors propagate: the caller's unit of work decides. Each function runs a fixed
number of SQL statements.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.accounts.models import User
from civic_app.cards import queries as card_queries
from civic_app.dongs.models import Dong
from civic_app.meetings import queries as meeting_queries
from civic_app.privacy import guard
from civic_app.timeutil import as_utc, seoul_datetime, today_seoul
from civic_app.visits import queries as visit_queries
from civic_app.workdays.services import WorkCalendar


@dataclass(frozen=True)
class SessionInfo:
    start_at: dt.datetime
    location: str


@dataclass(frozen=True)
class VisitInfo:
    id: int
    start_at: dt.datetime
    dong_name: str
    title: str


@dataclass(frozen=True)
class RequestInfo:
    code: str
    topic: str
    status: str
    created_at: dt.datetime | None


def upcoming_sessions(session: Session, *, now: dt.datetime, limit: int = 4) -> list[SessionInfo]:
    """Next 통통데이 sessions: the materialised sessions, or the rule (2nd/4th Thursday 14:00)."""
    rows = meeting_queries.next_sessions(session, now=now, limit=limit)
    if rows:
        return [SessionInfo(as_utc(r.start_at), r.location or "") for r in rows]
    return _rule_sessions(session, now=now, limit=limit)


def _rule_sessions(session: Session, *, now: dt.datetime, limit: int) -> list[SessionInfo]:
    start = today_seoul(now)
    end = start + dt.timedelta(days=120)
    calendar = WorkCalendar.load(session, start, end)
    out = []
    for day in sorted(meeting_queries.tongtong_days(session, start, end)):
        at = seoul_datetime(day, dt.time(14, 0))
        if at >= now and calendar.is_working_day(day):
            out.append(SessionInfo(at.astimezone(dt.UTC), "시장실"))
    return out[:limit]


def upcoming_visits(
    session: Session, *, now: dt.datetime, dong: Dong | None = None, limit: int = 8
) -> list[VisitInfo]:
    """Published dong visits from now on that still hold their day (optionally in one dong)."""
    rows = visit_queries.published_from(session, start=now, dong_id=dong.id if dong else None, limit=limit)
    return [
        VisitInfo(
            id=row.id,
            start_at=as_utc(row.start_at),
            dong_name=row.dong.name if row.dong is not None else "",
            title=row.theme or "",
        )
        for row in rows
    ]


def citizen_requests(session: Session, user_id: int, *, limit: int = 10) -> list[RequestInfo]:
    """The 통통데이 requests of one citizen (only theirs), newest first. The topic is the
    citizen's own text: their name, phone number and e-mail in it are masked in any shape (a
    Telegram chat is not the web account, and a reply can be forwarded)."""
    account = session.get(User, user_id)
    rows = meeting_queries.latest_requests_of(session, user_id, limit=limit)
    infos = []
    for r in rows:
        names, phones, emails = r.personal_data()
        if account is not None:
            names.append(account.name)
            phones.append(account.phone or "")
            emails.append(account.email)
        infos.append(
            RequestInfo(
                code=r.code,
                topic=guard.mask(r.topic, names, phones=phones, emails=emails),
                status=r.status,
                created_at=r.created_at,
            )
        )
    return infos


def dong_card_summary(session: Session, dong: Dong) -> list[tuple[str, int]]:
    """(status label, count) of a dong's management card items."""
    return card_queries.dong_status_summary(session, dong)


def find_dong(session: Session, name: str) -> Dong | None:
    """A dong by name as residents type it: 중앙동, 중앙, or its 10-digit code."""
    name = (name or "").strip()
    if not name:
        return None
    candidates = {name, name if name.endswith("동") else name + "동"}
    dong = session.scalar(
        select(Dong).where(Dong.active.is_(True), Dong.name.in_(candidates)).order_by(Dong.id).limit(1)
    )
    if dong is None and name.isdigit():
        dong = session.scalar(select(Dong).where(Dong.code == name))
    return dong
