"""Read-only queries of 통통데이. CONTRACT STUB: ``tongtong_days`` keeps this signature
(the visit planner calls it to keep visits off session days)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session


def nth_weekdays(year: int, month: int, weekday: int, ordinals: tuple[int, ...]) -> list[dt.date]:
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    days = [first + dt.timedelta(days=offset + 7 * (n - 1)) for n in ordinals]
    return [d for d in days if d.month == month]


def tongtong_days(session: Session, start: dt.date, end: dt.date) -> set[dt.date]:
    """Dates in [start, end] that hold (or by the rule would hold) a 통통데이 session."""
    days: set[dt.date] = set()
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        for day in nth_weekdays(year, month, 3, (2, 4)):
            if start <= day <= end:
                days.add(day)
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return days
