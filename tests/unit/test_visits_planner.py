"""The rotation planner over the source's term: 39 / 19 / 20 / 19 / 20 visits by year."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, select

from civic_app.errors import ValidationFailed
from civic_app.meetings.queries import tongtong_days
from civic_app.timeutil import to_seoul
from civic_app.visits import planner
from civic_app.visits.cycles import replan_cycle
from civic_app.visits.models import MayorUnavailable, Visit, VisitCycle
from civic_app.visits.schedule import change_status, move_visit, set_locked
from civic_app.workdays.services import WorkCalendar
from tests.factories import NOW, make_dong
from tests.factories_visits import add_blackout, add_closed, hold_all, make_city, plan

TERM = [
    (dt.date(2018, 7, 1), dt.date(2018, 12, 31), [39]),
    (dt.date(2019, 1, 1), dt.date(2020, 12, 31), [19, 20]),
    (dt.date(2021, 1, 1), dt.date(2022, 6, 30), [19, 20]),
]


def _days(visits) -> list[dt.date]:
    return [to_seoul(v.start_at).date() for v in visits]


def test_source_term_plan(session):
    dongs = make_city(39)
    priority_ids = {d.id for d in dongs if d.is_priority}
    assert len(priority_ids) == 8
    blackout = add_blackout(dt.date(2022, 5, 19), dt.date(2022, 6, 1))
    closed = add_closed(dt.date(2018, 8, 16), "개청 기념 휴무")
    session.add(MayorUnavailable(day=dt.date(2019, 3, 12), reason="해외 출장"))
    session.flush()

    cycles = []
    for start, end, quotas in TERM:
        cycle = plan(start, end, quotas)
        cycles.append(cycle)
        hold_all(cycle)

    visits = session.scalars(select(Visit).order_by(Visit.start_at)).all()
    by_year = Counter(d.year for d in _days(visits))
    assert [by_year[y] for y in range(2018, 2023)] == [39, 19, 20, 19, 20]

    calendar = WorkCalendar.load(session, dt.date(2018, 1, 1), dt.date(2022, 12, 31))
    tongtong = tongtong_days(session, dt.date(2018, 1, 1), dt.date(2022, 12, 31))
    assert len(tongtong) > 100  # 2nd and 4th Thursdays (moved off holidays) of five years
    for day in _days(visits):
        assert day.weekday() < 5
        assert calendar.holiday_name(day) is None, day
        assert day not in tongtong
        assert not (blackout.start_day <= day <= blackout.end_day)
        assert day != closed.day
        assert day != dt.date(2019, 3, 12)
    # The window includes lunar holidays: Chuseok 2018, Seollal 2019/2020/2021/2022, Chuseok 2021.
    lunar = [d for d, name in calendar.holidays_by_day.items() if "설날" in name or "추석" in name]
    assert len(lunar) >= 15
    assert not set(lunar) & set(_days(visits))

    for cycle in cycles:
        cycle_visits = [v for v in visits if v.cycle_id == cycle.id]
        assert sorted(v.dong_id for v in cycle_visits) == sorted(d.id for d in dongs)  # each dong once
        last_priority = max(v.start_at for v in cycle_visits if v.dong_id in priority_ids)
        first_other = min(v.start_at for v in cycle_visits if v.dong_id not in priority_ids)
        assert last_priority < first_other
        weeks = Counter(to_seoul(v.start_at).date().isocalendar()[:2] for v in cycle_visits)
        assert max(weeks.values()) <= cycle.max_per_week


def test_visits_spread_over_every_month(session):
    make_city(39)
    first = plan(dt.date(2018, 7, 1), dt.date(2018, 12, 31), [39])
    hold_all(first)
    cycle = plan(dt.date(2019, 1, 1), dt.date(2020, 12, 31), [19, 20])
    days = _days(cycle.visits)
    for year in (2019, 2020):
        months = Counter(d.month for d in days if d.year == year)
        assert sorted(months) == list(range(1, 13)), months  # no empty month
        assert max(months.values()) <= 3
    h2 = Counter(d.month for d in _days(first.visits))
    assert sorted(h2) == [7, 8, 9, 10, 11, 12]
    assert max(h2.values()) - min(h2.values()) <= 3


def test_reasons_are_readable_and_longest_wait_goes_first(session, app):
    make_city(39)
    first = plan(dt.date(2018, 7, 1), dt.date(2018, 12, 31), [39])
    hold_all(first)
    order_first = [v.dong_id for v in sorted(first.visits, key=lambda v: v.start_at)]
    second = plan(dt.date(2019, 1, 1), dt.date(2020, 12, 31), [19, 20])
    ordered = sorted(second.visits, key=lambda v: v.start_at)
    others = [v for v in ordered if not v.plan_reason.startswith("priority")]
    # Non-priority dongs come back in the order they were last visited.
    assert [v.dong_id for v in others] == [d for d in order_first if d in {v.dong_id for v in others}]
    with app.test_request_context():
        assert planner.describe_reason(ordered[0].plan_reason).endswith("우선")
        text = planner.describe_reason(others[-1].plan_reason)
        assert text.startswith("최근 방문 후 ")
        assert text.endswith("개월 경과")
        assert planner.describe_reason("elapsed:23") == "최근 방문 후 23개월 경과"
        assert planner.describe_reason("priority:contested_area") == "쟁점민원 지역 우선"


def test_planner_is_deterministic():
    dongs = [planner.PlannerDong(i, f"{4100000000 + i}", outlying_area=i % 4 == 0) for i in range(60)]
    kwargs = {
        "start": dt.date(2025, 1, 1),
        "end": dt.date(2026, 12, 31),
        "quotas": {2025: 30, 2026: 30},
        "is_blocked": lambda d: d.weekday() >= 5,
    }
    assert planner.plan(dongs, **kwargs) == planner.plan(list(reversed(dongs)), **kwargs)


def test_quotas_that_do_not_add_up_write_nothing(session, app):
    make_city(39)
    with app.test_request_context(), pytest.raises(ValidationFailed) as error:
        plan(dt.date(2019, 1, 1), dt.date(2020, 12, 31), [19, 19])
    assert "합계(38)" in error.value.message
    assert "활성 동 수(39)" in error.value.message
    with app.test_request_context(), pytest.raises(ValidationFailed) as error:
        plan(dt.date(2019, 1, 1), dt.date(2020, 12, 31), [39])
    assert "연도 순서대로" in error.value.message
    assert session.scalar(select(func.count(VisitCycle.id))) == 0
    assert session.scalar(select(func.count(Visit.id))) == 0


def test_too_few_working_days_is_refused(session, app):
    make_city(39)
    with app.test_request_context(), pytest.raises(ValidationFailed) as error:
        plan(dt.date(2019, 1, 1), dt.date(2019, 1, 31), [39])
    assert "근무일이 부족합니다" in error.value.message
    assert session.scalar(select(func.count(Visit.id))) == 0


def test_replan_keeps_held_locked_and_moved_visits(session):
    make_city(39)
    cycle = plan(dt.date(2019, 1, 1), dt.date(2020, 12, 31), [19, 20])
    visits = sorted(cycle.visits, key=lambda v: v.start_at)
    held, locked, moved = visits[0], visits[10], visits[30]
    held.status = "held"
    set_locked(session, locked, True, actor_id=None, now=NOW)
    move_visit(session, moved, day=dt.date(2020, 11, 3), actor_id=None, now=NOW)
    kept = {v.id: (v.dong_id, v.start_at) for v in (held, locked, moved)}
    session.flush()

    replan_cycle(session, cycle, actor_id=None, now=NOW)
    first = {v.dong_id: v.start_at for v in session.scalars(select(Visit).where(Visit.cycle_id == cycle.id))}
    for visit_id, (dong_id, start_at) in kept.items():
        row = session.get(Visit, visit_id)
        assert (row.dong_id, row.start_at) == (dong_id, start_at)
    assert len(first) == 39
    days = Counter(to_seoul(s).date().year for s in first.values())
    assert days == {2019: 19, 2020: 20}

    replan_cycle(session, cycle, actor_id=None, now=NOW)
    again = {v.dong_id: v.start_at for v in session.scalars(select(Visit).where(Visit.cycle_id == cycle.id))}
    assert again == first  # deterministic for the same input


def test_cancelled_visit_frees_its_dong_for_replanning(session):
    make_city(39)
    cycle = plan(dt.date(2019, 1, 1), dt.date(2020, 12, 31), [19, 20])
    victim = sorted(cycle.visits, key=lambda v: v.start_at)[5]
    change_status(session, victim, "cancelled", reason="태풍 북상", actor_id=None, now=NOW)
    replan_cycle(session, cycle, actor_id=None, now=NOW)
    rows = session.scalars(
        select(Visit).where(Visit.cycle_id == cycle.id, Visit.dong_id == victim.dong_id)
    ).all()
    assert sorted(r.status for r in rows) == ["cancelled", "planned"]


def test_benchmark_size_places_every_dong_once_within_the_limits():
    """The benchmark's country-sized input (3,500 dongs) is planned correctly; how fast is
    measured by ``bench/bench_planner.py`` (``make bench``), not asserted here."""
    from bench import bench_planner

    blocked = bench_planner._blocked()
    dongs = bench_planner.synthetic_dongs()
    placements = planner.plan(
        dongs,
        start=bench_planner.START,
        end=bench_planner.END,
        quotas=bench_planner.QUOTAS,
        is_blocked=lambda d: d.weekday() >= 5 or d in blocked,
        max_per_day=12,
        max_per_week=50,
    )
    assert sorted(p.dong_id for p in placements) == [d.id for d in dongs]
    assert all(bench_planner.START <= p.day <= bench_planner.END for p in placements)
    assert not [p.day for p in placements if p.day.weekday() >= 5 or p.day in blocked]
    assert max(Counter(p.day for p in placements).values()) <= 12
    assert max(Counter(p.day.isocalendar()[:2] for p in placements).values()) <= 50
    assert Counter(p.day.year for p in placements) == bench_planner.QUOTAS


def test_priority_weights_are_configurable_and_kept_for_replanning(session):
    village = make_dong("마을동", code="4199090000", natural_village=True)
    contested = make_dong("쟁점동", code="4199090300", contested_area=True)
    make_dong("보통동", code="4199090600")
    cycle = plan(
        dt.date(2027, 1, 1), dt.date(2027, 12, 31), [3], weights={"contested_area": 1, "natural_village": 5}
    )
    first = min(cycle.visits, key=lambda v: v.start_at)
    assert first.dong_id == village.id
    replan_cycle(session, cycle, actor_id=None, now=NOW)
    session.expire_all()
    ordered = sorted(session.get(VisitCycle, cycle.id).visits, key=lambda v: v.start_at)
    assert [v.dong_id for v in ordered[:2]] == [village.id, contested.id]
