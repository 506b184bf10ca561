"""The budget office's year: the envelope, how the ranked items fit it, and the carry-over."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.cards.base import MAX_AMOUNT, flush, record_event, roles_of
from civic_app.cards.models import OPEN_STATUSES, PARTY_BUDGET, BudgetEnvelope, CardItem, CardReview
from civic_app.cards.policy import ADMIN, BUDGET_OFFICE
from civic_app.errors import NotAllowed, ValidationFailed


def set_envelope(
    session: Session, *, fiscal_year: int, amount: int, actor, now: dt.datetime
) -> BudgetEnvelope:
    if not (roles_of(actor) & {BUDGET_OFFICE, ADMIN}):
        raise NotAllowed(_("예산 총액은 예산법무과만 정할 수 있습니다."))
    if not (2000 <= fiscal_year <= 2100):
        msg = _("회계연도를 2000~2100 사이로 입력해 주세요.")
        raise ValidationFailed(msg, [("fiscal_year", msg)])
    if not (0 < amount <= MAX_AMOUNT):
        msg = _("예산 총액은 1원 이상 10조원 이하로 입력해 주세요.")
        raise ValidationFailed(msg, [("amount", msg)])
    envelope = session.scalar(select(BudgetEnvelope).where(BudgetEnvelope.fiscal_year == fiscal_year))
    if envelope is None:
        envelope = BudgetEnvelope(fiscal_year=fiscal_year, amount=amount, updated_at=now)
        session.add(envelope)
    envelope.amount = amount
    envelope.updated_by_id = actor.id
    envelope.updated_at = now
    session.flush()
    return envelope


def carry_over(session: Session, *, from_year: int, actor, now: dt.datetime) -> int:
    """Items of ``from_year`` not funded move to the next fiscal year, with their history."""
    if not (roles_of(actor) & {BUDGET_OFFICE, ADMIN}):
        raise NotAllowed(_("이월은 예산법무과만 할 수 있습니다."))
    items = list(
        session.scalars(
            select(CardItem).where(CardItem.target_year == from_year, CardItem.status.in_(OPEN_STATUSES))
        )
    )
    to_year = from_year + 1
    for item in items:
        item.target_year = to_year
        item.updated_at = now
        record_event(
            session,
            item,
            kind="carry_over",
            actor=actor,
            now=now,
            reason=f"{from_year}년도 예산에 반영되지 않아 {to_year}년도로 이월했습니다.",
        )
    flush(session)
    return len(items)


FITS = "fits"
DOES_NOT_FIT = "does_not_fit"
FITS_REMAINDER = "fits_remainder"
NO_COST = "no_cost"


@dataclass
class FitRow:
    key: object
    cost: int | None
    verdict: str
    remaining_after: int


@dataclass
class EnvelopeFit:
    envelope: int
    committed: int
    rows: list[FitRow]
    remaining: int  # what is left after the rank-order fill and the best next items

    @property
    def fitting(self) -> list[FitRow]:
        return [r for r in self.rows if r.verdict == FITS]

    @property
    def not_fitting(self) -> list[FitRow]:
        return [r for r in self.rows if r.verdict == DOES_NOT_FIT]

    @property
    def next_fitting(self) -> list[FitRow]:
        return [r for r in self.rows if r.verdict == FITS_REMAINDER]


def fit_envelope(envelope: int, committed: int, candidates: list[tuple[object, int | None]]) -> EnvelopeFit:
    """Fill the envelope in rank order until an item does not fit; then the remaining money
    takes the best next items (in rank order) that still fit it."""
    remaining = envelope - committed
    blocked = False
    rows = []
    for key, cost in candidates:
        if cost is None:
            rows.append(FitRow(key, cost, NO_COST, remaining))
            continue
        if cost <= remaining:
            remaining -= cost
            rows.append(FitRow(key, cost, FITS_REMAINDER if blocked else FITS, remaining))
        else:
            blocked = True
            rows.append(FitRow(key, cost, DOES_NOT_FIT, remaining))
    return EnvelopeFit(envelope=envelope, committed=committed, rows=rows, remaining=remaining)


def planned_cost(item: CardItem, reviews: list[CardReview]) -> int | None:
    """The budget office's estimate when it has one, else the item's own estimate."""
    for review in reviews:
        if review.party == PARTY_BUDGET and review.cost_estimate is not None:
            return review.cost_estimate
    return item.estimated_cost
