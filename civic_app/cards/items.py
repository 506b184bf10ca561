"""Card items: filing a suggestion, editing its facts, internal notes, merging duplicates and
splitting combined requests.

``create_item`` keeps the contract signature: visits and 통통데이 call it.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from civic_app.cards.base import (
    MAX_AMOUNT,
    check_version,
    default_target_year,
    flush,
    record_event,
    roles_of,
)
from civic_app.cards.models import (
    LONG_TERM,
    MERGED,
    OPEN_STATUSES,
    RECEIVED,
    SOURCE_KINDS,
    UNDER_REVIEW,
    CardComment,
    CardItem,
)
from civic_app.cards.policy import ADMIN, BUDGET_OFFICE, CARD_ROLES, CIVIC_STAFF, DEPARTMENT, POLICY_OFFICE
from civic_app.errors import InvalidTransition, NotAllowed, ValidationFailed


def create_item(
    session: Session,
    *,
    dong_id: int,
    title: str,
    description: str,
    category: str,
    source_kind: str,
    actor_id: int | None,
    now: dt.datetime,
    source_ref: int | None = None,
    location: str | None = None,
    department_id: int | None = None,
    estimated_cost: int | None = None,
) -> CardItem:
    """Add a suggestion to a dong's card in state 접수 (received). Flushes, never commits."""
    if source_kind not in SOURCE_KINDS:
        raise ValidationFailed(_("알 수 없는 접수 경로입니다: %(kind)s", kind=source_kind))
    title = (title or "").strip()
    errors = []
    if not title or len(title) > 200:
        errors.append(("title", _("제목은 1~200자로 입력해 주세요.")))
    if not category or len(category) > 40:
        errors.append(("category", _("분류를 선택해 주세요.")))
    if estimated_cost is not None and not (0 <= estimated_cost <= MAX_AMOUNT):
        errors.append(("estimated_cost", _("예상 사업비는 0원 이상 10조원 이하로 입력해 주세요.")))
    if errors:
        raise ValidationFailed(errors[0][1], errors)
    item = CardItem(
        dong_id=dong_id,
        title=title,
        description=description or "",
        category=category,
        location=location,
        source_kind=source_kind,
        source_ref=source_ref,
        department_id=department_id,
        estimated_cost=estimated_cost,
        status=RECEIVED,
        created_by_id=actor_id,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
        target_year=default_target_year(now),
    )
    session.add(item)
    session.flush()
    record_event(session, item, kind="created", actor=actor_id, now=now, to_status=RECEIVED)
    session.flush()
    return item


def update_item(
    session: Session,
    item: CardItem,
    *,
    actor,
    now: dt.datetime,
    expected_version: int | None,
    title: str,
    description: str,
    category: str,
    location: str | None,
    department_id: int | None,
    estimated_cost: int | None,
) -> CardItem:
    """Edit an open item's facts (the department assignment included)."""
    if not (roles_of(actor) & (CARD_ROLES - {DEPARTMENT})):
        raise NotAllowed(_("관리카드 항목을 고칠 권한이 없습니다."))
    if item.status not in OPEN_STATUSES:
        raise InvalidTransition(_("'%(s)s' 상태의 항목은 고칠 수 없습니다.", s=item.status_label))
    check_version(item, expected_version)
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ValidationFailed(
            _("제목은 1~200자로 입력해 주세요."), [("title", _("제목은 1~200자로 입력해 주세요."))]
        )
    if estimated_cost is not None and not (0 <= estimated_cost <= MAX_AMOUNT):
        msg = _("예상 사업비는 0원 이상 10조원 이하로 입력해 주세요.")
        raise ValidationFailed(msg, [("estimated_cost", msg)])
    changed = []
    for name, value in (
        ("title", title),
        ("description", description or ""),
        ("category", category),
        ("location", location or None),
        ("department_id", department_id),
        ("estimated_cost", estimated_cost),
    ):
        if getattr(item, name) != value:
            setattr(item, name, value)
            changed.append(name)
    if changed:
        item.updated_at = now
        record_event(
            session, item, kind="edit", actor=actor, now=now, reason=", ".join(changed), public=False
        )
    flush(session)
    return item


def add_comment(session: Session, item: CardItem, *, actor, now: dt.datetime, body: str) -> CardComment:
    """An internal note between the offices (never public)."""
    if not (roles_of(actor) & CARD_ROLES):
        raise NotAllowed(_("내부 의견을 남길 권한이 없습니다."))
    body = (body or "").strip()
    if not body or len(body) > 4000:
        msg = _("의견은 1~4000자로 입력해 주세요.")
        raise ValidationFailed(msg, [("body", msg)])
    comment = CardComment(item_id=item.id, author_id=actor.id, body=body, created_at=now)
    session.add(comment)
    session.flush()
    return comment


# --- merge and split ------------------------------------------------------------------------


