"""Follow (구독) end to end: the real SMTP path (a local SMTP server), the real bot process
(against the local fake Bot API) and the bot's /follow, /unfollow and /following."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from sqlalchemy import select

from civic_app.cards import transitions as cards
from civic_app.follow import services
from civic_app.follow.models import Follow
from civic_app.notify import mailer
from civic_app.telegram import services as telegram
from tests.bots.telegram_html import validate
from tests.factories import NOW, make_user
from tests.factories_cards import Cast, make_item, review_all


def _deliver_mail(session, smtp_server) -> dict:
    session.commit()
    config = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_server.port,
        "MAIL_FROM": "시민소통실 <no-reply@civic.test>",
    }
    return mailer.deliver_once(session, config, now_fn=lambda: NOW + dt.timedelta(minutes=5))


def _to(smtp_server, address: str) -> list:
    return [m for m in smtp_server.messages if m["To"] == address]


def test_a_dong_follower_gets_one_email_and_one_telegram_message_per_change_none_after_unsubscribing(
    app, session, client, fake_api, run_bot, smtp_server
):
    cast = Cast()
    services.follow_by_email(
        session,
        kind="dong",
        target_id=cast.dong.id,
        email=cast.citizen.email,
        frequency="immediate",
        locale="ko",
        now=NOW,
        user=cast.citizen,
    )
    fake_api.add_private_message(9301, "/follow 중앙동")
    assert run_bot().returncode == 0
    [reply] = fake_api.texts_to("9301")
    assert "구독했습니다" in reply

    item = make_item(cast, title="중앙시장 골목 보안등 설치")
    cards.move(session, item, "under_review", actor=cast.staff, now=NOW)
    assert _deliver_mail(session, smtp_server)["sent"] == 1
    [mail] = _to(smtp_server, cast.citizen.email)
    assert "중앙시장 골목 보안등 설치" in mail["Subject"]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = mail["List-Unsubscribe"].strip("<>")
    assert one_click.startswith("http://civic.test/follow/unsubscribe/")
    body = mail.get_body(("plain",)).get_content()
    assert "구독 해지: http://civic.test/follow/unsubscribe/" in body

    result = run_bot()
    assert result.returncode == 0, result.stderr
    messages = fake_api.texts_to("9301")[1:]
    assert len(messages) == 1
    validate(messages[0])
    assert "중앙시장 골목 보안등 설치" in messages[0]
    assert "/unfollow 중앙동" in messages[0]

    # Nothing is sent twice: another delivery round sends nothing new.
    assert _deliver_mail(session, smtp_server)["sent"] == 0
    run_bot()
    assert len(fake_api.texts_to("9301")) == 2

    # Unsubscribe: the mail client's one-click POST (no cookie, no CSRF token), and /unfollow.
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(urlsplit(one_click).path, data={"List-Unsubscribe": "One-Click"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 200
    fake_api.add_private_message(9301, "/unfollow 중앙동")
    run_bot()
    assert "해지했습니다" in fake_api.texts_to("9301")[-1]
    session.expire_all()
    assert session.scalars(select(Follow)).all() == []

    review_all(cast, item)
    cards.select_item(session, item, actor=cast.policy, now=NOW)
    assert _deliver_mail(session, smtp_server)["sent"] == 0
    run_bot()
    assert len(_to(smtp_server, cast.citizen.email)) == 1
    assert len(fake_api.texts_to("9301")) == 3  # only the /unfollow reply came after


def test_follow_commands(app, session, fake_api, run_bot):
    cast = Cast()
    item = make_item(cast, title="어린이공원 그늘막")
    from tests.factories_meetings import make_request

    owner = make_user("citizen", name="김민원", email="owner@example.com")
    req = make_request(owner)
    code = telegram.create_link_code(session, owner, now=dt.datetime.now(dt.UTC))
    for text in [
        "/help",
        "/follow",
        "/follow 중앙동",
        "/follow 중앙",
        f"/follow #{item.id} 주간",
        "/follow 없는동",
        f"/follow {req.code}",
        "/following",
        "/unfollow 중앙동",
        "/unfollow 중앙동",
        "/following",
    ]:
        fake_api.add_private_message(9401, text)
    fake_api.add_private_message(9402, f"/link {code}")
    fake_api.add_private_message(9402, f"/follow {req.code}")
    fake_api.add_private_message(9402, "/lang en")
    fake_api.add_private_message(9402, "/following")
    result = run_bot()
    assert result.returncode == 0, result.stderr
    replies = fake_api.texts_to("9401")
    for text in replies:
        validate(text)
    help_, usage, followed, again, weekly, missing, not_owner, listing, removed, not_following, after = (
        replies
    )
    assert "/follow" in help_
    assert "/following" in help_
    assert "예: /follow 중앙동" in usage
    assert "동 '중앙동'을(를) 구독했습니다 (바로 받기)" in followed
    assert "이미" in again
    assert "어린이공원 그늘막" in weekly
    assert "주간 요약" in weekly
    assert "찾을 수 없습니다" in missing
    assert "본인만" in not_owner
    assert "중앙동" in listing
    assert "어린이공원 그늘막" in listing
    assert req.code not in listing
    assert "해지했습니다" in removed
    assert "구독하고 있지 않습니다" in not_following
    assert "중앙동" not in after
    assert "어린이공원 그늘막" in after

    _linked, owner_follow, _lang, owner_list = fake_api.texts_to("9402")
    assert "구독했습니다" in owner_follow
    assert req.code in owner_list
    assert "Following" in owner_list  # the chat's language
    session.expire_all()
    rows = session.scalars(select(Follow).order_by(Follow.id)).all()
    assert [(r.target_kind, r.frequency, r.channel) for r in rows] == [
        ("card_item", "weekly", "telegram"),
        ("request", "immediate", "telegram"),
    ]
    assert rows[1].user_id == owner.id
