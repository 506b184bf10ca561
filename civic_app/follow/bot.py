"""The bot's /follow, /unfollow and /following (registered into the Telegram commands).

Replies are Telegram HTML in the chat's language (the commands module sets it); every value is
escaped here. The chat itself asks, so a Telegram follow is active at once; a 통통데이 request
can be followed only from a chat linked to the account that made it.
"""

from __future__ import annotations

import datetime as dt
import html

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from civic_app.errors import DomainError
from civic_app.follow import services, targets
from civic_app.follow.models import WEEKLY, telegram_address


def escape(text: str) -> str:
    """Telegram HTML needs only <, > and & escaped."""
    return html.escape(str(text), quote=False)


def _split(arg: str) -> tuple[str, str]:
    """'중앙동 주간' → ('중앙동', 'weekly'); the last word chooses the weekly digest."""
    words = (arg or "").split()
    if len(words) > 1 and services.weekly(words[-1]) == WEEKLY:
        return " ".join(words[:-1]), WEEKLY
    return " ".join(words), "immediate"


def _frequency_label(frequency: str) -> str:
    return _("주간 요약") if frequency == WEEKLY else _("바로 받기")


def follow(session: Session, chat, arg: str, *, now: dt.datetime) -> str:
    text, frequency = _split(arg)
    if not text:
        return str(
            escape(
                _(
                    "구독할 대상을 함께 보내 주세요. 예: /follow 중앙동, /follow 12 (동 관리카드 항목 번호), 끝에 '주간'을 붙이면 한 주에 한 번 모아 받습니다."
                )
            )
        )
    target = targets.find_by_handle(session, text)
    if target is None:
        return escape(_("'%(t)s'을(를) 찾을 수 없습니다.", t=text[:40]))
    try:
        follow_row, changed = services.follow_by_telegram(
            session, chat=chat, kind=target.kind, target_id=target.id, frequency=frequency, now=now
        )
    except DomainError as error:
        return escape(error.message)
    label = f"{targets.kind_label(target.kind)} '{target.label}'"
    if not changed:
        message = _("이미 %(t)s을(를) 구독하고 있습니다.", t=label)
    else:
        message = _(
            "%(t)s을(를) 구독했습니다 (%(f)s). 해지: /unfollow %(h)s",
            t=label,
            f=_frequency_label(follow_row.frequency),
            h=target.handle,
        )
    return escape(message)


def unfollow(session: Session, chat, arg: str, *, now: dt.datetime) -> str:
    text, _frequency = _split(arg)
    if not text:
        return escape(_("해지할 대상을 함께 보내 주세요. 예: /unfollow 중앙동 · 구독 목록: /following"))
    target = targets.find_by_handle(session, text)
    rows = [
        f
        for f in services.chat_follows(session, chat)
        if target is not None and (f.target_kind, f.target_id) == (target.kind, target.id)
    ]
    if not rows:
        return escape(_("'%(t)s'을(를) 구독하고 있지 않습니다. 구독 목록: /following", t=text[:40]))
    services.unsubscribe(session, rows, now=now)
    label = f"{targets.kind_label(target.kind)} '{target.label}'"
    return escape(_("%(t)s 구독을 해지했습니다.", t=label))


def following(session: Session, chat, arg: str, *, now: dt.datetime) -> str:
    rows = services.chat_follows(session, chat)
    if not rows:
        return escape(_("구독하고 있는 것이 없습니다. 예: /follow 중앙동"))
    found = targets.describe_many(session, [(f.target_kind, f.target_id) for f in rows])
    heading = escape(_("구독 목록"))
    lines = [f"<b>{heading}</b>"]
    for row in rows:
        target = found.get((row.target_kind, row.target_id))
        if target is None or row.address != telegram_address(chat.id):
            continue
        lines.append(
            escape(
                f"• {targets.kind_label(target.kind)} {target.label} ({_frequency_label(row.frequency)})"
                f" — /unfollow {target.handle}"
            )
        )
    return "\n".join(str(line) for line in lines)


def help_follow() -> str:
    return _("/follow 동·항목 번호·과제 코드 — 바뀔 때마다 알림 받기 (끝에 '주간': 한 주에 한 번)")


def help_unfollow() -> str:
    return _("/unfollow 대상 — 구독 해지 · /following — 구독 목록")


def init_app(app) -> None:
    from civic_app.telegram.commands import register_command

    register_command(app, "follow", follow, help_follow)
    register_command(app, "unfollow", unfollow, help_unfollow)
    register_command(app, "following", following, None)
