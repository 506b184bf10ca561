"""The database side of Telegram delivery: claim, prepare, and record outcomes.

The bot process (``bots/telegram_bot``) makes the API calls; everything it decides is here so
it is testable without the network. Each step commits on its own, because another process
must see a claim before this one sends.

Unknown-outcome window
----------------------
The Bot API has no idempotency key. A message is claimed (committed as ``sending``), sent,
then recorded as ``sent`` in the next commit. If the process dies between the API accepting
the message and that commit, or the API call times out after Telegram received it, the
outcome is unknown (likewise when the connection drops after the request went out): the
row is sent again (after ``claim_timeout`` for a dead process, after the backoff otherwise). Those repeats are logged with ``UNKNOWN_OUTCOME`` and
counted. The window is one message per process: rows are claimed one at a time, so a row
still ``sending`` after a crash is exactly the message that may have gone out.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from civic_app.notify.models import (
    CHANNEL_TELEGRAM,
    STATUS_FAILED,
    STATUS_PENDING_APPROVAL,
    STATUS_QUEUED,
    STATUS_SENDING,
    STATUS_SENT,
    STATUS_WITHDRAWN,
    OutboxMessage,
)
from civic_app.notify.services import enqueue
from civic_app.privacy.guard import NameIndex
from civic_app.telegram import privacy
from civic_app.telegram.models import TelegramChat
from civic_app.telegram.render import render_message
from civic_app.telegram.services import DELETE_KIND, subscriber_chat_ids

log = logging.getLogger("civic_app.telegram.delivery")
UNKNOWN_OUTCOME = "UNKNOWN_OUTCOME"


def _float(env: dict, name: str, default: float) -> float:
    value = env.get(name)
    return float(value) if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    """Delivery settings; environment variables in brackets."""

    channel_id: str = ""  # [TELEGRAM_CHANNEL_ID] "@name" or "-100…"
    rate_per_minute: float = 20.0  # [TELEGRAM_CHANNEL_RATE] posts per minute to the channel; 0 = no limit
    claim_timeout: float = 300.0  # [TELEGRAM_CLAIM_TIMEOUT] seconds before a dead claim is taken again
    backoff_base: float = 1.0  # [TELEGRAM_BACKOFF_BASE] first network-error wait, doubled each time
    backoff_max: float = 300.0  # [TELEGRAM_BACKOFF_MAX] cap of that wait
    inline_retries: int = 6  # [TELEGRAM_INLINE_RETRIES] network retries before the row is released
    max_attempts: int = 15  # [TELEGRAM_MAX_ATTEMPTS] failed attempts before staff must retry
    retry_after_inline_max: float = 120.0  # longer 429 waits release the row until then
    read_timeout: float = 10.0  # [TELEGRAM_READ_TIMEOUT]
    name_cache_seconds: float = 30.0  # how long the list of requester names is reused

    @classmethod
    def from_env(cls, env: dict | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        return cls(
            channel_id=env.get("TELEGRAM_CHANNEL_ID", "") or "",
            rate_per_minute=_float(env, "TELEGRAM_CHANNEL_RATE", 20.0),
            claim_timeout=_float(env, "TELEGRAM_CLAIM_TIMEOUT", 300.0),
            backoff_base=_float(env, "TELEGRAM_BACKOFF_BASE", 1.0),
            backoff_max=_float(env, "TELEGRAM_BACKOFF_MAX", 300.0),
            inline_retries=int(_float(env, "TELEGRAM_INLINE_RETRIES", 6)),
            max_attempts=int(_float(env, "TELEGRAM_MAX_ATTEMPTS", 15)),
            read_timeout=_float(env, "TELEGRAM_READ_TIMEOUT", 10.0),
        )

    def backoff(self, attempt: int) -> float:
        """Capped exponential backoff: base, 2·base, 4·base … at most backoff_max."""
        return min(self.backoff_max, self.backoff_base * 2 ** max(0, attempt - 1))


@dataclass(frozen=True)
class Claim:
    id: int
    reclaimed: bool  # it was 'sending' under a dead process: the earlier send may have happened
    previous_worker: str | None
    row: OutboxMessage | None = None


@dataclass(frozen=True)
class Outgoing:
    action: str  # send | edit | delete
    chat_id: str
    text: str = ""
    message_id: str | None = None


@dataclass(frozen=True)
class Blocked:
    reason: str


@dataclass(frozen=True)
class Defer:
    seconds: float
    reason: str


@dataclass
class NameCache:
    """Requester names for the privacy guard, reloaded every ``ttl`` seconds."""

    ttl: float = 30.0
    names: NameIndex = field(default_factory=NameIndex)
    loaded_at: float | None = None

    def get(self, session: Session) -> NameIndex:
        clock = time.monotonic()
        if self.loaded_at is None or clock - self.loaded_at > self.ttl:
            self.names = NameIndex(privacy.requester_names(session))
            self.loaded_at = clock
        return self.names


def _due_condition(now: dt.datetime, claim_timeout: float):
    stale = now - dt.timedelta(seconds=claim_timeout)
    return (OutboxMessage.channel == CHANNEL_TELEGRAM) & or_(
        (OutboxMessage.status == STATUS_QUEUED) & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.status == STATUS_SENDING) & (OutboxMessage.claimed_at < stale),
    )


def claim_next(session: Session, *, now: dt.datetime, worker: str, claim_timeout: float) -> Claim | None:
    """Claim one due row and commit the claim.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets several bot processes claim side by side.
    SQLite (one bot process): a compare-and-set update, so even a stray second process
    cannot take a row twice.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    for _try in range(5):
        query = (
            select(OutboxMessage)
            .where(_due_condition(now, claim_timeout))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
        )
        if postgres:
            query = query.with_for_update(skip_locked=True, of=OutboxMessage)
        row = session.scalar(query)
        if row is None:
            session.rollback()
            return None
        status, previous = row.status, row.claimed_by
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == row.id,
                OutboxMessage.status == status,
                (OutboxMessage.claimed_by == previous) if previous else OutboxMessage.claimed_by.is_(None),
            )
            .values(status=STATUS_SENDING, claimed_at=now, claimed_by=worker)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if result.rowcount == 1:
            # Mirror the claim on the loaded object without marking it dirty.
            for key, value in (("status", STATUS_SENDING), ("claimed_at", now), ("claimed_by", worker)):
                set_committed_value(row, key, value)
            return Claim(row.id, reclaimed=status == STATUS_SENDING, previous_worker=previous, row=row)
        session.expunge(row)
    return None


