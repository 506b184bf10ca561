"""Read-only queries shaped for pages and the API: a fixed number of statements per page."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, lazyload, selectinload

from civic_app.committee.models import (
    QUARTER_OPEN,
    QUARTER_PUBLISHED,
    Committee,
    CommitteeMeeting,
    CommitteeMember,
    CommitteeTask,
    Evaluation,
    EvaluationRound,
    MidtermReview,
    QuarterlyEntry,
    ReportingQuarter,
    ReportRow,
    ReportVersion,
    SubCommittee,
    TaskLineage,
)

SUMMARY_KEYS = ("baseline", "maintained", "concluded", "replaced", "new")


def summary(session: Session, committee: Committee) -> dict:
    """The source's table: baseline tasks by current status (active = maintained), new by origin."""
    rows = {s.id: {"field": s.name, **dict.fromkeys(SUMMARY_KEYS, 0)} for s in committee.subcommittees}
    counts = session.execute(
        select(CommitteeTask.subcommittee_id, CommitteeTask.origin, CommitteeTask.status, func.count())
        .where(CommitteeTask.committee_id == committee.id)
        .group_by(CommitteeTask.subcommittee_id, CommitteeTask.origin, CommitteeTask.status)
    )
    status_key = {"active": "maintained", "concluded": "concluded", "replaced": "replaced"}
    for sub_id, origin, status, n in counts:
        row = rows.get(sub_id)
        if row is None:
            continue
        if origin == "baseline":
            row["baseline"] += n
            if status in status_key:
                row[status_key[status]] += n
        elif origin == "new":
            row["new"] += n
    ordered = [rows[s.id] for s in committee.subcommittees]
    total = {key: sum(r[key] for r in ordered) for key in SUMMARY_KEYS}
    return {"rows": ordered, "total": total}


@dataclass
class TaskFilters:
    field: int | None = None
    origin: str | None = None
    status: str | None = None
    department: int | None = None
    q: str | None = None


def task_query(committee: Committee, filters: TaskFilters) -> Select:
    query = select(CommitteeTask).where(CommitteeTask.committee_id == committee.id)
    if filters.field:
        query = query.where(CommitteeTask.subcommittee_id == filters.field)
    if filters.origin:
        query = query.where(CommitteeTask.origin == filters.origin)
    if filters.status:
        query = query.where(CommitteeTask.status == filters.status)
    if filters.department:
        query = query.where(CommitteeTask.department_id == filters.department)
    if filters.q:
        like = f"%{filters.q}%"
        query = query.where(or_(CommitteeTask.title.ilike(like), CommitteeTask.code.ilike(like)))
    return query.order_by(CommitteeTask.code)


def task_detail(session: Session, committee: Committee, code: str) -> CommitteeTask | None:
    return session.scalar(
        select(CommitteeTask)
        .where(CommitteeTask.committee_id == committee.id, CommitteeTask.code == code)
        .options(
            selectinload(CommitteeTask.successor_links).joinedload(TaskLineage.successor),
            selectinload(CommitteeTask.predecessor_links).joinedload(TaskLineage.predecessor),
            selectinload(CommitteeTask.meeting),
        )
    )


def task_history(session: Session, task: CommitteeTask) -> list[tuple[ReportingQuarter, ReportRow]]:
    """The task's line in the latest version of each published quarter, oldest first."""
    rows = session.execute(
        select(ReportingQuarter, ReportVersion)
        .join(ReportVersion, ReportVersion.quarter_id == ReportingQuarter.id)
        .join(QuarterlyEntry, QuarterlyEntry.quarter_id == ReportingQuarter.id)
        .where(QuarterlyEntry.task_id == task.id, ReportingQuarter.status == QUARTER_PUBLISHED)
        .order_by(ReportingQuarter.year, ReportingQuarter.quarter, ReportVersion.number)
    )
    latest: dict[int, tuple[ReportingQuarter, ReportVersion]] = {}
    for quarter, version in rows:
        latest[quarter.id] = (quarter, version)
    history = []
    for quarter, version in latest.values():
        row = next((r for r in version.report_rows() if r.task_id == task.id), None)
        if row is not None:
            history.append((quarter, row))
    return history


