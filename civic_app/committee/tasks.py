"""Policy tasks: the CSV import (all or nothing), lineage links, corrections by the secretariat."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.accounts.models import User
from civic_app.committee.committees import get_committee, require_secretariat
from civic_app.committee.models import STATUS_REPLACED, TASK_STATUSES, CommitteeTask, TaskLineage
from civic_app.csvutil import read_csv
from civic_app.dongs.models import Department
from civic_app.errors import ValidationFailed
from civic_app.timeutil import today_seoul

TASK_CSV_HEADER = ["code", "title", "field", "origin", "status", "replaced_by", "department"]
CSV_ORIGINS = ("baseline", "new")
CODE_RE = re.compile(r"^[0-9A-Za-z가-힣._-]{1,30}$")


def import_tasks(
    session: Session, source: str | Path, *, now: dt.datetime, committee_name: str | None = None
) -> dict[str, int]:
    """Import ``code,title,field,origin,status,replaced_by,department`` lines, all or nothing.

    A code already in the committee is updated; ``replaced_by`` names a code of the same file
    (earlier or later) or of the database; a successor named by several lines is a merge.
    ``department`` is matched by a department's exact name or code; empty means none yet and
    an unknown one is an error (departments are reference data kept by the admin).
    """
    committee = get_committee(session, committee_name)
    rows = read_csv(source, TASK_CSV_HEADER)
    fields = {s.name: s for s in committee.subcommittees}
    departments: dict[str, Department] = {}
    for dept in session.scalars(select(Department)):
        departments[dept.code] = dept
        departments[dept.name] = dept
    existing = {
        t.code: t
        for t in session.scalars(select(CommitteeTask).where(CommitteeTask.committee_id == committee.id))
    }
    file_codes: dict[str, int] = {}
    for line, row in rows:
        if "__error__" not in row and row["code"]:
            file_codes.setdefault(row["code"], line)
    errors: list[tuple[str, str]] = []
    parsed: list[dict] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        if "__error__" in row:
            errors.append((str(line), row["__error__"]))
            continue
        problems: list[str] = []
        code = row["code"]
        if not CODE_RE.match(code):
            problems.append(_("과제 코드는 1~30자의 글자, 숫자, '.', '-', '_'여야 합니다: '%(v)s'", v=code))
        elif code in seen:
            problems.append(_("과제 코드 %(c)s가 %(l)d행에도 있습니다.", c=code, l=seen[code]))
        seen.setdefault(code, line)
        if not row["title"] or len(row["title"]) > 300:
            problems.append(_("과제명은 1~300자여야 합니다."))
        if row["field"] not in fields:
            problems.append(
                _(
                    "분야 '%(v)s'은(는) 이 위원회의 분과가 아닙니다: %(c)s",
                    v=row["field"],
                    c=", ".join(fields),
                )
            )
        if row["origin"] not in CSV_ORIGINS:
            problems.append(_("origin 값은 baseline 또는 new여야 합니다: '%(v)s'", v=row["origin"]))
        if row["status"] not in TASK_STATUSES:
            problems.append(
                _(
                    "status 값은 다음 중 하나여야 합니다: %(c)s ('%(v)s')",
                    c=", ".join(TASK_STATUSES),
                    v=row["status"],
                )
            )
        successor = row["replaced_by"]
        if successor:
            if successor == code:
                problems.append(_("과제가 자기 자신으로 대체될 수 없습니다."))
            elif successor not in file_codes and successor not in existing:
                problems.append(
                    _("replaced_by의 과제 코드 %(c)s가 파일에도 데이터베이스에도 없습니다.", c=successor)
                )
            if row["status"] != STATUS_REPLACED:
                problems.append(_("replaced_by는 status가 replaced인 과제에만 씁니다."))
        elif row["status"] == STATUS_REPLACED:
            problems.append(_("status가 replaced이면 replaced_by에 후속 과제 코드를 적어야 합니다."))
        department = None
        if row["department"]:
            department = departments.get(row["department"])
            if department is None:
                problems.append(
                    _("부서 '%(v)s'을(를) 찾을 수 없습니다 (부서 이름 또는 코드).", v=row["department"])
                )
        errors.extend((str(line), p) for p in problems)
        if not problems:
            parsed.append({**row, "_department": department, "_line": line})
    if errors:
        raise ValidationFailed(_("CSV에 오류가 있어 아무것도 가져오지 않았습니다."), errors)
    if not parsed:
        raise ValidationFailed(_("가져올 행이 없습니다."))

    year = today_seoul(now).year
    tasks: dict[str, CommitteeTask] = dict(existing)
    created = updated = 0
    for data in parsed:
        task = tasks.get(data["code"])
        if task is None:
            task = CommitteeTask(
                committee_id=committee.id, code=data["code"], start_year=year, progress=0, created_at=now
            )
            session.add(task)
            tasks[data["code"]] = task
            created += 1
        else:
            updated += 1
        task.title = data["title"]
        task.subcommittee_id = fields[data["field"]].id
        task.origin = data["origin"]
        task.status = data["status"]
        task.department_id = data["_department"].id if data["_department"] else None
        task.updated_at = now
    session.flush()
    by_successor: dict[str, list[str]] = defaultdict(list)
    for data in parsed:
        if data["replaced_by"]:
            by_successor[data["replaced_by"]].append(data["code"])
    for successor_code, predecessors in by_successor.items():
        kind = "merged" if len(predecessors) > 1 else "replaced"
        for code in predecessors:
            link_lineage(session, tasks[code], tasks[successor_code], kind=kind)
    session.flush()
    return {"created": created, "updated": updated}


def link_lineage(
    session: Session, predecessor: CommitteeTask, successor: CommitteeTask, *, kind: str
) -> TaskLineage:
    link = session.scalar(
        select(TaskLineage).where(
            TaskLineage.predecessor_id == predecessor.id, TaskLineage.successor_id == successor.id
        )
    )
    if link is None:
        link = TaskLineage(predecessor_id=predecessor.id, successor_id=successor.id, kind=kind)
        session.add(link)
    else:
        link.kind = kind
    return link


def update_task(
    session: Session,
    task: CommitteeTask,
    *,
    title: str,
    status: str,
    department_id: int | None,
    start_year: int | None,
    actor: User,
    now: dt.datetime,
) -> CommitteeTask:
    """The secretariat corrects a task: title, department, start year, status (by the task's rules)."""
    require_secretariat(actor)
    errors = []
    if not title.strip() or len(title.strip()) > 300:
        errors.append(("title", _("과제명은 1~300자여야 합니다.")))
    if not task.can_transition_to(status):
        errors.append(
            ("status", _("이 과제의 상태를 그렇게 바꿀 수 없습니다. 대체·통합은 중간점검에서 정합니다."))
        )
    if department_id is not None and session.get(Department, department_id) is None:
        errors.append(("department_id", _("부서를 찾을 수 없습니다.")))
    if errors:
        raise ValidationFailed(errors[0][1], errors)
    task.title = title.strip()
    task.status = status
    task.department_id = department_id
    task.start_year = start_year
    task.updated_at = now
    session.flush()
    return task
