"""Demo data: the current term's sessions and requests in every state, idempotent."""

from __future__ import annotations

from sqlalchemy import func, select

from civic_app.demo.core import load_core
from civic_app.meetings.demo import load_demo
from civic_app.meetings.models import MeetingRequest, TongtongSession
from tests.factories import NOW


def test_demo_loader_fills_every_state(session):
    ctx = {"now": NOW, "echo": lambda *_a: None}
    load_core(session, ctx)
    load_demo(session, ctx)
    session.commit()
    load_demo(session, ctx)  # idempotent
    statuses = dict(
        session.execute(select(MeetingRequest.status, func.count()).group_by(MeetingRequest.status)).all()
    )
    assert set(statuses) == {"submitted", "waitlisted", "booked", "held", "referred", "answered", "declined"}
    routes = set(session.scalars(select(MeetingRequest.route).distinct()))
    assert {"mayor", "deputy", "referral", "declined"} <= routes
    first = session.scalar(select(func.min(TongtongSession.start_at)))
    assert first.year == 2026
    assert first.month == 7
    assert session.scalar(select(func.count(TongtongSession.id))) > 90
