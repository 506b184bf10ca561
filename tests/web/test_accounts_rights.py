"""Issue 12, finding 9: a citizen downloads their data and deletes their account (회원 탈퇴)."""

from __future__ import annotations

import json

from sqlalchemy import select

from civic_app.accounts.models import User
from civic_app.audit.models import AuditLog
from civic_app.extensions import db
from civic_app.meetings.models import MeetingRequest, RequestEvent
from civic_app.meetings.review import decide_mayor
from civic_app.notify.models import OutboxMessage
from civic_app.telegram.models import TelegramChat
from tests.factories import NOW, PASSWORD, login, make_user
from tests.factories_meetings import make_mayor, make_request, make_sessions, make_staff

PII = ("홍길동", "010-1234-5678", "hong@example.com")


def _citizen():
    return make_user("citizen", name="홍길동", email="hong@example.com", phone="010-1234-5678")


def _audit(action: str) -> list[AuditLog]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)))


def test_citizen_downloads_their_data_as_json_and_it_is_logged(client, session):
    citizen = _citizen()
    make_request(citizen, topic="통학로 보도 설치")
    session.add(TelegramChat(chat_id="777", user_id=citizen.id, locale="ko", created_at=NOW, updated_at=NOW))
    session.commit()
    login(client, citizen)
    page = client.get("/account").get_data(as_text=True)
    assert "내 정보 내려받기 (JSON)" in page
    assert "/account/delete" in page
    response = client.post("/account/data")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "hong@example.com"
    assert data["account"]["phone"] == "010-1234-5678"
    assert data["account"]["privacy_consent_at"]
    [req] = data["tongtong_requests"]
    assert (req["topic"], req["requester_name"]) == ("통학로 보도 설치", "홍길동")
    assert req["timeline"]
    assert data["telegram"]["chat_id"] == "777"
    [entry] = _audit("account.export")
    assert (entry.actor_id, entry.target_id) == (citizen.id, str(citizen.id))
    # A GET (a link from another site) downloads nothing.
    assert client.get("/account/data").status_code == 405


def test_account_deletion_needs_the_password_and_the_confirmation(client, session):
    citizen = _citizen()
    session.commit()
    login(client, citizen)
    assert "탈퇴하기" in client.get("/account/delete").get_data(as_text=True)
    wrong = client.post("/account/delete", data={"password": "not-my-password", "confirm": "y"})
    assert wrong.status_code == 400
    assert "비밀번호가 맞지 않습니다." in wrong.get_data(as_text=True)
    unconfirmed = client.post("/account/delete", data={"password": PASSWORD})
    assert unconfirmed.status_code == 400
    assert "되돌릴 수 없다는 안내를 확인해 주세요" in unconfirmed.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, citizen.id).anonymized_at is None
    assert _audit("account.delete") == []


def test_deleting_the_account_destroys_personal_data_withdraws_requests_and_tells_staff(
    app, client, session, monkeypatch
):
    monkeypatch.setitem(app.config, "TONGTONG_STAFF_EMAIL", "tongtong-office@city.example.kr")
    make_mayor()
    make_sessions()
    staff = make_staff()
    citizen = _citizen()
    booked = make_request(citizen, topic="통학로 보도 설치", accessibility="휠체어 사용")
    decide_mayor(session, booked, actor=staff, now=NOW)
    held = make_request(citizen, topic="공원 조명")
    held.status, held.public_summary = "held", "공원 조명을 늘리기로 했습니다."
    session.add(TelegramChat(chat_id="777", user_id=citizen.id, locale="ko", created_at=NOW, updated_at=NOW))
    session.commit()
    assert booked.status == "booked"
    login(client, citizen)
    response = client.post("/account/delete", data={"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()

    user = db.session.get(User, citizen.id)
    assert user.anonymized_at is not None
    assert not user.is_active
    assert (user.name, user.phone) == ("(파기됨)", None)
    assert "hong" not in user.email
    # Requests: the one in progress is withdrawn, contact details destroyed, the public record kept.
    booked, held = db.session.get(MeetingRequest, booked.id), db.session.get(MeetingRequest, held.id)
    assert booked.status == "withdrawn"
    assert booked.active_booking is None
    assert held.status == "held"
    assert held.public_summary == "공원 조명을 늘리기로 했습니다."
    for req in (booked, held):
        assert (req.requester_name, req.requester_phone, req.requester_email) == ("(파기됨)", None, None)
        assert req.accessibility is None
    notes = [
        e.note for e in db.session.scalars(select(RequestEvent).where(RequestEvent.request_id == booked.id))
    ]
    assert "회원 탈퇴로 신청이 철회되었습니다." in notes
    # Staff are told (the office mailbox), without personal data.
    [notice] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "tongtong_withdrawn_account_deleted")
    ).all()
    assert notice.recipient == "tongtong-office@city.example.kr"
    assert booked.code in notice.payload["body"]
    # No e-mail in the outbox keeps the address or the name; the Telegram link is gone.
    for mail in db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email")):
        text = json.dumps([mail.recipient, mail.payload], ensure_ascii=False)
        assert not [p for p in PII if p in text], text
    assert db.session.scalar(select(TelegramChat).where(TelegramChat.chat_id == "777")) is None
    # The session ends and the old password no longer signs in.
    assert client.get("/account").status_code == 302
    assert client.post("/login", data={"email": "hong@example.com", "password": PASSWORD}).status_code == 400
    [entry] = _audit("account.delete")
    assert entry.actor_id == citizen.id
    assert "tongtong_requests" in entry.detail["hooks"]


def test_staff_accounts_cannot_delete_themselves(client, session):
    staff = make_user("civic_staff")
    session.commit()
    login(client, staff)
    assert "/account/delete" not in client.get("/account").get_data(as_text=True)
    response = client.post("/account/delete", data={"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, staff.id).anonymized_at is None
