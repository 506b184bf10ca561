"""Committee rules: task import, mid-term reviews, quarterly reports, evaluations, meetings.

Every function takes the session, the acting user and the clock; it flushes, never commits.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civic_app.accounts.models import User, UserRole
from civic_app.committee.models import (
    DEFAULT_COMMITTEE,
    DEFAULT_SUBCOMMITTEES,
    ENTRY_PENDING,
    ENTRY_REVIEWED,
    ENTRY_SUBMITTED,
    MEETING_KINDS,
    OUTCOME_REPLACED,
    OUTCOME_TO_STATUS,
    OUTCOMES,
    QUARTER_OPEN,
    QUARTER_PUBLISHED,
    STATUS_ACTIVE,
    STATUS_REPLACED,
    TASK_STATUSES,
    Committee,
    CommitteeMeeting,
    CommitteeMember,
    CommitteeTask,
    Evaluation,
    EvaluationRound,
    MeetingAttendance,
    MidtermOutcome,
    MidtermReview,
    QuarterlyEntry,
    ReportingQuarter,
    ReportRow,
    ReportVersion,
    SubCommittee,
    TaskLineage,
)
from civic_app.csvutil import read_csv
from civic_app.dongs.models import Department
from civic_app.errors import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from civic_app.events import ChangeEvent, publish_change
from civic_app.integrity.locks import lock_row
from civic_app.notify.services import enqueue_email, enqueue_telegram
from civic_app.timeutil import to_seoul, today_seoul
from civic_app.web.policy import ADMIN, COMMITTEE_SECRETARIAT, DEPARTMENT
from civic_app.workdays.services import WorkCalendar

TASK_CSV_HEADER = ["code", "title", "field", "origin", "status", "replaced_by", "department"]
CSV_ORIGINS = ("baseline", "new")
CODE_RE = re.compile(r"^[0-9A-Za-z가-힣._-]{1,30}$")


# --- reference data and lookups --------------------------------------------------------


def ensure_reference(session: Session) -> Committee:
    """A fresh database holds the default committee with the five source sub-committees."""
    committee = session.scalar(select(Committee).where(Committee.name == DEFAULT_COMMITTEE))
    if committee is None:
        committee = Committee(name=DEFAULT_COMMITTEE)
        session.add(committee)
        session.flush()
        for position, name in enumerate(DEFAULT_SUBCOMMITTEES, start=1):
            session.add(SubCommittee(committee_id=committee.id, name=name, position=position))
        session.flush()
    return committee


def get_committee(session: Session, name: str | None = None) -> Committee:
    wanted = name or DEFAULT_COMMITTEE
    committee = session.scalar(select(Committee).where(Committee.name == wanted))
    if committee is None:
        raise NotFound(_("위원회 '%(name)s'을(를) 찾을 수 없습니다.", name=wanted))
    return committee


def create_committee(
    session: Session,
    *,
    name: str,
    description: str = "",
    subcommittees: list[str] | tuple[str, ...] = (),
    actor: User,
) -> Committee:
    """An admin creates a committee with its sub-committees (each one a task field)."""
    _require(actor, ADMIN)
    name = name.strip()
    errors: list[tuple[str, str]] = []
    if not name or len(name) > 100:
        errors.append(("name", _("위원회 이름은 1~100자여야 합니다.")))
    elif session.scalar(select(Committee.id).where(Committee.name == name)):
        errors.append(("name", _("위원회 '%(name)s'이(가) 이미 있습니다.", name=name)))
    names = [n.strip() for n in subcommittees if n.strip()]
    errors.extend(("subcommittees", p) for p in _subcommittee_problems(names, existing=()))
    if errors:
        raise ValidationFailed(errors[0][1], errors)
    committee = Committee(name=name, description=description.strip() or None)
    session.add(committee)
    session.flush()
    for position, sub_name in enumerate(names, start=1):
        session.add(SubCommittee(committee_id=committee.id, name=sub_name, position=position))
    session.flush()
    session.refresh(committee, ["subcommittees"])
    return committee


def add_subcommittee(session: Session, committee: Committee, *, name: str, actor: User) -> SubCommittee:
    """An admin adds a sub-committee (a field) at the end of a committee's list."""
    _require(actor, ADMIN)
    name = name.strip()
    problems = _subcommittee_problems([name], existing=[s.name for s in committee.subcommittees])
    if problems:
        raise ValidationFailed(problems[0], [("name", p) for p in problems])
    position = max((s.position for s in committee.subcommittees), default=0) + 1
    sub = SubCommittee(committee_id=committee.id, name=name, position=position)
    session.add(sub)
    session.flush()
    session.refresh(committee, ["subcommittees"])
    return sub