def _chat_locale(session: Session, chat_id: str) -> str:
    locale = session.scalar(select(TelegramChat.locale).where(TelegramChat.chat_id == chat_id))
    return locale or "ko"


def prepare(
    session: Session, row: OutboxMessage, *, settings: Settings, names: NameIndex | set[str]
) -> Outgoing | Blocked | Defer:
    """What to do with a claimed row: the API call, or why not (privacy, ordering)."""
    chat_id = row.recipient or settings.channel_id
    if row.kind == DELETE_KIND:
        return Outgoing("delete", chat_id, message_id=str(row.payload.get("message_id")))
    history: list[tuple[int, str, str, str | None]] = []
    if row.recipient is None and row.subject_ref:
        # One query for everything about the same item: ordering and the post to edit.
        history = list(
            session.execute(
                select(
                    OutboxMessage.id,
                    OutboxMessage.status,
                    OutboxMessage.kind,
                    OutboxMessage.external_message_id,
                )
                .where(
                    OutboxMessage.channel == CHANNEL_TELEGRAM,
                    OutboxMessage.recipient.is_(None),
                    OutboxMessage.subject_ref == row.subject_ref,
                    OutboxMessage.id != row.id,
                )
                .order_by(OutboxMessage.id)
            ).tuples()
        )
        if any(i < row.id and st in (STATUS_QUEUED, STATUS_SENDING) for i, st, _k, _e in history):
            # The original post must exist before a correction can edit it.
            return Defer(2.0, "waiting for the earlier message about the same item")
    locale = _chat_locale(session, row.recipient) if row.recipient else "ko"
    rendered = render_message(
        row.kind, row.payload, locale=locale, private=bool(row.payload.get("subscription_dong"))
    )
    findings = privacy.scan(privacy.plain_text(rendered.text), names)
    if findings:
        return Blocked(privacy.describe(findings))
    previous_id = next(
        (ext for _i, st, kind, ext in reversed(history) if st == STATUS_SENT and kind == row.kind and ext),
        None,
    )
    if previous_id:
        return Outgoing("edit", chat_id, rendered.text, message_id=previous_id)
    return Outgoing("send", chat_id, rendered.text)


