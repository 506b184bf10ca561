"""통통데이 pages, API and the privacy promise."""

from __future__ import annotations

import datetime as dt
import io

from sqlalchemy import select

from civic_app.audit.models import AuditLog
from civic_app.audit.services import VIEW_PERSONAL_DATA
from civic_app.meetings.models import MeetingRequest
from civic_app.meetings.outcomes import add_followup, record_outcome
from civic_app.meetings.queries import open_host_slots
from civic_app.meetings.review import decide_fallback, decide_mayor
from civic_app.notify.models import OutboxMessage
from civic_app.timeutil import utcnow
from tests.factories import NOW, login, make_department, make_dong, make_host, make_user
from tests.factories_meetings import make_host_slot, make_request, make_sessions, make_staff

NAME, PHONE, EMAIL = "홍길순", "010-5555-7777", "gilsoon.hong@example.com"


def _data(**kw) -> dict:
    data = {
        "topic": "통학로 보도 설치",
        "category": "도로·교통",
        "desired_outcome": "보도를 놓아 주세요.",
        "dong_id": "0",
        "party_size": "1",
        "consent": "y",
        "publish_consent": "y",
    }
    data.update(kw)
    return data


def test_citizen_applies_and_sees_status(client, session):
    make_sessions(dt.date(2026, 11, 1), dt.date(2027, 6, 30))
    citizen = make_user("citizen", name=NAME, phone=PHONE, email=EMAIL)
    login(client, citizen)
    assert client.get("/tongtong/requests/new").status_code == 200
    bad = client.post("/tongtong/requests/new", data=_data(consent=""))
    assert bad.status_code == 400
    assert "동의해야" in bad.get_data(as_text=True)
    wrong = client.post(
        "/tongtong/requests/new",
        data=_data(attachment=(io.BytesIO(b"MZ\x90\x00"), "setup.exe")),
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 400
    assert "PDF, PNG, JPG" in wrong.get_data(as_text=True)
    assert session.scalar(select(MeetingRequest)) is None  # nothing half-written
    ok = client.post(
        "/tongtong/requests/new",
        data=_data(attachment=(io.BytesIO(b"%PDF-1.4 test"), "map.pdf")),
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    req = session.scalar(select(MeetingRequest))
    assert ok.headers["Location"].endswith(f"/tongtong/requests/{req.code}")
    page = client.get(ok.headers["Location"]).get_data(as_text=True)
    assert req.code in page
    assert "검토 대기" in page
    assert "대기 순서" in page
    assert NAME not in page  # masked even for the owner
    other = make_user("citizen")
    client.post("/logout")
    login(client, other)
    assert client.get(f"/tongtong/requests/{req.code}").status_code == 404


def test_staff_detail_is_logged_and_queue_is_masked(client, session):
    staff = make_staff()
    make_sessions()
    req = make_request(make_user("citizen", name=NAME, phone=PHONE, email=EMAIL))
    login(client, staff)
    queue = client.get("/staff/tongtong/requests").get_data(as_text=True)
    assert req.code in queue
    assert NAME not in queue
    assert "홍*순" in queue
    detail = client.get(f"/staff/tongtong/requests/{req.id}").get_data(as_text=True)
    assert NAME in detail
    assert PHONE in detail
    assert EMAIL in detail
    log = session.scalar(select(AuditLog).where(AuditLog.action == VIEW_PERSONAL_DATA))
    assert log.actor_id == staff.id
    assert log.target_id == str(req.id)
    frag = client.get("/staff/tongtong/requests?category=복지", headers={"HX-Request": "true"})
    assert "<html" not in frag.get_data(as_text=True)
    assert req.code not in frag.get_data(as_text=True)
    quick = client.post(f"/staff/tongtong/requests/{req.id}/quick-mayor", headers={"HX-Request": "true"})
    assert quick.status_code == 200
    assert "시장 면담을 배정했습니다" in quick.get_data(as_text=True)
    assert make_user("citizen")
    assert client.get("/staff/tongtong/stats").status_code == 200


def test_pages_need_roles(client, session):
    citizen = make_user("citizen")
    login(client, citizen)
    assert client.get("/staff/tongtong/requests").status_code == 403
    assert client.get("/host/tongtong").status_code == 403
    client.post("/logout")
    assert client.get("/tongtong/requests").status_code == 302
    assert client.get("/tongtong").status_code == 200


def test_api_lists_sessions_with_seoul_times(client, session, runner):
    runner.invoke(args=["tongtong", "generate", "--from", "2025-10-01", "--to", "2025-10-31"])
    body = client.get("/api/v1/tongtong-days?from=2025-10-01&to=2025-10-31").get_json()
    assert body["total"] == 1
    item = body["items"][0]
    assert item["start"] == "2025-10-23T14:00:00+09:00"
    assert item["end"] == "2025-10-23T15:00:00+09:00"
    assert item["status"] == "scheduled"
    assert item["moved_from"] is None
    assert item["free_slots"] == 3
    bad = client.get("/api/v1/tongtong-days?from=2025-13-01")
    assert bad.status_code == 400
    assert "YYYY-MM-DD" in bad.get_json()["error"]["message"]
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/tongtong-days" in doc["paths"]
    schema = doc["components"]["schemas"]["TongtongDay"]
    assert schema["properties"]["status"]["enum"] == ["scheduled", "cancelled", "held"]


def _full_story(session):
    """Requests in every state, all by one citizen whose data must never leak."""
    make_sessions(dt.date(2026, 11, 1), dt.date(2027, 6, 30))
    staff = make_staff()
    dong = make_dong("중앙동")
    dept = make_department("도로과")
    deputy = make_host("부시장", rank=2)
    citizen = make_user("citizen", name=NAME, phone=PHONE, email=EMAIL)
    topic_with_phone = f"{NAME} 가족의 보도 설치 요청 (연락 {PHONE})"
    held = make_request(citizen, dong_id=dong.id, topic=topic_with_phone)
    booking = decide_mayor(session, held, actor=staff, now=NOW)
    after = booking.end_at + dt.timedelta(hours=1)
    record_outcome(
        session,
        held,
        attended=True,
        outcome="합의",
        public_summary="보도를 놓기로 했습니다.",
        actor=staff,
        now=after,
    )
    add_followup(
        session,
        held,
        title="예산 검토",
        department=dept,
        due_date=dt.date(2026, 12, 31),
        local_budget=True,
        actor=staff,
        now=after,
    )
    fallback = make_request(citizen)
    decide_fallback(
        session,
        fallback,
        slot=make_host_slot(deputy, NOW + dt.timedelta(days=2)),
        reason_code="mayor_full",
        note="시장 일정이 찼습니다.",
        actor=staff,
        now=NOW,
    )
    make_request(citizen)
    session.commit()
    return staff, held


def test_no_personal_data_on_public_surfaces(client, session):
    staff, held = _full_story(session)
    host_user = make_user("host")
    session.commit()
    surfaces = [
        "/",
        "/tongtong",
        "/tongtong/stats",
        f"/tongtong/summaries/{held.id}",
        "/api/v1/tongtong-days?from=2026-11-01&to=2027-06-30",
        "/api/v1/openapi.json",
    ]
    for url in surfaces:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        for secret in (NAME, PHONE, EMAIL, "5555-7777"):
            assert secret not in text, (url, secret)
    # Staff and host lists show masked data; only the logged detail page shows it.
    login(client, staff)
    for url in (
        "/staff/tongtong/requests",
        "/staff/tongtong/sessions",
        "/staff/tongtong/slots",
        "/staff/tongtong/stats",
    ):
        text = client.get(url).get_data(as_text=True)
        for secret in (NAME, EMAIL, PHONE):
            assert secret not in text, url
    client.post("/logout")
    login(client, host_user)
    assert NAME not in client.get("/host/tongtong").get_data(as_text=True)
    telegram = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "telegram")).all()
    assert telegram
    for message in telegram:
        text = str(message.payload)
        for secret in (NAME, PHONE, EMAIL, "5555-7777"):
            assert secret not in text
    # Calendar feeds of the calendar feature, when present.
    for url in ("/calendar/tongtong.ics",):
        response = client.get(url)
        if response.status_code == 200:
            text = response.get_data(as_text=True)
            assert NAME not in text
            assert EMAIL not in text
            assert PHONE not in text


