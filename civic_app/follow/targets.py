"""What can be followed: each target's label, public page and who may follow it.

The targets belong to other features; this module reads their models (the arrow points from
``follow`` to them, never back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.errors import NotAllowed, NotFound
from civic_app.follow.models import CARD_ITEM, COMMITTEE_TASK, DONG, REQUEST, TARGET_KINDS

REQUEST_CODE_RE = re.compile(r"^TT-\d{4}-\d{1,6}$", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    kind: str
    id: int
    label: str  # a dong's name, an item's title, a request's code, a task's code and title
    path: str  # its page, a site-relative path
    handle: str  # what to type after /follow or /unfollow in the bot
    owner_id: int | None = None  # requests: only this account may follow


def kind_label(kind: str) -> str:
    return {
        DONG: _("동"),
        CARD_ITEM: _("동 관리카드 항목"),
        REQUEST: _("통통데이 신청"),
        COMMITTEE_TASK: _("위원회 정책과제"),
    }.get(kind, kind)


def describe(session: Session, kind: str, target_id: int) -> Target | None:
    """The target, or None when it does not exist (or is not public)."""
    if kind not in TARGET_KINDS or not isinstance(target_id, int) or target_id < 1:
        return None
    if kind == DONG:
        from civic_app.dongs.models import Dong

        dong = session.get(Dong, target_id)
        if dong is None or not dong.active:
            return None
        return Target(DONG, dong.id, dong.name, f"/visits/dongs/{dong.code}", dong.name)
    if kind == CARD_ITEM:
        from civic_app.cards.models import MERGED, CardItem

        item = session.get(CardItem, target_id)
        if item is None or item.status == MERGED:
            return None
        return Target(CARD_ITEM, item.id, item.title, f"/cards/items/{item.id}", str(item.id))
    if kind == REQUEST:
        from civic_app.meetings.models import MeetingRequest

        req = session.get(MeetingRequest, target_id)
        if req is None or req.requester_id is None:
            return None
        return Target(
            REQUEST, req.id, req.code, f"/tongtong/requests/{req.code}", req.code, owner_id=req.requester_id
        )
    from civic_app.committee.models import CommitteeTask

    task = session.get(CommitteeTask, target_id)
    if task is None:
        return None
    return Target(
        COMMITTEE_TASK, task.id, f"{task.code} {task.title}", f"/committee/tasks/{task.code}", task.code
    )


def require(session: Session, kind: str, target_id: int, *, user_id: int | None) -> Target:
    """The target a follower asks for, with the owner rule applied to requests."""
    target = describe(session, kind, target_id)
    if target is None:
        raise NotFound(_("구독할 대상을 찾을 수 없습니다."))
    if target.kind == REQUEST and (user_id is None or user_id != target.owner_id):
        raise NotAllowed(_("통통데이 신청은 신청한 본인만 구독할 수 있습니다."))
    return target


def find_by_handle(session: Session, text: str) -> Target | None:
    """What a resident typed after /follow: a dong's name (or code), an item number (12 or
    #12), a request code (TT-2026-0001) or a committee task code."""
    text = (text or "").strip()
    if not text:
        return None
    from civic_app.telegram.sources import find_dong

    number = text.removeprefix("#").removeprefix("No.").strip()
    if number.isdigit() and len(number) != 10:
        return describe(session, CARD_ITEM, int(number)) if len(number) < 10 else None
    if REQUEST_CODE_RE.match(text):
        from civic_app.meetings.models import MeetingRequest

        req_id = session.scalar(select(MeetingRequest.id).where(MeetingRequest.code == text.upper()))
        return describe(session, REQUEST, req_id) if req_id else None
    dong = find_dong(session, text)
    if dong is not None:
        return describe(session, DONG, dong.id)
    from civic_app.committee.models import CommitteeTask

    task_id = session.scalar(
        select(CommitteeTask.id).where(CommitteeTask.code == text).order_by(CommitteeTask.id).limit(1)
    )
    return describe(session, COMMITTEE_TASK, task_id) if task_id else None


def describe_many(session: Session, pairs: list[tuple[str, int]]) -> dict[tuple[str, int], Target]:
    """Targets for a page listing follows (one lookup per follow; the lists are short)."""
    out = {}
    for kind, target_id in pairs:
        target = describe(session, kind, target_id)
        if target is not None:
            out[(kind, target_id)] = target
    return out