def _subcommittee_problems(names: list[str], *, existing) -> list[str]:
    problems = []
    seen = set(existing)
    for name in names:
        if not name or len(name) > 100:
            problems.append(_("분과 이름은 1~100자여야 합니다."))
        elif name in seen:
            problems.append(_("분과 '%(name)s'이(가) 이미 있습니다.", name=name))
        seen.add(name)
    return problems


def _require(actor: User | None, *roles: str) -> None:
    if actor is None or not actor.has_role(*roles):
        raise NotAllowed(_("이 작업을 할 권한이 없습니다."))


def _require_secretariat(actor: User | None) -> None:
    _require(actor, COMMITTEE_SECRETARIAT, ADMIN)


# --- task import -----------------------------------------------------------------------


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
    _require_secretariat(actor)
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


# --- mid-term review ---------------------------------------------------------------------


def start_review(
    session: Session, committee: Committee, *, title: str, actor: User, now: dt.datetime
) -> MidtermReview:
    """A round over every baseline task still active, each proposed as 유지 until decided."""
    _require_secretariat(actor)
    if not title.strip():
        raise ValidationFailed(_("제목을 입력해 주세요."), [("title", _("제목을 입력해 주세요."))])
    tasks = session.scalars(
        select(CommitteeTask)
        .where(
            CommitteeTask.committee_id == committee.id,
            CommitteeTask.origin == "baseline",
            CommitteeTask.status == STATUS_ACTIVE,
        )
        .order_by(CommitteeTask.code)
    ).all()
    if not tasks:
        raise ValidationFailed(_("점검할 추진 중인 정책합의과제가 없습니다."))
    review = MidtermReview(committee_id=committee.id, title=title.strip(), created_at=now)
    session.add(review)
    for task in tasks:
        review.outcomes.append(
            MidtermOutcome(
                task_id=task.id,
                task_code=task.code,
                task_title=task.title,
                field_name=task.subcommittee.name,
                previous_status=task.status,
                outcome="maintained",
            )
        )
    session.flush()
    return review


def apply_review(
    session: Session,
    review: MidtermReview,
    decisions: dict[int, tuple[str, str]],
    *,
    actor: User,
    now: dt.datetime,
    apply: bool = True,
) -> MidtermReview:
    """Record ``{outcome id: (outcome, successor codes)}`` and, when ``apply``, change the tasks.

    An applied round is a frozen snapshot: its outcomes no longer change.
    """
    _require_secretariat(actor)
    if review.is_applied:
        raise InvalidTransition(_("이미 반영한 중간점검은 바꿀 수 없습니다."))
    codes = {
        t.code: t
        for t in session.scalars(
            select(CommitteeTask).where(CommitteeTask.committee_id == review.committee_id)
        )
    }
    errors: list[tuple[str, str]] = []
    for outcome in review.outcomes:
        value, successors = decisions.get(outcome.id, (outcome.outcome, outcome.successor_codes or ""))
        if value not in OUTCOMES:
            errors.append((outcome.task_code, _("결과 값이 올바르지 않습니다.")))
            continue
        names = [c.strip() for c in (successors or "").split(",") if c.strip()]
        if value == OUTCOME_REPLACED:
            if not names:
                errors.append((outcome.task_code, _("대체·통합 과제는 후속 과제 코드를 적어야 합니다.")))
            for name in names:
                if name not in codes or name == outcome.task_code:
                    errors.append((outcome.task_code, _("후속 과제 코드 %(c)s가 없습니다.", c=name)))
        outcome.outcome = value
        outcome.successor_codes = ",".join(names) if value == OUTCOME_REPLACED else None
    if errors:
        raise ValidationFailed(
            _("중간점검 결과에 오류가 있습니다: %(e)s", e="; ".join(f"{c}: {m}" for c, m in errors)), errors
        )
    if apply:
        successors_of: dict[str, list[str]] = defaultdict(list)
        for outcome in review.outcomes:
            if outcome.outcome == OUTCOME_REPLACED:
                for name in (outcome.successor_codes or "").split(","):
                    successors_of[name].append(outcome.task_code)
        for outcome in review.outcomes:
            task = codes.get(outcome.task_code)
            if task is None:
                continue
            task.status = OUTCOME_TO_STATUS[outcome.outcome]
            task.updated_at = now
            if outcome.outcome == OUTCOME_REPLACED:
                for name in (outcome.successor_codes or "").split(","):
                    kind = "merged" if len(successors_of[name]) > 1 else "replaced"
                    link_lineage(session, task, codes[name], kind=kind)
        review.applied_at = now
    session.flush()
    return review