def report_version(
    session: Session, quarter_id: int, number: int | None = None
) -> tuple[ReportingQuarter, ReportVersion, ReportVersion | None] | None:
    """(quarter, the version asked for or the latest, the version before it) of a published report."""
    quarter = session.scalar(
        select(ReportingQuarter)
        .where(ReportingQuarter.id == quarter_id, ReportingQuarter.status == QUARTER_PUBLISHED)
        .options(selectinload(ReportingQuarter.versions))
    )
    if quarter is None or not quarter.versions:
        return None
    by_number = {v.number: v for v in quarter.versions}
    version = by_number.get(number) if number is not None else quarter.versions[-1]
    if version is None:
        return None
    return quarter, version, by_number.get(version.number - 1)


def publish_check(quarter: ReportingQuarter, today: dt.date) -> dict:
    """What the secretariat must see before publishing: the deadline, what is missing, what is late."""
    entries = quarter.entries
    missing = [e for e in entries if e.status == "pending"]
    late = [e for e in entries if e.is_late]
    last = quarter.versions[-1] if quarter.versions else None
    return {
        "deadline": quarter.deadline,
        "days_left": (quarter.deadline - today).days,
        "total": len(entries),
        "submitted": len(entries) - len(missing),
        "missing": missing,
        "late": late,
        "last_version": last,
        "unpublished": [
            e
            for e in entries
            if last is not None and e.submitted_at is not None and e.submitted_at > last.published_at
        ],
    }


def latest_published_quarter(session: Session, committee: Committee):
    """(id, year, quarter) of the latest published report, in one statement, or None."""
    return session.execute(
        select(ReportingQuarter.id, ReportingQuarter.year, ReportingQuarter.quarter)
        .where(ReportingQuarter.committee_id == committee.id, ReportingQuarter.status == QUARTER_PUBLISHED)
        .order_by(ReportingQuarter.year.desc(), ReportingQuarter.quarter.desc())
        .limit(1)
    ).first()


def published_quarters(session: Session, committee: Committee) -> list[ReportingQuarter]:
    return list(
        session.scalars(
            select(ReportingQuarter)
            .where(
                ReportingQuarter.committee_id == committee.id, ReportingQuarter.status == QUARTER_PUBLISHED
            )
            .options(selectinload(ReportingQuarter.versions))
            .order_by(ReportingQuarter.year.desc(), ReportingQuarter.quarter.desc())
        )
    )


def all_quarters(session: Session, committee: Committee) -> list[tuple[ReportingQuarter, int, int]]:
    """(quarter, entries, submitted) newest first, for the secretariat."""
    counts = (
        select(
            QuarterlyEntry.quarter_id,
            func.count().label("n"),
            func.count(QuarterlyEntry.submitted_at).label("done"),
        )
        .group_by(QuarterlyEntry.quarter_id)
        .subquery()
    )
    rows = session.execute(
        select(ReportingQuarter, counts.c.n, counts.c.done)
        .outerjoin(counts, counts.c.quarter_id == ReportingQuarter.id)
        .where(ReportingQuarter.committee_id == committee.id)
        .order_by(ReportingQuarter.year.desc(), ReportingQuarter.quarter.desc())
    )
    return [(q, n or 0, done or 0) for q, n, done in rows]


def quarter_with_entries(session: Session, quarter_id: int) -> ReportingQuarter | None:
    return session.scalar(
        select(ReportingQuarter)
        .where(ReportingQuarter.id == quarter_id)
        .options(selectinload(ReportingQuarter.entries), selectinload(ReportingQuarter.versions))
    )


def open_entries_for_department(session: Session, department_id: int | None) -> list[QuarterlyEntry]:
    """The department's entries still to report: open quarters, and late ones of published quarters."""
    if department_id is None:
        return []
    return list(
        session.scalars(
            select(QuarterlyEntry)
            .join(ReportingQuarter)
            .where(
                QuarterlyEntry.department_id == department_id,
                or_(
                    ReportingQuarter.status == QUARTER_OPEN,
                    # Published quarters: what is still missing, and late reports.
                    QuarterlyEntry.status == "pending",
                    QuarterlyEntry.submitted_at > ReportingQuarter.published_at,
                ),
            )
            .options(selectinload(QuarterlyEntry.quarter))
            .order_by(ReportingQuarter.year, ReportingQuarter.quarter, QuarterlyEntry.task_code)
        )
    )


