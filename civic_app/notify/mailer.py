"""The e-mail sender: sends one outbox e-mail over SMTP and reports the outcome.

Claiming, retries, backoff, giving up and the unknown-outcome window belong to the outbox worker
(:mod:`civic_app.notify.worker`); this module says how e-mail is built and sent, and how long
the worker waits between tries. Run it as ``flask --app civic_app mail send`` (continuous) or
``... mail send --once``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib
import time
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy.orm import Session

from civic_app.notify.models import CHANNEL_EMAIL, OutboxMessage
from civic_app.notify.worker import (
    Outcome,
    Policy,
    Rejected,
    Sent,
    Transient,
    Worker,
    blocking_sleep,
    run_without_loop,
)

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
CLAIM_TIMEOUT = dt.timedelta(minutes=5)


def backoff(attempts: int) -> dt.timedelta:
    """Capped exponential backoff: 30 s, 60 s, 2 min ... at most 1 hour."""
    return dt.timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


POLICY = Policy(
    max_attempts=MAX_ATTEMPTS,
    backoff=lambda attempts: backoff(attempts).total_seconds(),
    claim_timeout=CLAIM_TIMEOUT.total_seconds(),
)


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
        filename = att.get("filename", "attachment")
        params = {"method": att["method"]} if att.get("method") else {}
        if maintype == "text":
            # Text (an .ics invitation) says its charset, or Korean arrives garbled.
            text = content.decode("utf-8") if isinstance(content, bytes) else content
            msg.add_attachment(
                text, subtype=subtype or "plain", charset="utf-8", filename=filename, params=params
            )
            continue
        data = content.encode("utf-8") if isinstance(content, str) else content
        msg.add_attachment(
            data, maintype=maintype, subtype=subtype or "octet-stream", filename=filename, params=params
        )
    return msg


class MailSender:
    """One SMTP connection per worker pass, opened at the first message."""

    channel = CHANNEL_EMAIL
    policy = POLICY

    def __init__(self, config: dict) -> None:
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def prepare(self, session: Session, row: OutboxMessage) -> EmailMessage:
        return build_message(row, self.config["MAIL_FROM"])

    def pace(self, session: Session, now: dt.datetime, plan: EmailMessage) -> float:
        return 0.0

    async def send(self, plan: EmailMessage) -> Outcome:
        if self.smtp is None:
            try:
                self.smtp = self._connect()
            except (OSError, smtplib.SMTPException) as exc:
                log.warning("SMTP unavailable: %s", exc)
                return Transient(f"SMTP 연결 실패: {exc}")
        try:
            self.smtp.send_message(plan)
        except smtplib.SMTPRecipientsRefused as exc:
            return Rejected(f"수신자 거부: {exc}")
        except (TimeoutError, OSError, smtplib.SMTPException) as exc:
            self.close()  # the connection is not trusted again
            return Transient(str(exc))
        return Sent()

    def after_sent(self, session: Session, row: OutboxMessage, outcome: Sent, now: dt.datetime) -> None:
        return None

    def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.smtp.quit()
            self.smtp = None

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        smtp = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30)
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        return smtp


def deliver_once(session: Session, config: dict, *, now_fn, worker: str = "mailer") -> dict[str, int]:
    """Send every due mail once (the worker commits per message); returns counts. A failure
    to reach SMTP backs the message off and ends the pass."""
    pass_ = Worker(MailSender(config), name=worker, now_fn=now_fn, sleep=blocking_sleep)
    tally = run_without_loop(pass_.deliver_pass(session))
    return {"sent": sum(tally.done.values()), "retry": tally.retried, "failed": tally.failed + tally.blocked}


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
