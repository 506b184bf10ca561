"""The bot's Telegram sender and its command loop, on top of python-telegram-bot's ``Bot``.

The outbox worker (:mod:`civic_app.notify.worker`) claims, retries, backs off and records;
:class:`BotSender` makes one API call per attempt and maps python-telegram-bot's errors onto
the worker's outcomes:

- ``RetryAfter`` (429): ``RetryAfter`` with exactly ``retry_after`` (int seconds or a timedelta).
- ``BadRequest`` / ``Forbidden``: ``Rejected``, shown to staff. ``BadRequest`` is a subclass of
  ``NetworkError``, so it is caught first. A repeated edit or delete is ``Sent``; an edit whose
  post is gone is posted anew.
- ``InvalidToken``: ``Fatal``: the bot stops.
- ``TimedOut`` / ``NetworkError``: ``Transient``; a send that may have reached Telegram is
  flagged, so the worker logs and counts the unknown outcome.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

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

from civic_app.notify import worker as outbox
from civic_app.notify.worker import Fatal, Outcome, Rejected, Sent, Tally, Transient, Worker
from civic_app.telegram import commands, privacy, services
from civic_app.telegram.delivery import Outgoing, Settings, TelegramChannel
from civic_app.telegram.models import TelegramBotState
from civic_app.timeutil import utcnow

log = logging.getLogger("bots.telegram_bot")
OFFSET_KEY = "updates_offset"
# Bad requests that mean the wanted state already holds (a repeated edit or delete).
ALREADY_DONE = ("message is not modified", "message to delete not found")
EDIT_TARGET_GONE = ("message to edit not found", "message_id_invalid")


# The bot cannot work at all (e.g. the token is refused).
FatalBotError = outbox.FatalChannelError


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


class Stats(Tally):
    """The worker's counts plus the replies to residents, as the bot prints them."""

    def __init__(self) -> None:
        super().__init__()
        self.replies = 0

    @property
    def edited(self) -> int:
        return self.done["edit"]

    @property
    def deleted(self) -> int:
        return self.done["delete"]

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


class BotSender(TelegramChannel):
    """One Bot API call per attempt, reported as the worker's outcome."""

    def __init__(self, bot: Bot, settings: Settings) -> None:
        super().__init__(settings)
        self.bot = bot

    async def send(self, plan: Outgoing) -> Outcome:
        try:
            return Sent(await self._call(plan), plan.action)
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            return outbox.RetryAfter(wait, f"429: {wait:.0f}s")
        except BadRequest as exc:  # before NetworkError: BadRequest is its subclass
            text = str(exc).lower()
            if any(part in text for part in ALREADY_DONE):
                return Sent(plan.message_id, plan.action)
            if plan.action == "edit" and any(part in text for part in EDIT_TARGET_GONE):
                log.info("the post to edit is gone; posting anew")
                return await self.send(Outgoing("send", plan.chat_id, plan.text, to_channel=plan.to_channel))
            return Rejected(f"Telegram 요청 거부 (BadRequest): {exc}")
        except Forbidden as exc:
            return Rejected(f"Telegram 권한 없음 (Forbidden): {exc}")
        except InvalidToken as exc:
            return Fatal(f"Telegram refused the bot token: {exc}")
        except NetworkError as exc:  # TimedOut included
            return Transient(
                f"네트워크 오류: {exc}",
                may_have_arrived=plan.action == "send" and request_may_have_arrived(exc),
            )
        except TelegramError as exc:
            return Rejected(f"Telegram 오류: {exc}")

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
        self.sender = BotSender(bot, settings)
        self.names = self.sender.names
        self.outbox = Worker(self.sender, name=worker, now_fn=now_fn, sleep=sleep, tally=self.stats)

    # --- delivery ---------------------------------------------------------------------------
    async def deliver_pass(self) -> Stats:
        """Deliver every due message once; stop early if the API looks down. One session serves
        the whole pass (each worker step still commits on its own)."""
        with self.session_factory() as session:
            await self.outbox.deliver_pass(session)
        return self.stats

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
