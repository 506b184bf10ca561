"""Delivery and command loops on top of python-telegram-bot's ``Bot``.

Database decisions live in ``civic_app.telegram.delivery``; this module makes the API calls
and maps python-telegram-bot's errors onto them:

- ``RetryAfter`` (429): wait exactly ``retry_after`` (int seconds or a timedelta), then retry.
- ``BadRequest`` / ``Forbidden``: fail at once, the error is shown to staff. ``BadRequest`` is a
  subclass of ``NetworkError``, so it is caught first.
- ``TimedOut`` / ``NetworkError``: retry with capped exponential backoff; a timed-out send may
  have reached Telegram (unknown outcome, logged and counted).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from civic_app.telegram import commands, delivery, privacy, services
from civic_app.telegram.delivery import UNKNOWN_OUTCOME, Blocked, Defer, Outgoing, Settings
from civic_app.telegram.models import TelegramBotState
from civic_app.timeutil import utcnow

log = logging.getLogger("bots.telegram_bot")
OFFSET_KEY = "updates_offset"
# Bad requests that mean the wanted state already holds (a repeated edit or delete).
ALREADY_DONE = ("message is not modified", "message to delete not found")
EDIT_TARGET_GONE = ("message to edit not found", "message_id_invalid")


class FatalBotError(RuntimeError):
    """The bot cannot work at all (e.g. the token is refused)."""


def retry_after_seconds(exc: RetryAfter | object) -> float:
    """``RetryAfter.retry_after`` is an int (seconds) or, with PTB_TIMEDELTA, a timedelta."""
    value = exc.retry_after  # type: ignore[attr-defined]
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value)


# httpx errors raised before the request left this machine: a retry cannot duplicate.
NOT_SENT_ERRORS = frozenset({"ConnectError", "ConnectTimeout", "PoolTimeout", "UnsupportedProtocol"})


def request_may_have_arrived(exc: NetworkError) -> bool:
    """Whether Telegram may have acted on a request that failed with ``exc``.

    An HTTP error status (5xx) was an answer: nothing was posted. A connection that could not
    be opened sent nothing. A read timeout or a connection dropped while waiting for the
    answer leaves the outcome unknown.
    """
    cause = exc.__cause__
    if cause is None:
        return isinstance(exc, TimedOut)
    return type(cause).__name__ not in NOT_SENT_ERRORS


@dataclass
class Stats:
    sent: int = 0
    edited: int = 0
    deleted: int = 0
    failed: int = 0
    blocked: int = 0
    retried: int = 0
    deferred: int = 0
    rate_waits: int = 0
    unknown_outcome: int = 0
    replies: int = 0
    extra: dict = field(default_factory=dict)

    def line(self) -> str:
        keys = (
            "sent",
            "edited",
            "deleted",
            "failed",
            "blocked",
            "retried",
            "deferred",
            "unknown_outcome",
            "replies",
        )
        return " ".join(f"{k}={getattr(self, k)}" for k in keys)


GIVE_UP = "give_up"  # the API looks down: stop this pass


class Runner:
    def __init__(
        self,
        bot: Bot,
        session_factory: sessionmaker[Session],
        settings: Settings,
        *,
        worker: str,
        now_fn: Callable[[], dt.datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.session_factory = session_factory
        self.settings = settings
        self.worker = worker
        self.now = now_fn
        self.sleep = sleep
        self.stats = Stats()
        self.names = delivery.NameCache(ttl=settings.name_cache_seconds)

    # --- delivery -------------------------------------------------------------------------
    async def deliver_pass(self) -> Stats:
        """Deliver every due message once; stop early if the API looks down.

        One session serves the whole pass (each step still commits on its own), which keeps
        the database round trips per message low.
        """
        with self.session_factory() as session:
            while True:
                claim = delivery.claim_next(
                    session, now=self.now(), worker=self.worker, claim_timeout=self.settings.claim_timeout
                )
                if claim is None:
                    return self.stats
                outcome = await self.deliver(session, claim)
                session.expunge_all()
                if outcome == GIVE_UP:
                    return self.stats

    async def deliver(self, session: Session, claim: delivery.Claim) -> str | None:
        s = self.settings
        if claim.reclaimed:
            self.stats.unknown_outcome += 1
            log.warning(
                "%s: outbox %s was left 'sending' by %s; its send may have happened, sending again",
                UNKNOWN_OUTCOME,
                claim.id,
                claim.previous_worker,
            )
        row = claim.row
        try:
            plan = delivery.prepare(session, row, settings=s, names=self.names.get(session))
        except Exception as exc:
            log.exception("outbox %s cannot be rendered", claim.id)
            session.rollback()
            delivery.mark_failed(session, claim.id, f"메시지를 만들 수 없습니다: {exc}", now=self.now())
            self.stats.failed += 1
            return None
        if isinstance(plan, Blocked):
            log.warning("outbox %s blocked by the privacy guard: %s", claim.id, plan.reason)
            delivery.mark_failed(session, claim.id, plan.reason, now=self.now())
            self.stats.blocked += 1
            return None
        if isinstance(plan, Defer):
            delivery.release(session, claim.id, now=self.now(), after=plan.seconds)
            self.stats.deferred += 1
            return None
        return await self._send_with_retries(session, claim.id, plan, row.recipient is None)

    async def _send_with_retries(
        self, session: Session, row_id: int, plan: Outgoing, to_channel: bool
    ) -> str | None:
        s = self.settings
        network_failures = 0
        while True:
            if to_channel:
                wait = delivery.wait_for_rate(session, now=self.now(), settings=s)
                if wait > 0:
                    self.stats.rate_waits += 1
                    await self.sleep(wait)
            try:
                external_id = await self._call(plan)
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                log.info("outbox %s: flood control, waiting %.1f s as asked", row_id, wait)
                if wait > s.retry_after_inline_max:
                    delivery.release(session, row_id, now=self.now(), after=wait, note=f"429: {wait:.0f}s")
                    return GIVE_UP
                await self.sleep(wait)
                delivery.refresh_claim(session, row_id, now=self.now(), worker=self.worker)
                continue
            except BadRequest as exc:  # before NetworkError: BadRequest is its subclass
                text = str(exc).lower()
                if any(part in text for part in ALREADY_DONE):
                    external_id = plan.message_id
                elif plan.action == "edit" and any(part in text for part in EDIT_TARGET_GONE):
                    log.info("outbox %s: the post to edit is gone; posting anew", row_id)
                    plan = Outgoing("send", plan.chat_id, plan.text)
                    continue
                else:
                    delivery.mark_failed(
                        session, row_id, f"Telegram 요청 거부 (BadRequest): {exc}", now=self.now()
                    )
                    self.stats.failed += 1
                    return None
            except Forbidden as exc:
                delivery.mark_failed(
                    session, row_id, f"Telegram 권한 없음 (Forbidden): {exc}", now=self.now()
                )
                self.stats.failed += 1
                return None
            except InvalidToken as exc:
                delivery.release(session, row_id, now=self.now(), after=0, note=str(exc))
                raise FatalBotError(f"Telegram refused the bot token: {exc}") from exc
            except NetworkError as exc:  # TimedOut included
                network_failures += 1
                if plan.action == "send" and request_may_have_arrived(exc):
                    self.stats.unknown_outcome += 1
                    log.warning(
                        "%s: outbox %s failed after the request went out (%s); Telegram may have "
                        "posted it, so the retry may repeat it",
                        UNKNOWN_OUTCOME,
                        row_id,
                        exc,
                    )
                if network_failures > s.inline_retries:
                    status = delivery.mark_retry(
                        session, row_id, f"네트워크 오류: {exc}", now=self.now(), settings=s
                    )
                    self.stats.retried += 1
                    log.warning("outbox %s: network still failing (%s); released as %s", row_id, exc, status)
                    return GIVE_UP
                wait = s.backoff(network_failures)
                log.info("outbox %s: network error (%s), retry in %.2f s", row_id, exc, wait)
                await self.sleep(wait)
                delivery.refresh_claim(session, row_id, now=self.now(), worker=self.worker)
                continue
            except TelegramError as exc:
                delivery.mark_failed(session, row_id, f"Telegram 오류: {exc}", now=self.now())
                self.stats.failed += 1
                return None
            delivery.mark_sent(session, row_id, now=self.now(), external_id=external_id, action=plan.action)
            if plan.action == "send":
                self.stats.sent += 1
            elif plan.action == "edit":
                self.stats.edited += 1
            else:
                self.stats.deleted += 1
            return None

    async def _call(self, plan: Outgoing) -> str | None:
        timeout = self.settings.read_timeout
        if plan.action == "send":
            message = await self.bot.send_message(
                chat_id=plan.chat_id, text=plan.text, parse_mode=ParseMode.HTML, read_timeout=timeout
            )
            return str(message.message_id)
        if plan.action == "edit":
            await self.bot.edit_message_text(
                text=plan.text,
                chat_id=plan.chat_id,
                message_id=int(plan.message_id or 0),
                parse_mode=ParseMode.HTML,
                read_timeout=timeout,
            )
            return plan.message_id
        await self.bot.delete_message(
            chat_id=plan.chat_id, message_id=int(plan.message_id or 0), read_timeout=timeout
        )
        return plan.message_id

    # --- weekly digest ----------------------------------------------------------------------
    def maybe_queue_digest(self) -> None:
        now = self.now()
        if not services.digest_due(now):
            return
        with self.session_factory() as session:
            _message, created = services.queue_weekly_digest(session, now=now)
            session.commit()
        if created:
            log.info("queued the weekly digest")

    # --- resident commands ------------------------------------------------------------------
    async def poll_once(self, timeout: int = 0) -> int:
        """Answer pending private messages; the offset is stored so nothing is answered twice."""
        with self.session_factory() as session:
            state = session.get(TelegramBotState, OFFSET_KEY)
            offset = int(state.value) if state else None
        updates = await self.bot.get_updates(
            offset=offset, timeout=timeout, allowed_updates=["message"], read_timeout=timeout + 10
        )
        for update in updates:
            await self._answer(update)
            with self.session_factory() as session:
                state = session.get(TelegramBotState, OFFSET_KEY)
                if state is None:
                    state = TelegramBotState(key=OFFSET_KEY, value="0", updated_at=self.now())
                    session.add(state)
                state.value = str(update.update_id + 1)
                state.updated_at = self.now()
                session.commit()
        return len(updates)

    async def _answer(self, update) -> None:
        message = update.message
        if message is None or not message.text or message.chat.type != "private":
            return
        chat_id = str(message.chat.id)
        with self.session_factory() as session:
            reply = commands.handle(session, chat_id=chat_id, text=message.text, now=self.now())
            if reply is None:
                session.commit()
                return
            findings = privacy.scan(privacy.plain_text(reply), self.names.get(session))
            if findings:
                log.warning(
                    "reply to a command withheld by the privacy guard: %s", privacy.describe(findings)
                )
                reply = commands.withheld_reply(session, chat_id, now=self.now())
            session.commit()
        try:
            await self.bot.send_message(chat_id=chat_id, text=reply, parse_mode=ParseMode.HTML)
        except RetryAfter as exc:
            await self.sleep(retry_after_seconds(exc))
            await self.bot.send_message(chat_id=chat_id, text=reply, parse_mode=ParseMode.HTML)
        except (BadRequest, Forbidden) as exc:
            log.warning("reply to a resident failed: %s", exc)
        self.stats.replies += 1