# --- quarterly reports ---------------------------------------------------------------------


def _department_users(session: Session, department_ids: set[int]) -> list[User]:
    if not department_ids:
        return []
    return list(
        session.scalars(
            select(User)
            .join(UserRole)
            .where(User.department_id.in_(department_ids), UserRole.role == DEPARTMENT, User.active.is_(True))
            .order_by(User.id)
        ).unique()
    )


def open_quarter(
    session: Session,
    committee: Committee,
    *,
    year: int,
    quarter: int,
    deadline: dt.date,
    actor: User,
    now: dt.datetime,
) -> ReportingQuarter:
    """Open a quarter: every active task with a department gets an entry to report on."""
    _require_secretariat(actor)
    errors = []
    if not 2000 <= year <= 2100:
        errors.append(("year", _("연도는 2000~2100 사이여야 합니다.")))
    if quarter not in (1, 2, 3, 4):
        errors.append(("quarter", _("분기는 1~4 중 하나여야 합니다.")))
    if deadline < today_seoul(now):
        errors.append(("deadline", _("마감일은 오늘 이후여야 합니다.")))
    if errors:
        raise ValidationFailed(errors[0][1], errors)
    if session.scalar(
        select(ReportingQuarter.id).where(
            ReportingQuarter.committee_id == committee.id,
            ReportingQuarter.year == year,
            ReportingQuarter.quarter == quarter,
        )
    ):
        raise Conflict(_("%(y)d년 %(q)d분기 보고는 이미 있습니다.", y=year, q=quarter))
    if session.scalar(
        select(ReportingQuarter.id).where(
            ReportingQuarter.committee_id == committee.id, ReportingQuarter.status == QUARTER_OPEN
        )
    ):
        raise Conflict(_("접수 중인 분기 보고가 있습니다. 먼저 공개한 뒤 새 분기를 여세요."))
    tasks = session.scalars(
        select(CommitteeTask)
        .where(
            CommitteeTask.committee_id == committee.id,
            CommitteeTask.status == STATUS_ACTIVE,
            CommitteeTask.department_id.is_not(None),
        )
        .order_by(CommitteeTask.code)
    ).all()
    if not tasks:
        raise ValidationFailed(_("보고할 과제(추진 중이고 담당 부서가 있는 과제)가 없습니다."))
    record = ReportingQuarter(
        committee_id=committee.id,
        year=year,
        quarter=quarter,
        deadline=deadline,
        status=QUARTER_OPEN,
        opened_at=now,
    )
    session.add(record)
    for task in tasks:
        record.entries.append(
            QuarterlyEntry(
                task_id=task.id,
                department_id=task.department_id,
                task_code=task.code,
                task_title=task.title,
                field_name=task.subcommittee.name,
                origin=task.origin,
                status=ENTRY_PENDING,
            )
        )
    session.flush()
    _notify_departments(session, record, now=now, reminder=False)
    return record


