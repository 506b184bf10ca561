"""Factories of the committee feature (flush, never commit)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from civic_app.committee.committees import get_committee
from civic_app.committee.models import CommitteeMember, CommitteeTask, SubCommittee
from civic_app.extensions import db
from tests.factories import NOW


def subcommittee(name: str = "행정/재정") -> SubCommittee:
    committee = get_committee(db.session)
    return db.session.scalar(
        select(SubCommittee).where(SubCommittee.committee_id == committee.id, SubCommittee.name == name)
    )


def make_task(
    code: str,
    *,
    field: str = "행정/재정",
    origin: str = "baseline",
    status: str = "active",
    department=None,
    title: str | None = None,
    progress: int = 0,
) -> CommitteeTask:
    committee = get_committee(db.session)
    task = CommitteeTask(
        committee_id=committee.id,
        code=code,
        title=title or f"과제 {code}",
        subcommittee_id=subcommittee(field).id,
        origin=origin,
        status=status,
        department_id=department.id if department else None,
        start_year=2026,
        progress=progress,
        created_at=NOW,
        updated_at=NOW,
    )
    db.session.add(task)
    db.session.flush()
    return task


def make_member(
    name: str = "윤위원",
    *,
    field: str | None = "행정/재정",
    user=None,
    email: str | None = "private-member@example.com",
    phone: str | None = "010-9876-5432",
    **kw,
) -> CommitteeMember:
    committee = get_committee(db.session)
    member = CommitteeMember(
        committee_id=committee.id,
        name=name,
        position=kw.pop("position", "member"),
        membership=kw.pop("membership", "appointed"),
        affiliation=kw.pop("affiliation", "expert"),
        subcommittee_id=subcommittee(field).id if field else None,
        term_start=kw.pop("term_start", dt.date(2025, 1, 1)),
        term_end=kw.pop("term_end", dt.date(2027, 12, 31)),
        email=email,
        phone=phone,
        user_id=user.id if user else None,
        active=True,
        **kw,
    )
    db.session.add(member)
    db.session.flush()
    return member
