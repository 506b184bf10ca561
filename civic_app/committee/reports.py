"""Quarterly reports: open a quarter, departments report, reminders, publish and amend versions."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civic_app.accounts.models import User, UserRole
from civic_app.committee.committees import require_secretariat
from civic_app.committee.models import (
    ENTRY_PENDING,
    ENTRY_REVIEWED,
    ENTRY_SUBMITTED,
    QUARTER_OPEN,
    QUARTER_PUBLISHED,
    STATUS_ACTIVE,
    Committee,
    CommitteeTask,
    QuarterlyEntry,
    ReportingQuarter,
    ReportRow,
    ReportVersion,
)
from civic_app.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from civic_app.events import ChangeEvent, publish_change
from civic_app.integrity.locks import lock_row
from civic_app.notify.services import enqueue_email, enqueue_telegram
from civic_app.timeutil import as_utc, today_seoul
from civic_app.web.policy import ADMIN, COMMITTEE_SECRETARIAT, DEPARTMENT


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
    require_secretariat(actor)
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
        require_secretariat(actor)
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
    published_at = entry.quarter.published_at
    if published_at is not None and as_utc(now) <= as_utc(published_at):
        # Waited for that publication (or the clocks tie): the report comes after it, so it is
        # late and waits for the next amended version, whatever the clock read before the wait.
        now = as_utc(published_at) + dt.timedelta(microseconds=1)
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
    require_secretariat(actor)
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
    require_secretariat(actor)
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
        # Never before a report this version holds (a report that got the lock first may carry
        # a later clock reading than this publisher's): ``is_late`` compares the two.
        record.published_at = max(
            [as_utc(now)] + [as_utc(e.submitted_at) for e in record.entries if e.submitted_at is not None]
        )
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
