"""One visit's place in the schedule: move, swap, lock, status, publish; visits that a newly
closed day hits and the free days they can move to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.errors import InvalidTransition, NotFound, ValidationFailed
from civic_app.timeutil import seoul_datetime, to_seoul
from civic_app.visits.models import CANCELLED, CONFIRMED, FREED, PLANNED, POSTPONED, Visit
from civic_app.visits.rules import (
    LAST_DAY,
    BlockedDays,
    check_range,
    check_visit_day,
    require_public_text,
    touch,
    visit_times,
)

MOVABLE = (PLANNED, CONFIRMED, POSTPONED)


def move_visit(
    session: Session,
    visit: Visit,
    *,
    day: dt.date,
    actor_id: int | None,
    now: dt.datetime,
    start_time: dt.time | None = None,
    end_time: dt.time | None = None,
) -> Visit:
    if visit.status not in MOVABLE:
        raise InvalidTransition(_("이미 진행했거나 취소한 방문은 옮길 수 없습니다."))
    check_visit_day(session, visit, day)
    local = to_seoul(visit.start_at)
    duration = visit.end_at - visit.start_at
    start_t = start_time or local.time()
    start_at, end_at = visit_times(day, start_t, end_time)
    if end_time is None:
        end_at = start_at + duration
    visit.start_at, visit.end_at = start_at, end_at
    visit.moved_manually = True
    if visit.status == POSTPONED:
        visit.status = PLANNED
        visit.status_reason = None
    touch(visit, now)
    session.flush()
    return visit


def swap_visits(session: Session, a: Visit, b: Visit, *, actor_id: int | None, now: dt.datetime) -> None:
    if a.id == b.id:
        raise ValidationFailed(_("서로 다른 두 방문을 골라 주세요."), [("other", _("같은 방문입니다."))])
    for v in (a, b):
        if v.status not in (PLANNED, CONFIRMED):
            raise InvalidTransition(_("예정·확정 상태의 방문만 맞바꿀 수 있습니다."))
    # Each visit lands on the other's day: both new days pass the same check as a move.
    check_visit_day(session, a, to_seoul(b.start_at).date(), field="other")
    check_visit_day(session, b, to_seoul(a.start_at).date(), field="other")
    a.start_at, b.start_at = b.start_at, a.start_at
    a.end_at, b.end_at = b.end_at, a.end_at
    for v in (a, b):
        v.moved_manually = True
        touch(v, now)
    session.flush()


@dataclass
class DayConflict:
    """A published visit on a day that became closed to visits, and where it could go."""

    visit: Visit
    problem: str
    suggestion: dt.date | None


SEARCH_DAYS = 90  # how far after the closed day a free day is looked for


def blocked_visits(session: Session, start: dt.date, end: dt.date) -> list[DayConflict]:
    """Published, not yet held visits between ``start`` and ``end`` whose day is now closed
    (a blackout, closed date or holiday added after publishing), with the next free day each
    could move to (inside its cycle; not closed; below the cycle's visits-a-day limit)."""
    check_range(start, field="start")
    check_range(end, field="end")
    visits = list(
        session.scalars(
            select(Visit)
            .where(
                Visit.published.is_(True),
                Visit.status.in_((PLANNED, CONFIRMED)),
                Visit.start_at >= seoul_datetime(start, dt.time(0)),
                Visit.start_at < seoul_datetime(end + dt.timedelta(days=1), dt.time(0)),
            )
            .order_by(Visit.start_at, Visit.id)
        )
    )
    if not visits:
        return []
    horizon = min(end + dt.timedelta(days=SEARCH_DAYS), LAST_DAY)
    blocked = BlockedDays.load(session, start, horizon)
    taken: dict[dt.date, int] = {}
    for (start_at,) in session.execute(
        select(Visit.start_at).where(
            Visit.status.not_in(FREED),
            Visit.start_at >= seoul_datetime(start, dt.time(0)),
            Visit.start_at < seoul_datetime(horizon + dt.timedelta(days=1), dt.time(0)),
        )
    ):
        day = to_seoul(start_at).date()
        taken[day] = taken.get(day, 0) + 1
    out = []
    for visit in visits:
        day = to_seoul(visit.start_at).date()
        problem = blocked.problem(day)
        if not problem:
            continue
        cycle = visit.cycle
        limit = (cycle.max_per_day or 1) if cycle else 1
        last = min(cycle.end_day, horizon) if cycle else horizon
        suggestion = None
        candidate = day + dt.timedelta(days=1)
        while candidate <= last:
            if not blocked.is_blocked(candidate) and taken.get(candidate, 0) < limit:
                suggestion = candidate
                taken[candidate] = taken.get(candidate, 0) + 1
                break
            candidate += dt.timedelta(days=1)
        out.append(DayConflict(visit, problem, suggestion))
    return out


def move_blocked(
    session: Session, start: dt.date, end: dt.date, visit_ids: list[int], *, actor_id: int | None, now
) -> list[Visit]:
    """Move the chosen conflicting visits to their suggested days (each through
    ``move_visit``, so through the one date check). All or nothing."""
    chosen = set(visit_ids)
    moved = []
    for conflict in blocked_visits(session, start, end):
        if conflict.visit.id not in chosen:
            continue
        if conflict.suggestion is None:
            raise ValidationFailed(
                _("#%(id)d 방문을 옮길 빈 날짜가 주기 안에 없습니다. 직접 옮겨 주세요.", id=conflict.visit.id)
            )
        moved.append(move_visit(session, conflict.visit, day=conflict.suggestion, actor_id=actor_id, now=now))
    return moved


def set_locked(
    session: Session, visit: Visit, locked: bool, *, actor_id: int | None, now: dt.datetime
) -> None:
    visit.locked = locked
    touch(visit, now, bump=False)
    session.flush()


def change_status(
    session: Session, visit: Visit, status: str, *, actor_id: int | None, now: dt.datetime, reason: str = ""
) -> Visit:
    """Confirm, postpone or cancel (postpone/cancel need a reason and free the dong)."""
    if status not in (CONFIRMED, POSTPONED, CANCELLED):
        raise InvalidTransition(_("이 화면에서 바꿀 수 없는 상태입니다."))
    if not visit.can_transition_to(status):
        raise InvalidTransition(_("현재 상태에서는 그렇게 바꿀 수 없습니다."))
    reason = (reason or "").strip()
    if status in FREED and not reason:
        raise ValidationFailed(_("연기·취소 사유를 입력해 주세요."), [("reason", _("사유를 입력해 주세요."))])
    require_public_text(session, {"reason": reason})
    visit.status = status
    visit.status_reason = reason[:300] or None
    touch(visit, now)
    session.flush()
    return visit


def publish_visit(session: Session, visit: Visit, *, actor_id: int | None, now: dt.datetime) -> None:
    if visit.status == CANCELLED:
        raise InvalidTransition(_("취소한 방문은 공개할 수 없습니다."))
    if not visit.published:
        visit.published = True
        touch(visit, now)
        session.flush()


def get_visit(session: Session, visit_id: int) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(_("방문을 찾을 수 없습니다."))
    return visit
