"""The card settings row (priority weights, review deadline) and the configurable categories."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civic_app.cards.base import flush, roles_of
from civic_app.cards.models import (
    CRITERIA,
    DEFAULT_CATEGORIES,
    CardCategory,
    CardItem,
    CardReview,
    CardSettings,
)
from civic_app.cards.policy import ADMIN, BUDGET_OFFICE, CIVIC_STAFF
from civic_app.cards.priority import review_score
from civic_app.errors import NotAllowed, ValidationFailed
from civic_app.integrity import allocator
from civic_app.integrity.locks import lock_row


def get_settings(session: Session) -> CardSettings:
    settings = session.get(CardSettings, 1)
    if settings is None:
        settings = CardSettings(id=1)
        session.add(settings)
        session.flush()
    return settings


def ensure_reference(session: Session) -> None:
    """Reference data a fresh database holds: the settings row and the default categories."""
    get_settings(session)
    existing = set(session.scalars(select(CardCategory.name)))
    for position, name in enumerate(DEFAULT_CATEGORIES):
        if name not in existing:
            session.add(CardCategory(name=name, position=position, active=True))
    session.flush()


def update_settings(
    session: Session,
    *,
    actor,
    now: dt.datetime,
    weights: dict[str, float],
    dong_flag_bonus: float,
    review_deadline_days: int,
) -> CardSettings:
    """The budget office sets the weights; every open item's score is recomputed."""
    if not (roles_of(actor) & {BUDGET_OFFICE, ADMIN}):
        raise NotAllowed(_("가중치는 예산법무과만 바꿀 수 있습니다."))
    errors = [
        (f"weight_{c}", _("가중치는 0~10 사이로 입력해 주세요."))
        for c in CRITERIA
        if not (0 <= weights[c] <= 10)
    ]
    if sum(weights.values()) <= 0:
        errors.append(("weight_feasibility", _("가중치 중 하나는 0보다 커야 합니다.")))
    if not (0 <= dong_flag_bonus <= 100):
        errors.append(("dong_flag_bonus", _("동 우선 가산점은 0~100 사이로 입력해 주세요.")))
    if not (1 <= review_deadline_days <= 365):
        errors.append(("review_deadline_days", _("검토 기한은 1~365 근무일 사이로 입력해 주세요.")))
    if errors:
        raise ValidationFailed(errors[0][1], errors)
    settings = get_settings(session)
    # Every review transaction holds the settings row FOR SHARE (reviews.lock_for_scoring):
    # wait for them, and keep new ones waiting until the scores below use the new weights.
    lock_row(session, settings)
    for c in CRITERIA:
        setattr(settings, f"weight_{c}", weights[c])
    settings.dong_flag_bonus = dong_flag_bonus
    settings.review_deadline_days = review_deadline_days
    settings.updated_by_id = actor.id
    settings.updated_at = now
    session.flush()
    # Recompute in one pass: reviews grouped per item.
    by_item: dict[int, list[CardReview]] = {}
    for review in session.scalars(select(CardReview)):
        by_item.setdefault(review.item_id, []).append(review)
    w = settings.weights()
    items = (
        session.scalars(
            select(CardItem).where(CardItem.id.in_(list(by_item))).execution_options(populate_existing=True)
        )
        if by_item
        else []
    )
    for item in items:
        reviews = by_item[item.id]
        item.review_score = round(sum(review_score(r, w) for r in reviews) / len(reviews), 2)
    flush(session)
    return settings


# --- categories ---------------------------------------------------------------------------


def add_category(session: Session, *, actor, name: str) -> CardCategory:
    """Categories are configurable; items keep the name they were filed under."""
    if not (roles_of(actor) & {CIVIC_STAFF, ADMIN}):
        raise NotAllowed(_("분류는 소통민원팀이나 관리자만 바꿀 수 있습니다."))
    name = (name or "").strip()
    if not name or len(name) > 40:
        msg = _("분류 이름은 1~40자로 입력해 주세요.")
        raise ValidationFailed(msg, [("name", msg)])
    existing = session.scalar(select(CardCategory).where(CardCategory.name == name))
    if existing is not None:
        if existing.active:
            msg = _("같은 이름의 분류가 이미 있습니다.")
            raise ValidationFailed(msg, [("name", msg)])
        existing.active = True
        session.flush()
        return existing
    position = allocator.next_after_max(
        session,
        "card_category_position",
        "all",
        lambda: session.scalar(select(func.max(CardCategory.position))),
    )
    category = CardCategory(name=name, position=position, active=True)
    session.add(category)
    session.flush()
    return category


def set_category_active(session: Session, category: CardCategory, *, actor, active: bool) -> CardCategory:
    if not (roles_of(actor) & {CIVIC_STAFF, ADMIN}):
        raise NotAllowed(_("분류는 소통민원팀이나 관리자만 바꿀 수 있습니다."))
    category.active = active
    session.flush()
    return category


def category_names(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(CardCategory.name).where(CardCategory.active.is_(True)).order_by(CardCategory.position)
        )
    )