def merge(
    session: Session,
    source: CardItem,
    target: CardItem,
    *,
    actor,
    now: dt.datetime,
    reason: str | None = None,
    expected_version: int | None = None,
) -> CardItem:
    """Fold duplicate ``source`` into ``target``; both histories stay and show on ``target``."""
    if not (roles_of(actor) & {CIVIC_STAFF, BUDGET_OFFICE, POLICY_OFFICE, ADMIN}):
        raise NotAllowed(_("항목을 병합할 권한이 없습니다."))
    check_version(source, expected_version)
    if source.id == target.id:
        raise ValidationFailed(
            _("같은 항목끼리는 병합할 수 없습니다."),
            [("target_id", _("같은 항목끼리는 병합할 수 없습니다."))],
        )
    if source.dong_id != target.dong_id:
        msg = _("같은 동의 항목끼리만 병합할 수 있습니다.")
        raise ValidationFailed(msg, [("target_id", msg)])
    for one in (source, target):
        if one.status not in OPEN_STATUSES:
            raise InvalidTransition(
                _("'%(s)s' 상태의 항목(#%(i)d)은 병합할 수 없습니다.", s=one.status_label, i=one.id)
            )
    previous = source.status
    source.status = MERGED
    source.merged_into_id = target.id
    source.status_changed_at = now
    source.updated_at = now
    source.rank = None
    text = (reason or "").strip()
    source.decision_reason = f"#{target.id} 항목과 같은 제안이라 병합했습니다." + (f" {text}" if text else "")
    record_event(
        session,
        source,
        kind="merge",
        actor=actor,
        now=now,
        from_status=previous,
        to_status=MERGED,
        reason=source.decision_reason,
    )
    record_event(
        session,
        target,
        kind="merge",
        actor=actor,
        now=now,
        reason=f"#{source.id} 항목({source.title})을 병합했습니다." + (f" {text}" if text else ""),
    )
    if target.estimated_cost is None and source.estimated_cost is not None:
        target.estimated_cost = source.estimated_cost
    target.updated_at = now
    flush(session)
    from civic_app.cards.suggestions import carry_supports

    carry_supports(session, source, target, now=now)  # 공감 follow the merge (issue 17)
    return target


def split(
    session: Session,
    item: CardItem,
    parts: list[dict],
    *,
    actor,
    now: dt.datetime,
    reason: str | None = None,
    expected_version: int | None = None,
) -> list[CardItem]:
    """Split ``item``: it keeps the first part (and its history); the others become new items
    that point back to it and show its history up to the split."""
    if not (roles_of(actor) & {CIVIC_STAFF, BUDGET_OFFICE, POLICY_OFFICE, ADMIN}):
        raise NotAllowed(_("항목을 나눌 권한이 없습니다."))
    check_version(item, expected_version)
    if item.status not in (RECEIVED, UNDER_REVIEW, LONG_TERM):
        raise InvalidTransition(_("'%(s)s' 상태의 항목은 나눌 수 없습니다.", s=item.status_label))
    clean = []
    errors = []  # named after the part: title_n, cost_n (n from 1)
    for n, part in enumerate(parts, start=1):
        title = (part.get("title") or "").strip()
        if not title:
            continue
        if len(title) > 200:
            errors.append((f"title_{n}", _("%(n)d번째 제목이 200자를 넘습니다.", n=n)))
        cost = part.get("estimated_cost")
        if cost is not None and not (0 <= cost <= MAX_AMOUNT):
            errors.append((f"cost_{n}", _("%(n)d번째 예상 사업비가 올바르지 않습니다.", n=n)))
        clean.append({"title": title, "description": part.get("description") or "", "estimated_cost": cost})
    if len(clean) < 2:
        errors.append(("title_1", _("두 개 이상의 항목 제목을 입력해 주세요.")))
    if errors:
        raise ValidationFailed(errors[0][1], errors)
    text = (reason or "").strip()
    first, rest = clean[0], clean[1:]
    new_items = []
    for part in rest:
        child = CardItem(
            dong_id=item.dong_id,
            title=part["title"],
            description=part["description"],
            category=item.category,
            location=item.location,
            source_kind=item.source_kind,
            source_ref=item.source_ref,
            department_id=item.department_id,
            estimated_cost=part["estimated_cost"],
            status=RECEIVED,
            created_by_id=actor.id,
            created_at=now,
            updated_at=now,
            status_changed_at=now,
            target_year=item.target_year,
            split_from_id=item.id,
        )
        session.add(child)
        new_items.append(child)
    session.flush()
    for child in new_items:
        record_event(
            session,
            child,
            kind="split",
            actor=actor,
            now=now,
            to_status=RECEIVED,
            reason=f"#{item.id} 항목에서 나뉘었습니다." + (f" {text}" if text else ""),
        )
    ids = ", ".join(f"#{c.id}" for c in new_items)
    record_event(
        session,
        item,
        kind="split",
        actor=actor,
        now=now,
        reason=f"항목을 나누어 {ids} 항목을 만들었습니다." + (f" {text}" if text else ""),
    )
    item.title = first["title"]
    if first["description"]:
        item.description = first["description"]
    if first["estimated_cost"] is not None:
        item.estimated_cost = first["estimated_cost"]
    item.updated_at = now
    flush(session)
    return [item, *new_items]
