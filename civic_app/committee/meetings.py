"""Committee meetings: schedule, status, minutes and attendance, advisory items that become tasks."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.accounts.models import User
from civic_app.committee.committees import require_secretariat
from civic_app.committee.models import (
    MEETING_KINDS,
    STATUS_ACTIVE,
    Committee,
    CommitteeMeeting,
    CommitteeMember,
    CommitteeTask,
    MeetingAttendance,
    SubCommittee,
)
from civic_app.committee.tasks import CODE_RE
from civic_app.errors import InvalidTransition, ValidationFailed
from civic_app.timeutil import to_seoul
from civic_app.workdays.services import WorkCalendar


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
    require_secretariat(actor)
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
    require_secretariat(actor)
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
    require_secretariat(actor)
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
    require_secretariat(actor)
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
