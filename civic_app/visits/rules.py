"""What every change of a visit goes through: its day (year range, cycle window, closed days,
통통데이, the mayor's unavailable days), its times, public text, departments.

Every function takes the session, the acting user id and ``now``; it flushes, never commits,
and raises ``DomainError``s with Korean messages. Validation happens before anything is added,
so a refused request leaves the database unchanged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.dongs.models import Department
from civic_app.errors import ValidationFailed
from civic_app.registry import BlockedDaysSource, get_registry
from civic_app.timeutil import seoul_datetime
from civic_app.visits.models import MayorUnavailable, Visit
from civic_app.workdays.services import WorkCalendar

DEFAULT_START = dt.time(10, 0)
DEFAULT_DURATION = dt.timedelta(hours=2)


# --- blocked days -------------------------------------------------------------------------


@dataclass
class BlockedDays:
    """Why a day cannot hold a visit: working-day calendar, days other features keep (통통데이,
    through the registry's blocked-days hook), mayor unavailable."""

    calendar: WorkCalendar
    kept: dict[dt.date, BlockedDaysSource]
    mayor: dict[dt.date, str]

    @classmethod
    def load(cls, session: Session, start: dt.date, end: dt.date) -> BlockedDays:
        mayor = {
            row.day: row.reason
            for row in session.scalars(
                select(MayorUnavailable).where(MayorUnavailable.day >= start, MayorUnavailable.day <= end)
            )
        }
        kept = get_registry(current_app).blocked_days_between(session, start, end)
        return cls(WorkCalendar.load(session, start, end), kept, mayor)

    def problem(self, day: dt.date) -> str | None:
        """A Korean reason why ``day`` is closed to visits, or None."""
        if day.weekday() >= 5:
            return _("주말에는 방문을 잡을 수 없습니다.")
        name = self.calendar.holiday_name(day)
        if name:
            return _("공휴일·휴무일(%(name)s)에는 방문을 잡을 수 없습니다.", name=name)
        reason = self.calendar.blackout_reason(day)
        if reason:
            return _("행사 제한 기간(%(reason)s)에는 방문을 잡을 수 없습니다.", reason=reason)
        if day in self.kept:
            return _("%(name)s에는 방문을 잡을 수 없습니다.", name=self.kept[day].label())
        if day in self.mayor:
            return _("시장 일정 불가일(%(reason)s)에는 방문을 잡을 수 없습니다.", reason=self.mayor[day])
        return None

    def is_blocked(self, day: dt.date) -> bool:
        return (
            day.weekday() >= 5
            or day in self.kept
            or day in self.mayor
            or not self.calendar.is_working_day(day)
        )


FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2100, 12, 31)


def check_range(day: dt.date, *, field: str = "day") -> None:
    """Visits are planned between 2000 and 2100; anything else is a typo."""
    if not (FIRST_DAY <= day <= LAST_DAY):
        problem = _("날짜는 2000년부터 2100년 사이여야 합니다.")
        raise ValidationFailed(problem, [(field, problem)])


def check_day(session: Session, day: dt.date, *, field: str = "day") -> None:
    """A day with no visit yet (see ``check_visit_day``)."""
    check_visit_day(session, None, day, field=field)


def check_visit_day(session: Session, visit: Visit | None, day: dt.date, *, field: str = "day") -> None:
    """The one check every change of a visit's date goes through (new tour, move, swap, moving
    the visits a new blackout hits): the year range, the visit's cycle window, then holidays,
    closed dates, election blackouts, 통통데이 and the mayor's unavailable days."""
    check_range(day, field=field)
    cycle = visit.cycle if visit is not None else None
    if cycle is not None and not (cycle.start_day <= day <= cycle.end_day):
        raise ValidationFailed(
            _(
                "방문 주기 기간(%(s)s ~ %(e)s) 안의 날짜를 골라 주세요.",
                s=cycle.start_day,
                e=cycle.end_day,
            ),
            [(field, _("주기 기간 밖의 날짜입니다."))],
        )
    problem = BlockedDays.load(session, day, day).problem(day)
    if problem:
        raise ValidationFailed(problem, [(field, problem)])


# --- helpers ------------------------------------------------------------------------------


def visit_times(day: dt.date, start: dt.time | None = None, end: dt.time | None = None):
    start_at = seoul_datetime(day, start or DEFAULT_START)
    end_at = seoul_datetime(day, end) if end else start_at + DEFAULT_DURATION
    if end_at <= start_at:
        raise ValidationFailed(
            _("종료 시각은 시작 시각보다 뒤여야 합니다."), [("end_time", _("시각을 확인해 주세요."))]
        )
    return start_at.astimezone(dt.UTC), end_at.astimezone(dt.UTC)


def touch(visit: Visit, now: dt.datetime, *, bump: bool = True) -> None:
    visit.updated_at = now
    if bump:
        visit.sequence = (visit.sequence or 0) + 1


def require_public_text(session: Session, fields: dict[str, str | None]) -> None:
    """Visit pages, feeds, dong cards and the Telegram channel are public: refuse text with a
    phone number, an e-mail address or a citizen's name (a Korean error naming what to remove)."""
    from civic_app.privacy import guard

    if any((text or "").strip() for text in fields.values()):
        guard.require_public(fields, guard.known_names(session))


def departments_by_id(session: Session, ids: list[int]) -> list[Department]:
    ids = sorted(set(ids or []))
    if not ids:
        return []
    found = session.scalars(select(Department).where(Department.id.in_(ids))).all()
    if len(found) != len(ids):
        raise ValidationFailed(
            _("알 수 없는 부서가 있습니다."), [("departments", _("부서를 다시 골라 주세요."))]
        )
    return list(found)


# --- mayor unavailable days ---------------------------------------------------------------


def add_mayor_unavailable(session: Session, *, day: dt.date, reason: str, actor_id, now) -> MayorUnavailable:
    check_range(day)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("사유를 입력해 주세요."), [("reason", _("사유를 입력해 주세요."))])
    if session.scalar(select(MayorUnavailable).where(MayorUnavailable.day == day)) is not None:
        raise ValidationFailed(_("이미 등록된 날짜입니다."), [("day", _("이미 등록된 날짜입니다."))])
    row = MayorUnavailable(day=day, reason=reason[:200])
    session.add(row)
    session.flush()
    return row


def remove_mayor_unavailable(session: Session, row: MayorUnavailable, *, actor_id, now) -> None:
    session.delete(row)
    session.flush()