def test_pages_use_a_fixed_number_of_queries(client, session):
    from sqlalchemy import event

    from civic_app.extensions import db

    staff = make_staff()
    make_sessions()
    login(client, staff)

    def count(url: str) -> int:
        n = [0]

        def before(*_a, **_k):
            n[0] += 1

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
        return n[0]

    for _ in range(2):
        make_request()
    session.commit()
    small = {u: count(u) for u in ("/staff/tongtong/requests", "/tongtong", "/tongtong/stats")}
    for _ in range(6):
        make_request(dong_id=make_dong().id)
    session.commit()
    large = {u: count(u) for u in small}
    assert large == small


def test_pages_in_english(client, session):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, str(root / "tools" / "i18n.py"), "compile"], check=True, capture_output=True
    )
    make_sessions()
    client.set_cookie("lang", "en")
    text = client.get("/tongtong").get_data(as_text=True)
    assert "Upcoming sessions" in text
    assert "Request a meeting" in text
    assert "다가오는 회차" not in text


def test_staff_routes_for_walk_ins_sessions_slots_and_decisions(client, session):
    real_now = utcnow()  # the views read the clock
    sessions = make_sessions(real_now.date(), (real_now + dt.timedelta(days=120)).date())
    staff = make_staff()
    dept = make_department("도로과")
    deputy_user = make_user("host", name="이부시장")
    deputy = make_host("부시장", rank=2, user_id=deputy_user.id)
    login(client, staff)
    assert client.get("/staff/tongtong/walk-in").status_code == 200
    start = (real_now + dt.timedelta(days=1)).astimezone(dt.timezone(dt.timedelta(hours=9)))
    walk = client.post(
        "/staff/tongtong/walk-in",
        data=_data(
            requester_name="김대표",
            requester_phone="010-1111-2222",
            room_start=start.strftime("%Y-%m-%dT%H:%M"),
            room_minutes="30",
            is_group="y",
            party_size="8",
        ),
    )
    assert walk.status_code == 302
    walk_in = session.scalar(select(MeetingRequest).where(MeetingRequest.walk_in.is_(True)))
    assert walk_in.active_booking.location == "직소민원 상담실"
    # Decisions through the forms: errors are shown, nothing is half-written.
    req = make_request()
    session.commit()
    bad = client.post(
        f"/staff/tongtong/requests/{req.id}/decide/written", data={"w-reason_code": "department_matter"}
    )
    assert bad.status_code == 400
    assert "담당 부서를 골라 주세요" in bad.get_data(as_text=True)
    ok = client.post(
        f"/staff/tongtong/requests/{req.id}/decide/written",
        data={"w-reason_code": "department_matter", "w-department_id": str(dept.id), "w-route": "referral"},
    )
    assert ok.status_code == 302
    session.expire_all()
    assert req.status == "referred"
    interim = client.post(
        f"/staff/tongtong/requests/{req.id}/answer/interim",
        data={"text": "측량 중입니다.", "new_due": "2027-01-15"},
    )
    assert interim.status_code == 302
    declined = make_request()
    session.commit()
    no_reason = client.post(
        f"/staff/tongtong/requests/{declined.id}/decide/decline", data={"d-reason_code": "duplicate"}
    )
    assert no_reason.status_code == 400
    assert "불채택 사유" in no_reason.get_data(as_text=True)
    # Deputies' own slots, published by staff; the host sees them on their page.
    slot_start = (real_now + dt.timedelta(days=30)).astimezone(dt.timezone(dt.timedelta(hours=9)))
    published = client.post(
        "/staff/tongtong/slots",
        data={"host_id": str(deputy.id), "start": slot_start.strftime("%Y-%m-%dT%H:%M"), "minutes": "30"},
    )
    assert published.status_code == 302
    assert len(open_host_slots(session, real_now, deputy.id)) == 1
    # Sessions: move and cancel by hand.
    upcoming = [s for s in sessions if s.start_at > real_now]
    assert client.get("/staff/tongtong/sessions").status_code == 200
    from civic_app.workdays.services import WorkCalendar

    first = upcoming[0]
    calendar = WorkCalendar.load(session, first.rule_date, first.rule_date + dt.timedelta(days=20))
    day = next(
        first.rule_date + dt.timedelta(days=n)
        for n in range(1, 20)
        if calendar.is_working_day(first.rule_date + dt.timedelta(days=n))
    )
    moved = client.post(
        f"/staff/tongtong/sessions/{first.id}/move", data={"day": day.isoformat(), "reason": "시장 출장"}
    )
    assert moved.status_code == 302
    session.expire_all()
    assert first.moved_from == first.rule_date
    assert first.sequence == 1
    cancelled = client.post(f"/staff/tongtong/sessions/{upcoming[1].id}/cancel", data={"reason": "시장 출장"})
    assert cancelled.status_code == 302
    session.expire_all()
    assert upcoming[1].status == "cancelled"
    client.post("/logout")
    login(client, deputy_user)
    assert client.get("/host/tongtong").status_code == 200


