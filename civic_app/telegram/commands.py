"""Resident commands in private chat. Replies are Telegram HTML in the chat's language.

A chat learns nothing about a citizen until that citizen links it with a one-time code from
their account page; ``/status`` then shows only the linked account's own requests.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.routing import BuildError

from civic_app.errors import DomainError
from civic_app.telegram import services, sources
from civic_app.telegram.models import TelegramChat
from civic_app.telegram.render import MAX_LENGTH, _tidy

COMMANDS = ("start", "help", "link", "next", "visits", "dong", "subscribe", "unsubscribe", "status", "lang")
EXTRA_KEY = "civic_telegram_commands"


def register_command(app, name: str, handler, help_line=None) -> None:
    """Let a feature add a command: ``handler(session, chat, arg, now=...)`` returns the reply
    (Telegram HTML) and ``help_line()`` its line in /help, both in the chat's language."""
    app.extensions.setdefault(EXTRA_KEY, {})[name] = (handler, help_line)


def status_label(status: str) -> str:
    labels = {
        "submitted": _("접수"),
        "waitlisted": _("대기"),
        "booked": _("면담 확정"),
        "held": _("면담 완료"),
        "referred": _("부서 답변 대기"),
        "answered": _("답변 완료"),
        "declined": _("반려"),
        "withdrawn": _("취소"),
    }
    return labels.get(status, status)


def page_path(candidates: tuple[str, ...], fallback: str) -> str:
    """The path of the first endpoint the app has (no request context needed)."""
    adapter = current_app.url_map.bind("localhost")
    for endpoint in candidates:
        if endpoint in current_app.view_functions:
            with contextlib.suppress(BuildError):  # an endpoint needing arguments is skipped
                return adapter.build(endpoint)
    return fallback


def parse(text: str) -> tuple[str, str]:
    """'/visits@civic_bot 중앙동' → ('visits', '중앙동'); plain text → ('', text)."""
    text = (text or "").strip()
    if not text.startswith("/"):
        return "", text
    head, _sep, rest = text.partition(" ")
    name = head[1:].split("@", 1)[0].lower()
    return name, rest.strip()


def handle(session: Session, *, chat_id: str, text: str, now: dt.datetime) -> str | None:
    """The reply to one private message (None: say nothing). Flushes; the caller commits."""
    chat = services.get_or_create_chat(session, chat_id, now=now)
    command, arg = parse(text)
    if command == "lang":
        if arg.lower() in ("en", "english", "영어"):
            chat.locale = "en"
        elif arg.lower() in ("ko", "kr", "korean", "한국어"):
            chat.locale = "ko"
        chat.updated_at = now
        session.flush()
    with force_locale(chat.locale or "ko"):
        reply = _dispatch(session, chat, command, arg, now=now)
    if reply is None:
        return None
    return reply[:MAX_LENGTH]


def _page(template: str, **context) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    return _tidy(
        current_app.jinja_env.get_template(f"telegram/replies/{template}.html").render(
            base=base, status_label=status_label, **context
        )
    )


def _dispatch(
    session: Session, chat: TelegramChat, command: str, arg: str, *, now: dt.datetime
) -> str | None:
    if command in ("start", "link") and arg:
        try:
            services.link_chat(session, chat, arg, now=now)
        except DomainError as error:
            return _page("message", text=error.message)
        return _page("linked")
    extra = current_app.extensions.get(EXTRA_KEY, {})
    if command in extra:
        return extra[command][0](session, chat, arg, now=now)
    if command in ("start", "help", ""):
        helps = [h() for _handler, h in extra.values() if h is not None]
        return _page("help", linked=chat.user_id is not None, extra_help=helps)
    if command == "lang":
        return _page(
            "message",
            text=_("이제 한국어로 답합니다.") if chat.locale == "ko" else _("이제 영어로 답합니다."),
        )
    if command == "next":
        apply_path = page_path(("meetings.new_request", "meetings.public_index"), "/")
        return _page("next", sessions=sources.upcoming_sessions(session, now=now), apply_path=apply_path)
    if command == "visits":
        dong = None
        if arg:
            dong = sources.find_dong(session, arg)
            if dong is None:
                return _page("message", text=_("'%(name)s' 동을 찾을 수 없습니다.", name=arg[:30]))
        return _page("visits", visits=sources.upcoming_visits(session, now=now, dong=dong), dong=dong)
    if command in ("dong", "subscribe", "unsubscribe"):
        if not arg:
            return _page("message", text=_("동 이름을 함께 보내 주세요. 예: /%(c)s 중앙동", c=command))
        dong = sources.find_dong(session, arg)
        if dong is None:
            return _page("message", text=_("'%(name)s' 동을 찾을 수 없습니다.", name=arg[:30]))
        if command == "dong":
            return _page("dong", dong=dong, summary=sources.dong_card_summary(session, dong))
        if command == "subscribe":
            added = services.subscribe(session, chat, dong, now=now)
            text = (
                _("%(d)s 소식을 구독했습니다.", d=dong.name)
                if added
                else _("이미 %(d)s 소식을 구독하고 있습니다.", d=dong.name)
            )
            return _page("message", text=text)
        removed = services.unsubscribe(session, chat, dong)
        text = (
            _("%(d)s 소식 구독을 해지했습니다.", d=dong.name)
            if removed
            else _("%(d)s 소식을 구독하고 있지 않습니다.", d=dong.name)
        )
        return _page("message", text=text)
    if command == "status":
        if chat.user_id is None:
            return _page(
                "message",
                text=_(
                    "먼저 계정을 연결해 주세요. 웹사이트의 내 계정 › 텔레그램 알림에서 연결 코드를 받아 /link 코드 로 보내면 됩니다."
                ),
            )
        return _page("status", requests=sources.citizen_requests(session, chat.user_id))
    return _page("message", text=_("알 수 없는 명령입니다. /help 로 사용법을 볼 수 있습니다."))


def withheld_reply(session: Session, chat_id: str, *, now: dt.datetime) -> str:
    """Sent instead of a reply the privacy guard stopped."""
    chat = services.get_or_create_chat(session, chat_id, now=now)
    with force_locale(chat.locale or "ko"):
        return _("개인정보가 포함될 수 있어 여기서는 보여 드릴 수 없습니다. 웹사이트에서 확인해 주세요.")