def _notify_departments(
    session: Session, record: ReportingQuarter, *, now: dt.datetime, reminder: bool
) -> int:
    pending: dict[int, list[QuarterlyEntry]] = defaultdict(list)
    for entry in record.entries:
        if entry.status == ENTRY_PENDING:
            pending[entry.department_id].append(entry)
    sent = 0
    stamp = today_seoul(now).isoformat()
    for user in _department_users(session, set(pending)):
        entries = pending[user.department_id]
        lines = "\n".join(f"- {e.task_code} {e.task_title}" for e in entries)
        if reminder:
            subject = _("[위원회] %(y)d년 %(q)d분기 과제 보고 마감 알림", y=record.year, q=record.quarter)
            key = f"committee-quarter-{record.id}-remind-{user.id}-{stamp}"
        else:
            subject = _("[위원회] %(y)d년 %(q)d분기 과제 추진상황 보고 요청", y=record.year, q=record.quarter)
            key = f"committee-quarter-{record.id}-open-{user.id}"
        body = _(
            "%(y)d년 %(q)d분기 과제 추진상황을 %(d)s까지 보고해 주세요.\n보고할 과제 %(n)d건:\n%(lines)s\n\n보고 화면: %(url)s",
            url=current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/") + "/committee/department",
            y=record.year,
            q=record.quarter,
            d=record.deadline.isoformat(),
            n=len(entries),
            lines=lines,
        )
        enqueue_email(
            session,
            to=user.email,
            subject=subject,
            body=body,
            kind="committee_quarter_reminder" if reminder else "committee_quarter_opened",
            dedupe_key=key,
            now=now,
            subject_ref=f"committee_report:{record.id}",
        )
        sent += 1
    return sent


def send_reminders(
    session: Session, record: ReportingQuarter, *, actor: User | None, now: dt.datetime
) -> int:
    """Remind departments with pending entries (at most once a day per person)."""
    if actor is not None:
        _require_secretariat(actor)
    if record.status != QUARTER_OPEN:
        raise InvalidTransition(_("공개된 분기에는 알림을 보낼 수 없습니다."))
    sent = _notify_departments(session, record, now=now, reminder=True)
    record.last_reminder_at = now
    session.flush()
    return sent


def due_reminders(session: Session, *, now: dt.datetime, days_before: int = 3) -> int:
    """For the CLI/cron: remind open quarters whose deadline is within ``days_before`` days."""
    today = today_seoul(now)
    total = 0
    for record in session.scalars(select(ReportingQuarter).where(ReportingQuarter.status == QUARTER_OPEN)):
        if (record.deadline - today).days <= days_before:
            total += send_reminders(session, record, actor=None, now=now)
    return total


def submit_entry(
    session: Session,
    entry: QuarterlyEntry,
    *,
    actor: User,
    now: dt.datetime,
    progress_text: str,
    progress_pct: int | None,
    issues: str = "",
    next_steps: str = "",
) -> QuarterlyEntry:
    """A responsible department reports on its task, again if needed.

    Reporting stays possible after the deadline and after publication: such an entry is marked
    late (``QuarterlyEntry.is_late``) and reaches the public with the next amended version.
    """
    allowed = actor.has_role(COMMITTEE_SECRETARIAT, ADMIN) or (
        actor.has_role(DEPARTMENT) and actor.department_id == entry.department_id
    )
    if not allowed:
        raise NotAllowed(_("이 과제를 보고할 권한이 없습니다 (담당 부서만 보고할 수 있습니다)."))
    lock_row(session, entry.quarter, read=True)  # a publication in progress finishes first
    errors = []
    if not progress_text.strip():
        errors.append(("progress_text", _("추진상황을 입력해 주세요.")))
    if progress_pct is None or not 0 <= progress_pct <= 100:
        errors.append(("progress_pct", _("진척률은 0에서 100 사이의 정수여야 합니다.")))
    if errors:
        raise ValidationFailed(errors[0][1], errors)
    entry.progress_text = progress_text.strip()
    entry.progress_pct = progress_pct
    entry.issues = issues.strip() or None
    entry.next_steps = next_steps.strip() or None
    entry.status = ENTRY_SUBMITTED
    entry.submitted_at = now
    entry.submitted_by_id = actor.id
    entry.reviewed_at = None
    session.flush()
    return entry


