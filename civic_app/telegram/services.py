"""Telegram rules: approval queue actions, chat linking, subscriptions, the weekly digest.

Every function takes the session and the clock, flushes and never commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.accounts.models import User
from civic_app.audit.services import record
from civic_app.dongs.models import Dong
from civic_app.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from civic_app.notify import worker as outbox
from civic_app.notify.models import (
    CHANNEL_TELEGRAM,
    STATUS_FAILED,
    STATUS_PENDING_APPROVAL,
    STATUS_QUEUED,
    STATUS_SENDING,
    STATUS_SENT,
    STATUS_WITHDRAWN,
    OutboxMessage,
)
from civic_app.notify.services import enqueue, enqueue_telegram
from civic_app.telegram import sources
from civic_app.telegram.models import (
    TelegramChat,
    TelegramKindSetting,
    TelegramLinkCode,
    TelegramSubscription,
)
from civic_app.timeutil import iso_seoul, to_seoul

# Internal outbox kind: delete the channel post of a withdrawn message (payload: message_id).
DELETE_KIND = "telegram_delete"
LINK_CODE_TTL = dt.timedelta(minutes=15)
LINK_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def kind_labels() -> dict[str, str]:
    return {
        "visit_result": _("현장소통 결과"),
        "tongtong_summary": _("통통데이 공개 요약"),
        "card_budget_reflected": _("동 관리카드 예산 반영"),
        "card_done": _("동 관리카드 완료"),
        "committee_quarterly_report": _("위원회 분기 보고"),
        "weekly_digest": _("주간 일정 요약"),
        DELETE_KIND: _("채널 게시물 삭제"),
    }


# --- approval policy ------------------------------------------------------------------------


def set_kind_policy(
    session: Session, kind: str, *, requires_approval: bool, actor: User, now: dt.datetime
) -> TelegramKindSetting:
    setting = session.scalar(select(TelegramKindSetting).where(TelegramKindSetting.kind == kind))
    if setting is None:
        setting = TelegramKindSetting(kind=kind)
        session.add(setting)
    setting.requires_approval = requires_approval
    setting.updated_at = now
    setting.updated_by_id = actor.id
    session.flush()
    record(
        session,
        actor_id=actor.id,
        action="telegram.policy",
        target_type="telegram_kind",
        target_id=setting.id,
        detail={"kind": kind, "requires_approval": requires_approval},
        now=now,
    )
    return setting


# --- approval queue ---------------------------------------------------------------------------


def _telegram_message(session: Session, message_id: int) -> OutboxMessage:
    message = session.get(OutboxMessage, message_id)
    if message is None or message.channel != CHANNEL_TELEGRAM:
        raise NotFound(_("메시지를 찾을 수 없습니다."))
    return message


def get_message(session: Session, message_id: int) -> OutboxMessage:
    return _telegram_message(session, message_id)


def edit_message(
    session: Session,
    message: OutboxMessage,
    *,
    title: str,
    summary: str,
    lines: list[str],
    actor: User,
    now: dt.datetime,
) -> OutboxMessage:
    """Staff correct the text before approval (or before retrying a failed message)."""
    if message.status not in (STATUS_PENDING_APPROVAL, STATUS_FAILED):
        raise InvalidTransition(_("승인 대기 중이거나 실패한 메시지만 고칠 수 있습니다."))
    title = title.strip()
    if not title:
        raise ValidationFailed(_("제목을 입력해 주세요."), [("title", _("제목을 입력해 주세요."))])
    payload = dict(message.payload)
    payload.update(title=title, summary=summary.strip(), lines=[ln.strip() for ln in lines if ln.strip()])
    message.payload = payload  # a new dict: the JSON column sees the change
    message.updated_at = now
    session.flush()
    _audit(session, message, "telegram.edit", actor, now)
    return message


def approve(session: Session, message: OutboxMessage, *, actor: User, now: dt.datetime) -> OutboxMessage:
    if message.status != STATUS_PENDING_APPROVAL:
        raise InvalidTransition(_("승인 대기 중인 메시지가 아닙니다."))
    outbox.approve(message, now=now)
    session.flush()
    _audit(session, message, "telegram.approve", actor, now)
    return message


def retry(session: Session, message: OutboxMessage, *, actor: User, now: dt.datetime) -> OutboxMessage:
    if message.status != STATUS_FAILED:
        raise InvalidTransition(_("실패한 메시지만 다시 보낼 수 있습니다."))
    outbox.requeue(message, now=now)
    session.flush()
    _audit(session, message, "telegram.retry", actor, now)
    return message


def withdraw(
    session: Session, message: OutboxMessage, *, actor: User | None, now: dt.datetime
) -> OutboxMessage | None:
    """Withdraw a message; a channel post already published is deleted by the bot.

    Returns the queued deletion, if any.
    """
    if message.status == STATUS_SENDING:
        raise Conflict(_("지금 보내는 중입니다. 잠시 뒤 다시 시도해 주세요."))
    if message.status == STATUS_WITHDRAWN or message.kind == DELETE_KIND:
        raise InvalidTransition(_("이미 철회했거나 철회할 수 없는 메시지입니다."))
    deletion = None
    if message.status == STATUS_SENT and message.external_message_id:
        chat = message.recipient  # None: the channel
        deletion = enqueue(
            session,
            channel=CHANNEL_TELEGRAM,
            recipient=chat,
            kind=DELETE_KIND,
            payload={
                "message_id": message.external_message_id,
                "target_id": message.id,
                "title": message.payload.get("title", ""),
                "url": message.payload.get("url", "/"),
            },
            dedupe_key=f"telegram-delete:{message.id}:{message.external_message_id}",
            subject_ref=message.subject_ref,
            now=now,
        )
        # Earlier rows carrying the same post (corrections edit one post) stop counting as live.
        if message.subject_ref:
            for other in session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.channel == CHANNEL_TELEGRAM,
                    OutboxMessage.subject_ref == message.subject_ref,
                    OutboxMessage.external_message_id == message.external_message_id,
                    OutboxMessage.status == STATUS_SENT,
                    OutboxMessage.kind != DELETE_KIND,
                )
            ):
                outbox.withdraw(other, now=now)
    outbox.withdraw(message, now=now)
    session.flush()
    if actor is not None:
        _audit(session, message, "telegram.withdraw", actor, now)
    return deletion


def withdraw_subject(
    session: Session, subject_ref: str, *, now: dt.datetime, actor: User | None = None
) -> int:
    """For features that take an item back: withdraw every live channel message about it."""
    rows = list(
        session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.channel == CHANNEL_TELEGRAM,
                OutboxMessage.recipient.is_(None),
                OutboxMessage.subject_ref == subject_ref,
                OutboxMessage.kind != DELETE_KIND,
                OutboxMessage.status.in_(
                    (STATUS_PENDING_APPROVAL, STATUS_QUEUED, STATUS_FAILED, STATUS_SENT)
                ),
            )
            .order_by(OutboxMessage.id.desc())
        )
    )
    done = 0
    for row in rows:
        if row.status != STATUS_WITHDRAWN:  # an earlier loop step may have withdrawn it
            withdraw(session, row, actor=actor, now=now)
            done += 1
    return done


def _audit(session: Session, message: OutboxMessage, action: str, actor: User, now: dt.datetime) -> None:
    record(
        session,
        actor_id=actor.id,
        action=action,
        target_type="outbox_message",
        target_id=message.id,
        detail={"kind": message.kind},
        now=now,
    )


# --- chat linking -----------------------------------------------------------------------------


def _hash_code(code: str) -> str:
    normalised = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


def create_link_code(session: Session, user: User, *, now: dt.datetime) -> str:
    """A fresh one-time code (valid 15 minutes); earlier unused codes of the user stop working."""
    for old in session.scalars(
        select(TelegramLinkCode).where(
            TelegramLinkCode.user_id == user.id, TelegramLinkCode.used_at.is_(None)
        )
    ):
        old.used_at = now
    raw = "".join(secrets.choice(LINK_ALPHABET) for _i in range(8))
    session.add(
        TelegramLinkCode(
            user_id=user.id,
            code_hash=_hash_code(raw),
            created_at=now,
            expires_at=now + LINK_CODE_TTL,
        )
    )
    session.flush()
    return f"{raw[:4]}-{raw[4:]}"


def get_or_create_chat(session: Session, chat_id: str, *, now: dt.datetime) -> TelegramChat:
    chat = session.scalar(select(TelegramChat).where(TelegramChat.chat_id == chat_id))
    if chat is None:
        chat = TelegramChat(chat_id=chat_id, locale="ko", created_at=now, updated_at=now)
        session.add(chat)
        session.flush()
    return chat


def link_chat(session: Session, chat: TelegramChat, code: str, *, now: dt.datetime) -> User:
    """Bind the chat to the account whose unexpired one-time ``code`` this is."""
    link = session.scalar(select(TelegramLinkCode).where(TelegramLinkCode.code_hash == _hash_code(code)))
    if link is None or link.used_at is not None or link.expires_at < now:
        raise ValidationFailed(_("연결 코드가 맞지 않거나 만료되었습니다."))
    user = session.get(User, link.user_id)
    if user is None or not user.is_active:
        raise ValidationFailed(_("연결 코드가 맞지 않거나 만료되었습니다."))
    link.used_at = now
    previous = session.scalar(select(TelegramChat).where(TelegramChat.user_id == user.id))
    if previous is not None and previous.id != chat.id:
        previous.user_id = None
        previous.linked_at = None
        session.flush()
    chat.user_id = user.id
    chat.linked_at = now
    chat.updated_at = now
    session.flush()
    return user


def linked_chat(session: Session, user: User) -> TelegramChat | None:
    return session.scalar(select(TelegramChat).where(TelegramChat.user_id == user.id))


def unlink(session: Session, user: User, *, now: dt.datetime) -> bool:
    chat = linked_chat(session, user)
    if chat is None:
        return False
    chat.user_id = None
    chat.linked_at = None
    chat.updated_at = now
    session.flush()
    return True


# --- subscriptions ----------------------------------------------------------------------------


def subscribe(session: Session, chat: TelegramChat, dong: Dong, *, now: dt.datetime) -> bool:
    """True when a new subscription was added."""
    if any(s.dong_id == dong.id for s in chat.subscriptions):
        return False
    chat.subscriptions.append(TelegramSubscription(dong_id=dong.id, created_at=now))
    session.flush()
    return True


def unsubscribe(session: Session, chat: TelegramChat, dong: Dong) -> bool:
    for sub in list(chat.subscriptions):
        if sub.dong_id == dong.id:
            chat.subscriptions.remove(sub)
            session.flush()
            return True
    return False


def subscriber_chat_ids(session: Session, dong_name: str) -> list[str]:
    return list(
        session.scalars(
            select(TelegramChat.chat_id)
            .join(TelegramSubscription, TelegramSubscription.chat_pk == TelegramChat.id)
            .join(Dong, Dong.id == TelegramSubscription.dong_id)
            .where(Dong.name == dong_name)
            .order_by(TelegramChat.id)
        )
    )


# --- weekly digest ----------------------------------------------------------------------------


def digest_key(now: dt.datetime) -> str:
    year, week, _day = to_seoul(now).isocalendar()
    return f"weekly-digest:{year}-W{week:02d}"


def build_digest_payload(session: Session, *, now: dt.datetime) -> dict:
    sessions = sources.upcoming_sessions(session, now=now, limit=4)
    visits = sources.upcoming_visits(session, now=now, limit=8)
    local = to_seoul(now)
    return {
        "title": _("%(y)d년 %(m)d월 %(d)d일 주간 일정", y=local.year, m=local.month, d=local.day),
        "summary": _("다가오는 통통데이와 동 현장 방문 일정을 알려 드립니다."),
        "url": "/",
        "sessions": [{"start_at": iso_seoul(s.start_at), "location": s.location} for s in sessions],
        "visits": [
            {"start_at": iso_seoul(v.start_at), "dong_name": v.dong_name, "title": v.title} for v in visits
        ],
    }


def queue_weekly_digest(session: Session, *, now: dt.datetime) -> tuple[OutboxMessage, bool]:
    """Queue this week's digest once; returns (message, created)."""
    key = digest_key(now)
    existing = session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
    if existing is not None:
        return existing, False
    message = enqueue_telegram(
        session,
        kind="weekly_digest",
        payload=build_digest_payload(session, now=now),
        dedupe_key=key,
        now=now,
        subject_ref=key,
    )
    return message, True


def digest_due(now: dt.datetime) -> bool:
    """Monday from 09:00 Asia/Seoul (the running bot queues it then; the key keeps it once)."""
    local = to_seoul(now)
    return local.weekday() == 0 and local.time() >= dt.time(9, 0)
