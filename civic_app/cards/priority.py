"""An item's priority: the mean of its review scores, the dong's flags, or a manual override."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import case, func
from sqlalchemy.orm import Session

from civic_app.cards.base import check_version, flush, record_event, roles_of
from civic_app.cards.models import CRITERIA, CardItem, CardReview, CardSettings
from civic_app.cards.policy import ADMIN, BUDGET_OFFICE, POLICY_OFFICE
from civic_app.errors import NotAllowed, ValidationFailed


def review_score(review: CardReview, weights: dict[str, float]) -> float:
    """One review on 0..100: the weighted mean of its 1-5 scores, rescaled."""
    total = sum(weights.values()) or 1.0
    return round(sum(weights[c] * (getattr(review, c) - 1) / 4 for c in CRITERIA) / total * 100, 2)


def dong_flag_count(dong) -> int:
    return int(dong.contested_area) + int(dong.natural_village) + int(dong.outlying_area)


@dataclass
class ScoreBreakdown:
    review_score: float | None
    flag_count: int
    flag_bonus: float
    computed: float
    override: float | None
    override_reason: str | None
    final: float
    per_review: list[tuple[str, float]] = field(default_factory=list)


def score_breakdown(item: CardItem, reviews: list[CardReview], settings: CardSettings) -> ScoreBreakdown:
    """How the priority is made, shown on the item page (transparency)."""
    weights = settings.weights()
    flags = dong_flag_count(item.dong)
    bonus = flags * settings.dong_flag_bonus
    computed = round((item.review_score or 0.0) + bonus, 2)
    final = item.priority_override if item.priority_override is not None else computed
    return ScoreBreakdown(
        review_score=item.review_score,
        flag_count=flags,
        flag_bonus=bonus,
        computed=computed,
        override=item.priority_override,
        override_reason=item.override_reason,
        final=final,
        per_review=[(r.party_label, review_score(r, weights)) for r in reviews],
    )


def priority_expr(settings: CardSettings):
    """SQL for the priority (needs ``Dong`` joined): the override, or reviews + dong flags."""
    from civic_app.dongs.models import Dong

    flags = (
        case((Dong.contested_area.is_(True), 1), else_=0)
        + case((Dong.natural_village.is_(True), 1), else_=0)
        + case((Dong.outlying_area.is_(True), 1), else_=0)
    )
    computed = func.coalesce(CardItem.review_score, 0.0) + flags * settings.dong_flag_bonus
    return func.coalesce(CardItem.priority_override, computed)


def priority_of(item: CardItem, settings: CardSettings) -> float:
    """What ``priority_expr`` computes, for a loaded item (with its dong), to two decimals."""
    if item.priority_override is not None:
        return round(item.priority_override, 2)
    return round((item.review_score or 0.0) + dong_flag_count(item.dong) * settings.dong_flag_bonus, 2)


def set_override(
    session: Session,
    item: CardItem,
    *,
    actor,
    now: dt.datetime,
    score: float | None,
    reason: str | None,
    expected_version: int | None = None,
) -> CardItem:
    """Replace the computed priority (with a reason), or clear the override (``score`` None)."""
    if not (roles_of(actor) & {BUDGET_OFFICE, POLICY_OFFICE, ADMIN}):
        raise NotAllowed(_("우선순위를 조정할 권한이 없습니다."))
    check_version(item, expected_version)
    reason = (reason or "").strip()
    if score is not None:
        if not (0 <= score <= 1000):
            msg = _("우선순위 점수는 0~1000 사이로 입력해 주세요.")
            raise ValidationFailed(msg, [("score", msg)])
        if not reason:
            msg = _("우선순위를 직접 조정하려면 사유가 필요합니다.")
            raise ValidationFailed(msg, [("reason", msg)])
    item.priority_override = score
    item.override_reason = reason or None if score is not None else None
    item.updated_at = now
    text = f"우선순위 {score:g}점으로 조정: {reason}" if score is not None else "우선순위 조정 해제"
    record_event(session, item, kind="override", actor=actor, now=now, reason=text, public=False)
    flush(session)
    return item
