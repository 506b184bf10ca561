"""Issue 15, visits: one date check for every change (swap included), blackouts added after
publishing, --max-per-day, and the searchable, paginated public list."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from civic_app.errors import ValidationFailed
from civic_app.extensions import db
from civic_app.timeutil import seoul_datetime, to_seoul
from civic_app.visits.cycles import replan_cycle
from civic_app.visits.models import HELD, Visit, VisitCycle
from civic_app.visits.schedule import blocked_visits, move_visit, swap_visits
from tests.factories import NOW, login, make_dong, make_user
from tests.factories_visits import add_blackout, make_city, plan


@pytest.fixture
def staff(session):
    return make_user("civic_staff", name="김담당", email="staff-dates@example.com")


def _day(visit: Visit) -> dt.date:
    return to_seoul(visit.start_at).date()


def _set_day(visit: Visit, day: dt.date) -> None:
    visit.start_at = seoul_datetime(day, dt.time(10)).astimezone(dt.UTC)
    visit.end_at = visit.start_at + dt.timedelta(hours=2)


def _two_published_visits(session):
    make_city(2)
    cycle = plan(dt.date(2027, 3, 1), dt.date(2027, 6, 30), [2], publish=True)
    a, b = sorted(cycle.visits, key=lambda v: v.start_at)
    _set_day(a, dt.date(2027, 4, 6))  # Tuesday
    _set_day(b, dt.date(2027, 5, 18))  # Tuesday
    session.flush()
    return a, b


def test_swap_into_a_blackout_is_refused_like_a_move(session):
    a, b = _two_published_visits(session)
    # The election blackout arrives after publishing and covers b's day.
    add_blackout(dt.date(2027, 5, 17), dt.date(2027, 5, 21))
    with pytest.raises(ValidationFailed) as refused:
        swap_visits(session, a, b, actor_id=None, now=NOW)
    assert "행사 제한 기간" in refused.value.message
    # Refused before anything changed.
    assert (_day(a), _day(b)) == (dt.date(2027, 4, 6), dt.date(2027, 5, 18))
    with pytest.raises(ValidationFailed):
        move_visit(session, a, day=dt.date(2027, 5, 19), actor_id=None, now=NOW)


def test_swap_over_http_shows_the_reason_and_changes_nothing(client, session, staff):
    a, b = _two_published_visits(session)
    add_blackout(dt.date(2027, 4, 5), dt.date(2027, 4, 9), reason="보궐선거")
    login(client, staff)
    response = client.post(f"/staff/visits/{b.id}/swap", data={"s-other": str(a.id)})
    assert response.status_code == 400
    assert "보궐선거" in response.get_data(as_text=True)
    db.session.expire_all()
    assert _day(db.session.get(Visit, b.id)) == dt.date(2027, 5, 18)


def test_adding_a_blackout_lists_the_published_visits_it_hits_and_moves_them(client, session, staff):
    a, b = _two_published_visits(session)
    login(client, staff)
    added = client.post(
        "/admin/workdays/blackouts",
        data={"b-start_day": "2027-04-05", "b-end_day": "2027-04-09", "b-reason": "국회의원 보궐선거"},
    )
    assert added.status_code == 302
    assert "/staff/visits/conflicts?start=2027-04-05&end=2027-04-09" in added.headers["Location"]
    page = client.get(added.headers["Location"]).get_data(as_text=True)
    assert f'id="conflict-{a.id}"' in page
    assert f'id="conflict-{b.id}"' not in page
    assert "국회의원 보궐선거" in page
    assert "2027년 4월 12일" in page  # the next free working day, offered
    moved = client.post(
        "/staff/visits/conflicts/move",
        data={"start": "2027-04-05", "end": "2027-04-09", "visit_id": str(a.id)},
    )
    assert moved.status_code == 302
    db.session.expire_all()
    assert _day(db.session.get(Visit, a.id)) == dt.date(2027, 4, 12)
    assert blocked_visits(db.session, dt.date(2027, 4, 5), dt.date(2027, 4, 9)) == []
    # A blackout that hits nothing keeps the admin on the workdays page.
    calm = client.post(
        "/admin/workdays/blackouts",
        data={"b-start_day": "2027-08-02", "b-end_day": "2027-08-03", "b-reason": "행사"},
    )
    assert calm.headers["Location"].endswith("/admin/workdays")


def test_cli_max_per_day_lets_a_dense_plan_fit(runner, session):
    for n in range(3):
        make_dong(f"조밀{n}동", code=f"41990{n:02d}000")
    session.commit()
    args = ["visits", "plan-cycle", "--start", "2027-03-02", "--end", "2027-03-03", "--quotas", "3"]
    refused = runner.invoke(args=args)
    assert refused.exit_code != 0
    assert "필요 3건, 가능 2건" in refused.output
    ok = runner.invoke(args=[*args, "--max-per-day", "2"])
    assert ok.exit_code == 0, ok.output
    cycle = db.session.scalar(select(VisitCycle))
    assert cycle.max_per_day == 2
    days = sorted(_day(v) for v in db.session.scalars(select(Visit)))
    assert days.count(days[0]) + days.count(days[-1]) == 3
    assert max(days.count(d) for d in days) == 2
    assert runner.invoke(args=[*args, "--max-per-day", "0"]).exit_code != 0


def test_planning_page_has_the_same_max_per_day(client, session, staff):
    for n in range(3):
        make_dong(f"조밀{n}동", code=f"41990{n:02d}000")
    login(client, staff)
    form = {"c-start": "2027-03-02", "c-end": "2027-03-03", "c-quotas": "3", "c-max_per_week": "3"}
    form["c-weights"] = "3,2,2"
    assert "하루 최대 방문 수" in client.get("/staff/visits").get_data(as_text=True)
    bad = client.post("/staff/visits/cycles", data={**form, "c-max_per_day": "1"})
    assert bad.status_code == 400
    ok = client.post("/staff/visits/cycles", data={**form, "c-max_per_day": "2"})
    assert ok.status_code == 302
    assert session.scalar(select(VisitCycle.max_per_day)) == 2
    # Re-planning keeps the cycle's limit.
    cycle = session.scalar(select(VisitCycle))
    assert replan_cycle(session, cycle, actor_id=None, now=NOW) == 3


def test_public_list_searches_filters_and_paginates(client, session):
    dongs = make_city(24)
    plan(dt.date(2026, 1, 1), dt.date(2026, 12, 31), [24], publish=True)
    plan(dt.date(2027, 1, 1), dt.date(2027, 12, 31), [24], publish=True)
    for v in db.session.scalars(
        select(Visit).where(Visit.start_at < seoul_datetime(dt.date(2026, 7, 1), dt.time(0)))
    ):
        v.status = HELD
    session.commit()
    first = client.get("/visits").get_data(as_text=True)
    assert "모두 48건" in first
    assert "1 / 3쪽" in first
    assert first.count('class="visit-item"') <= 5 + 20
    third = client.get("/visits?page=3").get_data(as_text=True)
    assert third.count('class="visit-item"') == 8
    name = dongs[7].name
    found = client.get("/visits", query_string={"q": name}).get_data(as_text=True)
    assert "모두 2건" in found
    by_code = client.get("/visits", query_string={"q": dongs[7].code, "year": "2027"}).get_data(as_text=True)
    assert "모두 1건" in by_code
    held = session.scalar(select(func.count(Visit.id)).where(Visit.status == HELD))
    assert f"모두 {held}건" in client.get("/visits?status=held").get_data(as_text=True)
    assert f"모두 {held}건" in client.get("/visits?status=held&year=2026&page=99").get_data(as_text=True)
    # Hostile input is ignored, never an error.
    for query in ("q=%25", "q=_", "year=abc", "year=99999", "status=<script>", "page=-1"):
        assert client.get(f"/visits?{query}").status_code == 200
    assert "모두 0건" in client.get("/visits?q=%25").get_data(as_text=True)


def test_a_mayor_unavailable_day_on_a_published_visit_offers_the_move(client, session, staff):
    a, _b = _two_published_visits(session)
    login(client, staff)
    added = client.post("/staff/visits/unavailable", data={"u-day": "2027-04-06", "u-reason": "해외 출장"})
    assert added.headers["Location"].endswith("/staff/visits/conflicts?start=2027-04-06&end=2027-04-06")
    page = client.get(added.headers["Location"]).get_data(as_text=True)
    assert f'id="conflict-{a.id}"' in page
    assert "해외 출장" in page
