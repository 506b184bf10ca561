"""Personal calendar feeds (issue 12, finding 1): a feed URL gets pasted into third-party
calendar services, so it carries only what a public surface may, and every fetch is logged."""

from __future__ import annotations

import datetime as dt
import re

import icalendar
from sqlalchemy import select

from civic_app.audit.models import AuditLog
from civic_app.calendar.services import FEED_FETCH_ACTION
from civic_app.extensions import db
from civic_app.meetings.models import MeetingBooking, MeetingRequest
from civic_app.timeutil import utcnow
from tests.factories import login, make_dong, make_host, make_user
from tests.privacy_search import hits

NAME, PHONE, EMAIL = "홍길동", "010-1234-5678", "hong.gildong@example.com"
PII_TOPIC = f"{NAME} (연락 +82 10 1234 5678, {EMAIL}) 통학로 민원"


def soon(days: int) -> dt.datetime:
    return utcnow().replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=days)


def book(host, *, dong, code: str) -> MeetingBooking:
    now = utcnow()
    req = MeetingRequest(
        code=code,
        requester_name=NAME,
        requester_phone=PHONE,
        requester_email=EMAIL,
        topic=PII_TOPIC,
        category="안전",
        desired_outcome=f"{NAME}에게 010 - 1234 - 5678 로 전화 주세요",
        accessibility=f"{NAME} 휠체어",
        dong_id=dong.id,
        consent_at=now,
        consent_version="2026-11",
        status="booked",
        queue_since=now,
        created_at=now,
        updated_at=now,
    )
    db.session.add(req)
    db.session.flush()
    start = soon(7)
    booking = MeetingBooking(
        request_id=req.id,
        host_id=host.id,
        start_at=start,
        end_at=start + dt.timedelta(minutes=20),
        location="부시장실",
        created_at=now,
        updated_at=now,
    )
    db.session.add(booking)
    db.session.flush()
    return booking


def feed_path(client) -> str:
    client.post("/account/calendar/renew")
    match = re.search(r"(/calendar/personal/[A-Za-z0-9_-]+\.ics)", client.get("/account/calendar").text)
    assert match
    return match.group(1)


def assert_no_pii(text: str) -> None:
    assert hits(text, name=NAME, phone=PHONE, email=EMAIL) == []
    assert "통학로" not in text  # the topic


def test_personal_feeds_of_staff_mayor_and_deputy_carry_only_public_fields(client, session):
    dong = make_dong("중앙동")
    mayor_user = make_user("host", name="김시장", phone=None)
    deputy_user = make_user("host", name="이부시장", phone=None)
    staff = make_user("civic_staff", name="소통주무관", phone=None)
    mayor = make_host("시장", rank=1, user_id=mayor_user.id, person_name="김시장")
    deputy = make_host("부시장", rank=2, user_id=deputy_user.id, person_name="이부시장")
    mayor_booking = book(mayor, dong=dong, code="TT-2026-0901")
    deputy_booking = book(deputy, dong=dong, code="TT-2026-0902")

    for user, bookings, link in [
        (staff, [mayor_booking, deputy_booking], "/staff/tongtong/requests/"),
        (mayor_user, [mayor_booking], "/host/tongtong"),
        (deputy_user, [deputy_booking], "/host/tongtong"),
    ]:
        login(client, user)
        response = client.get(feed_path(client))
        assert response.status_code == 200
        text = icalendar.Calendar.from_ical(response.data).to_ical().decode()
        unfolded = re.sub(r"\r\n[ \t]", "", response.data.decode())
        assert_no_pii(unfolded)
        assert_no_pii(text)
        events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(response.data).walk("VEVENT")}
        for booking in bookings:
            event = events[f"meeting-{booking.id}@civic.test"]
            summary, description = str(event["SUMMARY"]), str(event["DESCRIPTION"])
            assert booking.request.code in summary
            for part in ("홍*동", "안전", "중앙동"):
                assert part in summary
            assert str(event["LOCATION"]) == "부시장실"
            assert link in str(event["URL"])
            assert link in description
        client.post("/logout")


def test_every_personal_feed_fetch_writes_an_access_log_row(client, session):
    host_user = make_user("host", name="이부시장", phone=None)
    make_host("부시장", rank=2, user_id=host_user.id)
    login(client, host_user)
    path = feed_path(client)
    client.post("/logout")

    def fetches() -> list[AuditLog]:
        return list(db.session.scalars(select(AuditLog).where(AuditLog.action == FEED_FETCH_ACTION)))

    assert fetches() == []
    ua = {"User-Agent": "Google-Calendar-Importer"}
    first = client.get(path, headers=ua)
    assert first.status_code == 200
    client.get(path, headers={**ua, "If-None-Match": first.headers["ETag"]})  # a 304 is a fetch too
    rows = fetches()
    assert len(rows) == 2
    assert {r.actor_id for r in rows} == {host_user.id}
    assert all(r.detail["served"] and r.detail["user_agent"] == "Google-Calendar-Importer" for r in rows)
    assert all(r.ip for r in rows)

    login(client, host_user)
    client.post("/account/calendar/revoke")
    client.post("/logout")
    assert client.get(path).status_code == 404
    rows = fetches()
    assert len(rows) == 3
    assert rows[-1].detail["served"] is False  # a leaked, revoked URL still polled
    assert client.get("/calendar/personal/not-a-token.ics").status_code == 404
    assert len(fetches()) == 3
