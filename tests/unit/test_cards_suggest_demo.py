"""The demo city holds citizen suggestions with 공감: some over each threshold, one overdue."""

from __future__ import annotations

from sqlalchemy import func, select

from civic_app.cards.models import CardAgendaEntry, CardAnswer, CardAnswerDuty, CardItem, CardSupport
from civic_app.cards.suggest_queries import overdue
from civic_app.timeutil import utcnow


def test_the_demo_city_has_supported_suggestions_over_each_threshold_and_one_overdue(demo_city, session):
    citizen_items = session.scalar(select(func.count(CardItem.id)).where(CardItem.source_kind == "citizen"))
    assert citizen_items >= 5
    supports = dict(
        session.execute(
            select(CardSupport.item_id, func.count(CardSupport.id)).group_by(CardSupport.item_id)
        ).all()
    )
    assert max(supports.values()) >= 100  # over the agenda threshold
    assert sum(1 for n in supports.values() if 30 <= n < 100) >= 3  # over the answer threshold
    assert session.scalar(select(func.count(CardAgendaEntry.id))) >= 1
    assert session.scalar(select(func.count(CardAnswerDuty.id))) >= 4
    _rows, late = overdue(session, utcnow())
    assert late == 1
    kinds = set(session.scalars(select(CardAnswer.kind)))
    assert kinds == {"interim", "final"}
