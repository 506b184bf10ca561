"""Unique-constraint races through HTTP: the user's ordinary outcome, never a 500 (issue 13).

The PostgreSQL tests send concurrent requests from threads (one test client and one app
context each, so one database connection each), released together by a barrier.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from civic_app.accounts.models import User
from civic_app.extensions import db
from civic_app.integrity.conflicts import conflict_for, is_unique_violation
from civic_app.meetings.models import MeetingRequest
from civic_app.meetings.review import decide_fallback, decide_mayor
from civic_app.timeutil import utcnow
from tests.factories import NOW, login, make_host, make_user
from tests.factories_meetings import make_host_slot, make_request, make_sessions, make_staff, next_session

REGISTER = {
    "name": "김시민",
    "email": "Same.Person@Example.com",
    "phone": "01098765432",
    "password": "a-long-password-1",
    "password_confirm": "a-long-password-1",
    "privacy_consent": "y",
}
SUBMISSION = {
    "topic": "통학로 보도 설치",
    "category": "도로·교통",
    "desired_outcome": "보도를 놓아 주세요.",
    "dong_id": "0",
    "party_size": "1",
    "consent": "y",
    "publish_consent": "y",
}


def at_once(calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls in threads released together; return their responses in order."""
    barrier = threading.Barrier(len(calls), timeout=60)
    out: list[object] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            out[i] = calls[i]()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert not errors, errors
    return out


def insert_user(session, email: str | None) -> None:
    with session.begin_nested():
        session.add(User(email=email, name="x", password_hash="x", created_at=NOW))
        session.flush()


def outcome(response) -> tuple[int, str | None, str]:
    """What the user gets: status, redirect target, and the page without per-request tokens."""
    body = response.get_data(as_text=True)
    body = re.sub(r'nonce="[^"]*"', 'nonce=""', body)
    body = re.sub(
        r'(name="csrf_token"[^>]*value=|csrf-token" content=|"X-CSRFToken": )"[^"]*"', r'\1""', body
    )
    return response.status_code, response.headers.get("Location"), body


@pytest.mark.postgres
def test_concurrent_submissions_by_several_citizens_are_all_saved(app, session):
    make_sessions()
    n = 12
    clients = []
    for k in range(n):
        client = app.test_client()
        assert login(client, make_user("citizen", email=f"citizen{k}@example.com")).status_code == 302
        clients.append(client)
    session.commit()
    responses = at_once(
        [
            lambda c=c, k=k: c.post("/tongtong/requests/new", data={**SUBMISSION, "topic": f"신청 {k}"})
            for k, c in enumerate(clients)
        ]
    )
    statuses = [r.status_code for r in responses]
    assert 500 not in statuses
    assert statuses == [302] * n
    session.expire_all()
    codes = session.scalars(select(MeetingRequest.code)).all()
    assert len(codes) == n
    assert len(set(codes)) == n
    assert sorted({r.headers["Location"].rsplit("/", 1)[1] for r in responses}) == sorted(codes)


@pytest.mark.postgres
def test_concurrent_registrations_with_one_email_give_one_account_and_the_ordinary_answer(app, session):
    n = 6
    clients = [app.test_client() for _ in range(n)]
    responses = at_once([lambda c=c: c.post("/register", data=REGISTER) for c in clients])
    assert 500 not in [r.status_code for r in responses]
    session.expire_all()
    assert session.scalar(select(func.count(User.id)).where(User.email == "same.person@example.com")) == 1
    # The ordinary answers, sent one at a time: the same form again once the account exists,
    # and a first registration with another address.
    ordinary = outcome(app.test_client().post("/register", data=REGISTER))
    fresh = outcome(app.test_client().post("/register", data={**REGISTER, "email": "other@example.com"}))
    answers = [outcome(r) for r in responses]
    assert all(a in (ordinary, fresh) for a in answers), [a[:2] for a in answers]
    # Everyone but the one who created the account got the ordinary duplicate answer (when the
    # app answers a duplicate exactly like a new account, that is everyone).
    assert sum(a == ordinary for a in answers) >= n - 1


def test_a_duplicate_the_database_refuses_becomes_a_conflict_not_a_bug(app, session):
    make_user("citizen", email="taken@example.com")
    session.commit()
    with pytest.raises(IntegrityError) as info:
        insert_user(session, "taken@example.com")
    assert is_unique_violation(info.value, "users", "email")
    conflict = conflict_for(info.value)
    assert conflict is not None
    assert conflict.status_code == 409
    assert "taken@example.com" not in conflict.message  # says nothing about whose e-mail
    with pytest.raises(IntegrityError) as bug:
        insert_user(session, None)
    assert conflict_for(bug.value) is None  # a NOT NULL violation is a bug: it stays a 500


def test_an_unforeseen_race_in_a_view_is_a_korean_409_page(app: Flask, session):
    make_user("citizen", email="taken@example.com")
    session.commit()
    with app.test_request_context("/anything", method="POST"):
        try:
            session.add(User(email="taken@example.com", name="x", password_hash="x", created_at=NOW))
            session.flush()
        except IntegrityError as error:
            response = app.make_response(app.handle_user_exception(error))
        else:
            pytest.fail("the duplicate was accepted")
    assert response.status_code == 409
    assert "다른 사람이 먼저 바꾸었거나 이미 처리된 요청입니다" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == 1  # rolled back cleanly
    with app.test_request_context("/api/v1/anything", method="POST"):
        try:
            session.add(User(email="taken@example.com", name="x", password_hash="x", created_at=NOW))
            session.flush()
        except IntegrityError as error:
            response = app.make_response(app.handle_user_exception(error))
    assert response.status_code == 409
    assert response.get_json()["error"]["status"] == 409


def test_losing_a_deputy_slot_names_the_hosts_next_free_slot(client, session):
    staff = make_staff()
    deputy = make_host("부시장", rank=2)
    start = utcnow().replace(microsecond=0) + dt.timedelta(days=3)
    taken = make_host_slot(deputy, start)
    make_host_slot(deputy, start + dt.timedelta(hours=2))
    winner, loser = make_request(make_user("citizen")), make_request(make_user("citizen"))
    decide_fallback(session, winner, slot=taken, reason_code="field_host", note="답변", actor=staff, now=NOW)
    login(client, staff)
    data = {"f-slot_id": str(taken.id), "f-reason_code": "field_host", "f-note": "부시장이 답합니다."}
    response = client.post(f"/staff/tongtong/requests/{loser.id}/decide/fallback", data=data)
    assert response.status_code == 302  # at once, without rendering the whole review page
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "방금 다른 신청에 배정되었습니다. 부시장의 다음 빈 시간은" in page
    assert session.get(MeetingRequest, loser.id).status == "submitted"  # nothing half-done


def test_losing_a_mayor_slot_names_the_sessions_free_slots(client, session):
    make_sessions(dt.date(2026, 11, 1), dt.date(2027, 6, 30))
    staff = make_staff()
    tsession = next_session(utcnow() + dt.timedelta(days=2))
    taken = tsession.slots[0]
    winner, loser = make_request(make_user("citizen")), make_request(make_user("citizen"))
    decide_mayor(session, winner, actor=staff, now=NOW, slot=taken)
    login(client, staff)
    data = {"m-slot_id": str(taken.id), "m-reason_code": "mayor_priority"}
    response = client.post(f"/staff/tongtong/requests/{loser.id}/decide/mayor", data=data)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "고른 시간은 방금 찼습니다" in page
    assert "이 회차의 남은 시간은" in page
    assert session.get(MeetingRequest, loser.id).status == "waitlisted"
