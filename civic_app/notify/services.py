"""Enqueue notices in the caller's transaction (flush only, never commit)."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civic_app.integrity.conflicts import is_unique_violation, savepoint
from civic_app.notify.models import (
    CHANNEL_EMAIL,
    CHANNEL_TELEGRAM,
    STATUS_PENDING_APPROVAL,
    STATUS_QUEUED,
    OutboxMessage,
)
from civic_app.registry import get_registry


def enqueue(
    session: Session,
    *,
    channel: str,
    kind: str,
    payload: dict,
    dedupe_key: str,
    now: dt.datetime,
    recipient: str | None = None,
    subject_ref: str | None = None,
    needs_approval: bool = False,
) -> OutboxMessage:
    """Add an outbox row unless one with ``dedupe_key`` exists (then return that one, also
    when a concurrent transaction inserted it first: the unique key decides, in a SAVEPOINT).

    The row commits with the caller's change or not at all; the sender process picks it up.
    """
    existing = session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
    if existing is not None:
        return existing
    message = OutboxMessage(
        channel=channel,
        recipient=recipient,
        kind=kind,
        payload=payload,
        dedupe_key=dedupe_key,
        subject_ref=subject_ref,
        status=STATUS_PENDING_APPROVAL if needs_approval else STATUS_QUEUED,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    try:
        with savepoint(session):
            session.add(message)
            session.flush()
    except IntegrityError as error:
        if not is_unique_violation(error, "outbox_messages", "dedupe_key"):
            raise
        # The same notice was enqueued at the same moment by a transaction that committed
        # first (two duplicate registrations, a double click): that one is the notice.
        winner = session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
        if winner is None:
            raise
        return winner
    return message


def enqueue_email(
    session: Session,
    *,
    to: str,
    subject: str,
    body: str,
    kind: str,
    dedupe_key: str,
    now: dt.datetime,
    attachments: list[dict] | None = None,
    subject_ref: str | None = None,
) -> OutboxMessage:
    """Queue an e-mail. ``attachments``: [{"filename", "content_type", "content" (text)}]."""
    return enqueue(
        session,
        channel=CHANNEL_EMAIL,
        recipient=to,
        kind=kind,
        payload={"subject": subject, "body": body, "attachments": attachments or []},
        dedupe_key=dedupe_key,
        now=now,
        subject_ref=subject_ref,
    )


def enqueue_telegram(
    session: Session,
    *,
    kind: str,
    payload: dict,
    dedupe_key: str,
    now: dt.datetime,
    subject_ref: str | None = None,
    chat_id: str | None = None,
) -> OutboxMessage:
    """Queue a public Telegram post (or a private chat message when ``chat_id`` is given).

    ``payload`` must hold only public data: ``title``, ``summary`` (plain text), ``url``
    (a path such as ``/visits/12``) and optional ``lines`` (list of plain strings), plus any
    kind-specific public fields. Whether the kind needs staff approval is decided by the
    approval policy the Telegram feature registers (``Registry.set_telegram_approval_policy``).
    """
    policy = get_registry(current_app).telegram_approval_policy
    needs_approval = policy is not None and policy(session, kind)
    return enqueue(
        session,
        channel=CHANNEL_TELEGRAM,
        recipient=chat_id,
        kind=kind,
        payload=payload,
        dedupe_key=dedupe_key,
        now=now,
        subject_ref=subject_ref,
        needs_approval=needs_approval,
    )
