"""Factories for the Telegram feature: outbox rows of every kind, linked chats."""

from __future__ import annotations

import datetime as dt
import itertools

from civic_app.extensions import db
from civic_app.notify.models import OutboxMessage
from civic_app.notify.services import enqueue, enqueue_telegram
from civic_app.telegram.models import TelegramChat
from tests.factories import NOW

_seq = itertools.count(1)


def sample_payload(kind: str, n: int | None = None) -> dict:
    """A public payload as the owning feature writes it, with a unique title."""
    n = next(_seq) if n is None else n
    base = {"title": f"{kind} 소식 {n}", "summary": f"요약 {n}", "url": f"/items/{n}", "lines": [f"항목 {n}"]}
    extras = {
        "visit_result": {"dong_name": "중앙동", "date": "2026-11-19", "departments": ["도로과", "복지과"]},
        "tongtong_summary": {},
        "card_budget_reflected": {"dong_name": "중앙동", "fiscal_year": 2027, "amount": 120_000_000},
        "card_done": {"dong_name": "중앙동", "fiscal_year": 2026, "amount": 5_000_000},
        "committee_quarterly_report": {"lines": [f"P-{n} 과제: 40% → 60%"]},
        "weekly_digest": {
            "sessions": [{"start_at": "2026-11-26T14:00:00+09:00", "location": "시장실"}],
            "visits": [{"start_at": "2026-11-24T10:00:00+09:00", "dong_name": "중앙동", "title": ""}],
        },
    }
    return {**base, **extras.get(kind, {})}


def queue(
    kind: str,
    *,
    payload: dict | None = None,
    subject_ref: str | None = None,
    now: dt.datetime = NOW,
    chat_id: str | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage:
    n = next(_seq)
    return enqueue_telegram(
        db.session,
        kind=kind,
        payload=payload or sample_payload(kind, n),
        dedupe_key=dedupe_key or f"test-{kind}-{n}",
        now=now,
        subject_ref=subject_ref,
        chat_id=chat_id,
    )


def queue_raw(kind: str, payload: dict, *, status: str, now: dt.datetime = NOW, **kw) -> OutboxMessage:
    row = enqueue(
        db.session,
        channel="telegram",
        kind=kind,
        payload=payload,
        dedupe_key=f"raw-{kind}-{next(_seq)}",
        now=now,
        **kw,
    )
    row.status = status
    db.session.flush()
    return row


def make_chat(
    chat_id: str = "5550001", *, user=None, locale: str = "ko", now: dt.datetime = NOW
) -> TelegramChat:
    chat = TelegramChat(
        chat_id=chat_id,
        user_id=user.id if user else None,
        locale=locale,
        linked_at=now if user else None,
        created_at=now,
        updated_at=now,
    )
    db.session.add(chat)
    db.session.flush()
    return chat
