"""Aggregate statistics shared by the dashboard page, the JSON API and the CSV files, so the
three always show the same numbers. Aggregates only: no personal data leaves this module.

Other features' models are imported inside the functions: a feature that is missing leaves
its section empty instead of breaking the application start. Each function runs a fixed
number of SQL statements whatever the data size.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload

from civic_app.calendar.sources import load_model
from civic_app.db_types import seoul_month
from civic_app.dongs.models import Dong
from civic_app.timeutil import SEOUL, as_utc, to_seoul

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
    from civic_app.refdata import dongs

    return list(dongs())


def available_years(session: Session, today: dt.date) -> list[int]:
    """Years with any activity, plus this year; newest first (the year filter's choices)."""
    years = {today.year}
    bounds = []
    for module, name in (("meetings", "TongtongSession"), ("visits", "Visit")):
        model = load_model(module, name)
        if model is not None:
            bounds += [
                select(func.min(model.start_at)).scalar_subquery(),
                select(func.max(model.start_at)).scalar_subquery(),
            ]
    if bounds:
        values = session.execute(select(*bounds)).one()  # one statement for every feature
        for lo, hi in zip(values[::2], values[1::2], strict=True):
            if lo is not None:
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
    session_model = load_model("meetings", "TongtongSession")
    if session_model is not None and dong is None:
        sessions = session.execute(select(session_model.start_at, session_model.status)).all()
        first_month: dict[int, int] = {}
        for start_at, status in sessions:
            local = to_seoul(start_at)
            first_month[local.year] = min(first_month.get(local.year, 12), local.month)
            row = table[local.year]
            if status == "cancelled":
                row["tongtong_cancelled"] += 1
            elif status == "held":  # only a held record counts, not a date that passed
                row["tongtong_held"] += 1
        first_year = min(first_month, default=None)
        for year, month in first_month.items():
            start_month = month if year == first_year else 1
            table[year]["tongtong_plan"] = TONGTONG_PER_MONTH * (13 - start_month)
    visit_model = load_model("visits", "Visit")
    if visit_model is not None:
        # Counted in SQL per month, kind and status: the rows do not grow with the dongs.
        month = seoul_month(visit_model.start_at)
        query = (
            select(month, visit_model.kind, visit_model.status, func.count())
            .where(visit_model.published.is_(True))
            .group_by(month, visit_model.kind, visit_model.status)
        )
        if dong is not None:
            query = query.where(visit_model.dong_id == dong.id)
        for first_day, kind, status, n in session.execute(query):
            row = table[int(str(first_day)[:4])]
            if kind == "tour":
                row["tours_held"] += n if status in VISIT_DONE else 0
                continue
            if status not in ("cancelled", "postponed"):
                row["visits_scheduled"] += n
            if status in VISIT_DONE:
                row["visits_held"] += n
        cycle_model = load_model("visits", "VisitCycle")
        if cycle_model is not None and dong is None:
            for quotas in session.scalars(select(cycle_model.quotas)):
                for year, quota in quotas or []:  # [[year, quota], ...]
                    table[int(year)]["visits_plan"] += int(quota)
        elif dong is not None:
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
    request_model = load_model("meetings", "MeetingRequest")
    booking_model = load_model("meetings", "MeetingBooking")
    months = [
        {"month": m, "requests": 0, **dict.fromkeys(ROUTE_KEYS, 0), "undecided": 0} for m in range(1, 13)
    ]
    result = {"year": year, "dong": dong.code if dong else None, "months": months}
    if request_model is None:
        return {**result, "total": _sum_months(months), "median_wait_days": None, "met_in_person": 0}
    lo, hi = year_bounds(year)
    in_year = [request_model.created_at >= lo, request_model.created_at < hi]
    if dong is not None:
        in_year.append(request_model.dong_id == dong.id)
    # Counted in SQL per month and route; only booked requests' dates are read (the wait).
    month = seoul_month(request_model.created_at)
    for first_day, route, n in session.execute(
        select(month, request_model.route, func.count()).where(*in_year).group_by(month, request_model.route)
    ):
        row = months[int(str(first_day)[5:7]) - 1]
        row["requests"] += n
        row[route if route in ROUTE_KEYS else "undecided"] += n
    waits = []
    if booking_model is not None:
        # From the bookings (as many as there were places) to their requests, not the reverse.
        first = (
            select(booking_model.request_id, func.min(booking_model.start_at).label("start_at"))
            .where(booking_model.active.is_(True))
            .group_by(booking_model.request_id)
            .subquery()
        )
        booked = session.execute(
            select(request_model.created_at, first.c.start_at)
            .join(first, first.c.request_id == request_model.id)
            .where(*in_year)
        )
        waits = [
            (as_utc(start) - as_utc(created_at)).total_seconds() / 86400
            for created_at, start in booked
            if start is not None
        ]
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
    item_model = load_model("cards", "CardItem")
    dongs = [dong] if dong is not None else dong_choices(session)
    rows = {
        d.id: {"dong_code": d.code, "dong_name": d.name, "total": 0, **dict.fromkeys(OUTCOME_KEYS, 0)}
        for d in dongs
    }
    if item_model is not None:
        lo, hi = year_bounds(year)
        query = (
            select(item_model.dong_id, item_model.status, func.count())
            .where(item_model.created_at >= lo, item_model.created_at < hi, item_model.status != "merged")
            .group_by(item_model.dong_id, item_model.status)
        )
        if dong is not None:
            query = query.where(item_model.dong_id == dong.id)
        for dong_id, status, count in session.execute(query):
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
    committee_model = load_model("committee", "Committee")
    task_model = load_model("committee", "CommitteeTask")
    sub_model = load_model("committee", "SubCommittee")
    if committee_model is None or task_model is None or sub_model is None:
        return {"rows": [], "total": _task_total([])}
    from civic_app.committee.models import DEFAULT_COMMITTEE

    committee = session.scalar(
        select(committee_model)
        .where(committee_model.name == DEFAULT_COMMITTEE)
        .options(lazyload(committee_model.subcommittees))
    )
    if committee is None:
        return {"rows": [], "total": _task_total([])}
    subs = session.scalars(
        select(sub_model)
        .where(sub_model.committee_id == committee.id)
        .order_by(sub_model.position, sub_model.id)
    ).all()
    rows = {
        s.id: {"field": s.name, "total": 0, **dict.fromkeys(TASK_STATUS_KEYS, 0), "_progress": (0, 0)}
        for s in subs
    }
    query = (
        select(
            task_model.subcommittee_id,
            task_model.status,
            func.count(),
            func.coalesce(func.sum(func.coalesce(task_model.progress, 0)), 0),
        )
        .where(task_model.committee_id == committee.id)
        .group_by(task_model.subcommittee_id, task_model.status)
    )
    for sub_id, status, n, progress in session.execute(query):
        row = rows.get(sub_id)
        if row is None:
            continue
        row["total"] += n
        if status in TASK_STATUS_KEYS:
            row[status] += n
        if status == "active":
            row["_progress"] = (row["_progress"][0] + int(progress), row["_progress"][1] + n)
    ordered = [rows[sub.id] for sub in subs]
    everything = (sum(r["_progress"][0] for r in ordered), sum(r["_progress"][1] for r in ordered))
    for row in ordered:
        row["average_progress"] = _average(row.pop("_progress"))
    return {"rows": ordered, "total": _task_total(ordered, everything)}


def _average(progress: tuple[int, int]) -> float | None:
    """The mean of (sum, count), to one decimal."""
    total, count = progress
    return round(total / count, 1) if count else None


def _task_total(rows: list[dict], progress: tuple[int, int] = (0, 0)) -> dict:
    total: dict[str, Any] = {k: sum(r[k] for r in rows) for k in ("total", *TASK_STATUS_KEYS)}
    total["average_progress"] = _average(progress)
    return total