def open_round(session: Session, committee: Committee) -> EvaluationRound | None:
    return session.scalar(
        select(EvaluationRound)
        .where(EvaluationRound.committee_id == committee.id, EvaluationRound.closed_at.is_(None))
        .order_by(EvaluationRound.year.desc(), EvaluationRound.half.desc())
    )


def rounds(session: Session, committee: Committee) -> list[EvaluationRound]:
    return list(
        session.scalars(
            select(EvaluationRound)
            .where(EvaluationRound.committee_id == committee.id)
            .order_by(EvaluationRound.year.desc(), EvaluationRound.half.desc())
        )
    )


def member_tasks(session: Session, member: CommitteeMember) -> list[CommitteeTask]:
    if member.subcommittee_id is None:
        return []
    return list(
        session.scalars(
            select(CommitteeTask)
            .where(CommitteeTask.subcommittee_id == member.subcommittee_id, CommitteeTask.status == "active")
            .order_by(CommitteeTask.code)
        )
    )


def member_scores(
    session: Session, record: EvaluationRound, member: CommitteeMember
) -> dict[int, Evaluation]:
    return {
        e.task_id: e
        for e in session.scalars(
            select(Evaluation).where(Evaluation.round_id == record.id, Evaluation.member_id == member.id)
        )
    }


def latest_reports(
    session: Session, task_ids: list[int]
) -> dict[int, tuple[ReportingQuarter, QuarterlyEntry]]:
    """The latest submitted quarterly entry of each task (published or still being collected)."""
    if not task_ids:
        return {}
    rows = session.execute(
        select(ReportingQuarter, QuarterlyEntry)
        .join(QuarterlyEntry, QuarterlyEntry.quarter_id == ReportingQuarter.id)
        .where(QuarterlyEntry.task_id.in_(task_ids), QuarterlyEntry.submitted_at.is_not(None))
        .order_by(ReportingQuarter.year, ReportingQuarter.quarter)
    )
    return {entry.task_id: (quarter, entry) for quarter, entry in rows}  # later quarters win


def evaluation_results(session: Session, record: EvaluationRound) -> dict:
    """Average score per task and per field of one round."""
    rows = session.execute(
        select(
            CommitteeTask.id,
            CommitteeTask.code,
            CommitteeTask.title,
            SubCommittee.name,
            SubCommittee.position,
            func.avg(Evaluation.score),
            func.count(Evaluation.id),
        )
        .join(CommitteeTask, Evaluation.task_id == CommitteeTask.id)
        .join(SubCommittee, CommitteeTask.subcommittee_id == SubCommittee.id)
        .where(Evaluation.round_id == record.id)
        .group_by(
            CommitteeTask.id,
            CommitteeTask.code,
            CommitteeTask.title,
            SubCommittee.name,
            SubCommittee.position,
        )
        .order_by(SubCommittee.position, CommitteeTask.code)
    ).all()
    comments = defaultdict(list)
    for task_id, comment in session.execute(
        select(Evaluation.task_id, Evaluation.comment).where(
            Evaluation.round_id == record.id, Evaluation.comment.is_not(None)
        )
    ):
        comments[task_id].append(comment)
    tasks = [
        {
            "code": code,
            "title": title,
            "field": field,
            "average": round(float(avg), 2),
            "count": n,
            "comments": comments[task_id],
        }
        for task_id, code, title, field, _pos, avg, n in rows
    ]
    by_field: dict[str, list[float]] = defaultdict(list)
    counts: Counter = Counter()
    for t in tasks:
        by_field[t["field"]].append(t["average"] * t["count"])
        counts[t["field"]] += t["count"]
    fields = [
        {"field": name, "average": round(sum(vals) / counts[name], 2), "count": counts[name]}
        for name, vals in by_field.items()
    ]
    return {"tasks": tasks, "fields": fields}


def members(session: Session, committee: Committee) -> list[CommitteeMember]:
    return list(
        session.scalars(
            select(CommitteeMember)
            .where(CommitteeMember.committee_id == committee.id)
            .order_by(CommitteeMember.active.desc(), CommitteeMember.position, CommitteeMember.name)
        )
    )


