"""시정참여정책위원회: committees, members, policy tasks and their review cycles.

The names of the reference committee and its sub-committees are module constants so the
integrator's migration can insert the same rows the reference loader does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields
from typing import ClassVar

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic_app.db_types import UTCDateTime
from civic_app.extensions import db
from civic_app.timeutil import to_seoul

DEFAULT_COMMITTEE = "시정참여정책위원회"
# The working sub-committees (실무분과) of the source, in the order of its table.
DEFAULT_SUBCOMMITTEES: tuple[str, ...] = (
    "행정/재정",
    "지역경제/일자리",
    "복지/여성/보건의료",
    "도시계획/환경",
    "문화/교육",
)

# Member attributes
POSITIONS = ("chair", "vice_chair", "member")  # 위원장, 부위원장, 위원
MEMBERSHIPS = ("ex_officio", "appointed")  # 당연직, 위촉직
AFFILIATIONS = ("expert", "civil_society", "council", "resident", "official")
GENDERS = ("female", "male")
AGE_BANDS = ("20s", "30s", "40s", "50s", "60s", "70+")

# Task attributes
ORIGIN_BASELINE = "baseline"
ORIGIN_NEW = "new"
ORIGIN_ADVISORY = "advisory"
ORIGINS = (ORIGIN_BASELINE, ORIGIN_NEW, ORIGIN_ADVISORY)
STATUS_PROPOSED = "proposed"
STATUS_ACTIVE = "active"
STATUS_CONCLUDED = "concluded"
STATUS_REPLACED = "replaced"
STATUS_DROPPED = "dropped"
TASK_STATUSES = (STATUS_PROPOSED, STATUS_ACTIVE, STATUS_CONCLUDED, STATUS_REPLACED, STATUS_DROPPED)
LINEAGE_KINDS = ("replaced", "merged")

# Mid-term review outcomes: 유지, 종결, 대체·통합
OUTCOME_MAINTAINED = "maintained"
OUTCOME_CONCLUDED = "concluded"
OUTCOME_REPLACED = "replaced"
OUTCOMES = (OUTCOME_MAINTAINED, OUTCOME_CONCLUDED, OUTCOME_REPLACED)
OUTCOME_TO_STATUS = {
    OUTCOME_MAINTAINED: STATUS_ACTIVE,
    OUTCOME_CONCLUDED: STATUS_CONCLUDED,
    OUTCOME_REPLACED: STATUS_REPLACED,
}

# Reporting quarter / entry states
QUARTER_OPEN = "open"
QUARTER_PUBLISHED = "published"
ENTRY_PENDING = "pending"
ENTRY_SUBMITTED = "submitted"
ENTRY_REVIEWED = "reviewed"

# Meetings
MEETING_REGULAR = "regular"
MEETING_AD_HOC = "ad_hoc"
MEETING_KINDS = (MEETING_REGULAR, MEETING_AD_HOC)
MEETING_SCHEDULED = "scheduled"
MEETING_CANCELLED = "cancelled"
MEETING_HELD = "held"
MEETING_STATUSES = (MEETING_SCHEDULED, MEETING_CANCELLED, MEETING_HELD)


class Committee(db.Model):
    __tablename__ = "committees"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)

    subcommittees: Mapped[list[SubCommittee]] = relationship(
        back_populates="committee", order_by="SubCommittee.position", lazy="selectin"
    )


class SubCommittee(db.Model):
    """A working sub-committee (실무분과); its name is the task's field."""

    __tablename__ = "committee_subcommittees"
    __table_args__ = (UniqueConstraint("committee_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)

    committee: Mapped[Committee] = relationship(back_populates="subcommittees")


class CommitteeMember(db.Model):
    """A member. Contact data (email, phone) is personal: never on public pages or the API."""

    __tablename__ = "committee_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[str] = mapped_column(String(20), default="member")
    membership: Mapped[str] = mapped_column(String(20), default="appointed")
    affiliation: Mapped[str] = mapped_column(String(20), default="expert")
    subcommittee_id: Mapped[int | None] = mapped_column(
        ForeignKey("committee_subcommittees.id", ondelete="SET NULL"), index=True
    )
    term_start: Mapped[dt.date] = mapped_column(Date)
    term_end: Mapped[dt.date] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(10))
    age_band: Mapped[str | None] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(30))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    active: Mapped[bool] = mapped_column(default=True)

    subcommittee: Mapped[SubCommittee | None] = relationship(lazy="joined")
    user = relationship("User", lazy="joined")


class CommitteeMeeting(db.Model):
    """A plenary meeting: regular (April, September) or ad hoc.

    The calendar feature builds /calendar/committee.ics from these rows: ``id`` is the stable
    identity, ``sequence`` is raised on every change and ``updated_at`` is its DTSTAMP.
    """

    __tablename__ = "committee_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default=MEETING_REGULAR)
    title: Mapped[str] = mapped_column(String(200))
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    end_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    location: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=MEETING_SCHEDULED)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    agenda: Mapped[str | None] = mapped_column(Text)
    minutes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    committee: Mapped[Committee] = relationship(lazy="joined")
    attendance: Mapped[list[MeetingAttendance]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", lazy="selectin"
    )

    def can_transition_to(self, status: str) -> bool:
        if self.status == MEETING_SCHEDULED:
            return status in (MEETING_CANCELLED, MEETING_HELD)
        if self.status == MEETING_CANCELLED:
            return status == MEETING_SCHEDULED
        return False


