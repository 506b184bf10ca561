"""The Telegram channel of the outbox: what to send for a claimed row and what follows a post.

The bot process (``bots/telegram_bot``) makes the API calls and reports each outcome; the
outbox worker (:mod:`civic_app.notify.worker`) claims rows, retries, backs off, gives up and
keeps the unknown-outcome window, by the :class:`Settings` here. Nothing in this module changes
a message's status.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civic_app.notify import worker
from civic_app.notify.models import (
    CHANNEL_TELEGRAM,
    STATUS_QUEUED,
    STATUS_SENDING,
    STATUS_SENT,
    OutboxMessage,
)
from civic_app.notify.services import enqueue
from civic_app.notify.worker import Blocked, Defer, Policy, Sent
from civic_app.privacy.guard import NameIndex
from civic_app.telegram import privacy
from civic_app.telegram.models import TelegramChat
from civic_app.telegram.render import render_message
from civic_app.telegram.services import DELETE_KIND, subscriber_chat_ids

log = logging.getLogger("civic_app.telegram.delivery")
__all__ = ["Blocked", "Defer", "NameCache", "Outgoing", "Settings", "TelegramChannel"]


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

    @property
    def policy(self) -> Policy:
        """How the outbox worker treats this channel's failures."""
        return Policy(
            max_attempts=self.max_attempts,
            backoff=self.backoff,
            claim_timeout=self.claim_timeout,
            inline_retries=self.inline_retries,
            retry_after_inline_max=self.retry_after_inline_max,
        )


@dataclass(frozen=True)
class Outgoing:
    action: str  # send | edit | delete
    chat_id: str
    text: str = ""
    message_id: str | None = None
    to_channel: bool = True  # the public channel (rate-limited), not a private chat


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


def _chat_locale(session: Session, chat_id: str) -> str:
    locale = session.scalar(select(TelegramChat.locale).where(TelegramChat.chat_id == chat_id))
    return locale or "ko"


def prepare(
    session: Session, row: OutboxMessage, *, settings: Settings, names: NameIndex | set[str]
) -> Outgoing | Blocked | Defer:
    """What to do with a claimed row: the API call, or why not (privacy, ordering)."""
    chat_id = row.recipient or settings.channel_id
    to_channel = row.recipient is None
    if row.kind == DELETE_KIND:
        return Outgoing(
            "delete", chat_id, message_id=str(row.payload.get("message_id")), to_channel=to_channel
        )
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
        return Outgoing("edit", chat_id, rendered.text, message_id=previous_id, to_channel=to_channel)
    return Outgoing("send", chat_id, rendered.text, to_channel=to_channel)


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


class TelegramChannel:
    """The outbox worker's sender for Telegram, all but the API call: the bot process
    subclasses it with ``send`` (python-telegram-bot is imported only there)."""

    channel = CHANNEL_TELEGRAM

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.policy = settings.policy
        self.names = NameCache(ttl=settings.name_cache_seconds)

    def prepare(self, session: Session, row: OutboxMessage) -> Outgoing | Blocked | Defer:
        return prepare(session, row, settings=self.settings, names=self.names.get(session))

    def pace(self, session: Session, now: dt.datetime, plan: Outgoing) -> float:
        return wait_for_rate(session, now=now, settings=self.settings) if plan.to_channel else 0.0

    async def send(self, plan: Outgoing) -> worker.Outcome:
        raise NotImplementedError("the bot process sends (bots/telegram_bot/runner.py)")

    def after_sent(self, session: Session, row: OutboxMessage, outcome: Sent, now: dt.datetime) -> None:
        """A new channel post about a dong goes to its subscribers too; a published correction
        supersedes the earlier versions still waiting for approval."""
        if outcome.action == "send" and row.recipient is None and row.kind != DELETE_KIND:
            _queue_subscriber_messages(session, row, now=now)
        if row.recipient is None and row.subject_ref and outcome.action in ("send", "edit"):
            worker.withdraw_superseded(session, row, now=now)

    def close(self) -> None:
        return None