def review_entry(session: Session, entry: QuarterlyEntry, *, actor: User, now: dt.datetime) -> QuarterlyEntry:
    _require_secretariat(actor)
    if entry.status != ENTRY_SUBMITTED:
        raise InvalidTransition(_("제출된 보고만 검토 완료로 표시할 수 있습니다."))
    entry.status = ENTRY_REVIEWED
    entry.reviewed_at = now
    session.flush()
    return entry


def _previous_published_pct(
    session: Session, record: ReportingQuarter, task_ids: list[int]
) -> dict[int, int]:
    """Each task's percentage in the latest published version of the quarters before ``record``."""
    versions = session.scalars(
        select(ReportVersion)
        .join(ReportingQuarter)
        .where(
            ReportingQuarter.committee_id == record.committee_id,
            ReportingQuarter.status == QUARTER_PUBLISHED,
            ReportingQuarter.id != record.id,
            (ReportingQuarter.year * 4 + ReportingQuarter.quarter) < record.year * 4 + record.quarter,
        )
        .order_by(ReportingQuarter.year, ReportingQuarter.quarter, ReportVersion.number)
    ).all()
    latest: dict[int, ReportVersion] = {}
    for version in versions:
        latest[version.quarter_id] = version  # the highest number wins; dicts keep quarter order
    wanted = set(task_ids)
    previous: dict[int, int] = {}
    for version in latest.values():
        for row in version.report_rows():
            if row.task_id in wanted and row.progress_pct is not None:
                previous[row.task_id] = row.progress_pct  # later quarters overwrite earlier ones
    return previous


def report_diff(before: list[ReportRow], after: list[ReportRow]) -> list[dict]:
    """What an amendment changes, task by task: ``[{code, title, changes: [(field, old, new)]}]``."""
    old = {row.task_code: row for row in before}
    diff = []
    for row in after:
        prior = old.get(row.task_code)
        changes = []
        for name in ReportRow.COMPARED:
            value = getattr(row, name)
            was = getattr(prior, name) if prior is not None else None
            if value != was:
                changes.append((name, was, value))
        if changes:
            diff.append(
                {"code": row.task_code, "title": row.task_title, "late": row.late, "changes": changes}
            )
    return diff