def test_review_queue_pages_with_counts_for_the_whole_queue(client, session, monkeypatch):
    from civic_app.meetings import queries

    monkeypatch.setattr(queries, "QUEUE_PER_PAGE", 2)
    staff = make_staff()
    make_sessions()
    reqs = [make_request(now=NOW + dt.timedelta(minutes=i)) for i in range(5)]
    session.commit()
    login(client, staff)
    codes = [r.code for r in reqs]

    def shown(url: str, **headers) -> tuple[str, list[str]]:
        text = client.get(url, headers=headers).get_data(as_text=True)
        return text, [c for c in codes if c in text]

    text, on_page = shown("/staff/tongtong/requests")
    assert on_page == codes[:2]  # the longest waiting first
    assert "(5건)" in text
    assert "1 / 3쪽" in text
    assert "page=2" in text
    text, on_page = shown("/staff/tongtong/requests?page=2", **{"HX-Request": "true"})
    assert on_page == codes[2:4]
    assert "<html" not in text
    assert "(5건)" in text
    assert shown("/staff/tongtong/requests?page=3")[1] == codes[4:]
    assert shown("/staff/tongtong/requests?page=99")[1] == codes[4:]  # clamped to the last page
    assert shown("/staff/tongtong/requests?page=x")[1] == codes[:2]
    text, on_page = shown("/staff/tongtong/requests?category=복지&page=2")
    assert on_page == []
    assert "(0건)" in text


