"""Telegram part of a citizen's data rights (see ``civic_app.accounts.rights``): the linked
private chat and its dong subscriptions are exported, and deleted on 회원 탈퇴 (the chat id
identifies a person on Telegram; the bot then treats the chat as a stranger)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from civic_app.telegram.models import TelegramChat, TelegramLinkCode
from civic_app.timeutil import iso_seoul


def export(session: Session, user) -> dict | None:
    chat = session.scalar(select(TelegramChat).where(TelegramChat.user_id == user.id))
    if chat is None:
        return None
    return {
        "chat_id": chat.chat_id,
        "locale": chat.locale,
        "linked_at": iso_seoul(chat.linked_at) if chat.linked_at else None,
        "subscriptions": [s.dong.name for s in chat.subscriptions],
    }


def erase(session: Session, user, *, now: dt.datetime, **_context: object) -> None:
    for chat in session.scalars(select(TelegramChat).where(TelegramChat.user_id == user.id)):
        session.delete(chat)  # its subscriptions go with it
    session.execute(delete(TelegramLinkCode).where(TelegramLinkCode.user_id == user.id))
    session.flush()