def wait_for_rate(session: Session, *, now: dt.datetime, settings: Settings) -> float:
    """Seconds to wait before the next channel call so posts stay under the configured rate.

    The last channel send is read from the database, so processes sharing the outbox space
    their posts together (two processes deciding in the same instant may both go).
    """
    if settings.rate_per_minute <= 0:
        return 0.0
    last = session.scalar(
        select(func.max(OutboxMessage.sent_at)).where(
            OutboxMessage.channel == CHANNEL_TELEGRAM, OutboxMessage.recipient.is_(None)
        )
    )
    session.rollback()
    if last is None:
        return 0.0
    if last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)
    interval = 60.0 / settings.rate_per_minute
    return max(0.0, (last - now).total_seconds() + interval)


def mark_sent(
    session: Session,
    row_id: int,
    *,
    now: dt.datetime,
    external_id: str | None,
    action: str,
) -> None:
    """Record success and, for a new channel post about a dong, queue subscribers' messages."""
    row = session.get(OutboxMessage, row_id)
    if row is None:
        return
    row.status = STATUS_SENT
    row.sent_at = now
    row.updated_at = now
    row.attempts += 1
    row.last_error = None
    row.claimed_at = None
    row.claimed_by = None
    if external_id is not None:
        row.external_message_id = external_id
    if action == "send" and row.recipient is None and row.kind != DELETE_KIND:
        _queue_subscriber_messages(session, row, now=now)
    if row.recipient is None and row.subject_ref and action in ("send", "edit"):
        # A correction published: earlier unapproved versions are superseded.
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.channel == CHANNEL_TELEGRAM,
                OutboxMessage.recipient.is_(None),
                OutboxMessage.subject_ref == row.subject_ref,
                OutboxMessage.id < row.id,
                OutboxMessage.status == STATUS_PENDING_APPROVAL,
            )
            .values(status=STATUS_WITHDRAWN, last_error="새 버전이 게시되어 대체되었습니다.", updated_at=now)
            .execution_options(synchronize_session=False)
        )
    session.commit()


def _queue_subscriber_messages(session: Session, row: OutboxMessage, *, now: dt.datetime) -> None:
    dong_name = row.payload.get("dong_name")
    if not dong_name:
        return
    for chat_id in subscriber_chat_ids(session, str(dong_name)):
        enqueue(
            session,
            channel=CHANNEL_TELEGRAM,
            recipient=chat_id,
            kind=row.kind,
            payload={**row.payload, "subscription_dong": dong_name},
            dedupe_key=f"telegram-dm:{row.id}:{chat_id}",
            now=now,
        )


def mark_retry(session: Session, row_id: int, error: str, *, now: dt.datetime, settings: Settings) -> str:
    """A transient failure: back off, or fail for staff after ``max_attempts``. Returns the status."""
    row = session.get(OutboxMessage, row_id)
    if row is None:
        return ""
    row.attempts += 1
    row.last_error = error[:2000]
    row.updated_at = now
    row.claimed_at = None
    row.claimed_by = None
    if row.attempts >= settings.max_attempts:
        row.status = STATUS_FAILED
    else:
        row.status = STATUS_QUEUED
        row.next_attempt_at = now + dt.timedelta(seconds=settings.backoff(row.attempts))
    session.commit()
    return row.status


def release(
    session: Session, row_id: int, *, now: dt.datetime, after: float, note: str | None = None
) -> None:
    """Put a claimed row back without counting an attempt (rate limits, ordering)."""
    row = session.get(OutboxMessage, row_id)
    if row is None:
        return
    row.status = STATUS_QUEUED
    row.next_attempt_at = now + dt.timedelta(seconds=after)
    row.claimed_at = None
    row.claimed_by = None
    row.updated_at = now
    if note:
        row.last_error = note[:2000]
    session.commit()


def mark_failed(session: Session, row_id: int, error: str, *, now: dt.datetime) -> None:
    """A permanent failure (bad request, forbidden, privacy): staff see it and decide."""
    row = session.get(OutboxMessage, row_id)
    if row is None:
        return
    row.attempts += 1
    row.status = STATUS_FAILED
    row.last_error = error[:2000]
    row.claimed_at = None
    row.claimed_by = None
    row.updated_at = now
    session.commit()


def refresh_claim(session: Session, row_id: int, *, now: dt.datetime, worker: str) -> None:
    """Keep a claim alive through long waits so no other process takes the row."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.claimed_by == worker)
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def pending_count(session: Session, *, now: dt.datetime) -> int:
    return (
        session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.channel == CHANNEL_TELEGRAM,
                OutboxMessage.status.in_((STATUS_QUEUED, STATUS_SENDING)),
                OutboxMessage.next_attempt_at <= now,
            )
        )
        or 0
    )
