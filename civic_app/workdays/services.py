"""A working-day calendar shared by the visit planner and the 통통데이 generator."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.workdays.models import BlackoutRange, ClosedDate


@functools.lru_cache(maxsize=32)
def _holidays(first: int, last: int) -> tuple[tuple[dt.date, str], ...]:
    """Korea's public holidays of the years (computing them takes ~13 ms: lunar dates)."""
    return tuple(holidays.country_holidays("KR", years=range(first, last + 1), language="ko").items())


def _public_holidays(first: int, last: int) -> dict[dt.date, str]:
    return dict(_holidays(first, last))


@dataclass
class WorkCalendar:
    """Answers "is this a working day, and if not why" for a date range, without more SQL."""

    holidays_by_day: dict[dt.date, str] = field(default_factory=dict)
    closed_by_day: dict[dt.date, str] = field(default_factory=dict)
    blackouts: list[tuple[dt.date, dt.date, str]] = field(default_factory=list)

    @classmethod
    def load(cls, session: Session, start: dt.date, end: dt.date) -> WorkCalendar:
        from civic_app import refdata

        kr = _public_holidays(start.year, end.year)
        if refdata.for_session(session):
            days = refdata.closed_days()  # cached per process, keyed by the workdays data version
            closed = {day: reason for day, reason in days.closed if start <= day <= end}
            blackouts = [(a, b, reason) for a, b, reason in days.blackouts if a <= end and b >= start]
            return cls(kr, closed, blackouts)
        closed = {
            row.day: row.reason
            for row in session.scalars(
                select(ClosedDate).where(ClosedDate.day >= start, ClosedDate.day <= end)
            )
        }
        blackouts = [
            (row.start_day, row.end_day, row.reason)
            for row in session.scalars(
                select(BlackoutRange).where(BlackoutRange.start_day <= end, BlackoutRange.end_day >= start)
            )
        ]
        return cls(kr, closed, blackouts)

    def holiday_name(self, day: dt.date) -> str | None:
        """Public holiday or admin closed date name, or None."""
        return self.holidays_by_day.get(day) or self.closed_by_day.get(day)

    def blackout_reason(self, day: dt.date) -> str | None:
        for start, end, reason in self.blackouts:
            if start <= day <= end:
                return reason
        return None

    def closed_reason(self, day: dt.date) -> str | None:
        """Why ``day`` is not a working day (Korean), or None when it is one."""
        if day.weekday() >= 5:
            return "주말"
        name = self.holiday_name(day)
        if name:
            return f"공휴일({name})"
        reason = self.blackout_reason(day)
        if reason:
            return f"선거 등 행사 제한 기간({reason})"
        return None

    def is_working_day(self, day: dt.date) -> bool:
        return self.closed_reason(day) is None

    def working_days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        days = []
        day = start
        while day <= end:
            if self.is_working_day(day):
                days.append(day)
            day += dt.timedelta(days=1)
        return days
