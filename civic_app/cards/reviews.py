"""Joint review: the budget office, the policy office and the item's department each score it."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civic_app.cards.base import (
    MAX_AMOUNT,
    PARTY_KO,
    check_version,
    conflict_message,
    flush,
    record_event,
    roles_of,
)
from civic_app.cards.models import (
    CRITERIA,
    PARTIES,
    PARTY_BUDGET,
    PARTY_DEPARTMENT,
    PARTY_LABELS,
    PARTY_POLICY,
    RECEIVED,
    RECOMMENDATIONS,
    REVIEWABLE_STATUSES,
    UNDER_REVIEW,
    CardItem,
    CardReview,
    CardSettings,
)
from civic_app.cards.policy import BUDGET_OFFICE, DEPARTMENT, POLICY_OFFICE
from civic_app.cards.priority import review_score
from civic_app.cards.settings import get_settings
from civic_app.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from civic_app.events import ChangeEvent, publish_change
from civic_app.integrity.locks import lock_row


def reviews_of(session: Session, item: CardItem) -> dict[str, CardReview]:
    rows = session.scalars(select(CardReview).where(CardReview.item_id == item.id))
    return {r.party: r for r in rows}


def missing_parties(session: Session, item: CardItem) -> list[str]:
    done = reviews_of(session, item)
    return [p for p in PARTIES if p not in done]


def parties_of(actor, item: CardItem | None = None) -> list[str]:
    """The review parties ``actor`` can speak for (on ``item`` when given)."""
    roles = roles_of(actor)
    out = []
    if BUDGET_OFFICE in roles:
        out.append(PARTY_BUDGET)
    if POLICY_OFFICE in roles:
        out.append(PARTY_POLICY)
    dept = actor.department_id if DEPARTMENT in roles else None
    if dept is not None and (item is None or item.department_id == dept):
        out.append(PARTY_DEPARTMENT)
    return out


def record_review(
    session: Session,
    item: CardItem,
    *,
    party: str,
    actor,
    now: dt.datetime,
    scores: dict[str, int],
    recommendation: str,
    cost_estimate: int | None = None,
    comment: str = "",
    expected_version: int | None = None,
) -> CardReview:
    """Record (or revise) one party's review; ``expected_version`` 0 means "a new review"."""
    if party not in PARTIES:
        raise ValidationFailed(_("알 수 없는 검토 기관입니다."))
    settings = lock_for_scoring(session, item)
    if party not in parties_of(actor, item):
        raise NotAllowed(_("%(p)s 검토를 기록할 권한이 없습니다.", p=str(PARTY_LABELS[party])))
    if item.status not in REVIEWABLE_STATUSES:
        raise InvalidTransition(
            _(
                "'%(s)s' 상태의 항목은 검토할 수 없습니다. 접수 또는 검토중인 항목만 검토합니다.",
                s=item.status_label,
            )
        )
    errors = []
    for criterion in CRITERIA:
        value = scores.get(criterion)
        if value is None or not (1 <= value <= 5):
            errors.append((criterion, _("1에서 5 사이의 점수를 골라 주세요.")))
    if recommendation not in RECOMMENDATIONS:
        errors.append(("recommendation", _("권고 의견을 골라 주세요.")))
    if cost_estimate is not None and not (0 <= cost_estimate <= MAX_AMOUNT):
        errors.append(("cost_estimate", _("추정 사업비는 0원 이상 10조원 이하로 입력해 주세요.")))
    if comment and len(comment) > 4000:
        errors.append(("comment", _("의견은 4000자 이내로 입력해 주세요.")))
    if errors:
        raise ValidationFailed(_("검토 내용을 확인해 주세요."), errors)

    review = session.scalar(
        select(CardReview).where(CardReview.item_id == item.id, CardReview.party == party)
    )
    if review is None:
        if expected_version not in (None, 0):
            raise Conflict(conflict_message())
        review = CardReview(item_id=item.id, party=party, created_at=now)
        session.add(review)
    elif expected_version == 0:  # someone of the same party reviewed in the meantime
        raise Conflict(conflict_message())
    else:
        check_version(review, expected_version)
    review.reviewer_id = actor.id
    for criterion in CRITERIA:
        setattr(review, criterion, scores[criterion])
    review.recommendation = recommendation
    review.cost_estimate = cost_estimate
    review.comment = (comment or "").strip()
    review.updated_at = now
    previous = item.status
    if item.status == RECEIVED:
        item.status = UNDER_REVIEW
        item.status_changed_at = now
        record_event(
            session,
            item,
            kind="status",
            actor=actor,
            now=now,
            from_status=previous,
            to_status=UNDER_REVIEW,
            reason="공동 검토를 시작했습니다.",
        )
    record_event(
        session,
        item,
        kind="review",
        actor=actor,
        now=now,
        reason=f"{PARTY_KO[party]} 검토 기록",
        public=False,
    )
    try:
        flush(session)
    except IntegrityError as exc:  # the unique (item, party) lost a race
        raise Conflict(conflict_message()) from exc
    refresh_score(session, item, settings, now=now)
    publish_change(session, ChangeEvent("card_status", item.id, now, detail=previous))
    return review


def lock_for_scoring(session: Session, item: CardItem) -> CardSettings:
    """Lock the inputs of ``item.review_score`` and reload them; returns the settings.

    The settings row (the weights) is taken FOR SHARE, so reviews of different items do not
    wait for each other while a weight change (FOR UPDATE in ``settings.update_settings``) waits
    for them and they for it; then the item row FOR UPDATE, so two offices reviewing one item
    at once take turns, and the second reads the first one's committed review before it
    recomputes. Without it, a transaction that did not change the stored score left it stale
    (each computed from the reviews it could see). Always settings first, then the item: one
    lock order, no deadlock. SQLite ignores FOR UPDATE: its writers are serialised anyway.
    """
    settings = get_settings(session)
    lock_row(session, settings, read=True)
    lock_row(session, item)
    return settings


def refresh_score(session: Session, item: CardItem, settings: CardSettings, *, now: dt.datetime) -> None:
    """Store the mean of the item's review scores; call under ``lock_for_scoring``."""
    reviews = list(reviews_of(session, item).values())
    weights = settings.weights()
    score = round(sum(review_score(r, weights) for r in reviews) / len(reviews), 2) if reviews else None
    if item.review_score != score:
        item.review_score = score
        item.updated_at = now
        flush(session)
