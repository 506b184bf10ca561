"""Time to book one 통통데이 slot when many staff book it at the same moment (PostgreSQL).

``K`` threads, each with its own connection, wait on a barrier and call
``civic_app.meetings.booking.book_slot`` for the same free future slot. The database's UNIQUE
slot constraint decides: exactly one wins, the others get None (the request stays waitlisted).

    DATABASE_URL=postgresql://... .venv/bin/python -m bench.bench_booking
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import threading
import time

import sqlalchemy as sa
from sqlalchemy.orm import Session

CONTENDERS = 16


def run(contenders: int = CONTENDERS) -> dict:
    from civic_app import create_app
    from civic_app.extensions import db
    from civic_app.meetings.booking import book_slot
    from civic_app.meetings.models import MeetingBooking, MeetingRequest, MeetingSlot
    from civic_app.timeutil import utcnow

    app = create_app()
    with app.app_context():
        now = utcnow()
        taken = sa.select(MeetingBooking.slot_id).where(MeetingBooking.slot_id.is_not(None))
        slot_id = db.session.scalar(
            sa.select(MeetingSlot.id)
            .where(MeetingSlot.start_at > now + dt.timedelta(days=1), MeetingSlot.active.is_(True))
            .where(MeetingSlot.id.not_in(taken), MeetingSlot.session_id.is_not(None))
            .order_by(MeetingSlot.start_at)
            .limit(1)
        )
        if slot_id is None:
            return {"error": "no free future slot"}
        template = db.session.scalar(sa.select(MeetingRequest).limit(1))
        ids = []
        for k in range(contenders):
            req = MeetingRequest(
                code=f"BENCH-{now:%H%M%S}-{k:02d}",
                requester_name="벤치",
                topic="동시 예약",
                category=template.category if template else "기타",
                desired_outcome="-",
                consent_at=now,
                consent_version="bench",
                status="waitlisted",
                route="mayor",
                queue_since=now,
                preferred_session_ids=[],
                created_at=now,
                updated_at=now,
            )
            db.session.add(req)
            db.session.flush()
            ids.append(req.id)
        db.session.commit()
        # One connection per contender (the app's pool holds 15 at most).
        engine = sa.create_engine(db.engine.url, pool_size=contenders + 1, max_overflow=0)
        barrier = threading.Barrier(contenders, timeout=60)
        timings: list[float] = []
        winners: list[int] = []
        errors: list[str] = []
        lock = threading.Lock()

        def contend(request_id: int) -> None:
            with app.app_context(), Session(engine) as session:
                try:
                    req = session.get(MeetingRequest, request_id)
                    slot = session.get(MeetingSlot, slot_id)
                    barrier.wait()
                except Exception as error:  # noqa: BLE001 - release the others, then report
                    barrier.abort()
                    with lock:
                        errors.append(repr(error)[:200])
                    return
                started = time.perf_counter()
                try:
                    booking = book_slot(session, req, slot, actor=None, now=utcnow())
                    session.commit()
                except Exception as error:  # noqa: BLE001 - report, do not hide
                    session.rollback()
                    with lock:
                        errors.append(repr(error)[:200])
                    return
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    timings.append(elapsed)
                    if booking is not None:
                        winners.append(request_id)

        threads = [threading.Thread(target=contend, args=(rid,)) for rid in ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        engine.dispose()
        booked = db.session.scalar(
            sa.select(sa.func.count(MeetingBooking.id)).where(MeetingBooking.slot_id == slot_id)
        )
    return {
        "contenders": contenders,
        "winners": len(winners),
        "bookings_in_db": booked,
        "median_ms": round(statistics.median(timings), 1) if timings else None,
        "max_ms": round(max(timings), 1) if timings else None,
        "errors": errors[:3],
    }


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False))
