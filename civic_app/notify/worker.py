"""The outbox worker: the one owner of a message's lifecycle, for every channel.

::

    pending_approval --approve--> queued --claim--> sending --sent--> sent
                                    ^                  |  \\--refused--> failed --requeue--> queued
                                    +--retry/release---+
    (pending_approval, queued, failed, sent) --withdraw--> withdrawn

``enqueue`` (:mod:`civic_app.notify.services`) creates rows; every later change of ``status``
happens here. A channel's *sender* (the mailer, the Telegram bot) only prepares and sends one
message and reports the outcome (:class:`Sent`, :class:`Rejected`, :class:`Transient`,
:class:`RetryAfter`, :class:`Fatal`); the worker claims, retries, backs off, gives up and
records, by the channel's :class:`Policy`.

Each worker step commits on its own (another process must see a claim before this one sends);
the staff transitions at the end of this module only flush, in the caller's unit of work.

Unknown-outcome window
----------------------
No channel has an idempotency key. A message is claimed (committed as ``sending``), sent, then
recorded as ``sent`` in the next commit. If the process dies between the channel accepting the
message and that commit, or a send fails after the request went out (a read timeout, a dropped
connection), the outcome is unknown: the row is sent again (after ``claim_timeout`` for a dead
process, at once or after the backoff otherwise). Those repeats are logged with
``UNKNOWN_OUTCOME`` and counted. The window is one message per process: rows are claimed one at
a time, so a row still ``sending`` after a crash is exactly the message that may have gone out.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import case, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from civic_app.notify.models import (
    CHANNEL_EMAIL,
    STATUS_FAILED,
    STATUS_PENDING_APPROVAL,
    STATUS_QUEUED,
    STATUS_SENDING,
    STATUS_SENT,
    STATUS_WITHDRAWN,
    OutboxMessage,
)

log = logging.getLogger("civic_app.notify.worker")
UNKNOWN_OUTCOME = "UNKNOWN_OUTCOME"


# --- what a channel declares and reports ----------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """How the worker treats one channel's failures."""

    max_attempts: int  # failed attempts after which a row waits for staff (failed)
    backoff: Callable[[int], float]  # seconds before the next try of a row that failed n times
    claim_timeout: float  # seconds after which a 'sending' row of a silent process is taken again
    inline_retries: int = 0  # transient failures retried at once (after backoff(n)) before release
    retry_after_inline_max: float = 120.0  # longer "retry after" waits release the row until then


@dataclass(frozen=True)
class Blocked:
    """``prepare`` refuses the message for good (the privacy guard): failed, staff see why."""

    reason: str


@dataclass(frozen=True)
class Defer:
    """``prepare`` puts the message back without an attempt (an earlier one must go first)."""

    seconds: float
    reason: str


@dataclass(frozen=True)
class Sent:
    external_id: str | None = None  # the channel's id of what now exists (a post to edit later)
    action: str = "send"  # what was done, for the counts: send | edit | delete


@dataclass(frozen=True)
class Rejected:
    """Refused for good (bad address, bad request, forbidden): failed, staff decide."""

    error: str


@dataclass(frozen=True)
class Transient:
    """Worth retrying (network, server error, channel unreachable)."""

    error: str
    may_have_arrived: bool = False  # the request went out: a retry may repeat the message


@dataclass(frozen=True)
class RetryAfter:
    """The channel asks to wait (flood control); not a failure of the message."""

    seconds: float
    error: str


@dataclass(frozen=True)
class Fatal:
    """The sender cannot work at all (credentials refused): stop the worker."""

    error: str


Outcome = Sent | Rejected | Transient | RetryAfter | Fatal


class Sender(Protocol):
    """A channel: prepares and sends one message, reports the outcome, never sets a status."""

    channel: str
    policy: Policy

    def prepare(self, session: Session, row: OutboxMessage) -> Any:
        """What to send (any object ``send`` understands), or :class:`Blocked` / :class:`Defer`."""

    def pace(self, session: Session, now: dt.datetime, plan: Any) -> float:
        """Seconds to wait before sending ``plan`` (rate limits); 0 for none."""

    def send(self, plan: Any) -> Awaitable[Outcome]:
        """One delivery attempt; touches no database row."""

    def after_sent(self, session: Session, row: OutboxMessage, outcome: Sent, now: dt.datetime) -> None:
        """Follow-ups committed with the success (e.g. the subscribers' copies)."""

    def close(self) -> None:
        """End of a pass: release connections."""


class FatalChannelError(RuntimeError):
    """A sender reported :class:`Fatal`: the row is put back and the worker stops."""


@dataclass
class Tally:
    """What a worker did; ``done`` counts successes by action (send, edit, delete)."""

    done: Counter[str] = field(default_factory=Counter)
    failed: int = 0  # refused for good by the channel
    blocked: int = 0  # refused before sending (privacy guard)
    retried: int = 0  # released with a backoff after transient failures
    deferred: int = 0  # put back without an attempt
    rate_waits: int = 0
    unknown_outcome: int = 0

    @property
    def sent(self) -> int:
        return self.done["send"]


