"""Factories for the visits feature (flush, never commit)."""

from __future__ import annotations

import datetime as dt

from civic_app.extensions import db
from civic_app.visits.cycles import create_cycle
from civic_app.visits.models import HELD, Visit
from civic_app.workdays.models import BlackoutRange, ClosedDate
from tests.factories import NOW, make_dong

# 39 dongs of a test city; every fifth one is a priority area of some kind.
PRIORITY_FLAGS = ("contested_area", "natural_village", "outlying_area")


def make_city(n: int = 39, first: int = 0) -> list:
    dongs = []
    for i in range(first, first + n):
        flags = {}
        if i % 5 == 2:
            flags[PRIORITY_FLAGS[(i // 5) % 3]] = True
        dongs.append(make_dong(f"시험{i:02d}동", code=f"41123{510 + i * 3:03d}00", **flags))
    return dongs


def add_blackout(start: dt.date, end: dt.date, reason: str = "지방선거 행사 제한") -> BlackoutRange:
    row = BlackoutRange(start_day=start, end_day=end, reason=reason)
    db.session.add(row)
    db.session.flush()
    return row


def add_closed(day: dt.date, reason: str = "임시공휴일") -> ClosedDate:
    row = ClosedDate(day=day, reason=reason)
    db.session.add(row)
    db.session.flush()
    return row


def plan(start: dt.date, end: dt.date, quotas: list[int], **kw):
    return create_cycle(db.session, start=start, end=end, quotas=quotas, actor_id=None, now=NOW, **kw)


def hold_all(cycle) -> None:
    """Mark every visit of ``cycle`` as held (what happens when a cycle ends)."""
    for visit in db.session.query(Visit).filter(Visit.cycle_id == cycle.id):
        visit.status = HELD
    db.session.flush()
