"""Resident commands in private chat, answered by the real bot process via getUpdates."""

from __future__ import annotations

import datetime as dt

import pytest

from civic_app.telegram import services
from civic_app.telegram.models import TelegramChat, TelegramSubscription
from tests.bots.telegram_html import validate
from tests.factories import NOW, make_dong, make_user


def _replies(api, chat_id: int) -> list[str]:
    texts = api.texts_to(str(chat_id))
    for text in texts:
        validate(text)
    return texts


def _request(session, meetings, user, code: str, topic: str):
    row = meetings.MeetingRequest(
        code=code,
        requester_id=user.id,
        requester_name=user.name,
        requester_phone=user.phone,
        topic=topic,
        category="도로·교통",
        desired_outcome="정비",
        consent_at=NOW,
        consent_version="2026-11",
        queue_since=NOW,
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(row)
    session.flush()
    return row


def test_commands_answer_in_korean_and_in_english_after_lang(app, session, fake_api, run_bot):
    make_dong("중앙동")
    for text in [
        "/start",
        "/next",
        "/visits",
        "/visits 중앙",
        "/dong 중앙동",
        "/subscribe 중앙동",
        "/subscribe 중앙동",
        "/unsubscribe 중앙동",
        "/dong 없는동",
        "/status",
        "/lang en",
        "/help",
        "/subscribe@civic_test_bot 중앙동",
        "/status",
        "/what",
    ]:
        fake_api.add_private_message(9001, text)
    result = run_bot()
    assert result.returncode == 0, result.stderr
    assert "replies=15" in result.stdout
    replies = _replies(fake_api, 9001)
    assert len(replies) == 15
    start, nxt, visits, visits_dong, dong, sub, sub_again, unsub, missing, status = replies[:10]
    assert "/next" in start
    assert "/status" in start
    assert "다가오는 통통데이" in nxt
    assert "14:00" in nxt  # 2nd/4th Thursday sessions at 14:00
    assert 'href="http://civic.test/tongtong/requests/new"' in nxt or 'href="http://civic.test/' in nxt
    assert "예정된 현장 방문" in visits
    assert "중앙동 현장 방문 일정" in visits_dong
    assert "중앙동 동 관리카드" in dong
    assert "구독했습니다" in sub
    assert "이미" in sub_again
    assert "해지했습니다" in unsub
    assert "찾을 수 없습니다" in missing
    assert "먼저 계정을 연결해 주세요" in status
    lang, help_en, sub_en, status_en, unknown = replies[10:]
    assert "English" in lang
    assert "Tongtong" in help_en
    assert "subscribed" in sub_en
    assert "link your account first" in status_en
    assert "Unknown command" in unknown
    chat = session.query(TelegramChat).filter_by(chat_id="9001").one()
    assert chat.locale == "en"
    assert session.query(TelegramSubscription).filter_by(chat_pk=chat.id).count() == 1
    assert chat.user_id is None

    # Updates are acknowledged: a second run answers nothing again.
    again = run_bot()
    assert "replies=0" in again.stdout
    assert len(fake_api.texts_to("9001")) == 15


def test_status_only_after_linking_and_only_own_requests(app, session, fake_api, run_bot):
    meetings = pytest.importorskip("civic_app.meetings.models")
    alice = make_user("citizen", name="한가람", phone="010-2222-3333")
    bob = make_user("citizen", name="오세린")
    _request(session, meetings, alice, "TT-2026-0101", "가로등 설치 010-2222-3333")
    _request(session, meetings, bob, "TT-2026-0102", "버스 노선 조정")
    code = services.create_link_code(session, alice, now=dt.datetime.now(dt.UTC))
    fake_api.add_private_message(9002, "/status")
    fake_api.add_private_message(9002, f"/link {code.lower()}")
    fake_api.add_private_message(9002, "/status")
    fake_api.add_private_message(9003, f"/start {code}")  # a used code links nobody else
    fake_api.add_private_message(9003, "/status")
    result = run_bot()
    assert result.returncode == 0, result.stderr
    before, linked, status = _replies(fake_api, 9002)
    assert "먼저 계정을 연결해 주세요" in before
    assert "계정을 연결했습니다" in linked
    assert "TT-2026-0101" in status
    assert "가로등 설치" in status
    assert "2222-3333" not in status  # masked, and the guard would stop it anyway
    assert "TT-2026-0102" not in status
    assert "한가람" not in status
    refused, other_status = _replies(fake_api, 9003)
    assert "맞지 않거나 만료" in refused
    assert "먼저 계정을 연결해 주세요" in other_status
    assert services.linked_chat(session, alice).chat_id == "9002"
    assert services.linked_chat(session, bob) is None


def test_expired_codes_do_not_link(app, session):
    user = make_user("citizen")
    code = services.create_link_code(session, user, now=NOW)
    chat = services.get_or_create_chat(session, "9100", now=NOW)
    from civic_app.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.link_chat(session, chat, code, now=NOW + dt.timedelta(minutes=16))
    fresh = services.create_link_code(session, user, now=NOW)
    assert services.link_chat(session, chat, fresh, now=NOW + dt.timedelta(minutes=1)) == user
    with pytest.raises(ValidationFailed):  # one time only
        services.link_chat(session, chat, fresh, now=NOW + dt.timedelta(minutes=2))


def test_a_failing_getupdates_does_not_stop_delivery(app, session, fake_api, run_bot):
    from tests.factories_telegram import queue

    row = queue("card_done")
    fake_api.add_private_message(9200, "/help")
    fake_api.fail("getUpdates", 409, count=1, description="Conflict: terminated by other getUpdates request")
    result = run_bot()
    assert result.returncode == 0, result.stderr
    assert "getUpdates failed" in result.stderr
    session.expire_all()
    assert row.status == "sent"
    assert fake_api.texts_to("9200") == []
    assert "replies=1" in run_bot().stdout  # answered on the next run


ODD_PHONES = (
    "+82 10 1234 5678",
    "82-10-1234-5678",
    "010 - 1234 - 5678",
    "(010)1234-5678",
    "010–1234–5678",
    "０１０-１２３４-５６７８",
    "010_1234_5678",
    "010/1234/5678",
)


def test_status_reply_never_carries_the_citizens_own_phone_number(app, session, fake_api, run_bot):
    """Issue 12, finding 8: the citizen's phone in an odd shape reached their /status reply."""
    from tests.privacy_search import hits

    meetings = pytest.importorskip("civic_app.meetings.models")
    citizen = make_user("citizen", name="홍길동", phone="010-1234-5678", email="hong.gildong@example.com")
    for n, phone in enumerate(ODD_PHONES):
        _request(session, meetings, citizen, f"TT-2026-02{n:02d}", f"가로등 설치 {phone} 홍 길동")
    code = services.create_link_code(session, citizen, now=dt.datetime.now(dt.UTC))
    fake_api.add_private_message(9004, f"/link {code}")
    fake_api.add_private_message(9004, "/status")
    result = run_bot()
    assert result.returncode == 0, result.stderr
    _linked, status = _replies(fake_api, 9004)
    for n in range(len(ODD_PHONES)):
        assert f"TT-2026-02{n:02d}" in status  # answered, not withheld
    assert status.count("가로등 설치") == len(ODD_PHONES)
    assert hits(status, name="홍길동", phone="010-1234-5678", email="hong.gildong@example.com") == []