STOP = "stop"  # the channel looks down: end this pass


# --- the worker --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    id: int
    reclaimed: bool  # it was 'sending' under a silent process: the earlier send may have happened
    previous_worker: str | None
    row: OutboxMessage


async def _no_wait(_seconds: float) -> None:
    return None


class Worker:
    """Delivers one channel's due messages, one claim at a time."""

    def __init__(
        self,
        sender: Sender,
        *,
        name: str,
        now_fn: Callable[[], dt.datetime],
        sleep: Callable[[float], Awaitable[None]] = _no_wait,
        tally: Tally | None = None,
    ) -> None:
        self.sender = sender
        self.policy = sender.policy
        self.name = name
        self.now = now_fn
        self.sleep = sleep
        self.tally = tally if tally is not None else Tally()

    async def deliver_pass(self, session: Session) -> Tally:
        """Deliver every due message once; stop early when the channel looks down."""
        try:
            while True:
                claim = claim_next(
                    session,
                    channel=self.sender.channel,
                    now=self.now(),
                    worker=self.name,
                    claim_timeout=self.policy.claim_timeout,
                )
                if claim is None:
                    return self.tally
                result = await self.deliver(session, claim)
                session.expire_all()  # the next claim reads fresh rows, whatever the session's settings
                if result == STOP:
                    return self.tally
        finally:
            self.sender.close()

    async def deliver(self, session: Session, claim: Claim) -> str | None:
        if claim.reclaimed:
            self.tally.unknown_outcome += 1
            log.warning(
                "%s: outbox %s was left 'sending' by %s; its send may have happened, sending again",
                UNKNOWN_OUTCOME,
                claim.id,
                claim.previous_worker,
            )
        try:
            plan = self.sender.prepare(session, claim.row)
        except Exception as exc:
            log.exception("outbox %s cannot be prepared", claim.id)
            session.rollback()
            mark_failed(session, claim.id, f"메시지를 만들 수 없습니다: {exc}", now=self.now())
            self.tally.failed += 1
            return None
        if isinstance(plan, Blocked):
            log.warning("outbox %s refused before sending: %s", claim.id, plan.reason)
            mark_failed(session, claim.id, plan.reason, now=self.now())
            self.tally.blocked += 1
            return None
        if isinstance(plan, Defer):
            release(session, claim.id, now=self.now(), after=plan.seconds)
            self.tally.deferred += 1
            return None
        return await self._attempt(session, claim.id, plan)

    async def _attempt(self, session: Session, row_id: int, plan: Any) -> str | None:
        policy = self.policy
        failures = 0
        while True:
            wait = self.sender.pace(session, self.now(), plan)
            if wait > 0:
                self.tally.rate_waits += 1
                await self.sleep(wait)
            outcome = await self.sender.send(plan)
            if isinstance(outcome, Sent):
                mark_sent(session, row_id, now=self.now(), outcome=outcome, follow_up=self.sender.after_sent)
                self.tally.done[outcome.action] += 1
                return None
            if isinstance(outcome, Rejected):
                mark_failed(session, row_id, outcome.error, now=self.now())
                self.tally.failed += 1
                return None
            if isinstance(outcome, RetryAfter):
                log.info("outbox %s: the channel asks to wait %.1f s", row_id, outcome.seconds)
                if outcome.seconds > policy.retry_after_inline_max:
                    release(session, row_id, now=self.now(), after=outcome.seconds, note=outcome.error)
                    return STOP
                await self.sleep(outcome.seconds)
                refresh_claim(session, row_id, now=self.now(), worker=self.name)
                continue
            if isinstance(outcome, Fatal):
                release(session, row_id, now=self.now(), after=0, note=outcome.error)
                raise FatalChannelError(outcome.error)
            # Transient
            failures += 1
            if outcome.may_have_arrived:
                self.tally.unknown_outcome += 1
                log.warning(
                    "%s: outbox %s failed after the request went out (%s); the channel may have "
                    "delivered it, so the retry may repeat it",
                    UNKNOWN_OUTCOME,
                    row_id,
                    outcome.error,
                )
            if failures > policy.inline_retries:
                status = mark_retry(session, row_id, outcome.error, now=self.now(), policy=policy)
                self.tally.retried += 1
                log.warning("outbox %s: %s; released as %s", row_id, outcome.error, status)
                return STOP
            wait = policy.backoff(failures)
            log.info("outbox %s: network error (%s), retry in %.2f s", row_id, outcome.error, wait)
            await self.sleep(wait)
            refresh_claim(session, row_id, now=self.now(), worker=self.name)


