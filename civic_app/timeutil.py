"""Time helpers: store UTC, show Asia/Seoul. Every "now" is passed in by callers."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")
UTC = dt.UTC


def utcnow() -> dt.datetime:
    """The single place that reads the clock; views/CLI pass its result to services."""
    return dt.datetime.now(UTC)


def to_seoul(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:  # SQLite returns naive datetimes; they are stored as UTC.
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SEOUL)


def as_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def seoul_datetime(day: dt.date, time: dt.time) -> dt.datetime:
    """A local Seoul wall-clock time as an aware datetime."""
    return dt.datetime.combine(day, time, tzinfo=SEOUL)


def today_seoul(now: dt.datetime) -> dt.date:
    return to_seoul(now).date()


def iso_seoul(value: dt.datetime) -> str:
    """ISO 8601 with the +09:00 offset, as the public API promises."""
    return to_seoul(value).isoformat(timespec="seconds")
