"""Aggregate statistics shared by the dashboard page, the JSON API and the CSV files, so the
three always show the same numbers. Aggregates only: no personal data leaves this module.

Other features are read through their query functions (``meetings.queries``,
``visits.queries``, ``cards.queries``, ``committee.queries``), never their models. Each function
runs a fixed number of SQL statements whatever the data size.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app import refdata
from civic_app.cards import queries as card_queries
from civic_app.committee import queries as committee_queries
from civic_app.dongs.models import Dong
from civic_app.meetings import queries as meeting_queries
from civic_app.timeutil import SEOUL, to_seoul
from civic_app.visits import queries as visit_queries

# The source's plan: 통통데이 on the 2nd and 4th Thursday, 24 sessions a year.
TONGTONG_PER_MONTH = 2
VISIT_DONE = ("held", "results_published")
ROUTE_KEYS = ("mayor", "deputy", "director", "written", "referral", "declined")
OUTCOME_KEYS = (
    "received",
    "under_review",
    "selected",
    "budget_reflected",
    "in_progress",
    "done",
    "long_term",
    "not_feasible",
    "referred",
)
TASK_STATUS_KEYS = ("proposed", "active", "concluded", "replaced", "dropped")


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """[1 January, next 1 January) of ``year`` in Seoul, as aware datetimes."""
    return (dt.datetime(year, 1, 1, tzinfo=SEOUL), dt.datetime(year + 1, 1, 1, tzinfo=SEOUL))


def dong_by_code(session: Session, code: str | None) -> Dong | None:
    if not code:
        return None
    return session.scalar(select(Dong).where(Dong.code == code))


def dong_choices(session: Session) -> list:
    """Active dongs by name (``id``, ``code``, ``name``), from the per-process reference cache."""
    return list(refdata.dongs())


def available_years(session: Session, today: dt.date) -> list[int]:
    """Years with any activity, plus this year; newest first (the year filter's choices)."""
    years = {today.year}
    for lo, hi in (meeting_queries.session_span(session), visit_queries.visit_span(session)):
        if lo is not None and hi is not None:
            years.update(range(to_seoul(lo).year, min(to_seoul(hi).year, today.year + 1) + 1))
    return sorted((y for y in years if 2000 <= y <= 2100), reverse=True)


# --- plan vs actual --------------------------------------------------------------------------


def plan_vs_actual(session: Session, *, now: dt.datetime, dong: Dong | None = None) -> dict:
    """Per year, like the source's table: 통통데이 sessions planned (24 a year, 2 a month from
    the first session's month) and held (only sessions with a held record: a date that passed
    proves nothing); regular dong visits planned by the cycle
    quotas and held; themed tours held. With a dong, only that dong's visits count (its plan is the visits
    scheduled for it) and 통통데이, which belongs to no dong, is left out (null)."""
    table: dict[int, dict[str, Any]] = defaultdict(
        lambda: {
            "tongtong_plan": 0,
            "tongtong_held": 0,
            "tongtong_cancelled": 0,
            "visits_plan": 0,
            "visits_scheduled": 0,
            "visits_held": 0,
            "tours_held": 0,
        }
    )
    if dong is None:
        first_month: dict[int, int] = {}
        for year, month, status, n in meeting_queries.session_counts_by_month(session):
            first_month[year] = min(first_month.get(year, 12), month)
            row = table[year]
            if status == "cancelled":
                row["tongtong_cancelled"] += n
            elif status == "held":  # only a held record counts, not a date that passed
                row["tongtong_held"] += n
        first_year = min(first_month, default=None)
        for year, month in first_month.items():
            start_month = month if year == first_year else 1
            table[year]["tongtong_plan"] = TONGTONG_PER_MONTH * (13 - start_month)
    for year, kind, status, n in visit_queries.published_visit_counts(
        session, dong_id=dong.id if dong else None
    ):
        row = table[year]
        if kind == "tour":
            row["tours_held"] += n if status in VISIT_DONE else 0
            continue
        if status not in ("cancelled", "postponed"):
            row["visits_scheduled"] += n
        if status in VISIT_DONE:
            row["visits_held"] += n
    if dong is None:
        for year, quota in visit_queries.yearly_quotas(session):
            table[year]["visits_plan"] += quota
    else:
        for row in table.values():
            row["visits_plan"] = row["visits_scheduled"]
    rows = []
    for year in sorted(table):
        row = {"year": year, **table[year]}
        if dong is not None:
            for key in ("tongtong_plan", "tongtong_held", "tongtong_cancelled"):
                row[key] = None
        rows.append(row)
    keys = ("tongtong_plan", "tongtong_held", "visits_plan", "visits_held", "tours_held")
    total = {
        k: (None if dong is not None and k.startswith("tongtong") else sum(r[k] or 0 for r in rows))
        for k in keys
    }
    return {"dong": dong.code if dong else None, "rows": rows, "total": total}


# --- meeting requests ------------------------------------------------------------------------


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def meeting_requests(session: Session, *, year: int, dong: Dong | None = None) -> dict:
    """Requests received per month of ``year`` and how they were met (the review's route), and
    the median wait in days from the request to its meeting (first active booking)."""
    months = [
        {"month": m, "requests": 0, **dict.fromkeys(ROUTE_KEYS, 0), "undecided": 0} for m in range(1, 13)
    ]
    result = {"year": year, "dong": dong.code if dong else None, "months": months}
    lo, hi = year_bounds(year)
    received = meeting_queries.requests_received(session, start=lo, end=hi, dong_id=dong.id if dong else None)
    for month_number, route, n in received.per_month_route:
        month = months[month_number - 1]
        month["requests"] += n
        month[route if route in ROUTE_KEYS else "undecided"] += n
    waits = received.wait_days
    total = _sum_months(months)
    return {
        **result,
        "total": total,
        "met_in_person": total["mayor"] + total["deputy"] + total["director"],
        "median_wait_days": _median(waits),
    }


def _sum_months(months: list[dict]) -> dict:
    keys = ("requests", *ROUTE_KEYS, "undecided")
    return {k: sum(m[k] for m in months) for k in keys}


# --- suggestions (동 관리카드) ----------------------------------------------------------------


def suggestions(session: Session, *, year: int, dong: Dong | None = None) -> dict:
    """Card items raised in ``year`` per dong and their current outcome (merged duplicates are
    left out: they live on in the item they were merged into)."""
    dongs = [dong] if dong is not None else dong_choices(session)
    rows = {
        d.id: {"dong_code": d.code, "dong_name": d.name, "total": 0, **dict.fromkeys(OUTCOME_KEYS, 0)}
        for d in dongs
    }
    lo, hi = year_bounds(year)
    counts = card_queries.counts_by_dong_and_status(
        session, start=lo, end=hi, dong_id=dong.id if dong else None
    )
    for dong_id, status, count in counts:
        row = rows.get(dong_id)
        if row is None or status not in OUTCOME_KEYS:
            continue
        row[status] += count
        row["total"] += count
    ordered = sorted(rows.values(), key=lambda r: (-r["total"], r["dong_name"]))
    total = {k: sum(r[k] for r in ordered) for k in ("total", *OUTCOME_KEYS)}
    return {"year": year, "dong": dong.code if dong else None, "rows": ordered, "total": total}


# --- committee tasks --------------------------------------------------------------------------


def committee_progress(session: Session) -> dict:
    """Tasks of the citizen participation policy committee by field (sub-committee): how many
    in each status and the average reported progress of the tasks still under way."""
    rows = []
    for field_tasks in committee_queries.tasks_by_field(session):
        row = {
            "field": field_tasks.field,
            "total": sum(field_tasks.counts.values()),
            **{k: field_tasks.counts.get(k, 0) for k in TASK_STATUS_KEYS},
            "_progress": field_tasks.progress,
        }
        rows.append(row)
    everything = (sum(r["_progress"][0] for r in rows), sum(r["_progress"][1] for r in rows))
    for row in rows:
        row["average_progress"] = _average(row.pop("_progress"))
    return {"rows": rows, "total": _task_total(rows, everything)}


def _average(progress: tuple[int, int]) -> float | None:
    """The mean of (sum, count), to one decimal."""
    total, count = progress
    return round(total / count, 1) if count else None


def _task_total(rows: list[dict], progress: tuple[int, int] = (0, 0)) -> dict:
    total: dict[str, Any] = {k: sum(r[k] for r in rows) for k in ("total", *TASK_STATUS_KEYS)}
    total["average_progress"] = _average(progress)
    return total
