"""Read-only, page-shaped queries. Each page costs a fixed number of statements: dongs are
joined, departments and tour sites are select-in loaded."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, lazyload, noload, selectinload

from civic_app import refdata
from civic_app.db_types import seoul_month
from civic_app.dongs.models import Dong
from civic_app.timeutil import seoul_datetime, to_seoul
from civic_app.visits.models import (
    CANCELLED,
    CONFIRMED,
    FREED,
    HELD,
    KIND_REGULAR,
    PLANNED,
    RESULTS_PUBLISHED,
    MayorUnavailable,
    TourSite,
    Visit,
    VisitCycle,
)

UPCOMING = (PLANNED, CONFIRMED)
DONE = (HELD, RESULTS_PUBLISHED)


def _public():
    return select(Visit).where(Visit.published.is_(True), Visit.status != CANCELLED)


def upcoming_public(
    session: Session, now: dt.datetime, limit: int = 50, *, brief: bool = False
) -> list[Visit]:
    """Upcoming published visits; ``brief`` skips departments and tour sites (list items)."""
    query = (
        _public().where(Visit.status.in_(UPCOMING), Visit.end_at >= now).order_by(Visit.start_at, Visit.id)
    )
    if brief:
        query = query.options(noload(Visit.departments), noload(Visit.sites))
    return list(session.scalars(query.limit(limit)))


def past_public(session: Session, limit: int = 50) -> list[Visit]:
    query = _public().where(Visit.status.in_(DONE)).order_by(Visit.start_at.desc(), Visit.id.desc())
    return list(session.scalars(query.limit(limit)))


def public_visit(session: Session, visit_id: int) -> Visit | None:
    return session.scalar(_public().where(Visit.id == visit_id))


def dong_visits(session: Session, dong: Dong) -> list[Visit]:
    site_visit_ids = select(TourSite.visit_id).where(TourSite.dong_id == dong.id)
    query = _public().where(or_(Visit.dong_id == dong.id, Visit.id.in_(site_visit_ids)))
    return list(session.scalars(query.order_by(Visit.start_at.desc(), Visit.id.desc())))


def dong_card_items(session: Session, dong: Dong):
    from civic_app.cards.models import CardItem

    return list(
        session.scalars(
            select(CardItem)
            .where(CardItem.dong_id == dong.id)
            .order_by(CardItem.created_at.desc(), CardItem.id.desc())
        )
    )


def plan_vs_actual(session: Session) -> list[dict]:
    """Per year, like the source's table: the cycles' quotas (plan), the published schedule and
    what was held, for regular visits and for themed tours."""
    rows = session.execute(
        select(Visit.kind, Visit.start_at, Visit.status, Visit.cycle_id).where(Visit.published.is_(True))
    ).all()
    table: dict[int, dict[str, int]] = defaultdict(
        lambda: {
            "regular_plan": 0,
            "regular_scheduled": 0,
            "regular_held": 0,
            "tour_scheduled": 0,
            "tour_held": 0,
        }
    )
    public_cycles = set()
    for kind, start_at, status, cycle_id in rows:
        year = to_seoul(start_at).year
        prefix = "regular" if kind == KIND_REGULAR else "tour"
        if cycle_id:
            public_cycles.add(cycle_id)
        if status not in FREED:
            table[year][f"{prefix}_scheduled"] += 1
        if status in DONE:
            table[year][f"{prefix}_held"] += 1
    if public_cycles:
        for quotas in session.scalars(select(VisitCycle.quotas).where(VisitCycle.id.in_(public_cycles))):
            for year, quota in quotas:
                table[int(year)]["regular_plan"] += int(quota)
    return [{"year": year, **counts} for year, counts in sorted(table.items())]


def cycles(session: Session) -> list[VisitCycle]:
    return list(session.scalars(select(VisitCycle).order_by(VisitCycle.start_day.desc())))


def cycle_visits(session: Session, cycle: VisitCycle) -> list[Visit]:
    query = select(Visit).where(Visit.cycle_id == cycle.id).order_by(Visit.start_at, Visit.id)
    return list(session.scalars(query))


def tours(session: Session, limit: int = 100) -> list[Visit]:
    query = select(Visit).where(Visit.kind != KIND_REGULAR).order_by(Visit.start_at.desc()).limit(limit)
    return list(session.scalars(query.options(selectinload(Visit.sites))))


def mayor_unavailable(session: Session, since: dt.date) -> list[MayorUnavailable]:
    query = select(MayorUnavailable).where(MayorUnavailable.day >= since).order_by(MayorUnavailable.day)
    return list(session.scalars(query))


def month_grid(visits: list[Visit]) -> list[dict]:
    """Calendar view: months → weeks → days (Mon–Fri … Sun) with that day's visits."""
    by_day: dict[dt.date, list[Visit]] = defaultdict(list)
    for v in visits:
        by_day[to_seoul(v.start_at).date()].append(v)
    if not by_day:
        return []
    first, last = min(by_day), max(by_day)
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        start = dt.date(year, month, 1)
        cursor = start - dt.timedelta(days=start.weekday())
        weeks = []
        while cursor.month == month or cursor < start:
            week = []
            for _i in range(7):
                week.append(
                    {"day": cursor, "in_month": cursor.month == month, "visits": by_day.get(cursor, [])}
                )
                cursor += dt.timedelta(days=1)
            weeks.append(week)
        months.append({"year": year, "month": month, "weeks": weeks})
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return months


