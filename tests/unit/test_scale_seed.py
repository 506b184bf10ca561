"""seed-scale fills every feature table in proportion, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from civic_app.accounts.models import User
from civic_app.cards.models import CardItem
from civic_app.dongs.models import Dong
from civic_app.extensions import db
from civic_app.notify.models import OutboxMessage
from civic_app.scale.seed import ScalePlan


def _count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_plan_scales_counts_with_the_dongs():
    seoul = ScalePlan.for_dongs(426)
    assert (seoul.requests, seoul.card_items, seoul.committee_tasks, seoul.outbox) == (
        40_000,
        100_000,
        2_000,
        200_000,
    )
    small = ScalePlan.for_dongs(42, requests=7)
    assert small.card_items == round(100_000 * 42 / 426)
    assert small.requests == 7


def test_seed_scale_command_builds_the_data_set(runner, session):
    result = runner.invoke(
        args=[
            "seed-scale",
            "--dongs",
            "12",
            "--requests",
            "300",
            "--card-items",
            "900",
            "--committee-tasks",
            "40",
            "--outbox",
            "2500",
            "--citizens",
            "50",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "완료" in result.output
    session.expire_all()
    assert _count(session, Dong) == 12
    # The planned items, plus the citizens' online suggestions (a few per hundred citizens).
    suggestions = _count(session, db.metadata.tables["card_suggestions"])
    assert 5 <= suggestions <= 10
    assert _count(session, CardItem) == 900 + suggestions
    assert _count(session, OutboxMessage) == 2500
    assert (
        session.scalar(sa.select(sa.func.count(User.id)).where(User.email.like("citizen%@scale.example.kr")))
        == 50
    )
    # Every card item belongs to a seeded dong; codes are 10-digit and unique.
    codes = list(session.scalars(sa.select(Dong.code)))
    assert all(len(c) == 10 and c.isdigit() for c in codes)
    assert len(set(codes)) == 12
    orphan = session.scalar(
        sa.select(sa.func.count(CardItem.id)).where(CardItem.dong_id.not_in(sa.select(Dong.id)))
    )
    assert orphan == 0
    for name in ("meeting_requests", "committee_tasks", "visits"):
        table = db.metadata.tables.get(name)
        if table is not None:
            assert _count(session, table) > 0, name
    # The app can keep writing: ids continue after the bulk-inserted ones (PostgreSQL sequences).
    dong = Dong(code="9999999999", name="새동", active=True)
    session.add(dong)
    session.flush()
    assert dong.id > 12
    # A second run on a populated database is refused instead of duplicating.
    again = runner.invoke(args=["seed-scale", "--dongs", "2"])
    assert again.exit_code != 0
    assert "빈 데이터베이스" in again.output
