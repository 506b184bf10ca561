"""Calendar feeds: two independent parsers, stable UIDs, SEQUENCE and STATUS across changes,
HTTP caching, personal feed tokens and per-event downloads."""

from __future__ import annotations

import datetime as dt
import re

import icalendar
import vobject

from civic_app.timeutil import utcnow
from tests.factories import login, make_dong, make_host, make_user
from tests.factories_calendar import make_committee_meeting, make_session, make_visit, touch

SEOUL_OFFSET = dt.timedelta(hours=9)


def soon(days: int, hour: int = 5) -> dt.datetime:
    """A whole hour ``days`` from the real clock (the feeds read it), 14:00 Seoul by default."""
    base = utcnow().replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=days)
    return base.replace(hour=hour)


def parse(body: bytes) -> dict[str, dict]:
    """Parse with icalendar AND vobject; both must agree on every event."""
    cal = icalendar.Calendar.from_ical(body)
    events = {}
    for ev in cal.walk("VEVENT"):
        events[str(ev["UID"])] = {
            "sequence": int(ev["SEQUENCE"]),
            "status": str(ev["STATUS"]),
            "start": ev.decoded("DTSTART"),
            "summary": str(ev["SUMMARY"]),
            "url": str(ev.get("URL", "")),
            "dtstamp": ev.decoded("DTSTAMP"),
        }
    second = vobject.readOne(body.decode("utf-8"))
    seen = {}
    for ev in second.contents.get("vevent", []):
        seen[ev.uid.value] = (int(ev.sequence.value), ev.status.value, ev.dtstart.value)
    assert seen == {uid: (e["sequence"], e["status"], e["start"]) for uid, e in events.items()}
    return events


