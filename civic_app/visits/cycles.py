"""Plan cycles: the draft plan of a cycle (through the planner), re-planning, publishing."""

from __future__ import annotations

import datetime as dt
import re

from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from civic_app.dongs.models import Dong
from civic_app.errors import ValidationFailed
from civic_app.timeutil import seoul_datetime, to_seoul
from civic_app.visits import planner
from civic_app.visits.models import (
    CANCELLED,
    FREED,
    HELD,
    KIND_REGULAR,
    PLANNED,
    RESULTS_PUBLISHED,
    Visit,
    VisitCycle,
)
from civic_app.visits.rules import BlockedDays, check_range, touch, visit_times


def parse_weights(text: str) -> dict[str, int]:
    """``3,2,2`` → weights of contested area, natural village, outlying area."""
    parts = [p.strip() for p in (text or "").split(",")]
    if len(parts) != 3 or any(not re.fullmatch(r"\d{1,3}", p) for p in parts):
        raise ValidationFailed(
            _(
                "우선순위 가중치는 쟁점민원·자연부락·외곽지역 순서로 숫자 세 개를 쉼표로 구분해 입력해 주세요 (예: 3,2,2)."
            ),
            [("weights", _("형식이 올바르지 않습니다."))],
        )
    return dict(zip(planner.FLAGS, (int(p) for p in parts), strict=True))


def parse_quotas(text: str) -> list[int]:
    parts = [p.strip() for p in (text or "").split(",")]
    if not parts or any(not re.fullmatch(r"\d{1,5}", p) for p in parts):
        raise ValidationFailed(
            _("연도별 할당은 쉼표로 구분한 숫자로 입력해 주세요 (예: 19,20)."),
            [("quotas", _("형식이 올바르지 않습니다."))],
        )
    return [int(p) for p in parts]


def _last_held(session: Session, before: dt.datetime) -> dict[int, dt.date]:
    rows = session.execute(
        select(Visit.dong_id, func.max(Visit.start_at))
        .where(
            Visit.kind == KIND_REGULAR,
            Visit.status.in_((HELD, RESULTS_PUBLISHED)),
            Visit.start_at < before,
            Visit.dong_id.is_not(None),
        )
        .group_by(Visit.dong_id)
    )
    result = {}
    for dong_id, latest in rows:
        aware = latest if latest.tzinfo else latest.replace(tzinfo=dt.UTC)  # SQLite max() is naive
        result[dong_id] = to_seoul(aware).date()
    return result


def _planner_dongs(session: Session, before: dt.datetime) -> list[planner.PlannerDong]:
    last = _last_held(session, before)
    dongs = session.scalars(select(Dong).where(Dong.active.is_(True)).order_by(Dong.code))
    return [
        planner.PlannerDong(
            d.id, d.code, d.name, d.contested_area, d.natural_village, d.outlying_area, last.get(d.id)
        )
        for d in dongs
    ]


def create_cycle(
    session: Session,
    *,
    start: dt.date,
    end: dt.date,
    quotas: list[int],
    actor_id: int | None,
    now: dt.datetime,
    max_per_week: int = 3,
    name: str | None = None,
    publish: bool = False,
    weights: dict[str, int] | None = None,
    max_per_day: int = 1,
) -> VisitCycle:
    """Create a cycle and its draft plan; nothing is written when the plan is impossible."""
    check_range(start, field="start")
    check_range(end, field="end")
    if end < start:
        raise ValidationFailed(
            _("종료일은 시작일과 같거나 뒤여야 합니다."), [("end", _("종료일을 확인해 주세요."))]
        )
    years = list(range(start.year, end.year + 1))
    if len(quotas) != len(years):
        raise ValidationFailed(
            _(
                "연도별 할당은 %(first)d년부터 %(last)d년까지 %(n)d개 연도에 하나씩, 연도 순서대로 입력해야 합니다.",
                first=years[0],
                last=years[-1],
                n=len(years),
            ),
            [("quotas", _("연도 수와 할당 수가 다릅니다."))],
        )
    overlap = session.scalar(
        select(VisitCycle.id).where(VisitCycle.start_day <= end, VisitCycle.end_day >= start).limit(1)
    )
    if overlap is not None:
        raise ValidationFailed(
            _("이 기간과 겹치는 방문 주기가 이미 있습니다."), [("start", _("기간이 겹칩니다."))]
        )
    quota_map = dict(zip(years, quotas, strict=True))
    dongs = _planner_dongs(session, seoul_datetime(start, dt.time(0)))
    if not dongs:
        raise ValidationFailed(_("활성 행정동이 없습니다. 먼저 행정동을 가져와 주세요."))
    blocked = BlockedDays.load(session, start, end)
    placements = planner.plan(
        dongs,
        start=start,
        end=end,
        quotas=quota_map,
        is_blocked=blocked.is_blocked,
        max_per_week=max_per_week,
        max_per_day=max_per_day,
        weights=weights,
    )
    cycle = VisitCycle(
        priority_weights=dict(weights) if weights else None,
        name=name or _("%(start)s ~ %(end)s 동 방문", start=start.isoformat(), end=end.isoformat()),
        start_day=start,
        end_day=end,
        quotas=[[y, q] for y, q in quota_map.items()],
        max_per_week=max_per_week,
        max_per_day=max_per_day,
        created_at=now,
        updated_at=now,
    )
    session.add(cycle)
    session.flush()
    _add_placements(session, cycle, placements, now=now, publish=publish)
    session.flush()
    return cycle