PUBLIC_LIST_STATUSES = (PLANNED, CONFIRMED, HELD, RESULTS_PUBLISHED, "postponed")
LIST_PER_PAGE = 20


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def public_list(*, q: str | None = None, year: int | None = None, status: str | None = None) -> Select:
    """The public visit list, newest first (for ``db.paginate``): ``q`` matches a dong's name or
    행정동코드 (also the dongs and place names of a tour's sites), ``year`` the Seoul calendar
    year of the visit."""
    query = _public().options(noload(Visit.departments))
    if q:
        pattern = _like(q)
        dong_ids = select(Dong.id).where(or_(Dong.name.ilike(pattern, escape="\\"), Dong.code == q))
        site_visits = select(TourSite.visit_id).where(
            or_(TourSite.dong_id.in_(dong_ids), TourSite.name.ilike(pattern, escape="\\"))
        )
        query = query.where(or_(Visit.dong_id.in_(dong_ids), Visit.id.in_(site_visits)))
    if year is not None:
        query = query.where(
            Visit.start_at >= seoul_datetime(dt.date(year, 1, 1), dt.time(0)),
            Visit.start_at < seoul_datetime(dt.date(year + 1, 1, 1), dt.time(0)),
        )
    if status is not None:
        query = query.where(Visit.status == status)
    return query.order_by(Visit.start_at.desc(), Visit.id.desc())


def public_years(session: Session) -> list[int]:
    """The years that hold a public visit (the year filter's choices)."""
    first, last = session.execute(
        select(func.min(Visit.start_at), func.max(Visit.start_at)).where(
            Visit.published.is_(True), Visit.status != CANCELLED
        )
    ).one()
    if first is None:
        return []
    return list(range(to_seoul(last).year, to_seoul(first).year - 1, -1))


# --- read by other features ------------------------------------------------------------------
# The calendar feeds, the Telegram digest and commands and the dashboard read visits through
# these functions only (never the models), so a renamed column breaks here.


def calendar_visits(
    session: Session, *, since: dt.datetime, include_unpublished: bool = False
) -> list[Visit]:
    """Visits starting from ``since``, cancelled and postponed ones included (feeds announce
    them); only published ones unless ``include_unpublished`` (staff feeds)."""
    query = (
        select(Visit)
        .where(Visit.start_at >= since)
        .order_by(Visit.start_at, Visit.id)
        .options(lazyload(Visit.departments))  # a calendar event names the dong and the sites
    )
    if not include_unpublished:
        query = query.where(Visit.published.is_(True))
    return list(session.scalars(query).unique())


def published_visit(session: Session, visit_id: int) -> Visit | None:
    """A published visit in any state (a cancelled one still downloads, as cancelled)."""
    return session.scalar(select(Visit).where(Visit.id == visit_id, Visit.published.is_(True)))


def published_from(
    session: Session, *, start: dt.datetime, dong_id: int | None = None, limit: int
) -> list[Visit]:
    """Published visits starting from ``start`` that still hold their day (not postponed or
    cancelled), soonest first; in one dong with ``dong_id``."""
    query = (
        select(Visit)
        .where(Visit.start_at >= start, Visit.published.is_(True), Visit.status.not_in(FREED))
        .order_by(Visit.start_at, Visit.id)
        .limit(limit)
    )
    if dong_id is not None:
        query = query.where(Visit.dong_id == dong_id)
    return list(session.scalars(query).unique())


def visit_span(session: Session) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The first and the last visit's start (None, None without visits)."""
    first, last = session.execute(select(func.min(Visit.start_at), func.max(Visit.start_at))).one()
    return first, last


def published_visit_counts(
    session: Session, *, dong_id: int | None = None
) -> list[tuple[int, str, str, int]]:
    """(year, kind, status, visits) of the published visits per Seoul year (of one dong with
    ``dong_id``): counted in SQL per month, one row per month, kind and status."""
    month = seoul_month(Visit.start_at)
    query = (
        select(month, Visit.kind, Visit.status, func.count())
        .where(Visit.published.is_(True))
        .group_by(month, Visit.kind, Visit.status)
    )
    if dong_id is not None:
        query = query.where(Visit.dong_id == dong_id)
    return [
        (int(str(first_day)[:4]), kind, status, n) for first_day, kind, status, n in session.execute(query)
    ]


def yearly_quotas(session: Session) -> list[tuple[int, int]]:
    """(year, planned regular visits) of every cycle's quotas, one pair per cycle and year. The
    cycles' plans change rarely: kept per process, keyed by the visits' data version."""

    def load() -> tuple[tuple[int, int], ...]:
        return tuple(
            (int(year), int(quota))
            for quotas in session.scalars(select(VisitCycle.quotas))
            for year, quota in quotas or []  # [[year, quota], ...]
        )

    if not refdata.for_session(session):
        return list(load())
    return list(refdata.cached("visit_quotas", "visits", load))


def is_tour(visit: Visit) -> bool:
    """A themed field tour (민생현장 탐방), not a regular dong visit."""
    return visit.kind != KIND_REGULAR