def publish_quarter(
    session: Session,
    record: ReportingQuarter,
    *,
    actor: User,
    now: dt.datetime,
    summary: str = "",
    note: str = "",
) -> ReportVersion:
    """Publish the quarter as a frozen version and post it to Telegram.

    The first publication is version 1; entries a department did not submit are published as
    미제출. Departments may still report late, and publishing again is an amendment (정정): it
    needs a reason, must change something, and adds the next version while the earlier ones
    stay readable. A task's progress becomes its reported percentage unless a later quarter
    has been published already.
    """
    _require_secretariat(actor)
    # One publisher per committee at a time; department reports wait (submit_entry) so a
    # version holds either the whole report or none of it.
    lock_row(session, record.committee)
    lock_row(session, record)  # reloads it: a publication that won the race is seen here
    amending = record.status == QUARTER_PUBLISHED
    last = record.versions[-1] if record.versions else None
    if amending and not note.strip():
        message = _("정정 사유를 적어 주세요.")
        raise ValidationFailed(message, [("note", message)])
    task_ids = [e.task_id for e in record.entries]
    previous = _previous_published_pct(session, record, task_ids)
    for entry in record.entries:
        entry.previous_pct = previous.get(entry.task_id)
    rows = [ReportRow.from_entry(entry) for entry in record.entries]
    diff = report_diff(last.report_rows(), rows) if last is not None else []
    if amending and not diff:
        raise InvalidTransition(_("공개된 판과 달라진 내용이 없어 정정본을 공개하지 않았습니다."))
    later_published = session.scalar(
        select(ReportingQuarter.id).where(
            ReportingQuarter.committee_id == record.committee_id,
            ReportingQuarter.status == QUARTER_PUBLISHED,
            (ReportingQuarter.year * 4 + ReportingQuarter.quarter) > record.year * 4 + record.quarter,
        )
    )
    if later_published is None:
        tasks = {
            t.id: t for t in session.scalars(select(CommitteeTask).where(CommitteeTask.id.in_(task_ids)))
        }
        for entry in record.entries:
            if entry.status != ENTRY_PENDING and entry.progress_pct is not None:
                tasks[entry.task_id].progress = entry.progress_pct
                tasks[entry.task_id].updated_at = now
    version = ReportVersion(
        number=(last.number + 1) if last is not None else 1,
        published_at=now,
        published_by_id=actor.id,
        summary=summary.strip() or None,
        note=(note.strip() or None) if amending else None,
        rows=[row.as_dict() for row in rows],
    )
    record.versions.append(version)
    if not amending:
        record.status = QUARTER_PUBLISHED
        record.published_at = now
    record.summary = version.summary
    try:
        session.flush()
    except IntegrityError as exc:  # two people published the same version at once
        raise Conflict(_("다른 사람이 방금 이 보고를 공개했습니다. 화면을 새로 고쳐 확인해 주세요.")) from exc
    reported = [row for row in rows if row.is_reported]
    if amending:
        changed = {item["code"] for item in diff}
        lines = []
        for row in rows:
            if row.task_code in changed and len(lines) < 10:
                after = f"{row.progress_pct}%" if row.progress_pct is not None else _("미제출")
                lines.append(f"{row.task_code} {row.task_title}: {after}")
        title = _(
            "[정정] %(c)s %(y)d년 %(q)d분기 과제 추진상황",
            c=record.committee.name,
            y=record.year,
            q=record.quarter,
        )
        text = _("정정 사유: %(note)s", note=version.note)
    else:
        lines = []
        for row in reported[:10]:
            before = "-" if row.previous_pct is None else f"{row.previous_pct}%"
            lines.append(f"{row.task_code} {row.task_title}: {before} → {row.progress_pct}%")
        title = _(
            "%(c)s %(y)d년 %(q)d분기 과제 추진상황", c=record.committee.name, y=record.year, q=record.quarter
        )
        text = record.summary or _("과제 %(n)d건 중 %(r)d건이 보고되었습니다.", n=len(rows), r=len(reported))
    enqueue_telegram(
        session,
        kind="committee_quarterly_report",
        payload={"title": title, "summary": text, "url": f"/committee/reports/{record.id}", "lines": lines},
        dedupe_key=f"committee-report-{record.id}-published"
        if version.number == 1
        else f"committee-report-{record.id}-v{version.number}",
        subject_ref=f"committee_report:{record.id}",
        now=now,
    )
    publish_change(session, ChangeEvent("committee_report", version.id, now))
    return version


# --- semiannual evaluation --------------------------------------------------------------------


def member_for_user(session: Session, user: User) -> CommitteeMember | None:
    return session.scalar(select(CommitteeMember).where(CommitteeMember.user_id == user.id))


def open_evaluation_round(
    session: Session, committee: Committee, *, year: int, half: int, actor: User, now: dt.datetime
) -> EvaluationRound:
    _require_secretariat(actor)
    if half not in (1, 2) or not 2000 <= year <= 2100:
        raise ValidationFailed(_("연도와 반기(1 또는 2)를 확인해 주세요."))
    if session.scalar(
        select(EvaluationRound.id).where(
            EvaluationRound.committee_id == committee.id,
            EvaluationRound.year == year,
            EvaluationRound.half == half,
        )
    ):
        raise Conflict(_("%(y)d년 %(h)d반기 평가는 이미 있습니다.", y=year, h=half))
    record = EvaluationRound(committee_id=committee.id, year=year, half=half, opened_at=now)
    session.add(record)
    session.flush()
    return record


def close_evaluation_round(
    session: Session, record: EvaluationRound, *, actor: User, now: dt.datetime
) -> None:
    _require_secretariat(actor)
    if not record.is_open:
        raise InvalidTransition(_("이미 마감한 평가입니다."))
    record.closed_at = now
    session.flush()