def test_review_queue_overdue_filter_in_sql_matches_is_overdue(session):
    from civic_app.meetings import queries

    make_sessions()
    for i in range(4):
        make_request(now=NOW - dt.timedelta(days=3 * i))
    session.commit()
    now = NOW + dt.timedelta(days=1)
    every = session.scalars(queries.review_query(queries.ReviewFilters(), now)).all()
    late = session.scalars(queries.review_query(queries.ReviewFilters(overdue=True), now)).all()
    expected = [r.id for r in every if queries.is_overdue(r, now)]
    assert expected
    assert [r.id for r in late] == expected
    assert len(late) == len(expected) < len(every)


def test_request_form_offers_sessions_as_cards_with_place_and_seats(client, session):
    import re

    from civic_app.meetings.queries import upcoming_sessions
    from civic_app.web.filters import format_datetime

    make_sessions(dt.date(2026, 11, 1), dt.date(2027, 6, 30))
    first = upcoming_sessions(session, utcnow(), limit=1)[0]
    first.session.location = "시청 2층 회의실"
    session.commit()
    login(client, make_user("citizen", name=NAME, phone=PHONE, email=EMAIL))
    page = client.get("/tongtong/requests/new").get_data(as_text=True)
    cards = re.findall(r'<label class="session-card"[^>]*>(.*?)</label>', page, re.S)
    assert len(cards) == len(upcoming_sessions(session, utcnow(), limit=8)) >= 2
    card = cards[0]
    assert f'value="{first.session.id}"' in card  # the checkbox inside the card
    assert format_datetime(first.session.start_at) in card  # date and time
    assert "시청 2층 회의실" in card  # place
    assert f"남은 자리 {first.free} / {first.slots}" in card  # seats left
    # Choosing a card books it as a preferred session.
    ok = client.post("/tongtong/requests/new", data=_data(preferred_sessions=str(first.session.id)))
    assert ok.status_code == 302
    req = session.scalar(select(MeetingRequest))
    assert first.session.id in req.preferred_session_ids
