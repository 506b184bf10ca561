"""Statistics computed in SQL (issue 19) count what the rows say: months and years in Seoul
time, routes, visits held, the committee's average progress."""

from __future__ import annotations

import datetime as dt

from civic_app.dashboard import stats
from civic_app.extensions import db
from civic_app.meetings.queries import statistics_for
from civic_app.visits.models import Visit
from tests.factories import make_dong
from tests.factories_committee import make_task
from tests.factories_meetings import make_request

# 2026-10-31 23:30 and 2026-11-01 00:30 in Seoul: one month apart in Seoul, both October in UTC.
LAST_OF_OCTOBER = dt.datetime(2026, 10, 31, 14, 30, tzinfo=dt.UTC)
FIRST_OF_NOVEMBER = dt.datetime(2026, 10, 31, 15, 30, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)


def test_requests_count_per_seoul_month_and_route(session):
    make_request(now=LAST_OF_OCTOBER)
    make_request(now=FIRST_OF_NOVEMBER)
    third = make_request(now=FIRST_OF_NOVEMBER, category="복지")
    third.route = "written"
    session.commit()

    tongtong = statistics_for(session, NOW)
    assert tongtong.per_month == [("2026-10", 1), ("2026-11", 2)]
    assert tongtong.total == 3
    assert tongtong.waiting == 3
    assert dict(tongtong.by_category) == {"도로·교통": 2, "복지": 1}
    assert ("written", 1, 100.0) in tongtong.by_route
    assert tongtong.period_count == 3  # 2026-01-01 … today

    dashboard = stats.meeting_requests(session, year=2026)
    per_month = {m["month"]: m["requests"] for m in dashboard["months"] if m["requests"]}
    assert per_month == {10: 1, 11: 2}
    assert dashboard["total"]["written"] == 1
    assert dashboard["total"]["undecided"] == 2


def test_visits_held_count_in_the_seoul_year(session):
    dong = make_dong()
    new_year = dt.datetime(2026, 12, 31, 15, 30, tzinfo=dt.UTC)  # 2027-01-01 00:30 in Seoul
    for start, status, kind in (
        (new_year, "held", "regular"),
        (new_year - dt.timedelta(hours=2), "results_published", "regular"),
        (new_year - dt.timedelta(hours=2), "cancelled", "regular"),
        (new_year, "held", "tour"),
    ):
        db.session.add(
            Visit(
                kind=kind,
                dong_id=dong.id if kind == "regular" else None,
                start_at=start,
                end_at=start + dt.timedelta(hours=1),
                status=status,
                published=True,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    session.commit()
    rows = {r["year"]: r for r in stats.plan_vs_actual(session, now=NOW)["rows"]}
    assert (rows[2026]["visits_held"], rows[2026]["visits_scheduled"]) == (1, 1)
    assert (rows[2027]["visits_held"], rows[2027]["tours_held"]) == (1, 1)


def test_committee_average_progress_of_the_tasks_under_way(session):
    make_task("A-1", progress=40)
    make_task("A-2", progress=70)
    make_task("A-3", status="concluded", progress=100)
    make_task("B-1", field="문화/교육", progress=10)
    session.commit()
    result = stats.committee_progress(session)
    by_field = {r["field"]: r for r in result["rows"]}
    assert by_field["행정/재정"]["average_progress"] == 55.0
    assert by_field["행정/재정"]["total"] == 3
    assert by_field["행정/재정"]["concluded"] == 1
    assert result["total"]["average_progress"] == 40.0  # (40 + 70 + 10) / 3
