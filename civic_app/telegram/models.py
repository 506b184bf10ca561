"""Telegram feature tables: per-kind approval policy, linked chats, link codes, subscriptions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic_app.db_types import UTCDateTime
from civic_app.extensions import db


class TelegramKindSetting(db.Model):
    """Whether messages of one kind go out automatically or wait for staff approval."""

    __tablename__ = "telegram_kind_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), unique=True)
    requires_approval: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class TelegramChat(db.Model):
    """A private chat with the bot; ``user_id`` is set once the citizen linked it."""

    __tablename__ = "telegram_chats"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(40), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), unique=True, index=True
    )
    locale: Mapped[str] = mapped_column(String(5), default="ko")
    linked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    subscriptions: Mapped[list[TelegramSubscription]] = relationship(
        back_populates="chat", cascade="all, delete-orphan", lazy="selectin"
    )


class TelegramLinkCode(db.Model):
    """A one-time code shown on the account page; only its hash is stored."""

    __tablename__ = "telegram_link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class TelegramSubscription(db.Model):
    """A chat follows a dong: the bot sends it that dong's news directly."""

    __tablename__ = "telegram_subscriptions"
    __table_args__ = (UniqueConstraint("chat_pk", "dong_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_pk: Mapped[int] = mapped_column(ForeignKey("telegram_chats.id", ondelete="CASCADE"), index=True)
    dong_id: Mapped[int] = mapped_column(ForeignKey("dongs.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    chat: Mapped[TelegramChat] = relationship(back_populates="subscriptions")
    dong = relationship("Dong", lazy="joined")


class TelegramBotState(db.Model):
    """Small key/value state of the bot process (the getUpdates offset)."""

    __tablename__ = "telegram_bot_state"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