def run_without_loop(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a worker pass whose sender never waits on an event loop (the SMTP sender is
    synchronous), from plain code such as a CLI command or a test, even inside a thread that
    has a running loop."""
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return finished.value
    coroutine.close()
    raise RuntimeError("this sender waits on an event loop: run the worker with asyncio")


async def blocking_sleep(seconds: float) -> None:
    """A worker's sleep for synchronous callers (see :func:`run_without_loop`)."""
    time.sleep(seconds)


# --- worker steps: each commits (the worker process's own transactions) --------------------------


def _due(channel: str, now: dt.datetime, claim_timeout: float):
    stale = now - dt.timedelta(seconds=claim_timeout)
    return (OutboxMessage.channel == channel) & or_(
        (OutboxMessage.status == STATUS_QUEUED) & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.status == STATUS_SENDING) & (OutboxMessage.claimed_at < stale),
    )


def claim_next(
    session: Session, *, channel: str, now: dt.datetime, worker: str, claim_timeout: float
) -> Claim | None:
    """Claim one due row of ``channel`` and commit the claim.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets several processes claim side by side. SQLite
    (one process): a compare-and-set update, so even a stray second process cannot take a row
    twice.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    for _try in range(5):
        query = (
            select(OutboxMessage)
            .where(_due(channel, now, claim_timeout))
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


def mark_sent(
    session: Session,
    row_id: int,
    *,
    now: dt.datetime,
    outcome: Sent,
    follow_up: Callable[[Session, OutboxMessage, Sent, dt.datetime], None] | None = None,
) -> None:
    """Record success (and the sender's follow-ups) in one commit."""
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
    if outcome.external_id is not None:
        row.external_message_id = outcome.external_id
    if follow_up is not None:
        follow_up(session, row, outcome, now)
    session.commit()


def mark_retry(session: Session, row_id: int, error: str, *, now: dt.datetime, policy: Policy) -> str:
    """A transient failure: back off, or fail for staff after ``max_attempts``. Returns the status."""
    row = session.get(OutboxMessage, row_id)
    if row is None:
        return ""
    row.attempts += 1
    row.last_error = error[:2000]
    row.updated_at = now
    row.claimed_at = None
    row.claimed_by = None
    if row.attempts >= policy.max_attempts:
        row.status = STATUS_FAILED
    else:
        row.status = STATUS_QUEUED
        row.next_attempt_at = now + dt.timedelta(seconds=policy.backoff(row.attempts))
    session.commit()
    return row.status


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


def release(
    session: Session, row_id: int, *, now: dt.datetime, after: float, note: str | None = None
) -> None:
    """Put a claimed row back without counting an attempt (flood control, ordering)."""
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


def refresh_claim(session: Session, row_id: int, *, now: dt.datetime, worker: str) -> None:
    """Keep a claim alive through long waits so no other process takes the row."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.claimed_by == worker)
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()


# --- staff and feature transitions: flush only, in the caller's unit of work -------------------


def approve(message: OutboxMessage, *, now: dt.datetime) -> None:
    """pending_approval → queued: send it now."""
    message.status = STATUS_QUEUED
    message.next_attempt_at = now
    message.updated_at = now


def requeue(message: OutboxMessage, *, now: dt.datetime) -> None:
    """failed → queued with a fresh count of attempts (staff retry)."""
    message.status = STATUS_QUEUED
    message.attempts = 0
    message.next_attempt_at = now
    message.claimed_at = None
    message.claimed_by = None
    message.updated_at = now


def withdraw(message: OutboxMessage, *, now: dt.datetime, note: str | None = None) -> None:
    """Any state but sending → withdrawn: never (or no longer) delivered."""
    message.status = STATUS_WITHDRAWN
    message.updated_at = now
    if note:
        message.last_error = note


def withdraw_superseded(session: Session, row: OutboxMessage, *, now: dt.datetime) -> None:
    """A newer version about the same item was published: its earlier versions still waiting
    for approval will never go out."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == row.channel,
            OutboxMessage.recipient.is_(None)
            if row.recipient is None
            else OutboxMessage.recipient == row.recipient,
            OutboxMessage.subject_ref == row.subject_ref,
            OutboxMessage.id < row.id,
            OutboxMessage.status == STATUS_PENDING_APPROVAL,
        )
        .values(status=STATUS_WITHDRAWN, last_error="새 버전이 게시되어 대체되었습니다.", updated_at=now)
        .execution_options(synchronize_session=False)
    )


def erase_mail_to(session: Session, address: str, *, now: dt.datetime, placeholder: str) -> None:
    """The address's e-mails (sent or not) lose address and content; unsent ones are withdrawn."""
    unsent = (STATUS_QUEUED, STATUS_FAILED, STATUS_PENDING_APPROVAL)
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.channel == CHANNEL_EMAIL, OutboxMessage.recipient == address)
        .values(
            recipient=placeholder,
            payload={"subject": "", "body": "", "attachments": []},
            status=case((OutboxMessage.status.in_(unsent), STATUS_WITHDRAWN), else_=OutboxMessage.status),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