def composition(members_: list[CommitteeMember], today: dt.date, soon_days: int = 90) -> dict:
    active = [m for m in members_ if m.active]
    return {
        "total": len(active),
        "membership": Counter(m.membership for m in active),
        "affiliation": Counter(m.affiliation for m in active),
        "subcommittee": Counter(m.subcommittee.name if m.subcommittee else "" for m in active),
        "gender": Counter(m.gender or "" for m in active),
        "age_band": Counter(m.age_band or "" for m in active),
        "ending_soon": sorted(
            (m for m in active if today <= m.term_end <= today + dt.timedelta(days=soon_days)),
            key=lambda m: m.term_end,
        ),
    }


def reviews(session: Session, committee: Committee) -> list[MidtermReview]:
    return list(
        session.scalars(
            select(MidtermReview)
            .where(MidtermReview.committee_id == committee.id)
            .order_by(MidtermReview.created_at.desc())
        )
    )


def review_detail(session: Session, review_id: int) -> MidtermReview | None:
    return session.scalar(
        select(MidtermReview)
        .where(MidtermReview.id == review_id)
        .options(selectinload(MidtermReview.outcomes))
    )


def meetings(session: Session, committee: Committee) -> list[CommitteeMeeting]:
    return list(
        session.scalars(
            select(CommitteeMeeting)
            .where(CommitteeMeeting.committee_id == committee.id)
            .order_by(CommitteeMeeting.start_at.desc())
        )
    )


def meeting_items(session: Session, meeting: CommitteeMeeting) -> list[CommitteeTask]:
    return list(
        session.scalars(
            select(CommitteeTask).where(CommitteeTask.meeting_id == meeting.id).order_by(CommitteeTask.code)
        )
    )


# --- read by other features ------------------------------------------------------------------
# The calendar feeds and the dashboard read the committee through these functions only.


def calendar_meetings(session: Session, *, since: dt.datetime) -> list[CommitteeMeeting]:
    """Plenary meetings starting from ``since``, cancelled ones included (feeds announce them)."""
    return list(
        session.scalars(
            select(CommitteeMeeting)
            .where(CommitteeMeeting.start_at >= since)
            .order_by(CommitteeMeeting.start_at, CommitteeMeeting.id)
            # A calendar event shows the meeting only: not who attended, nor the committee.
            .options(lazyload(CommitteeMeeting.attendance), lazyload(CommitteeMeeting.committee))
        ).unique()
    )


def meeting_by_id(session: Session, meeting_id: int) -> CommitteeMeeting | None:
    return session.get(CommitteeMeeting, meeting_id)


@dataclass(frozen=True)
class FieldTasks:
    field: str  # the sub-committee's name
    counts: dict[str, int]  # tasks per status
    progress: tuple[int, int]  # (sum of the reported progress, tasks) of the active tasks


def tasks_by_field(session: Session) -> list[FieldTasks]:
    """The default committee's sub-committees in their order, with their tasks counted per
    status and the active ones' summed progress (empty before the committee exists): one
    statement, one row per sub-committee and status."""
    from civic_app.committee.models import DEFAULT_COMMITTEE

    rows = session.execute(
        select(
            SubCommittee.id,
            SubCommittee.name,
            CommitteeTask.status,
            func.count(CommitteeTask.id),
            func.coalesce(func.sum(func.coalesce(CommitteeTask.progress, 0)), 0),
        )
        .join(Committee, Committee.id == SubCommittee.committee_id)
        .outerjoin(
            CommitteeTask,
            (CommitteeTask.subcommittee_id == SubCommittee.id) & (CommitteeTask.committee_id == Committee.id),
        )
        .where(Committee.name == DEFAULT_COMMITTEE)
        .group_by(SubCommittee.id, SubCommittee.name, SubCommittee.position, CommitteeTask.status)
        .order_by(SubCommittee.position, SubCommittee.id)
    )
    fields: dict[int, FieldTasks] = {}
    for sub_id, name, status, n, progress in rows:
        row = fields.setdefault(sub_id, FieldTasks(name, {}, (0, 0)))
        if status is None:  # a sub-committee without tasks
            continue
        row.counts[status] = n
        if status == "active":
            fields[sub_id] = FieldTasks(name, row.counts, (int(progress), n))
    return list(fields.values())
