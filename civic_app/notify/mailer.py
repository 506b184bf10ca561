"""The e-mail sender: delivers the outbox's mail channel over SMTP with retries.

Run it as ``flask --app civic_app mail send`` (continuous) or ``... mail send --once``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib
import time
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from civic_app.notify.models import (
    CHANNEL_EMAIL,
    STATUS_FAILED,
    STATUS_QUEUED,
    STATUS_SENDING,
    STATUS_SENT,
    OutboxMessage,
)

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
CLAIM_TIMEOUT = dt.timedelta(minutes=5)


def backoff(attempts: int) -> dt.timedelta:
    """Capped exponential backoff: 30 s, 60 s, 2 min ... at most 1 hour."""
    return dt.timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def build_message(row: OutboxMessage, mail_from: str) -> EmailMessage:
    payload = row.payload
    msg = EmailMessage()
    msg["From"] = mail_from
    msg["To"] = row.recipient
    msg["Subject"] = payload.get("subject", "")
    msg["Message-ID"] = make_msgid(idstring=f"outbox{row.id}")
    for name, value in (payload.get("headers") or {}).items():  # e.g. List-Unsubscribe
        msg[name] = value
    msg.set_content(payload.get("body", ""))
    for att in payload.get("attachments", []):
        maintype, _, subtype = att.get("content_type", "application/octet-stream").partition("/")
        content = att.get("content", "")
        data = content.encode("utf-8") if isinstance(content, str) else content
        params = {"method": att["method"]} if att.get("method") else {}
        msg.add_attachment(
            data,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=att.get("filename", "attachment"),
            params=params,
        )
    return msg


def claim_due(session: Session, *, now: dt.datetime, worker: str, limit: int = 50) -> list[OutboxMessage]:
    """Claim due mail rows; stale claims (a dead sender) are taken again after a timeout."""
    stale = now - CLAIM_TIMEOUT
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == CHANNEL_EMAIL,
            or_(
                (OutboxMessage.status == STATUS_QUEUED) & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == STATUS_SENDING) & (OutboxMessage.claimed_at < stale),
            ),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    for row in rows:
        row.status = STATUS_SENDING
        row.claimed_at = now
        row.claimed_by = worker
    session.commit()
    return rows


def deliver_once(session: Session, config: dict, *, now_fn, worker: str = "mailer") -> dict[str, int]:
    """Send every due mail once; returns counts. Commits per message."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    rows = claim_due(session, now=now_fn(), worker=worker)
    if not rows:
        return counts
    try:
        smtp = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30)
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("SMTP unavailable: %s", exc)
        for row in rows:
            _retry(session, row, f"SMTP 연결 실패: {exc}", now_fn())
            counts["retry"] += 1
        session.commit()
        return counts
    try:
        for row in rows:
            try:
                smtp.send_message(build_message(row, config["MAIL_FROM"]))
            except smtplib.SMTPRecipientsRefused as exc:
                _fail(session, row, f"수신자 거부: {exc}", now_fn())
                counts["failed"] += 1
            except (TimeoutError, OSError, smtplib.SMTPException) as exc:
                _retry(session, row, str(exc), now_fn())
                counts["retry"] += 1
            else:
                now = now_fn()
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row.id)
                    .values(
                        status=STATUS_SENT,
                        sent_at=now,
                        updated_at=now,
                        attempts=row.attempts + 1,
                        last_error=None,
                    )
                )
                counts["sent"] += 1
            session.commit()
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            smtp.quit()
    return counts


def _retry(session: Session, row: OutboxMessage, error: str, now: dt.datetime) -> None:
    row.attempts += 1
    row.last_error = error[:2000]
    row.updated_at = now
    row.claimed_at = None
    row.claimed_by = None
    if row.attempts >= MAX_ATTEMPTS:
        row.status = STATUS_FAILED
    else:
        row.status = STATUS_QUEUED
        row.next_attempt_at = now + backoff(row.attempts)


def _fail(session: Session, row: OutboxMessage, error: str, now: dt.datetime) -> None:
    row.attempts += 1
    row.status = STATUS_FAILED
    row.last_error = error[:2000]
    row.updated_at = now


def run_forever(session_factory, config: dict, *, now_fn, interval: float = 5.0) -> None:
    while True:
        session = session_factory()
        try:
            counts = deliver_once(session, config, now_fn=now_fn)
            if any(counts.values()):
                log.info("mail: %s", counts)
        finally:
            session.close()
        time.sleep(interval)
