"""Follows (구독): who wants to hear when a dong, a card item, a request or a committee task changes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civic_app.db_types import UTCDateTime
from civic_app.extensions import db

# What can be followed.
DONG = "dong"
CARD_ITEM = "card_item"
REQUEST = "request"  # a 통통데이 request: its owner only
COMMITTEE_TASK = "committee_task"
TARGET_KINDS = (DONG, CARD_ITEM, REQUEST, COMMITTEE_TASK)

# How notices reach the follower.
EMAIL = "email"
TELEGRAM = "telegram"
CHANNELS = (EMAIL, TELEGRAM)

IMMEDIATE = "immediate"
WEEKLY = "weekly"
FREQUENCIES = (IMMEDIATE, WEEKLY)

PENDING = "pending"  # an e-mail address that has not confirmed yet (double opt-in)
ACTIVE = "active"
STATUSES = (PENDING, ACTIVE)


def telegram_address(chat_pk: int) -> str:
    return f"tg:{chat_pk}"


class Follow(db.Model):
    """One address following one target. Unsubscribing deletes the row (nothing is kept).

    ``address`` is the normalised e-mail address, or ``tg:<telegram_chats.id>``: one address
    follows a target once, and one change reaches one address once whatever it follows.
    """

    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("target_kind", "target_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column()
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(254), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    chat_pk: Mapped[int | None] = mapped_column(
        ForeignKey("telegram_chats.id", ondelete="CASCADE"), index=True
    )
    frequency: Mapped[str] = mapped_column(String(10), default=IMMEDIATE)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    locale: Mapped[str] = mapped_column(String(5), default="ko")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    confirm_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_digest_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE


class FollowDigestEntry(db.Model):
    """A notice waiting for a weekly follower's digest; deleted once the digest is queued."""

    __tablename__ = "follow_digest_entries"
    __table_args__ = (UniqueConstraint("follow_id", "event_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_id: Mapped[int] = mapped_column(ForeignKey("follows.id", ondelete="CASCADE"), index=True)
    event_ref: Mapped[str] = mapped_column(String(150))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
