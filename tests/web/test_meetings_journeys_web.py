"""Issue 14 on the pages: the holiday policy (setting and CLI) with the 96 sessions of the term
that the API and the feed agree on, the generate button, withdrawal confirmation, change
requests flagged in the staff queue, and the chosen sessions on the review page."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from civic_app.meetings.models import MeetingRequest, MeetingSlot, TongtongRule, TongtongSession
from civic_app.meetings.outcomes import add_followup
from civic_app.meetings.review import decide_fallback, decide_mayor, decide_written
from civic_app.timeutil import SEOUL, utcnow
from civic_app.workdays.services import WorkCalendar
from tests.factories import login, make_user
from tests.factories_meetings import make_request, make_sessions, make_staff

TERM = ("2018-07-01", "2022-06-30")


def test_shift_policy_gives_the_plans_96_sessions_on_working_days(client, session, runner, monkeypatch):
    result = runner.invoke(args=["tongtong", "set-rule", "--holiday-policy", "shift"])
    assert result.exit_code == 0, result.output
    assert "다음 근무일로 옮김" in result.output
    assert session.scalar(select(TongtongRule.holiday_policy)) == "next"
    bad = runner.invoke(args=["tongtong", "set-rule", "--holiday-policy", "sometimes"])
    assert bad.exit_code != 0
    result = runner.invoke(args=["tongtong", "generate", "--from", TERM[0], "--to", TERM[1]])
    assert result.exit_code == 0, result.output
    assert "건너뜀 0건" in result.output
    days = sorted(s.astimezone(SEOUL).date() for s in session.scalars(select(TongtongSession.start_at)))
    assert len(days) == 96
    assert len(set(days)) == 96
    calendar = WorkCalendar.load(session, days[0], days[-1])
    assert all(calendar.is_working_day(d) for d in days)
    # The public API says the same.
    body = client.get(f"/api/v1/tongtong-days?from={TERM[0]}&to={TERM[1]}").get_json()
    assert body["total"] == 96
    assert sorted(dt.date.fromisoformat(i["date"]) for i in body["items"]) == days
    # So does the feed (read as of mid-2019: its window keeps a year of the past).
    import civic_app.calendar.views as calendar_views

    monkeypatch.setattr(calendar_views, "utcnow", lambda: dt.datetime(2019, 7, 1, tzinfo=dt.UTC))
    feed = client.get("/calendar/tongtong.ics").get_data(as_text=True)
    starts = sorted(
        dt.date.fromisoformat(f"{m[:4]}-{m[4:6]}-{m[6:8]}")
        for m in re.findall(r"DTSTART;TZID=Asia/Seoul:(\d{8})", feed)
    )
    assert starts == days
    # With the skip policy, the same term has two sessions fewer.
    runner.invoke(args=["tongtong", "set-rule", "--holiday-policy", "skip"])
    session.execute(MeetingSlot.__table__.delete())
    session.execute(TongtongSession.__table__.delete())
    session.commit()
    runner.invoke(args=["tongtong", "generate", "--from", TERM[0], "--to", TERM[1]])
    assert session.scalar(select(func.count(TongtongSession.id))) == 94


def test_admin_sets_the_policy_and_staff_generate_with_a_button(client, session):
    staff = make_staff()
    admin = make_user("admin")
    session.commit()
    login(client, staff)
    page = client.get("/staff/tongtong/sessions").get_data(as_text=True)
    assert "flask tongtong generate" not in page
    assert 'id="generate-form"' in page
    assert 'id="rule-form"' not in page  # an admin setting
    assert client.post("/staff/tongtong/rule", data={"holiday_policy": "next"}).status_code == 403
    response = client.post(
        "/staff/tongtong/sessions/generate", data={"start": "2025-10-01", "end": "2025-12-31"}
    )
    assert response.status_code == 302
    page = client.get("/staff/tongtong/sessions").get_data(as_text=True)
    assert "새로 4건" in page
    assert "2025-10-09: 공휴일(한글날)" in page
    bad = client.post("/staff/tongtong/sessions/generate", data={"start": "2025-12-31", "end": "2025-10-01"})
    assert bad.status_code == 400
    client.post("/logout")
    login(client, admin)
    assert 'id="rule-form"' in client.get("/staff/tongtong/sessions").get_data(as_text=True)
    assert client.post("/staff/tongtong/rule", data={"holiday_policy": "next"}).status_code == 302
    assert session.scalar(select(TongtongRule.holiday_policy)) == "next"
    assert client.post("/staff/tongtong/rule", data={"holiday_policy": "x"}).status_code == 400
    client.post("/staff/tongtong/sessions/generate", data={"start": "2025-10-01", "end": "2025-10-31"})
    assert (
        session.scalar(
            select(func.count(TongtongSession.id)).where(TongtongSession.moved_from == dt.date(2025, 10, 9))
        )
        == 1
    )


def test_withdrawal_needs_a_confirmation(client, session):
    now = utcnow()
    make_sessions(now.date(), (now + dt.timedelta(days=90)).date())
    citizen = make_user("citizen")
    req = make_request(citizen, now=now)
    session.commit()
    login(client, citizen)
    status = client.get(f"/tongtong/requests/{req.code}").get_data(as_text=True)
    assert f'href="/tongtong/requests/{req.code}/withdraw"' in status
    assert "hx-get" in status
    # Without JS: a page; with htmx: the dialog fragment. Nothing is withdrawn by a GET.
    page = client.get(f"/tongtong/requests/{req.code}/withdraw")
    assert "신청을 철회할까요?" in page.get_data(as_text=True)
    assert "<html" in page.get_data(as_text=True)
    fragment = client.get(f"/tongtong/requests/{req.code}/withdraw", headers={"HX-Request": "true"})
    assert 'role="alertdialog"' in fragment.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    session.expire_all()
    assert session.get(MeetingRequest, req.id).status == "submitted"
    assert client.post(f"/tongtong/requests/{req.code}/withdraw").status_code == 302
    session.expire_all()
    assert session.get(MeetingRequest, req.id).status == "withdrawn"
    # Another citizen cannot even see the confirmation.
    client.post("/logout")
    login(client, make_user("citizen"))
    assert client.get(f"/tongtong/requests/{req.code}/withdraw").status_code == 404


def test_change_request_is_flagged_for_staff_and_moves_on_acceptance(client, session):
    now = utcnow()
    sessions = [
        s
        for s in make_sessions(now.date(), (now + dt.timedelta(days=120)).date())
        if s.start_at > now + dt.timedelta(days=2)
    ]
    staff = make_staff()
    citizen = make_user("citizen")
    req = make_request(citizen, now=now, preferred_session_ids=[sessions[0].id, sessions[1].id])
    booking = decide_mayor(session, req, actor=staff, now=now)
    make_request(make_user("citizen"), now=now)  # another request in the queue, unflagged
    session.commit()
    login(client, citizen)
    response = client.post(
        f"/tongtong/requests/{req.code}/session", data={"session_id": sessions[2].id}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "희망 회차를 바꿨습니다" not in page
    assert "담당자가 확인할 때까지 지금 예약은 그대로입니다" in page
    assert 'id="tt-change"' in page
    session.expire_all()
    assert session.get(MeetingRequest, req.id).active_booking.id == booking.id
    client.post("/logout")
    login(client, staff)
    queue = client.get("/staff/tongtong/requests").get_data(as_text=True)
    row = queue[queue.index(f'id="req-{req.id}"') :]
    row = row[: row.index("</tr>")]
    assert "회차 변경 요청" in row
    only = client.get("/staff/tongtong/requests?change=1").get_data(as_text=True)
    assert f'id="req-{req.id}"' in only
    assert only.count('<tr id="req-') == 1
    detail = client.get(f"/staff/tongtong/requests/{req.id}").get_data(as_text=True)
    assert 'id="change-request"' in detail
    preferred = detail[detail.index('id="tt-preferred"') :]
    preferred = preferred[: preferred.index("</dd>")]
    assert preferred.count("14:00") == 2  # the two sessions the citizen chose
    assert client.post(f"/staff/tongtong/requests/{req.id}/change/accept").status_code == 302
    session.expire_all()
    moved = session.get(MeetingRequest, req.id)
    assert moved.active_booking.session_id == sessions[2].id
    assert moved.change_session_id is None
    queue = client.get("/staff/tongtong/requests").get_data(as_text=True)
    assert "tt-flag" not in queue


def test_closing_a_session_day_shows_the_conflict_then_shifts_or_cancels(client, session):
    from civic_app.notify.models import OutboxMessage
    from civic_app.workdays.models import ClosedDate

    now = utcnow()
    upcoming = [
        s
        for s in make_sessions(now.date(), (now + dt.timedelta(days=150)).date())
        if s.start_at > now + dt.timedelta(days=2)
    ]
    staff = make_staff()
    citizen = make_user("citizen", email="tt-close@example.com")
    req = make_request(citizen, now=now, preferred_session_ids=[upcoming[0].id])
    decide_mayor(session, req, actor=staff, now=now)
    session.commit()
    day = upcoming[0].start_at.astimezone(SEOUL).date()
    login(client, staff)
    first = client.post("/admin/workdays/closed", data={"c-day": day.isoformat(), "c-reason": "임시공휴일"})
    page = first.get_data(as_text=True)
    assert first.status_code == 200
    assert 'id="closure-conflict"' in page
    assert "확정된 면담 1건" in page
    assert session.scalar(select(func.count(ClosedDate.id))) == 0  # nothing saved yet
    saved = client.post(
        "/admin/workdays/closed",
        data={"c-day": day.isoformat(), "c-reason": "임시공휴일", "conflict_action": "shift"},
    )
    assert saved.status_code == 302
    session.expire_all()
    moved = session.get(TongtongSession, upcoming[0].id)
    assert moved.status == "scheduled"
    assert moved.start_at.astimezone(SEOUL).date() > day
    assert moved.moved_from == day
    mail = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == "tt-close@example.com")
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert "임시공휴일" in mail.payload["body"]
    assert "SEQUENCE:1" in mail.payload["attachments"][0]["content"]
    # A blackout range over the next session: cancelled, the citizen carried over.
    second_day = upcoming[1].start_at.astimezone(SEOUL).date()
    req2 = make_request(citizen, now=now, preferred_session_ids=[upcoming[1].id])
    decide_mayor(session, req2, actor=staff, now=now)
    session.commit()
    data = {
        "b-start_day": second_day.isoformat(),
        "b-end_day": second_day.isoformat(),
        "b-reason": "보궐선거",
    }
    assert 'id="closure-conflict"' in client.post("/admin/workdays/blackouts", data=data).get_data(
        as_text=True
    )
    assert (
        client.post("/admin/workdays/blackouts", data={**data, "conflict_action": "cancel"}).status_code
        == 302
    )
    session.expire_all()
    assert session.get(TongtongSession, upcoming[1].id).status == "cancelled"
    carried = session.get(MeetingRequest, req2.id)
    assert carried.status == "booked"
    assert carried.active_booking.session_id != upcoming[1].id  # the nearest session with a place
    # The public API no longer offers the closed day.
    body = client.get(f"/api/v1/tongtong-days?from={day.isoformat()}&to={second_day.isoformat()}").get_json()
    assert {i["date"]: i["status"] for i in body["items"]}.get(second_day.isoformat()) == "cancelled"
    assert day.isoformat() not in {i["date"] for i in body["items"]}


def test_department_work_queue_answers_followups_and_reminders(client, session, runner, monkeypatch):
    from civic_app.notify.models import OutboxMessage
    from tests.factories import make_department

    now = utcnow()
    make_sessions(now.date(), (now + dt.timedelta(days=90)).date())
    road, parks = make_department("도로과"), make_department("공원과")
    staff = make_staff()
    clerk = make_user("department", department=road, email="road-clerk@example.com")
    other = make_user("department", department=parks, email="parks-clerk@example.com")
    citizen = make_user("citizen", email="tt-dept@example.com")
    late = make_request(citizen, now=now - dt.timedelta(days=30))
    decide_written(
        session,
        late,
        route="referral",
        department=road,
        reason_code="department_matter",
        note="",
        actor=staff,
        now=now - dt.timedelta(days=29),
        due=(now - dt.timedelta(days=2)).date(),
    )
    fresh = make_request(citizen, now=now)
    decide_written(
        session,
        fresh,
        route="written",
        department=road,
        reason_code="department_matter",
        note="",
        actor=staff,
        now=now,
    )
    session.commit()
    login(client, clerk)
    page = client.get("/department/tongtong").get_data(as_text=True)
    assert page.index(late.code) < page.index(fresh.code)  # overdue first
    assert "기한 지남" in page
    assert client.get(f"/department/tongtong/requests/{late.id}").status_code == 200
    assert (
        client.get(f"/staff/tongtong/requests/{late.id}").status_code == 403
    )  # the staff page stays staff-only
    response = client.post(
        f"/department/tongtong/requests/{late.id}/answer/interim",
        data={"text": "설계 용역 중입니다.", "new_due": (now + dt.timedelta(days=20)).date().isoformat()},
    )
    assert response.status_code == 302
    assert (
        client.post(
            f"/department/tongtong/requests/{late.id}/answer/final", data={"text": "내년 설치합니다."}
        ).status_code
        == 302
    )
    session.expire_all()
    answered = session.get(MeetingRequest, late.id)
    assert answered.status == "answered"
    subjects = [
        m.payload["subject"]
        for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == "tt-dept@example.com")
        )
    ]
    assert any("중간 답변" in s for s in subjects)
    assert any("답변 안내" in s for s in subjects)
    # A follow-up of the department, overdue: listed, reminded to the department's own account.
    item = add_followup(
        session,
        answered,
        title="보도 설치 예산 편성",
        department=road,
        due_date=(now - dt.timedelta(days=1)).date(),
        local_budget=False,
        actor=staff,
        now=now,
    )
    session.commit()
    assert "보도 설치 예산 편성" in client.get("/department/tongtong").get_data(as_text=True)
    result = runner.invoke(args=["tongtong", "remind"])
    assert result.exit_code == 0, result.output
    reminders = session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == "road-clerk@example.com")
    ).all()
    assert any("보도 설치 예산 편성" in m.payload["subject"] for m in reminders)
    assert all("http://civic.test/department/tongtong" in m.payload["body"] for m in reminders)
    assert not session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == "parks-clerk@example.com")
    ).all()
    # Another department sees nothing of it.
    client.post("/logout")
    login(client, other)
    assert late.code not in client.get("/department/tongtong").get_data(as_text=True)
    assert client.get(f"/department/tongtong/requests/{late.id}").status_code == 404
    assert client.post(f"/department/tongtong/followups/{item.id}/done").status_code == 404
    client.post("/logout")
    login(client, clerk)
    assert client.post(f"/department/tongtong/followups/{item.id}/done").status_code == 302
    session.expire_all()
    assert session.get(type(item), item.id).status == "done"


def test_stats_compare_a_period_with_the_same_period_a_year_earlier(client, session):
    citizen = make_user("citizen")
    for when in ("2025-07-03", "2025-08-20", "2025-10-31", "2024-07-15", "2024-11-01", "2025-06-30"):
        day = dt.date.fromisoformat(when)
        make_request(citizen, now=dt.datetime(day.year, day.month, day.day, 3, 0, tzinfo=dt.UTC))
    session.commit()
    page = client.get("/tongtong/stats?from=2025-07-01&to=2025-10-31").get_data(as_text=True)
    assert "37건" not in page
    sentence = page[page.index('id="tt-period"') :]
    sentence = sentence[: sentence.index("</p>")]
    assert "2025년 7월 1일" in sentence
    assert "신청 3건" in sentence
    assert "2024년 7월 1일" in sentence
    assert "1건." in sentence
    assert client.get("/tongtong/stats?from=garbage&to=9999-99-99").status_code == 200


def test_dashboard_counts_a_session_held_only_with_a_held_record(client, session):
    from civic_app.dashboard.stats import plan_vs_actual

    rows = make_sessions(dt.date(2025, 10, 1), dt.date(2025, 11, 30))  # all in the past
    rows[0].status = "held"
    rows[1].status = "cancelled"
    session.commit()
    table = plan_vs_actual(session, now=utcnow())
    year = next(r for r in table["rows"] if r["year"] == 2025)
    assert year["tongtong_held"] == 1
    assert year["tongtong_cancelled"] == 1


def test_fallback_opens_a_slot_inline_reasons_per_decision_and_decided_requests_show_the_decision(
    client, session
):
    from tests.factories import make_host

    now = utcnow()
    make_sessions(now.date(), (now + dt.timedelta(days=60)).date())
    deputy = make_host("부시장", rank=2, person_name="이부시장", field="도로·교통")
    staff = make_staff()
    req = make_request(make_user("citizen"), now=now)
    session.commit()
    login(client, staff)
    page = client.get(f"/staff/tongtong/requests/{req.id}").get_data(as_text=True)
    assert 'id="decision"' not in page
    assert 'id="redecide"' not in page  # undecided: the four forms, open
    decline = page[page.index('id="d-reason_code"') :]
    decline = decline[: decline.index("</select>")]
    first_option = re.search(r'<option[^>]*value="([^"]+)"', decline).group(1)
    assert first_option == "out_of_scope"  # not "시장 직접 면담이 필요한 사안"
    assert "mayor_priority" not in decline
    assert 'id="new-slot"' in page
    # A reason of another decision type is refused.
    bad = client.post(
        f"/staff/tongtong/requests/{req.id}/decide/decline",
        data={"d-reason_code": "mayor_priority", "d-note": "x"},
    )
    assert bad.status_code == 400
    # No deputy slot yet: staff open one inline and book it in the same step.
    start = (now + dt.timedelta(days=5)).astimezone(SEOUL).replace(hour=10, minute=0, second=0, microsecond=0)
    response = client.post(
        f"/staff/tongtong/requests/{req.id}/decide/fallback",
        data={
            "f-slot_id": "0",
            "f-new_host_id": str(deputy.id),
            "f-new_start": start.strftime("%Y-%m-%dT%H:%M"),
            "f-new_minutes": "40",
            "f-reason_code": "field_host",
            "f-note": "도로 분야 부시장이 바로 답합니다.",
        },
    )
    assert response.status_code == 302
    session.expire_all()
    decided = session.get(MeetingRequest, req.id)
    assert decided.status == "booked"
    assert decided.active_booking.host_id == deputy.id
    assert decided.active_booking.start_at == start.astimezone(dt.UTC)
    assert decided.active_booking.end_at - decided.active_booking.start_at == dt.timedelta(minutes=40)
    # Decided: the decision is shown; changing it is folded away.
    page = client.get(f"/staff/tongtong/requests/{req.id}").get_data(as_text=True)
    box = page[page.index('id="decision"') :]
    box = box[: box.index("</div>")]
    assert "부시장 면담" in box
    assert "도로 분야 부시장이 바로 답합니다." in box
    assert '<details class="card" id="redecide">' in page


def test_admin_links_a_host_to_an_account_and_the_host_gets_briefings(client, session):
    from civic_app.dongs.models import Host
    from tests.factories import make_dong, make_host

    now = utcnow()
    make_sessions(now.date(), (now + dt.timedelta(days=60)).date())
    dong = make_dong("가온동")
    deputy = make_host("부시장", rank=2, person_name="이부시장")
    account = make_user("host", name="이부시장", email="deputy@example.com")
    citizen_only = make_user("citizen", email="not-a-host@example.com")
    staff = make_staff()
    earlier = make_request(
        make_user("citizen"), now=now - dt.timedelta(days=90), dong_id=dong.id, topic="가온동 가로등"
    )
    req = make_request(
        make_user("citizen", name="홍길순"),
        now=now,
        dong_id=dong.id,
        is_group=True,
        party_size=6,
        accessibility="휠체어 이용",
        desired_outcome="통학로에 보도를 놓아 주세요.",
    )
    from tests.factories_meetings import make_host_slot

    slot = make_host_slot(deputy, now + dt.timedelta(days=3))
    decide_fallback(session, req, slot=slot, reason_code="field_host", note="도로 분야", actor=staff, now=now)
    admin = make_user("admin")
    session.commit()
    login(client, admin)
    form = client.get(f"/admin/hosts/{deputy.id}").get_data(as_text=True)
    assert "deputy@example.com" in form
    assert "not-a-host@example.com" not in form
    data = {"title": "부시장", "person_name": "이부시장", "rank": "2", "department_id": "0", "active": "y"}
    assert (
        client.post(f"/admin/hosts/{deputy.id}", data={**data, "user_id": str(citizen_only.id)}).status_code
        == 400
    )
    assert (
        client.post(f"/admin/hosts/{deputy.id}", data={**data, "user_id": str(account.id)}).status_code == 302
    )
    session.expire_all()
    assert session.get(Host, deputy.id).user_id == account.id
    client.post("/logout")
    login(client, account)
    schedule_page = client.get("/host/tongtong").get_data(as_text=True)
    assert req.code in schedule_page
    briefing = client.get(f"/host/tongtong/briefings/{req.active_booking.id}")
    assert briefing.status_code == 200
    text = briefing.get_data(as_text=True)
    for expected in ("통학로에 보도를 놓아 주세요.", "휠체어 이용", "6", earlier.code, "가온동"):
        assert expected in text, expected
    assert "홍길순" not in text  # the host needs the matter, not the citizen's identity
    # Another host's account cannot read it.
    other = make_user("host", email="other-host@example.com")
    session.commit()
    client.post("/logout")
    login(client, other)
    assert client.get(f"/host/tongtong/briefings/{req.active_booking.id}").status_code == 404
