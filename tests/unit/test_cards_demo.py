"""The demo loader fills the 39 cards with items in every state, reviews and envelopes."""

from __future__ import annotations

from sqlalchemy import func, select

from civic_app.cards import demo, queries
from civic_app.cards.models import STATUSES, BudgetEnvelope, CardItem, CardReview
from civic_app.demo.core import load_core
from civic_app.notify.models import OutboxMessage
from tests.factories import NOW


def test_demo_fills_every_card_in_every_state(session):
    ctx = {"now": NOW, "echo": lambda *_a: None}
    load_core(session, ctx)
    demo.load_demo(session, ctx)
    demo.load_demo(session, ctx)  # idempotent
    counts = queries.status_counts(session)
    assert all(counts[s] > 0 for s in STATUSES), counts
    rows, _totals = queries.scoreboard(session)
    assert len(rows) == 39
    assert all(r.received >= 4 for r in rows)
    assert session.scalar(select(func.count()).select_from(CardReview)) > 100
    years = set(session.scalars(select(BudgetEnvelope.fiscal_year)))
    assert years == {2026, 2027}
    view = queries.budget_view(session, 2027)
    verdicts = {fit.verdict for _i, _c, fit in view.rows}
    assert {"fits", "does_not_fit"} <= verdicts
    assert view.reflected
    kinds = set(session.scalars(select(OutboxMessage.kind)))
    assert {"card_budget_reflected", "card_done"} <= kinds
    assert (
        session.scalar(select(func.count()).select_from(CardItem).where(CardItem.split_from_id.is_not(None)))
        == 1
    )