def calendar_props(body: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(body)


def test_public_feeds_parse_with_two_parsers_and_carry_the_required_properties(client, session):
    dong = make_dong("중앙동")
    tongtong = make_session(soon(4))
    shown = make_visit(dong, soon(6))
    hidden = make_visit(dong, soon(8), published=False, notes="내부 메모")
    meeting = make_committee_meeting(soon(10))
    session.commit()

    for path, calname, uid, absent in [
        ("/calendar/tongtong.ics", "통통데이 일정", f"tongtong-{tongtong.id}@civic.test", None),
        (
            "/calendar/visits.ics",
            "찾아가는 현장소통 일정",
            f"visit-{shown.id}@civic.test",
            f"visit-{hidden.id}@",
        ),
        (
            "/calendar/committee.ics",
            "시정참여정책위원회 회의 일정",
            f"committee-{meeting.id}@civic.test",
            None,
        ),
    ]:
        response = client.get(path)
        assert response.status_code == 200
        assert response.mimetype == "text/calendar"
        cal = calendar_props(response.data)
        assert str(cal["X-WR-CALNAME"]) == calname
        assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Seoul"]
        events = parse(response.data)
        assert uid in events
        assert events[uid]["url"].startswith("http://civic.test/")
        assert events[uid]["start"].utcoffset() == SEOUL_OFFSET
        assert b"DTSTAMP:" in response.data
        if absent:
            assert absent not in response.text
    assert "내부 메모" not in client.get("/calendar/visits.ics").text


def test_change_move_and_cancel_keep_the_uid_and_raise_the_sequence(client, session):
    row = make_session(soon(5))
    session.commit()
    uid = f"tongtong-{row.id}@civic.test"

    first = parse(client.get("/calendar/tongtong.ics").data)[uid]
    assert (first["sequence"], first["status"]) == (0, "CONFIRMED")
    assert first["url"] == f"http://civic.test/tongtong#session-{row.id}"

    touch(row, utcnow(), location="직소민원 상담실")  # a change
    session.commit()
    changed = parse(client.get("/calendar/tongtong.ics").data)[uid]
    assert (changed["sequence"], changed["status"]) == (1, "CONFIRMED")

    new_start = soon(7)
    touch(
        row, utcnow(), start_at=new_start, end_at=new_start + dt.timedelta(hours=1), moved_from=row.rule_date
    )
    session.commit()
    moved = parse(client.get("/calendar/tongtong.ics").data)
    assert list(moved) == [uid]  # the same event moved, not a new one
    assert moved[uid]["sequence"] == 2
    assert moved[uid]["start"] == new_start.astimezone(moved[uid]["start"].tzinfo)

    from civic_app.meetings.schedule import cancel_session

    cancel_session(session, row, reason="시장 긴급 재난 대응", actor=make_user("civic_staff"), now=utcnow())
    session.commit()
    body = client.get("/calendar/tongtong.ics")
    cancelled = parse(body.data)[uid]
    assert (cancelled["sequence"], cancelled["status"]) == (3, "CANCELLED")
    assert cancelled["summary"].startswith("[취소]")
    assert "시장 긴급 재난 대응" in icalendar.Calendar.from_ical(body.data).walk("VEVENT")[0]["DESCRIPTION"]

    # Kept for a while (60 days after the cancellation), then dropped from the feed.
    row.updated_at = utcnow() - dt.timedelta(days=59)
    session.commit()
    assert uid in parse(client.get("/calendar/tongtong.ics").data)
    row.updated_at = utcnow() - dt.timedelta(days=61)
    session.commit()
    assert uid not in parse(client.get("/calendar/tongtong.ics").data)


def test_feeds_answer_304_to_a_matching_etag_or_date_and_200_after_a_change(client, session):
    row = make_committee_meeting(soon(3))
    session.commit()
    first = client.get("/calendar/committee.ics")
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    assert client.get("/calendar/committee.ics", headers={"If-None-Match": etag}).status_code == 304
    since = first.headers["Last-Modified"]
    assert client.get("/calendar/committee.ics", headers={"If-Modified-Since": since}).status_code == 304

    touch(row, utcnow() + dt.timedelta(seconds=2), title="2026년 임시회의")
    session.commit()
    again = client.get("/calendar/committee.ics", headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert again.headers["ETag"] != etag
    assert "2026년 임시회의" in again.text


def make_booking(host, start: dt.datetime, *, requester_name: str = "김민원", topic: str = "통학로 안전"):
    from civic_app.extensions import db
    from civic_app.meetings.models import MeetingBooking, MeetingRequest

    now = utcnow()
    request = MeetingRequest(
        code=f"TT-2026-{host.id:04d}",
        requester_name=requester_name,
        requester_phone="010-9876-5432",
        topic=topic,
        category="안전",
        desired_outcome="횡단보도 설치",
        consent_at=now,
        consent_version="2026-11",
        status="booked",
        queue_since=now,
        created_at=now,
        updated_at=now,
    )
    db.session.add(request)
    db.session.flush()
    booking = MeetingBooking(
        request_id=request.id,
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


def feed_path_from(page_html: str) -> str:
    match = re.search(r"(/calendar/personal/[A-Za-z0-9_-]+\.ics)", page_html)
    assert match, "the new feed address is shown once after it is made"
    return match.group(1)


def test_personal_feed_token_can_be_renewed_and_revoked(client, session):
    user = make_user("host", name="이정민")
    host = make_host("부시장", rank=2, user_id=user.id, person_name="이정민")
    other_host = make_host("복지문화국장", rank=3)
    booking = make_booking(host, soon(9))
    make_booking(other_host, soon(9, hour=6), topic="다른 국장의 면담")
    login(client, user)

    assert "구독 주소 만들기" in client.get("/account/calendar").text
    client.post("/account/calendar/renew")
    first = feed_path_from(client.get("/account/calendar").text)
    assert "/calendar/personal/" not in client.get("/account/calendar").text  # shown once only

    response = client.get(first)
    assert response.status_code == 200
    assert (
        response.headers["Cache-Control"].startswith("private")
        or "private" in response.headers["Cache-Control"]
    )
    events = parse(response.data)
    assert list(events) == [f"meeting-{booking.id}@civic.test"]
    summary = events[f"meeting-{booking.id}@civic.test"]["summary"]
    assert booking.request.code in summary
    assert "김*원" in summary
    assert "안전" in summary
    assert "통학로" not in response.text  # the topic is the citizen's free text: never in a feed
    assert events[f"meeting-{booking.id}@civic.test"]["url"] == "http://civic.test/host/tongtong"
    assert "김민원" not in response.text  # no citizen's personal data
    assert "9876" not in response.text

    client.post("/account/calendar/renew")
    second = feed_path_from(client.get("/account/calendar").text)
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200

    client.post("/account/calendar/revoke")
    assert client.get(second).status_code == 404
    assert client.get("/calendar/personal/not-a-token.ics").status_code == 404


def test_personal_feed_page_is_for_staff_and_hosts_only(client, session):
    citizen = make_user("citizen")
    login(client, citizen)
    assert client.get("/account/calendar").status_code == 403
    assert client.post("/account/calendar/renew").status_code == 403


def test_per_event_download_for_public_events_only(client, session):
    dong = make_dong("신흥동")
    shown = make_visit(dong, soon(6))
    hidden = make_visit(dong, soon(7), published=False)
    meeting = make_committee_meeting(soon(8))
    session.commit()
    response = client.get(f"/calendar/events/visit/{shown.id}.ics")
    assert response.status_code == 200
    assert list(parse(response.data)) == [f"visit-{shown.id}@civic.test"]
    assert b"METHOD:PUBLISH" in response.data
    assert client.get(f"/calendar/events/visit/{hidden.id}.ics").status_code == 404
    assert client.get(f"/calendar/events/committee/{meeting.id}.ics").status_code == 200
    assert client.get("/calendar/events/tongtong/999999.ics").status_code == 404


def test_calendar_page_offers_webcal_subscriptions(client, session):
    body = client.get("/calendar").text
    assert "webcal://civic.test/calendar/tongtong.ics" in body
    assert "webcal://civic.test/calendar/visits.ics" in body
    assert "webcal://civic.test/calendar/committee.ics" in body


def test_personal_feeds_follow_the_owner_role(client, session):
    dong = make_dong("태평동")
    draft = make_visit(dong, soon(5), published=False)
    meeting = make_committee_meeting(soon(12))
    member = make_user("committee_member")
    login(client, member)
    client.post("/account/calendar/renew")
    events = parse(client.get(feed_path_from(client.get("/account/calendar").text)).data)
    assert list(events) == [f"committee-{meeting.id}@civic.test"]

    client.post("/logout")
    staff = make_user("civic_staff")
    login(client, staff)
    client.post("/account/calendar/renew")
    events = parse(client.get(feed_path_from(client.get("/account/calendar").text)).data)
    assert f"visit-{draft.id}@civic.test" in events  # staff plan with unpublished visits too
    assert f"visit-{draft.id}@" not in client.get("/calendar/visits.ics").text


def count_statements(client, path: str) -> int:
    from sqlalchemy import event

    from civic_app.extensions import db

    statements = []

    def listener(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


def test_feeds_cost_a_fixed_number_of_sql_statements(client, session):
    dong = make_dong("단대동")
    make_session(soon(3))
    make_visit(dong, soon(3))
    session.commit()
    client.get("/calendar/visits.ics")  # warm-up
    before = {p: count_statements(client, p) for p in ("/calendar/tongtong.ics", "/calendar/visits.ics")}
    for i in range(6):
        make_session(soon(10 + i))
        make_visit(make_dong(), soon(10 + i), kind="tour", theme=f"폭염 대비 점검 {i}")
    session.commit()
    after = {p: count_statements(client, p) for p in before}
    assert after == before
