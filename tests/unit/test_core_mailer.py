"""The e-mail sender delivers the outbox over SMTP, retrying with backoff when SMTP is down."""

from __future__ import annotations

import datetime as dt
import socket

from sqlalchemy import func, select

from civic_app.extensions import db
from civic_app.notify import mailer
from civic_app.notify import worker as outbox
from civic_app.notify.models import STATUS_FAILED, STATUS_QUEUED, STATUS_SENT, OutboxMessage
from civic_app.notify.services import enqueue_email
from tests.factories import NOW


def _config(port: int) -> dict:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "MAIL_FROM": "시민소통실 <no-reply@civic.test>"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def _queue(session, key: str = "k1", **extra) -> OutboxMessage:
    row = enqueue_email(
        session,
        to="hong@example.com",
        subject="[시민소통실] 면담 일정 안내",
        body="홍길동님, 11월 26일 14:00 면담이 잡혔습니다.",
        kind="test.notice",
        dedupe_key=key,
        now=NOW,
        **extra,
    )
    session.commit()
    return row


def _row(row_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, row_id)


def test_mail_is_delivered_over_smtp(session, smtp_server):
    row = _queue(
        session,
        attachments=[
            {"filename": "invite.ics", "content_type": "text/calendar", "content": "BEGIN:VCALENDAR"}
        ],
    )
    counts = mailer.deliver_once(session, _config(smtp_server.port), now_fn=lambda: NOW)
    assert counts == {"sent": 1, "retry": 0, "failed": 0}
    [message] = smtp_server.messages
    assert message["To"] == "hong@example.com"
    assert message["Subject"] == "[시민소통실] 면담 일정 안내"
    assert "면담이 잡혔습니다" in message.get_body(("plain",)).get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_type() == "text/calendar"
    sent = _row(row.id)
    assert sent.status == STATUS_SENT
    assert sent.attempts == 1
    assert sent.sent_at == NOW
    # Nothing is sent twice.
    assert mailer.deliver_once(session, _config(smtp_server.port), now_fn=lambda: NOW)["sent"] == 0
    assert len(smtp_server.messages) == 1


def test_text_attachments_state_their_charset_so_korean_arrives_intact(session, smtp_server):
    """Before: the .ics went out as bytes without a charset and mail clients showed the Korean
    summary garbled."""
    ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nSUMMARY:통통데이 면담 (시장실)\r\nEND:VCALENDAR\r\n"
    _queue(
        session,
        attachments=[
            {"filename": "invite.ics", "content_type": "text/calendar", "content": ics, "method": "REQUEST"}
        ],
    )
    assert mailer.deliver_once(session, _config(smtp_server.port), now_fn=lambda: NOW)["sent"] == 1
    [attachment] = list(smtp_server.messages[0].iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_content_charset() == "utf-8"
    assert attachment.get_param("method") == "REQUEST"
    assert "SUMMARY:통통데이 면담 (시장실)" in attachment.get_content()


def test_a_broken_smtp_pass_backs_off_one_message_and_stops(session, smtp_server):
    first, second = _queue(session, key="k1"), _queue(session, key="k2")
    down = _config(_closed_port())
    assert mailer.deliver_once(session, down, now_fn=lambda: NOW) == {"sent": 0, "retry": 1, "failed": 0}
    assert (_row(first.id).status, _row(first.id).attempts) == (STATUS_QUEUED, 1)
    assert (_row(second.id).status, _row(second.id).attempts) == (STATUS_QUEUED, 0)  # not tried
    assert _row(second.id).claimed_by is None


def test_smtp_down_retries_with_backoff_then_delivers(session, smtp_server):
    row = _queue(session)
    down = _config(_closed_port())
    assert mailer.deliver_once(session, down, now_fn=lambda: NOW) == {"sent": 0, "retry": 1, "failed": 0}
    waiting = _row(row.id)
    assert waiting.status == STATUS_QUEUED
    assert waiting.attempts == 1
    assert "SMTP" in waiting.last_error
    assert waiting.next_attempt_at == NOW + dt.timedelta(seconds=30)
    # Not due yet: nothing is tried, even with SMTP back.
    up = _config(smtp_server.port)
    assert mailer.deliver_once(session, up, now_fn=lambda: NOW + dt.timedelta(seconds=10))["sent"] == 0
    later = NOW + dt.timedelta(seconds=31)
    assert mailer.deliver_once(session, up, now_fn=lambda: later) == {"sent": 1, "retry": 0, "failed": 0}
    assert _row(row.id).status == STATUS_SENT
    assert _row(row.id).attempts == 2
    assert len(smtp_server.messages) == 1


def test_mail_fails_after_the_last_attempt(session):
    row = _queue(session)
    down = _config(_closed_port())
    for attempt in range(mailer.MAX_ATTEMPTS):
        at = NOW + dt.timedelta(hours=2 * attempt)
        mailer.deliver_once(session, down, now_fn=lambda at=at: at)
    failed = _row(row.id)
    assert failed.status == STATUS_FAILED
    assert failed.attempts == mailer.MAX_ATTEMPTS


def test_backoff_grows_and_is_capped():
    assert mailer.backoff(1) == dt.timedelta(seconds=30)
    assert mailer.backoff(2) == dt.timedelta(seconds=60)
    assert mailer.backoff(20) == dt.timedelta(hours=1)


def test_enqueue_is_deduplicated_and_rolls_back_with_the_change(session):
    first = _queue(session, key="same")
    again = _queue(session, key="same")
    assert again.id == first.id
    enqueue_email(session, to="x@example.com", subject="s", body="b", kind="k", dedupe_key="gone", now=NOW)
    session.rollback()
    assert session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_mail_send_once_command(runner, session, smtp_server):
    _queue(session)
    runner.app.config.update(SMTP_PORT=smtp_server.port)
    try:
        result = runner.invoke(args=["mail", "send", "--once"])
    finally:
        runner.app.config.update(SMTP_PORT=1)
    assert result.exit_code == 0, result.output
    assert "보냄 1" in result.output
    assert len(smtp_server.messages) == 1


def test_a_mail_left_sending_by_a_dead_sender_is_sent_again_as_an_unknown_outcome(
    session, smtp_server, caplog
):
    """The worker keeps the unknown-outcome window for e-mail too: a claim older than the
    claim timeout is taken again, and the possible repeat is logged."""
    row = _queue(session)
    claim = outbox.claim_next(session, channel="email", now=NOW, worker="dead", claim_timeout=60)
    assert claim.id == row.id  # the sender died here, after claiming
    up = _config(smtp_server.port)
    assert mailer.deliver_once(session, up, now_fn=lambda: NOW + dt.timedelta(minutes=1))["sent"] == 0
    later = NOW + mailer.CLAIM_TIMEOUT + dt.timedelta(seconds=1)
    assert mailer.deliver_once(session, up, now_fn=lambda: later)["sent"] == 1
    assert "UNKNOWN_OUTCOME" in caplog.text
    assert _row(row.id).status == STATUS_SENT
