from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from civic_app.db_types import UTCDateTime
from civic_app.extensions import db

CHANNEL_EMAIL = "email"
CHANNEL_TELEGRAM = "telegram"  # the public channel (recipient None) or a private chat id

STATUS_PENDING_APPROVAL = "pending_approval"
STATUS_QUEUED = "queued"
STATUS_SENDING = "sending"
STATUS_SENT = "sent"
STATUS_FAILED = "failed"
STATUS_WITHDRAWN = "withdrawn"
STATUSES = (
    STATUS_PENDING_APPROVAL,
    STATUS_QUEUED,
    STATUS_SENDING,
    STATUS_SENT,
    STATUS_FAILED,
    STATUS_WITHDRAWN,
)


class OutboxMessage(db.Model):
    """One notice to deliver. Written in the caller's transaction; sent by another process."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_due", "channel", "status", "next_attempt_at"),
        # The bot's rate check reads the last channel post (max sent_at) before each post.
        Index(
            "ix_outbox_channel_posts_sent",
            "sent_at",
            postgresql_where=text("channel = 'telegram' AND recipient IS NULL"),
            sqlite_where=text("channel = 'telegram' AND recipient IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str | None] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict] = mapped_column(JSON)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    # What the message is about ("visit:12"), so corrections edit and withdrawals delete it.
    subject_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(20), default=STATUS_QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    external_message_id: Mapped[str | None] = mapped_column(String(100))
