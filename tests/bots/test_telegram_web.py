"""Staff approval queue, per-kind settings and the citizen's linking page."""

from __future__ import annotations

import re

from sqlalchemy import select

from civic_app.notify.models import OutboxMessage
from civic_app.telegram import policy, services
from tests.factories import NOW, PASSWORD, login, make_user
from tests.factories_telegram import queue, queue_raw, sample_payload


def _staff(client):
    user = make_user("civic_staff", name="담당자")
    login(client, user)
    return user


def test_settings_switch_a_kind_to_approval(app, session, client):
    _staff(client)
    assert policy.needs_approval(session, "visit_result") is False
    response = client.post("/staff/telegram/settings", data={"approval": ["visit_result", "card_done"]})
    assert response.status_code == 302
    assert policy.needs_approval(session, "visit_result") is True
    assert policy.needs_approval(session, "tongtong_summary") is False
    assert queue("visit_result").status == "pending_approval"
    assert queue("tongtong_summary").status == "queued"
    page = client.get("/staff/telegram/settings").get_data(as_text=True)
    assert 'value="visit_result" checked' in page


def test_pending_message_can_be_edited_then_approved(app, session, client):
    _staff(client)
    policy_row = client.post("/staff/telegram/settings", data={"approval": ["card_done"]})
    assert policy_row.status_code == 302
    row = queue("card_done", payload={**sample_payload("card_done"), "title": "오타 있는 제목"})
    listing = client.get("/staff/telegram?tab=pending").get_data(as_text=True)
    assert "오타 있는 제목" in listing
    detail = client.get(f"/staff/telegram/{row.id}").get_data(as_text=True)
    assert "미리 보기" in detail
    assert "&lt;b&gt;" in detail  # the Telegram HTML is shown as text
    edited = client.post(
        f"/staff/telegram/{row.id}",
        data={"title": "고친 제목 & <태그>", "summary": "새 요약", "lines": "하나\n\n둘"},
    )
    assert edited.status_code == 302
    session.expire_all()
    assert row.payload["title"] == "고친 제목 & <태그>"
    assert row.payload["lines"] == ["하나", "둘"]
    assert client.post(f"/staff/telegram/{row.id}/approve").status_code == 302
    session.expire_all()
    assert row.status == "queued"
    assert client.post(f"/staff/telegram/{row.id}", data={"title": "x"}).status_code == 409


def test_failed_message_shows_the_error_and_can_be_retried(app, session, client):
    _staff(client)
    row = queue_raw("card_done", sample_payload("card_done"), status="failed")
    row.last_error = "Telegram 요청 거부 (BadRequest): Chat not found"
    row.attempts = 1
    session.commit()
    page = client.get("/staff/telegram?tab=failed").get_data(as_text=True)
    assert "Chat not found" in page
    assert client.post(f"/staff/telegram/{row.id}/retry").status_code == 302
    session.expire_all()
    assert row.status == "queued"
    assert row.attempts == 0


def test_withdrawing_a_sent_post_queues_its_deletion(app, session, client):
    _staff(client)
    row = queue_raw("card_done", sample_payload("card_done"), status="sent", subject_ref="card:3")
    row.external_message_id = "555"
    session.commit()
    assert client.post(f"/staff/telegram/{row.id}/withdraw").status_code == 302
    session.expire_all()
    assert row.status == "withdrawn"
    deletion = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "telegram_delete"))
    assert deletion.payload["message_id"] == "555"
    assert deletion.status == "queued"
    assert "채널 게시물 삭제" in client.get("/staff/telegram?tab=queued").get_data(as_text=True)


def test_withdrawing_an_unsent_message_needs_no_deletion(app, session, client):
    _staff(client)
    row = queue("card_done")
    session.commit()
    client.post(f"/staff/telegram/{row.id}/withdraw")
    session.expire_all()
    assert row.status == "withdrawn"
    assert session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "telegram_delete")) is None


def test_queue_is_staff_only(app, session, client):
    citizen = make_user("citizen")
    login(client, citizen)
    assert client.get("/staff/telegram").status_code == 403
    assert client.get("/staff/telegram/settings").status_code == 403
    row = queue("card_done")
    session.commit()
    assert client.post(f"/staff/telegram/{row.id}/withdraw").status_code == 403
    session.expire_all()
    assert row.status == "queued"


def test_state_changes_need_csrf(app, session, client, csrf_app):
    row = queue("card_done")
    staff = make_user("civic_staff")
    session.commit()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', login_page
    )
    token = token.group(1) or token.group(2)
    client.post("/login", data={"email": staff.email, "password": PASSWORD, "csrf_token": token})
    assert client.get("/staff/telegram").status_code == 200
    assert client.post(f"/staff/telegram/{row.id}/withdraw").status_code == 400  # no token
    session.expire_all()
    assert row.status == "queued"


def test_citizen_gets_a_one_time_code_on_the_account_page(app, session, client):
    citizen = make_user("citizen")
    login(client, citizen)
    home = client.get("/").get_data(as_text=True)
    assert "/account/telegram" in home  # nav entry for signed-in citizens
    page = client.get("/account/telegram")
    assert page.status_code == 200
    assert "연결되지 않음" in page.get_data(as_text=True)
    issued = client.post("/account/telegram/code")
    assert issued.headers["Cache-Control"] == "no-store"
    code = re.search(r"/link ([A-Z0-9]{4}-[A-Z0-9]{4})", issued.get_data(as_text=True)).group(1)
    chat = services.get_or_create_chat(session, "4242", now=NOW)
    assert services.link_chat(session, chat, code, now=NOW) == citizen
    linked = client.get("/account/telegram").get_data(as_text=True)
    assert "연결됨" in linked
    assert client.post("/account/telegram/unlink").status_code == 302
    assert services.linked_chat(session, citizen) is None