def _add_placements(session, cycle, placements, *, now, publish: bool) -> None:
    rows = []
    for p in placements:
        start_at, end_at = visit_times(p.day)
        rows.append(
            {
                "kind": KIND_REGULAR,
                "cycle_id": cycle.id,
                "dong_id": p.dong_id,
                "start_at": start_at,
                "end_at": end_at,
                "status": PLANNED,
                "published": publish,
                "locked": False,
                "moved_manually": False,
                "plan_reason": p.reason,
                "agenda": [],
                "participant_groups": [],
                "results_revision": 0,
                "sequence": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    if rows:
        session.execute(Visit.__table__.insert(), rows)
    session.expire(cycle, ["visits"])


def replan_cycle(session: Session, cycle: VisitCycle, *, actor_id: int | None, now: dt.datetime) -> int:
    """Re-plan around kept visits (held, confirmed, published, locked or moved by hand).

    Planned drafts that nobody touched are replaced; postponed or cancelled visits stay as a
    record but free their dong. Returns the number of new placements.
    """
    session.flush()
    visits = session.scalars(select(Visit).where(Visit.cycle_id == cycle.id)).all()
    kept = [
        v
        for v in visits
        if v.status in FREED or v.locked or v.moved_manually or v.published or v.status != PLANNED
    ]
    removable = [v.id for v in visits if v not in kept]
    fixed = [(v.dong_id, v.local_day) for v in kept if v.keeps_slot]
    fixed_ids = {d for d, _day in fixed}
    dongs = _planner_dongs(session, seoul_datetime(cycle.start_day, dt.time(0)))
    # Dongs that left the registry but still hold a kept visit stay counted.
    active_ids = {d.id for d in dongs}
    for dong_id in fixed_ids - active_ids:
        dongs.append(planner.PlannerDong(dong_id, f"~{dong_id}"))
    blocked = BlockedDays.load(session, cycle.start_day, cycle.end_day)
    placements = planner.plan(
        dongs,
        start=cycle.start_day,
        end=cycle.end_day,
        quotas=cycle.quota_map,
        is_blocked=blocked.is_blocked,
        fixed=fixed,
        max_per_week=cycle.max_per_week,
        max_per_day=cycle.max_per_day or 1,
        weights=cycle.priority_weights,
    )
    if removable:
        session.execute(delete(Visit).where(Visit.id.in_(removable)))
        session.expire_all()
    _add_placements(session, cycle, placements, now=now, publish=False)
    cycle.updated_at = now
    session.flush()
    return len(placements)


def publish_cycle(session: Session, cycle: VisitCycle, *, actor_id: int | None, now: dt.datetime) -> int:
    """Make the cycle's plan public; returns how many visits became public."""
    count = 0
    for visit in session.scalars(select(Visit).where(Visit.cycle_id == cycle.id, Visit.published.is_(False))):
        if visit.status == CANCELLED:
            continue
        visit.published = True
        touch(visit, now)
        count += 1
    cycle.updated_at = now
    session.flush()
    return count
