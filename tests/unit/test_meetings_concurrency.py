"""The database, not the application, refuses a second booking of a slot."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civic_app.extensions import db
from civic_app.meetings.models import MeetingBooking, MeetingRequest, MeetingSlot
from civic_app.meetings.review import decide_mayor
from tests.factories import NOW, make_user
from tests.factories_meetings import make_request, make_sessions, make_staff, next_session

THREADS = 12


@pytest.mark.postgres
def test_concurrent_bookings_of_one_slot(app, session):
    make_sessions()
    staff = make_staff()
    slot_id = next_session().slots[0].id
    request_ids = [make_request(make_user("citizen")).id for _ in range(THREADS)]
    staff_id = staff.id
    session.commit()
    barrier = threading.Barrier(THREADS)
    results: dict[int, object] = {}
    errors: list[BaseException] = []

    def attempt(request_id: int) -> None:
        try:
            with app.app_context(), Session(db.engine) as own:
                req = own.get(MeetingRequest, request_id)
                slot = own.get(MeetingSlot, slot_id)
                actor = own.get(type(staff), staff_id)
                barrier.wait(timeout=30)
                booking = decide_mayor(own, req, actor=actor, now=NOW, slot=slot)
                own.commit()
                results[request_id] = booking.id if booking else req.events[-1].note
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(rid,)) for rid in request_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    winners = [rid for rid, r in results.items() if isinstance(r, int)]
    losers = [r for r in results.values() if not isinstance(r, int)]
    assert len(winners) == 1
    assert len(losers) == THREADS - 1
    assert all("이미 찼습니다" in note for note in losers)
    session.expire_all()
    assert session.scalar(select(func.count(MeetingBooking.id)).where(MeetingBooking.slot_id == slot_id)) == 1
    statuses = dict(session.execute(select(MeetingRequest.id, MeetingRequest.status)).all())
    assert statuses[winners[0]] == "booked"
    assert sorted(s for rid, s in statuses.items() if rid != winners[0]) == ["waitlisted"] * (THREADS - 1)
    # Everyone who lost keeps a place in the queue.
    waiting = session.scalars(
        select(MeetingRequest)
        .where(MeetingRequest.status == "waitlisted")
        .order_by(MeetingRequest.queue_since)
    ).all()
    assert len(waiting) == THREADS - 1
