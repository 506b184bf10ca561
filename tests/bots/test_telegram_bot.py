"""The bot (``python -m bots.telegram_bot --once``) against the fake Bot API: as a real process
for the command line end to end, without a token and in continuous mode; in the test process
(``run_bot``) for what it delivers."""

from __future__ import annotations

import subprocess

from sqlalchemy import select

from civic_app.notify.models import OutboxMessage
from civic_app.telegram import services
from civic_app.telegram.models import TelegramChat
from civic_app.telegram.render import KINDS
from tests.bots.conftest import CHANNEL, ROOT, bot_command, bot_env
from tests.bots.telegram_html import validate
from tests.factories import NOW, make_dong, make_user
from tests.factories_telegram import queue, sample_payload


def _rows(session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_once_delivers_every_kind_to_the_channel(app, session, fake_api, run_bot_process):
    """The command line end to end, in a process of its own: the module's import-time setup
    included (python-telegram-bot's deprecations handled)."""
    rows = [queue(kind, subject_ref=f"{kind}:1") for kind in KINDS]
    result = run_bot_process()
    assert result.returncode == 0, result.stderr
    assert "sent=6" in result.stdout
    assert "Warning" not in result.stderr  # python-telegram-bot deprecations are handled, not hidden
    posts = fake_api.channel_posts(CHANNEL)
    assert len(posts) == len(KINDS)
    for row, post in zip(rows, sorted(posts, key=lambda p: p.message_id), strict=True):
        assert row.payload["title"] in post.text
        validate(post.text)
    for row in _rows(session):
        assert row.status == "sent"
        assert row.external_message_id
        assert row.sent_at is not None
    sends = fake_api.accepted("sendMessage")
    assert all(r.params["parse_mode"] == "HTML" for r in sends)


def test_without_a_token_the_bot_says_so_and_exits_non_zero(app, session, database_url):
    queue("card_done")
    session.commit()
    env = bot_env(database_url, None)
    env.pop("TELEGRAM_BOT_TOKEN")
    done = subprocess.run(
        bot_command("--once"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0
    assert "TELEGRAM_BOT_TOKEN" in done.stderr
    assert _rows(session)[0].status == "queued"  # still waiting for a bot


def test_a_correction_edits_the_post_and_a_withdrawal_deletes_it(app, session, fake_api, run_bot):
    staff = make_user("civic_staff")
    first = queue(
        "card_done", subject_ref="card:7", payload={**sample_payload("card_done"), "title": "완료 v1"}
    )
    assert run_bot().returncode == 0
    correction = queue(
        "card_done", subject_ref="card:7", payload={**sample_payload("card_done"), "title": "완료 v2"}
    )
    result = run_bot()
    assert "edited=1" in result.stdout, result.stderr
    posts = fake_api.channel_posts(CHANNEL)
    assert len(posts) == 1
    assert "완료 v2" in posts[0].text
    assert posts[0].edits
    assert "완료 v1" in posts[0].edits[0]
    session.expire_all()
    assert correction.external_message_id == first.external_message_id == str(posts[0].message_id)

    services.withdraw(session, correction, actor=staff, now=NOW)
    result = run_bot()
    assert "deleted=1" in result.stdout, result.stderr
    assert fake_api.channel_posts(CHANNEL)[0].deleted
    statuses = {r.id: r.status for r in _rows(session)}
    assert statuses[first.id] == statuses[correction.id] == "withdrawn"


def test_a_planted_phone_number_is_never_sent(app, session, fake_api, run_bot):
    leaky = queue(
        "visit_result", payload={**sample_payload("visit_result"), "summary": "연락처 010-9876-5432"}
    )
    clean = queue("visit_result")
    result = run_bot()
    assert result.returncode == 0
    assert "blocked=1" in result.stdout
    texts = [p.text for p in fake_api.channel_posts()]
    assert len(texts) == 1
    assert clean.payload["title"] in texts[0]
    assert all("9876" not in t for t in texts)
    session.expire_all()
    assert leaky.status == "failed"
    assert "전화번호" in leaky.last_error
    assert "9876-5432" not in leaky.last_error


def test_a_citizens_name_in_a_post_fails_it_for_review(app, session, fake_api, run_bot):
    make_user("citizen", name="정다은")
    row = queue(
        "tongtong_summary", payload={**sample_payload("tongtong_summary"), "summary": "정다은 님의 제안"}
    )
    run_bot()
    assert fake_api.calls("sendMessage") == []
    session.expire_all()
    assert row.status == "failed"
    assert "요청자 이름" in row.last_error


def test_subscribers_get_their_dongs_news_directly(app, session, fake_api, run_bot):
    dong = make_dong("중앙동")
    chat = TelegramChat(chat_id="777001", locale="en", created_at=NOW, updated_at=NOW)
    session.add(chat)
    session.flush()
    services.subscribe(session, chat, dong, now=NOW)
    queue("card_done")  # payload dong_name 중앙동
    queue("committee_quarterly_report")  # no dong: no direct message
    result = run_bot()
    assert result.returncode == 0, result.stderr
    direct = fake_api.texts_to("777001")
    assert len(direct) == 1
    validate(direct[0])
    assert "subscribed" in direct[0].lower()


def test_digest_cli_queues_once_a_week_and_the_bot_posts_it(app, session, runner, fake_api, run_bot):
    first = runner.invoke(args=["telegram", "digest"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(args=["telegram", "digest"])
    assert "이미" in again.output
    rows = [r for r in _rows(session) if r.kind == "weekly_digest"]
    assert len(rows) == 1
    assert run_bot().returncode == 0
    posts = fake_api.channel_posts(CHANNEL)
    assert len(posts) == 1
    assert "다가오는 통통데이" in posts[0].text
    validate(posts[0].text)


def test_continuous_mode_polls_delivers_and_stops_cleanly(app, session, database_url, fake_api):
    import signal
    import time

    proc = subprocess.Popen(
        bot_command("--interval", "0.2"),
        cwd=ROOT,
        env=bot_env(database_url, fake_api),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        fake_api.add_private_message(4321, "/help")
        row = queue("card_done")
        session.commit()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            fake_api.texts_to("4321") and fake_api.channel_posts(CHANNEL)
        ):
            time.sleep(0.1)
        assert "/subscribe" in fake_api.texts_to("4321")[0]
        assert row.payload["title"] in fake_api.channel_posts(CHANNEL)[0].text
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped" in err