class MeetingAttendance(db.Model):
    __tablename__ = "committee_meeting_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("committee_meetings.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("committee_members.id", ondelete="CASCADE"))
    present: Mapped[bool] = mapped_column(default=True)

    meeting: Mapped[CommitteeMeeting] = relationship(back_populates="attendance")
    member: Mapped[CommitteeMember] = relationship(lazy="joined")


class CommitteeTask(db.Model):
    """A policy task (정책과제): baseline agreement task, new proposal or advisory item."""

    __tablename__ = "committee_tasks"
    __table_args__ = (UniqueConstraint("committee_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(300))
    subcommittee_id: Mapped[int] = mapped_column(ForeignKey("committee_subcommittees.id"), index=True)
    origin: Mapped[str] = mapped_column(String(20), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    start_year: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=STATUS_ACTIVE, index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("committee_meetings.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    committee: Mapped[Committee] = relationship(lazy="raise")
    subcommittee: Mapped[SubCommittee] = relationship(lazy="joined")
    department = relationship("Department", lazy="joined")
    meeting: Mapped[CommitteeMeeting | None] = relationship(lazy="raise")
    successor_links: Mapped[list[TaskLineage]] = relationship(
        foreign_keys="TaskLineage.predecessor_id", back_populates="predecessor", lazy="raise"
    )
    predecessor_links: Mapped[list[TaskLineage]] = relationship(
        foreign_keys="TaskLineage.successor_id", back_populates="successor", lazy="raise"
    )

    # Manual status changes by the secretariat; replacement goes through a mid-term review
    # (or the CSV import), which also records the lineage.
    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        STATUS_PROPOSED: (STATUS_ACTIVE, STATUS_DROPPED),
        STATUS_ACTIVE: (STATUS_CONCLUDED, STATUS_DROPPED),
        STATUS_CONCLUDED: (STATUS_ACTIVE,),
        STATUS_DROPPED: (STATUS_PROPOSED, STATUS_ACTIVE),
        STATUS_REPLACED: (),
    }

    def can_transition_to(self, status: str) -> bool:
        return status == self.status or status in self.TRANSITIONS.get(self.status, ())

    @property
    def is_reportable(self) -> bool:
        return self.status == STATUS_ACTIVE and self.department_id is not None


class TaskLineage(db.Model):
    """``predecessor`` was replaced by (or merged into) ``successor``."""

    __tablename__ = "committee_task_lineage"
    __table_args__ = (UniqueConstraint("predecessor_id", "successor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    predecessor_id: Mapped[int] = mapped_column(
        ForeignKey("committee_tasks.id", ondelete="CASCADE"), index=True
    )
    successor_id: Mapped[int] = mapped_column(
        ForeignKey("committee_tasks.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="replaced")

    predecessor: Mapped[CommitteeTask] = relationship(
        foreign_keys=[predecessor_id], back_populates="successor_links"
    )
    successor: Mapped[CommitteeTask] = relationship(
        foreign_keys=[successor_id], back_populates="predecessor_links"
    )


class MidtermReview(db.Model):
    """A mid-term review round (중간점검); once applied it is a frozen snapshot."""

    __tablename__ = "committee_midterm_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    applied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    outcomes: Mapped[list[MidtermOutcome]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="MidtermOutcome.task_code"
    )

    @property
    def is_applied(self) -> bool:
        return self.applied_at is not None


class MidtermOutcome(db.Model):
    __tablename__ = "committee_midterm_outcomes"
    __table_args__ = (UniqueConstraint("review_id", "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("committee_midterm_reviews.id", ondelete="CASCADE"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("committee_tasks.id", ondelete="SET NULL"))
    # Snapshot columns: the round reads the same even if the task changes later.
    task_code: Mapped[str] = mapped_column(String(30))
    task_title: Mapped[str] = mapped_column(String(300))
    field_name: Mapped[str] = mapped_column(String(100))
    previous_status: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20), default=OUTCOME_MAINTAINED)
    successor_codes: Mapped[str | None] = mapped_column(String(200))  # comma separated
    note: Mapped[str | None] = mapped_column(String(500))

    review: Mapped[MidtermReview] = relationship(back_populates="outcomes")
    task: Mapped[CommitteeTask | None] = relationship(lazy="joined")


class ReportingQuarter(db.Model):
    """A quarter of progress reporting.

    Publishing freezes a version (:class:`ReportVersion`) for the public; departments may still
    report late afterwards, and the secretariat publishes those as an amended version (정정).
    ``published_at`` is the first publication.
    """

    __tablename__ = "committee_quarters"
    __table_args__ = (UniqueConstraint("committee_id", "year", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=QUARTER_OPEN)
    summary: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_reminder_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    committee: Mapped[Committee] = relationship(lazy="joined")
    entries: Mapped[list[QuarterlyEntry]] = relationship(
        back_populates="quarter", cascade="all, delete-orphan", order_by="QuarterlyEntry.task_code"
    )
    versions: Mapped[list[ReportVersion]] = relationship(
        back_populates="quarter", cascade="all, delete-orphan", order_by="ReportVersion.number"
    )

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.quarter}"

    @property
    def is_published(self) -> bool:
        return self.status == QUARTER_PUBLISHED


class QuarterlyEntry(db.Model):
    """One department's report on one task for one quarter."""

    __tablename__ = "committee_quarter_entries"
    __table_args__ = (UniqueConstraint("quarter_id", "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quarter_id: Mapped[int] = mapped_column(
        ForeignKey("committee_quarters.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[int] = mapped_column(ForeignKey("committee_tasks.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    # Snapshot of the task when the quarter opened (the published report is frozen).
    task_code: Mapped[str] = mapped_column(String(30))
    task_title: Mapped[str] = mapped_column(String(300))
    field_name: Mapped[str] = mapped_column(String(100))
    origin: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=ENTRY_PENDING)
    progress_text: Mapped[str | None] = mapped_column(Text)
    progress_pct: Mapped[int | None] = mapped_column(Integer)
    previous_pct: Mapped[int | None] = mapped_column(Integer)
    issues: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    quarter: Mapped[ReportingQuarter] = relationship(back_populates="entries")
    department = relationship("Department", lazy="joined")

    @property
    def change(self) -> int | None:
        if self.progress_pct is None or self.previous_pct is None:
            return None
        return self.progress_pct - self.previous_pct

    @property
    def is_late(self) -> bool:
        """Submitted after the deadline (Seoul date) or after the quarter was first published."""
        if self.submitted_at is None:
            return False
        quarter = self.quarter
        if to_seoul(self.submitted_at).date() > quarter.deadline:
            return True
        return quarter.published_at is not None and self.submitted_at > quarter.published_at


class ReportVersion(db.Model):
    """One published version of a quarter's report: a frozen copy of its rows.

    Version 1 is the first publication; each amendment (정정) adds the next number with a
    reason, and older versions stay readable.
    """

    __tablename__ = "committee_report_versions"
    __table_args__ = (UniqueConstraint("quarter_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quarter_id: Mapped[int] = mapped_column(
        ForeignKey("committee_quarters.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    summary: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)  # the reason of an amendment
    rows: Mapped[list] = mapped_column(JSON, default=list)

    quarter: Mapped[ReportingQuarter] = relationship(back_populates="versions")

    @property
    def is_amendment(self) -> bool:
        return self.number > 1

    def report_rows(self) -> list[ReportRow]:
        return [ReportRow.from_dict(row) for row in self.rows or []]


@dataclass(frozen=True)
class ReportRow:
    """A task's line of a published report, as frozen in a :class:`ReportVersion`."""

    entry_id: int
    task_id: int
    task_code: str
    task_title: str
    field_name: str
    origin: str
    department: str
    status: str
    progress_text: str | None = None
    progress_pct: int | None = None
    previous_pct: int | None = None
    issues: str | None = None
    next_steps: str | None = None
    late: bool = False

    # The fields an amendment compares (the rest identify the row).
    COMPARED: ClassVar[tuple[str, ...]] = (
        "status",
        "progress_pct",
        "progress_text",
        "issues",
        "next_steps",
        "department",
    )

    @classmethod
    def from_entry(cls, entry: QuarterlyEntry) -> ReportRow:
        reported = entry.status != ENTRY_PENDING
        return cls(
            entry_id=entry.id,
            task_id=entry.task_id,
            task_code=entry.task_code,
            task_title=entry.task_title,
            field_name=entry.field_name,
            origin=entry.origin,
            department=entry.department.name,
            status=ENTRY_PENDING if not reported else ENTRY_SUBMITTED,
            progress_text=entry.progress_text if reported else None,
            progress_pct=entry.progress_pct if reported else None,
            previous_pct=entry.previous_pct,
            issues=entry.issues if reported else None,
            next_steps=entry.next_steps if reported else None,
            late=entry.is_late,
        )

    @classmethod
    def from_dict(cls, data: dict) -> ReportRow:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def is_reported(self) -> bool:
        return self.status != ENTRY_PENDING

    @property
    def change(self) -> int | None:
        if self.progress_pct is None or self.previous_pct is None:
            return None
        return self.progress_pct - self.previous_pct


class EvaluationRound(db.Model):
    """A semiannual evaluation (반기별 평가) by sub-committee members."""

    __tablename__ = "committee_evaluation_rounds"
    __table_args__ = (UniqueConstraint("committee_id", "year", "half"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    half: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Evaluation(db.Model):
    __tablename__ = "committee_evaluations"
    __table_args__ = (UniqueConstraint("round_id", "task_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("committee_evaluation_rounds.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[int] = mapped_column(ForeignKey("committee_tasks.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("committee_members.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
