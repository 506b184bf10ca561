"""Execution milestones (설계, 착공, 준공 …) of a funded item: public, on the dong's card."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from civic_app.cards.base import flush, record_event, roles_of
from civic_app.cards.models import MILESTONE_KINDS, MILESTONE_KO, MILESTONE_STATUSES, CardItem, CardMilestone
from civic_app.cards.photos import add_photo, check_photo
from civic_app.cards.policy import ADMIN, BUDGET_OFFICE, CIVIC_STAFF, DEPARTMENT
from civic_app.errors import InvalidTransition, NotAllowed, ValidationFailed
from civic_app.events import ChangeEvent, publish_change

MILESTONE_ROLES = frozenset({DEPARTMENT, BUDGET_OFFICE, CIVIC_STAFF, ADMIN})


def add_milestone(
    session: Session,
    item: CardItem,
    *,
    actor,
    now: dt.datetime,
    kind: str,
    day: dt.date,
    note: str | None = None,
    photo: tuple[str, bytes] | None = None,
    upload_dir: str | None = None,
) -> CardMilestone:
    """A dated execution step once the item is funded; public, in the item's history and so
    on the dong's card. ``photo`` is (file name, bytes), kept in ``upload_dir``."""
    roles = roles_of(actor)
    if not (roles & MILESTONE_ROLES):
        raise NotAllowed(_("집행 단계를 기록할 권한이 없습니다."))
    if roles & MILESTONE_ROLES == {DEPARTMENT} and (
        item.department_id is None or actor.department_id != item.department_id
    ):
        raise NotAllowed(_("담당 부서만 집행 단계를 기록할 수 있습니다."))
    if item.status not in MILESTONE_STATUSES:
        raise InvalidTransition(
            _("예산반영 뒤에 집행 단계를 기록할 수 있습니다. 지금 상태: %(s)s", s=item.status_label)
        )
    errors = []
    if kind not in MILESTONE_KINDS:
        errors.append(("kind", _("단계를 골라 주세요.")))
    if day is None or not (dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31)):
        errors.append(("day", _("날짜는 2000년부터 2100년 사이여야 합니다.")))
    note = (note or "").strip()
    if len(note) > 500:
        errors.append(("note", _("설명은 500자 이내로 입력해 주세요.")))
    if photo is not None:
        try:
            check_photo(*photo)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors[0][1], errors)
    milestone = CardMilestone(
        item_id=item.id, kind=kind, day=day, note=note or None, actor_id=actor.id, created_at=now
    )
    session.add(milestone)
    session.flush()
    if photo is not None and upload_dir:
        add_photo(
            session,
            item,
            actor=actor,
            now=now,
            filename=photo[0],
            data=photo[1],
            upload_dir=upload_dir,
            milestone=milestone,
        )
    text = f"{MILESTONE_KO[kind]} ({day.year}년 {day.month}월 {day.day}일)" + (f": {note}" if note else "")
    record_event(session, item, kind="milestone", actor=actor, now=now, reason=text)
    item.updated_at = now
    flush(session)
    publish_change(session, ChangeEvent("card_milestone", milestone.id, now))
    session.expire(item, ["milestones"])
    return milestone
