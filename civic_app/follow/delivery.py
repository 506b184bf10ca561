"""Follow messages into the outbox: the confirmation e-mail, a notice, a weekly digest.

E-mail carries a one-click unsubscribe link in its text and in the ``List-Unsubscribe`` header
(with ``List-Unsubscribe-Post``, RFC 8058); a Telegram message says how to /unfollow. Every
text passes the privacy guard (:mod:`civic_app.privacy.guard`) before it is queued.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from civic_app.follow.models import EMAIL, TELEGRAM, Follow, FollowDigestEntry
from civic_app.follow.notices import Notice
from civic_app.follow.targets import Target, describe, kind_label
from civic_app.notify.models import CHANNEL_EMAIL, CHANNEL_TELEGRAM
from civic_app.notify.services import enqueue
from civic_app.privacy import guard as privacy_guard


class PrivacyGuard:
    """Masks names, phone numbers and e-mail addresses; the names are read once, when needed."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._names: privacy_guard.NameIndex | None = None

    def mask(self, text: str | None) -> str:
        if not text:
            return ""
        if self._names is None:
            self._names = privacy_guard.NameIndex(privacy_guard.known_names(self.session))
        return privacy_guard.mask(text, self._names)


def _base() -> str:
    return (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")


def _key(*parts: str) -> str:
    key = ":".join(parts)
    if len(key) > 190:
        key = key[:120] + ":" + hashlib.sha256(key.encode()).hexdigest()[:32]
    return key


def _digest(address: str) -> str:
    return hashlib.sha256(address.encode()).hexdigest()[:16]


def _chat(session: Session, follow: Follow):
    from civic_app.telegram.models import TelegramChat

    return session.get(TelegramChat, follow.chat_pk) if follow.chat_pk else None


def follower_locale(session: Session, follow: Follow) -> str:
    """The language the follower reads: the chat's for Telegram, the one chosen when following."""
    if follow.channel == TELEGRAM:
        chat = _chat(session, follow)
        return (chat.locale if chat else None) or "ko"
    return follow.locale or "ko"


def unsubscribe_urls(follows: list[Follow]) -> tuple[str, str]:
    """(the confirmation page, the RFC 8058 one-click address) for ``follows``."""
    from civic_app.follow.services import unsubscribe_token

    page = f"{_base()}/follow/unsubscribe/{unsubscribe_token(follows)}"
    return page, page + "/one-click"


def _email(
    session: Session,
    follows: list[Follow],
    *,
    subject: str,
    lines: list[str],
    kind: str,
    dedupe_key: str,
    now: dt.datetime,
) -> None:
    lead = follows[0]
    page, one_click = unsubscribe_urls(follows)
    footer = ["", "—", _("구독을 신청하셔서 보내 드리는 메일입니다."), _("구독 해지: %(url)s", url=page)]
    if lead.user_id is not None:
        footer.append(_("내 구독 관리: %(url)s", url=f"{_base()}/account/follows"))
    enqueue(
        session,
        channel=CHANNEL_EMAIL,
        recipient=lead.address,
        kind=kind,
        payload={
            "subject": subject,
            "body": "\n".join([*lines, *footer]),
            "attachments": [],
            "headers": {
                "List-Unsubscribe": f"<{one_click}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Auto-Submitted": "auto-generated",
            },
        },
        dedupe_key=dedupe_key,
        now=now,
        subject_ref=f"follow:{lead.id}",
    )


def _telegram(
    session: Session, follow: Follow, *, kind: str, payload: dict, dedupe_key: str, now: dt.datetime
) -> None:
    chat = _chat(session, follow)
    if chat is None:
        return
    enqueue(
        session,
        channel=CHANNEL_TELEGRAM,
        recipient=chat.chat_id,
        kind=kind,
        payload=payload,
        dedupe_key=dedupe_key,
        now=now,
        subject_ref=f"follow:{follow.id}",
    )


def queue_confirmation(
    session: Session, follow: Follow, target: Target, *, token: str, now: dt.datetime
) -> None:
    """The double opt-in e-mail: nothing is sent to the address until its link is opened."""
    guard = PrivacyGuard(session)
    link = f"{_base()}/follow/confirm/{token}"
    with force_locale(follow.locale or "ko"):
        lines = [
            _(
                "%(kind)s '%(label)s'의 소식을 이 주소로 받겠다는 신청을 받았습니다.",
                kind=kind_label(target.kind),
                label=guard.mask(target.label),
            ),
            "",
            _("구독하려면 7일 안에 아래 링크를 열어 확인해 주세요:"),
            link,
            "",
            _("신청하지 않았다면 이 메일을 무시하세요. 확인하지 않으면 아무 메일도 보내지 않습니다."),
        ]
        subject = _("[시민소통실] 구독 확인")
    enqueue(
        session,
        channel=CHANNEL_EMAIL,
        recipient=follow.address,
        kind="follow_confirm",
        payload={"subject": subject, "body": "\n".join(lines), "attachments": []},
        dedupe_key=_key("follow-confirm", str(follow.id), now.isoformat()),
        now=now,
        subject_ref=f"follow:{follow.id}",
    )


def queue_notice(
    session: Session,
    notice: Notice,
    group: list[Follow],
    *,
    lead: Follow,
    guard: PrivacyGuard,
    now: dt.datetime,
) -> None:
    """One immediate notice to one address (``group``: its follows the change concerns)."""
    matched = {(f.target_kind, f.target_id) for f in group}
    with force_locale(follower_locale(session, lead)):
        title, summary = notice.text()
        lines = [guard.mask(line) for line in notice.lines(matched)]
        title, summary = guard.mask(title), guard.mask(summary)
        dedupe = _key("follow", notice.ref, _digest(lead.address))
        if lead.channel == EMAIL:
            ordered = [lead, *[f for f in group if f.id != lead.id]]
            body = [title]
            if summary:
                body += ["", summary]
            body += [f"• {line}" for line in lines]
            body += ["", _("자세히 보기: %(url)s", url=_base() + notice.path)]
            _email(
                session,
                ordered,
                subject=_("[구독] %(t)s", t=title),
                lines=body,
                kind="follow_notice",
                dedupe_key=dedupe,
                now=now,
            )
            return
        target = describe(session, lead.target_kind, lead.target_id)
        handle = target.handle if target else ""
        _telegram(
            session,
            lead,
            kind="follow_notice",
            payload={
                "title": "🔔 " + title,
                "summary": summary,
                "url": notice.path,
                "lines": [*lines, _("구독 해지: /unfollow %(h)s", h=handle)],
            },
            dedupe_key=dedupe,
            now=now,
        )


def queue_digest(
    session: Session,
    address: str,
    follows: list[Follow],
    entries: list[FollowDigestEntry],
    *,
    now: dt.datetime,
) -> None:
    """One weekly digest to one address, listing its waiting notices."""
    lead = follows[0]
    dedupe = _key("follow-digest", _digest(address), f"{entries[0].id}-{entries[-1].id}")
    with force_locale(follower_locale(session, lead)):
        if lead.channel == EMAIL:
            body = [_("지난주 구독하신 소식 %(n)d건입니다.", n=len(entries)), ""]
            for entry in entries:
                body.append(f"• {entry.title}")
                body += [f"  {line}" for line in entry.summary.splitlines() if line.strip()]
                body.append(f"  {_base()}{entry.url}")
            _email(
                session,
                follows,
                subject=_("[구독] 이번 주 소식 %(n)d건", n=len(entries)),
                lines=body,
                kind="follow_digest",
                dedupe_key=dedupe,
                now=now,
            )
            return
        _telegram(
            session,
            lead,
            kind="follow_digest",
            payload={
                "title": "🔔 " + _("이번 주 구독 소식 %(n)d건", n=len(entries)),
                "summary": "",
                "url": entries[0].url,
                "lines": [
                    *[f"{entry.title} — {_base()}{entry.url}" for entry in entries[:30]],
                    _("구독 목록: /following"),
                ],
            },
            dedupe_key=dedupe,
            now=now,
        )
