"""Committees, their sub-committees (task fields) and members; who acts for the secretariat.

Every function takes the session, the acting user and the clock; it flushes, never commits.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.accounts.models import User
from civic_app.committee.models import (
    DEFAULT_COMMITTEE,
    DEFAULT_SUBCOMMITTEES,
    Committee,
    CommitteeMember,
    SubCommittee,
)
from civic_app.errors import NotAllowed, NotFound, ValidationFailed
from civic_app.web.policy import ADMIN, COMMITTEE_SECRETARIAT

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
    require_role(actor, ADMIN)
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
    require_role(actor, ADMIN)
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


def require_role(actor: User | None, *roles: str) -> None:
    if actor is None or not actor.has_role(*roles):
        raise NotAllowed(_("이 작업을 할 권한이 없습니다."))


def require_secretariat(actor: User | None) -> None:
    require_role(actor, COMMITTEE_SECRETARIAT, ADMIN)


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


def member_for_user(session: Session, user: User) -> CommitteeMember | None:
    return session.scalar(select(CommitteeMember).where(CommitteeMember.user_id == user.id))


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
    require_secretariat(actor)
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
