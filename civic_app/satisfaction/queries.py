"""The satisfaction index as the dashboard, the API and the CSV read it (one function each).

``mean`` is the average satisfaction (1–5) of the answers in a row, ``reason_clear_mean`` the
average of "was the reason clear" (1–5); both are None for a row without answers. The quarter
is that of the answer's date in Asia/Seoul ("2026-Q3").
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civic_app import refdata
from civic_app.db_types import seoul_month
from civic_app.dongs.models import Department
from civic_app.satisfaction.models import PROCESSES, SurveyInvitation, SurveyResponse
from civic_app.timeutil import to_seoul

PAGE_SIZE = 50


def quarter_of(at: dt.datetime) -> str:
    local = to_seoul(at)
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def _figures(answers: list[tuple[int, int, int]]) -> dict:
    """Figures of groups of answers, each (answers, sum of satisfaction, sum of reason_clear)."""
    n = sum(a[0] for a in answers)
    if not n:
        return {"responses": 0, "mean": None, "reason_clear_mean": None}
    return {
        "responses": n,
        "mean": round(sum(a[1] for a in answers) / n, 2),
        "reason_clear_mean": round(sum(a[2] for a in answers) / n, 2),
    }


def satisfaction_index(session: Session) -> dict:
    """``{"by_process", "by_department", "by_quarter", "total"}``: every process is listed (with
    0 answers when it has none); departments by name, answers without one last; quarters in
    order. Counted in SQL per process, department and Seoul month (one statement; the
    departments' names come from the reference cache)."""
    month = seoul_month(SurveyResponse.answered_at)
    rows = session.execute(
        select(
            SurveyInvitation.process,
            SurveyInvitation.department_id,
            month,
            func.count(SurveyResponse.id),
            func.sum(SurveyResponse.satisfaction),
            func.sum(SurveyResponse.reason_clear),
        )
        .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
        .group_by(SurveyInvitation.process, SurveyInvitation.department_id, month)
    ).all()
    by_process: dict[str, list] = defaultdict(list)
    by_department: dict[int | None, list] = defaultdict(list)
    by_quarter: dict[str, list] = defaultdict(list)
    everything = []
    for process, department_id, first_day, n, satisfaction, reason_clear in rows:
        answers = (n, int(satisfaction or 0), int(reason_clear or 0))
        year, month_number = int(str(first_day)[:4]), int(str(first_day)[5:7])
        by_process[process].append(answers)
        by_department[department_id].append(answers)
        by_quarter[f"{year}-Q{(month_number - 1) // 3 + 1}"].append(answers)
        everything.append(answers)
    departments = {d.id: d for d in refdata.departments(active_only=False)} if by_department else {}
    known = [*PROCESSES, *sorted(p for p in by_process if p not in PROCESSES)]
    department_rows = sorted(
        ((d, a) for d, a in by_department.items() if d is None or d in departments),
        key=lambda kv: (kv[0] is None, departments[kv[0]].name if kv[0] is not None else ""),
    )
    return {
        "by_process": [{"process": p, **_figures(by_process.get(p, []))} for p in known],
        "by_department": [
            {
                "department": departments[d].name if d is not None else None,
                "department_code": departments[d].code if d is not None else None,
                **_figures(answers),
            }
            for d, answers in department_rows
        ],
        "by_quarter": [{"quarter": q, **_figures(by_quarter[q])} for q in sorted(by_quarter)],
        "total": _figures(everything),
    }


def published_comments(session: Session, limit: int = 20) -> list[dict]:
    """The comments staff chose to publish, newest answer first, masked when published."""
    rows = session.execute(
        select(SurveyResponse, SurveyInvitation.process, Department.name)
        .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
        .outerjoin(Department, Department.id == SurveyInvitation.department_id)
        .where(SurveyResponse.published.is_(True), SurveyResponse.public_comment.is_not(None))
        .order_by(SurveyResponse.answered_at.desc(), SurveyResponse.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "process": process,
            "department": department,
            "quarter": quarter_of(response.answered_at),
            "satisfaction": response.satisfaction,
            "reason_clear": response.reason_clear,
            "text": response.public_comment,
        }
        for response, process, department in rows
    ]


def staff_page(session: Session, *, page: int, process: str | None, comments_only: bool) -> dict:
    """Answers for the staff page, newest first, a page at a time."""
    query = select(SurveyResponse).join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
    if process:
        query = query.where(SurveyInvitation.process == process)
    if comments_only:
        query = query.where(SurveyResponse.comment.is_not(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    items = list(
        session.scalars(
            query.order_by(SurveyResponse.answered_at.desc(), SurveyResponse.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        ).unique()
    )
    return {"items": items, "total": total, "page": page, "pages": pages}