def record_evaluation(
    session: Session,
    record: EvaluationRound,
    task: CommitteeTask,
    *,
    actor: User,
    score: int | None,
    comment: str,
    now: dt.datetime,
) -> Evaluation:
    """A member scores a task of their own sub-committee (1–5); scoring again replaces it."""
    member = member_for_user(session, actor)
    if member is None or not member.active or member.committee_id != record.committee_id:
        raise NotAllowed(_("위원 계정만 평가할 수 있습니다."))
    if not record.is_open:
        raise InvalidTransition(_("마감된 평가입니다."))
    if task.committee_id != record.committee_id or task.subcommittee_id != member.subcommittee_id:
        raise NotAllowed(_("소속 분과의 과제만 평가할 수 있습니다."))
    if score is None or not 1 <= score <= 5:
        raise ValidationFailed(
            _("점수는 1에서 5 사이여야 합니다."), [("score", _("점수는 1에서 5 사이여야 합니다."))]
        )
    evaluation = session.scalar(
        select(Evaluation).where(
            Evaluation.round_id == record.id, Evaluation.task_id == task.id, Evaluation.member_id == member.id
        )
    )
    if evaluation is None:
        evaluation = Evaluation(round_id=record.id, task_id=task.id, member_id=member.id)
        session.add(evaluation)
    evaluation.score = score
    evaluation.comment = comment.strip()[:2000] or None
    evaluation.updated_at = now
    session.flush()
    return evaluation


# --- members --------------------------------------------------------------------------------


MEMBER_FIELDS = (
    "name",
    "position",
    "membership",
    "affiliation",
    "subcommittee_id",
    "term_start",
    "term_end",
    "gender",
    "age_band",
    "email",
    "phone",
    "active",
)


def save_member(
    session: Session,
    committee: Committee,
    member: CommitteeMember | None,
    data: dict,
    *,
    account_email: str,
    actor: User,
    now: dt.datetime,
) -> CommitteeMember:
    """Create or update a member; ``account_email`` links a committee_member account."""
    _require_secretariat(actor)
    if data["term_end"] < data["term_start"]:
        raise ValidationFailed(
            _("임기 종료일은 시작일 뒤여야 합니다."), [("term_end", _("임기 종료일은 시작일 뒤여야 합니다."))]
        )
    user_id = None
    if account_email.strip():
        user = session.scalar(select(User).where(User.email == account_email.strip().lower()))
        if user is None or not user.has_role("committee_member"):
            message = _("위원 역할(committee_member)을 가진 계정을 찾을 수 없습니다.")
            raise ValidationFailed(message, [("account_email", message)])
        other = session.scalar(select(CommitteeMember).where(CommitteeMember.user_id == user.id))
        if other is not None and other is not member:
            message = _("이 계정은 이미 다른 위원과 연결되어 있습니다.")
            raise ValidationFailed(message, [("account_email", message)])
        user_id = user.id
    if member is None:
        member = CommitteeMember(committee_id=committee.id)
        session.add(member)
    for key in MEMBER_FIELDS:
        setattr(member, key, data.get(key))
    member.user_id = user_id
    session.flush()
    return member


# --- meetings -------------------------------------------------------------------------------


