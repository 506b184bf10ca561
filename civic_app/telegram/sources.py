"""Read-only data the digest and the resident commands show, from other features' models.

Those features are imported lazily and attribute by attribute: a feature that is missing or
shaped differently leaves its part empty (or falls back to the 통통데이 rule) instead of
breaking the bot. Each function runs a fixed number of SQL statements.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from civic_app.dongs.models import Dong
from civic_app.timeutil import as_utc, seoul_datetime, today_seoul

log = logging.getLogger(__name__)


def load_model(module: str, name: str) -> Any | None:
    try:
        mod = importlib.import_module(f"civic_app.{module}.models")
    except ImportError:
        return None
    return getattr(mod, name, None)


def _attr(model: Any, *names: str) -> Any | None:
    for name in names:
        if hasattr(model, name):
            return getattr(model, name)
    return None


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
    model = load_model("meetings", "TongtongSession")
    start_col = _attr(model, "start_at") if model is not None else None
    if start_col is not None:
        query = select(model).where(start_col >= now).order_by(start_col).limit(limit * 2)
        status_col = _attr(model, "status")
        try:
            rows = list(session.scalars(query))
        except SQLAlchemyError:
            log.warning("통통데이 sessions unreadable; using the rule", exc_info=True)
            session.rollback()
            rows = None
        if rows is not None:
            out = [
                SessionInfo(as_utc(r.start_at), str(getattr(r, "location", "") or ""))
                for r in rows
                if status_col is None or getattr(r, "status", "scheduled") not in ("cancelled", "canceled")
            ]
            if out:
                return out[:limit]
    return _rule_sessions(session, now=now, limit=limit)


def _rule_sessions(session: Session, *, now: dt.datetime, limit: int) -> list[SessionInfo]:
    from civic_app.meetings.queries import tongtong_days
    from civic_app.workdays.services import WorkCalendar

    start = today_seoul(now)
    end = start + dt.timedelta(days=120)
    calendar = WorkCalendar.load(session, start, end)
    out = []
    for day in sorted(tongtong_days(session, start, end)):
        at = seoul_datetime(day, dt.time(14, 0))
        if at >= now and calendar.is_working_day(day):
            out.append(SessionInfo(at.astimezone(dt.UTC), "시장실"))
    return out[:limit]


def upcoming_visits(
    session: Session, *, now: dt.datetime, dong: Dong | None = None, limit: int = 8
) -> list[VisitInfo]:
    """Published, not cancelled dong visits from now on (optionally in one dong)."""
    model = load_model("visits", "Visit")
    start_col = _attr(model, "start_at", "starts_at", "date") if model is not None else None
    if start_col is None:
        return []
    query = select(model).where(start_col >= now).order_by(start_col).limit(limit * 3)
    published = _attr(model, "published", "is_published")
    if published is not None:
        query = query.where(published.is_(True))
    dong_col = _attr(model, "dong_id")
    if dong is not None:
        if dong_col is None:
            return []
        query = query.where(dong_col == dong.id)
    try:
        rows = list(session.scalars(query))
    except SQLAlchemyError:
        log.warning("visits unreadable", exc_info=True)
        session.rollback()
        return []
    out = []
    for row in rows:
        if getattr(row, "status", "") in ("cancelled", "canceled", "postponed"):
            continue
        row_dong = getattr(row, "dong", None)
        start = getattr(row, start_col.key)
        if isinstance(start, dt.datetime):
            start = as_utc(start)
        else:
            start = seoul_datetime(start, dt.time(0, 0)).astimezone(dt.UTC)
        out.append(
            VisitInfo(
                id=row.id,
                start_at=start,
                dong_name=getattr(row_dong, "name", "") or "",
                title=str(getattr(row, "theme", None) or getattr(row, "title", None) or ""),
            )
        )
    return out[:limit]


def citizen_requests(session: Session, user_id: int, *, limit: int = 10) -> list[RequestInfo]:
    """The 통통데이 requests of one citizen (only theirs), newest first. The topic is the
    citizen's own text: their name, phone number and e-mail in it are masked in any shape (a
    Telegram chat is not the web account, and a reply can be forwarded)."""
    from civic_app.accounts.models import User
    from civic_app.meetings.models import MeetingRequest
    from civic_app.privacy import guard

    account = session.get(User, user_id)
    rows = session.scalars(
        select(MeetingRequest)
        .where(MeetingRequest.requester_id == user_id)
        .order_by(MeetingRequest.created_at.desc(), MeetingRequest.id.desc())
        .limit(limit)
    ).all()
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
    model = load_model("cards", "CardItem")
    if model is None or not hasattr(model, "dong_id") or not hasattr(model, "status"):
        return []
    try:
        rows = session.execute(
            select(model.status, func.count()).where(model.dong_id == dong.id).group_by(model.status)
        ).all()
    except SQLAlchemyError:
        log.warning("card items unreadable", exc_info=True)
        session.rollback()
        return []
    labels = getattr(importlib.import_module("civic_app.cards.models"), "STATUS_LABELS", {})
    return [(str(labels.get(status, status)), count) for status, count in sorted(rows)]


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
