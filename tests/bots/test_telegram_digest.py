"""The weekly schedule digest: content, once per week, Monday 09:00 Asia/Seoul."""

from __future__ import annotations

import datetime as dt

import pytest

from civic_app.telegram import services
from civic_app.telegram.render import render_message
from tests.bots.telegram_html import validate
from tests.factories import NOW, make_dong

MONDAY_0900_SEOUL = dt.datetime(2026, 11, 23, 0, 0, tzinfo=dt.UTC)


def test_digest_is_due_from_monday_0900_seoul():
    assert services.digest_due(MONDAY_0900_SEOUL)
    assert not services.digest_due(MONDAY_0900_SEOUL - dt.timedelta(minutes=1))
    assert services.digest_due(MONDAY_0900_SEOUL + dt.timedelta(hours=5))
    assert not services.digest_due(MONDAY_0900_SEOUL + dt.timedelta(days=1))


def test_digest_is_queued_once_per_week(app, session):
    first, created = services.queue_weekly_digest(session, now=MONDAY_0900_SEOUL)
    assert created
    again, created_again = services.queue_weekly_digest(
        session, now=MONDAY_0900_SEOUL + dt.timedelta(hours=3)
    )
    assert not created_again
    assert again.id == first.id
    _next_week, created_next = services.queue_weekly_digest(
        session, now=MONDAY_0900_SEOUL + dt.timedelta(days=7)
    )
    assert created_next


def test_digest_lists_sessions_and_only_published_upcoming_visits(app, session):
    visits = pytest.importorskip("civic_app.visits.models")
    dong = make_dong("새빛동")
    hidden = make_dong("비공개동")
    for target, published in ((dong, True), (hidden, False)):
        session.add(
            visits.Visit(
                dong_id=target.id,
                start_at=NOW + dt.timedelta(days=3),
                end_at=NOW + dt.timedelta(days=3, hours=2),
                status="confirmed",
                published=published,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    session.flush()
    payload = services.build_digest_payload(session, now=NOW)
    assert [v["dong_name"] for v in payload["visits"]] == ["새빛동"]
    assert payload["sessions"]  # the 2nd/4th Thursday sessions (rows or the rule)
    assert all("T14:00:00+09:00" in s["start_at"] for s in payload["sessions"])
    text = render_message("weekly_digest", payload).text
    validate(text)
    assert "새빛동" in text
    assert "비공개동" not in text
    assert "14:00" in text


def test_the_running_bot_queues_the_digest_on_monday_morning(app, session):
    from sqlalchemy.orm import sessionmaker

    from bots.telegram_bot.runner import Runner
    from civic_app.extensions import db
    from civic_app.notify.models import OutboxMessage
    from civic_app.telegram.delivery import Settings

    factory = sessionmaker(bind=db.engine, expire_on_commit=False)
    clock = [MONDAY_0900_SEOUL - dt.timedelta(minutes=5)]
    runner = Runner(None, factory, Settings(channel_id="@c"), worker="t", now_fn=lambda: clock[0])
    runner.maybe_queue_digest()
    assert session.query(OutboxMessage).filter_by(kind="weekly_digest").count() == 0
    clock[0] = MONDAY_0900_SEOUL + dt.timedelta(minutes=1)
    runner.maybe_queue_digest()
    runner.maybe_queue_digest()
    assert session.query(OutboxMessage).filter_by(kind="weekly_digest").count() == 1