def save_meeting(
    session: Session,
    committee: Committee,
    meeting: CommitteeMeeting | None,
    *,
    kind: str,
    title: str,
    start_at: dt.datetime,
    end_at: dt.datetime,
    location: str,
    agenda: str,
    actor: User,
    now: dt.datetime,
) -> CommitteeMeeting:
    """Schedule or change a meeting; every change raises ``sequence`` for calendar clients."""
    _require_secretariat(actor)
    errors = []
    if kind not in MEETING_KINDS:
        errors.append(("kind", _("회의 종류가 올바르지 않습니다.")))
    if end_at <= start_at:
        errors.append(("duration", _("회의 종료 시각은 시작 시각 뒤여야 합니다.")))
    if not title.strip():
        errors.append(("title", _("회의 제목을 입력해 주세요.")))
    day = to_seoul(start_at).date()
    if meeting is None or to_seoul(meeting.start_at).date() != day:
        # The visits' working-day rules: weekends, public holidays (Chuseok …), closed dates and
        # election blackouts. A meeting already on such a day keeps it until its date changes.
        closed = WorkCalendar.load(session, day, day).closed_reason(day)
        if closed:
            errors.append(("day", _("%(d)s은(는) 근무일이 아닙니다: %(r)s", d=day.isoformat(), r=closed)))
    if errors:
        raise ValidationFailed(errors[0][1], errors)
    if meeting is None:
        meeting = CommitteeMeeting(committee_id=committee.id, sequence=0, status="scheduled", created_at=now)
        session.add(meeting)
    else:
        meeting.sequence += 1
    meeting.kind = kind
    meeting.title = title.strip()
    meeting.start_at = start_at
    meeting.end_at = end_at
    meeting.location = location.strip() or None
    meeting.agenda = agenda.strip() or None
    meeting.updated_at = now
    session.flush()
    return meeting


def set_meeting_status(
    session: Session, meeting: CommitteeMeeting, status: str, *, actor: User, now: dt.datetime
) -> None:
    _require_secretariat(actor)
    if not meeting.can_transition_to(status):
        raise InvalidTransition(_("회의 상태를 바꿀 수 없습니다."))
    meeting.status = status
    meeting.sequence += 1
    meeting.updated_at = now
    session.flush()


def record_minutes(
    session: Session,
    meeting: CommitteeMeeting,
    *,
    minutes: str,
    present_member_ids: set[int],
    actor: User,
    now: dt.datetime,
) -> None:
    """Minutes and attendance of a meeting (held or about to be)."""
    _require_secretariat(actor)
    members = session.scalars(
        select(CommitteeMember).where(
            CommitteeMember.committee_id == meeting.committee_id, CommitteeMember.active.is_(True)
        )
    ).all()
    known = {m.id for m in members}
    if present_member_ids - known:
        raise ValidationFailed(_("이 위원회의 위원이 아닌 사람이 있습니다."))
    by_member = {a.member_id: a for a in meeting.attendance}
    for member_id in known:
        row = by_member.get(member_id)
        if row is None:
            meeting.attendance.append(
                MeetingAttendance(member_id=member_id, present=member_id in present_member_ids)
            )
        else:
            row.present = member_id in present_member_ids
    meeting.minutes = minutes.strip() or None
    meeting.updated_at = now
    meeting.sequence += 1
    session.flush()


def add_advisory_item(
    session: Session,
    meeting: CommitteeMeeting,
    *,
    code: str,
    title: str,
    subcommittee_id: int,
    department_id: int | None,
    actor: User,
    now: dt.datetime,
) -> CommitteeTask:
    """An advisory item of a meeting becomes a tracked task (reported quarterly like the rest)."""
    _require_secretariat(actor)
    errors = []
    if not CODE_RE.match(code):
        errors.append(
            ("code", _("과제 코드는 1~30자의 글자, 숫자, '.', '-', '_'여야 합니다: '%(v)s'", v=code))
        )
    elif session.scalar(
        select(CommitteeTask.id).where(
            CommitteeTask.committee_id == meeting.committee_id, CommitteeTask.code == code
        )
    ):
        errors.append(("code", _("과제 코드 %(c)s가 이미 있습니다.", c=code)))
    if not title.strip():
        errors.append(("title", _("과제명을 입력해 주세요.")))
    sub = session.get(SubCommittee, subcommittee_id)
    if sub is None or sub.committee_id != meeting.committee_id:
        errors.append(("subcommittee_id", _("분과를 골라 주세요.")))
    if errors:
        raise ValidationFailed(errors[0][1], errors)
    task = CommitteeTask(
        committee_id=meeting.committee_id,
        code=code,
        title=title.strip(),
        subcommittee_id=subcommittee_id,
        origin="advisory",
        department_id=department_id or None,
        start_year=to_seoul(meeting.start_at).year,
        status=STATUS_ACTIVE,
        progress=0,
        meeting_id=meeting.id,
        created_at=now,
        updated_at=now,
    )
    session.add(task)
    session.flush()
    return task
