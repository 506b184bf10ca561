"""Follow rules: subscribing (double opt-in for e-mail), unsubscribing, and turning change
events into one notice per follower (at once, or in a weekly digest).

Every function takes the session and the clock, flushes and never commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from civic_app.errors import DomainError, NotAllowed, ValidationFailed
from civic_app.events import ChangeEvent
from civic_app.follow import delivery, targets
from civic_app.follow.models import (
    ACTIVE,
    EMAIL,
    FREQUENCIES,
    IMMEDIATE,
    PENDING,
    TELEGRAM,
    WEEKLY,
    Follow,
    FollowDigestEntry,
    telegram_address,
)
from civic_app.follow.notices import BUILDERS, Notice
from civic_app.notify import worker
from civic_app.notify.models import STATUS_PENDING_APPROVAL, STATUS_QUEUED, OutboxMessage

CONFIRM_MAX_AGE = dt.timedelta(days=7)
CONFIRM_RESEND_AFTER = dt.timedelta(minutes=10)
DIGEST_INTERVAL = dt.timedelta(days=6)  # a weekly run a little early still sends
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def address_digest(address: str) -> str:
    return hashlib.sha256(address.encode()).hexdigest()[:16]


# --- signed links ------------------------------------------------------------------------------


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def unsubscribe_token(follows: list[Follow]) -> str:
    """A link that unsubscribes ``follows`` (one address's), valid as long as they exist."""
    ids = sorted({f.id for f in follows})
    return URLSafeSerializer(_secret(), salt="follow-unsubscribe").dumps(
        {"f": ids, "a": address_digest(follows[0].address)}
    )


def read_unsubscribe_token(session: Session, token: str) -> list[Follow]:
    """The follows the link names that still exist (empty: already unsubscribed)."""
    try:
        data = URLSafeSerializer(_secret(), salt="follow-unsubscribe").loads(token)
        ids = [int(i) for i in data["f"]][:200]
        digest = str(data["a"])
    except (BadSignature, KeyError, TypeError, ValueError) as exc:
        raise DomainError(_("링크가 올바르지 않습니다.")) from exc
    rows = session.scalars(select(Follow).where(Follow.id.in_(ids)).order_by(Follow.id)) if ids else []
    # An id reused by a later follow of another address is not this link's.
    return [f for f in rows if address_digest(f.address) == digest]


def confirm_token(follow: Follow) -> str:
    return URLSafeTimedSerializer(_secret(), salt="follow-confirm").dumps(
        {"c": follow.id, "a": address_digest(follow.address)}
    )


def read_confirm_token(session: Session, token: str) -> Follow:
    try:
        data = URLSafeTimedSerializer(_secret(), salt="follow-confirm").loads(
            token, max_age=int(CONFIRM_MAX_AGE.total_seconds())
        )
        follow_id, digest = int(data["c"]), str(data["a"])
    except SignatureExpired as exc:
        raise DomainError(_("링크의 유효기간이 지났습니다. 다시 구독을 신청해 주세요.")) from exc
    except (BadSignature, KeyError, TypeError, ValueError) as exc:
        raise DomainError(_("링크가 올바르지 않습니다.")) from exc
    follow = session.get(Follow, follow_id)
    if follow is None or address_digest(follow.address) != digest:
        raise DomainError(_("이미 해지했거나 올바르지 않은 링크입니다. 다시 구독을 신청해 주세요."))
    return follow


# --- following ---------------------------------------------------------------------------------


def _check_frequency(frequency: str) -> str:
    if frequency not in FREQUENCIES:
        raise ValidationFailed(_("받는 방법을 골라 주세요."), [("frequency", _("받는 방법을 골라 주세요."))])
    return frequency


def _existing(session: Session, kind: str, target_id: int, address: str) -> Follow | None:
    return session.scalar(
        select(Follow).where(
            Follow.target_kind == kind, Follow.target_id == target_id, Follow.address == address
        )
    )


def follow_by_email(
    session: Session,
    *,
    kind: str,
    target_id: int,
    email: str,
    frequency: str,
    locale: str,
    now: dt.datetime,
    user=None,
) -> Follow:
    """Follow by e-mail. The address of a signed-in user with a verified e-mail is followed at
    once; any other address gets a confirmation e-mail with a signed link (double opt-in).

    A visitor is told the same thing whatever the address's state (nobody learns who follows
    what), and cannot change an existing follow: that takes its owner's mailbox or account.
    """
    address = normalise_email(email)
    if not EMAIL_RE.match(address) or len(address) > 254:
        message = _("이메일 형식이 올바르지 않습니다.")
        raise ValidationFailed(message, [("email", message)])
    _check_frequency(frequency)
    target = targets.require(session, kind, target_id, user_id=getattr(user, "id", None))
    verified_owner = (
        user is not None and user.email_verified_at is not None and normalise_email(user.email) == address
    )
    follow = _existing(session, target.kind, target.id, address)
    if follow is None:
        follow = Follow(
            target_kind=target.kind,
            target_id=target.id,
            channel=EMAIL,
            address=address,
            user_id=user.id if verified_owner else None,
            frequency=frequency,
            status=PENDING,
            locale=(locale or "ko")[:5],
            created_at=now,
            updated_at=now,
        )
        session.add(follow)
        session.flush()
    elif verified_owner:
        follow.frequency = frequency
        follow.user_id = user.id
        follow.updated_at = now
    if verified_owner:
        if follow.status != ACTIVE:
            follow.status = ACTIVE
            follow.confirmed_at = now
        session.flush()
        return follow
    if follow.status == PENDING and (
        follow.confirm_sent_at is None or follow.confirm_sent_at <= now - CONFIRM_RESEND_AFTER
    ):
        follow.confirm_sent_at = now
        session.flush()
        delivery.queue_confirmation(session, follow, target, token=confirm_token(follow), now=now)
    return follow


def confirm(session: Session, follow: Follow, *, now: dt.datetime) -> Follow:
    if follow.status != ACTIVE:
        follow.status = ACTIVE
        follow.confirmed_at = now
        follow.updated_at = now
        session.flush()
    return follow


def follow_by_telegram(
    session: Session, *, chat, kind: str, target_id: int, frequency: str, now: dt.datetime
) -> tuple[Follow, bool]:
    """A Telegram chat follows a target (active at once: the chat itself asked). Returns
    (follow, created). A request may be followed only from a chat linked to its owner."""
    _check_frequency(frequency)
    target = targets.require(session, kind, target_id, user_id=chat.user_id)
    address = telegram_address(chat.id)
    follow = _existing(session, target.kind, target.id, address)
    if follow is not None:
        changed = follow.frequency != frequency
        follow.frequency = frequency
        follow.updated_at = now
        session.flush()
        return follow, changed
    follow = Follow(
        target_kind=target.kind,
        target_id=target.id,
        channel=TELEGRAM,
        address=address,
        user_id=chat.user_id,
        chat_pk=chat.id,
        frequency=frequency,
        status=ACTIVE,
        locale=chat.locale or "ko",
        created_at=now,
        updated_at=now,
        confirmed_at=now,
    )
    session.add(follow)
    session.flush()
    return follow, True


def follow_signed_in(
    session: Session,
    user,
    *,
    kind: str,
    target_id: int,
    channel: str,
    frequency: str,
    locale: str,
    now: dt.datetime,
) -> Follow:
    """The follow button of a signed-in user: their account's e-mail or their linked chat."""
    if channel == TELEGRAM:
        from civic_app.telegram.services import linked_chat

        chat = linked_chat(session, user)
        if chat is None:
            raise ValidationFailed(
                _("텔레그램이 계정에 연결되어 있지 않습니다. 내 계정 › 텔레그램 알림에서 먼저 연결해 주세요.")
            )
        return follow_by_telegram(
            session, chat=chat, kind=kind, target_id=target_id, frequency=frequency, now=now
        )[0]
    return follow_by_email(
        session,
        kind=kind,
        target_id=target_id,
        email=user.email,
        frequency=frequency,
        locale=locale,
        now=now,
        user=user,
    )


def owns(user, follow: Follow) -> bool:
    """Whether a signed-in user manages ``follow`` (theirs by account, address or chat)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if follow.user_id == user.id:
        return True
    verified = user.email_verified_at is not None
    return follow.channel == EMAIL and verified and follow.address == normalise_email(user.email)


def user_follows(session: Session, user) -> list[Follow]:
    """Every follow a signed-in user manages: by account, by their verified address, by chat."""
    conditions = [Follow.user_id == user.id]
    if user.email_verified_at is not None:
        conditions.append(and_(Follow.channel == EMAIL, Follow.address == normalise_email(user.email)))
    from civic_app.telegram.services import linked_chat

    chat = linked_chat(session, user)
    if chat is not None:
        conditions.append(Follow.chat_pk == chat.id)
    return list(
        session.scalars(select(Follow).where(or_(*conditions)).order_by(Follow.created_at, Follow.id))
    )


def find_follow(session: Session, user, kind: str, target_id: int) -> Follow | None:
    """The signed-in user's follow of one target (for the follow button), if any."""
    for follow in user_follows(session, user):
        if follow.target_kind == kind and follow.target_id == target_id:
            return follow
    return None


def set_frequency(session: Session, follow: Follow, frequency: str, *, actor, now: dt.datetime) -> Follow:
    if not owns(actor, follow) and not _chat_owner(session, actor, follow):
        raise NotAllowed(_("본인의 구독만 바꿀 수 있습니다."))
    follow.frequency = _check_frequency(frequency)
    follow.updated_at = now
    session.flush()
    return follow


def _chat_owner(session: Session, user, follow: Follow) -> bool:
    if follow.chat_pk is None or user is None:
        return False
    from civic_app.telegram.services import linked_chat

    chat = linked_chat(session, user)
    return chat is not None and chat.id == follow.chat_pk


def unsubscribe(session: Session, follows: list[Follow], *, now: dt.datetime) -> int:
    """Delete the follows, their waiting digest lines, and their notices not yet sent."""
    ids = [f.id for f in follows]
    if not ids:
        return 0
    unsent = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.subject_ref.in_([f"follow:{i}" for i in ids]),
            OutboxMessage.status.in_((STATUS_QUEUED, STATUS_PENDING_APPROVAL)),
        )
    )
    for message in unsent:
        worker.withdraw(message, now=now, note="구독 해지")
    session.execute(delete(FollowDigestEntry).where(FollowDigestEntry.follow_id.in_(ids)))
    for follow in follows:
        session.delete(follow)
    session.flush()
    return len(ids)


def unsubscribe_own(session: Session, follow: Follow, *, actor, now: dt.datetime) -> int:
    if not owns(actor, follow) and not _chat_owner(session, actor, follow):
        raise NotAllowed(_("본인의 구독만 해지할 수 있습니다."))
    return unsubscribe(session, [follow], now=now)


def chat_follows(session: Session, chat) -> list[Follow]:
    return list(
        session.scalars(
            select(Follow).where(Follow.chat_pk == chat.id).order_by(Follow.created_at, Follow.id)
        )
    )


def purge_pending(session: Session, cutoff: dt.datetime, now: dt.datetime, dry_run: bool) -> int:
    """Privacy: addresses that never confirmed are forgotten once their link has expired."""
    stale = select(Follow.id).where(Follow.status == PENDING, Follow.created_at < now - CONFIRM_MAX_AGE)
    ids = list(session.scalars(stale))
    if ids and not dry_run:
        session.execute(delete(FollowDigestEntry).where(FollowDigestEntry.follow_id.in_(ids)))
        session.execute(delete(Follow).where(Follow.id.in_(ids)))
    return len(ids)


# --- change events -----------------------------------------------------------------------------


def on_change(session: Session, event: ChangeEvent) -> int:
    """The change-event listener: one notice per following address, at once or for the digest.

    Returns how many addresses were told (or will be, in their digest).
    """
    builder = BUILDERS.get(event.kind)
    if builder is None:
        return 0
    with session.no_autoflush:
        notice = builder(session, event)
    if notice is None or not notice.targets:
        return 0
    clauses = [and_(Follow.target_kind == k, Follow.target_id == i) for k, i in dict.fromkeys(notice.targets)]
    follows = list(
        session.scalars(select(Follow).where(Follow.status == ACTIVE, or_(*clauses)).order_by(Follow.id))
    )
    if not follows:
        return 0
    by_address: dict[str, list[Follow]] = defaultdict(list)
    for follow in follows:
        by_address[follow.address].append(follow)
    guard = delivery.PrivacyGuard(session)
    told = 0
    for address, group in by_address.items():
        if address in notice.skip_addresses:
            continue
        immediate = [f for f in group if f.frequency == IMMEDIATE]
        if immediate:
            delivery.queue_notice(session, notice, group, lead=immediate[0], guard=guard, now=event.at)
        else:
            _add_digest_entry(session, notice, group[0], guard=guard, now=event.at)
        told += 1
    return told


def _add_digest_entry(session: Session, notice: Notice, follow: Follow, *, guard, now: dt.datetime) -> None:
    exists = session.scalar(
        select(FollowDigestEntry.id).where(
            FollowDigestEntry.follow_id == follow.id, FollowDigestEntry.event_ref == notice.ref[:150]
        )
    )
    if exists is not None:
        return
    locale = delivery.follower_locale(session, follow)
    matched = {(follow.target_kind, follow.target_id)}
    with force_locale(locale):
        title, summary = notice.text()
        lines = notice.lines(matched)
    summary = "\n".join(part for part in [summary, *lines] if part)
    session.add(
        FollowDigestEntry(
            follow_id=follow.id,
            event_ref=notice.ref[:150],
            title=guard.mask(title)[:300],
            summary=guard.mask(summary),
            url=notice.path[:300],
            created_at=now,
        )
    )
    session.flush()


def send_digests(session: Session, *, now: dt.datetime) -> dict[str, int]:
    """Queue one digest per address whose weekly notices are waiting (at most one a week).

    Returns counts: ``sent`` digests queued, ``entries`` notices in them, ``waiting`` addresses
    whose last digest is less than a week old.
    """
    rows = session.execute(
        select(FollowDigestEntry, Follow)
        .join(Follow, Follow.id == FollowDigestEntry.follow_id)
        .where(Follow.status == ACTIVE)
        .order_by(FollowDigestEntry.id)
    ).all()
    grouped: dict[str, list[tuple[FollowDigestEntry, Follow]]] = defaultdict(list)
    for entry, follow in rows:
        grouped[follow.address].append((entry, follow))
    counts = {"sent": 0, "entries": 0, "waiting": 0}
    for address, pairs in grouped.items():
        follows = list({f.id: f for _e, f in pairs}.values())
        if any(f.last_digest_at is not None and f.last_digest_at > now - DIGEST_INTERVAL for f in follows):
            counts["waiting"] += 1
            continue
        entries: list[FollowDigestEntry] = []
        seen: set[str] = set()
        for entry, _follow in pairs:
            if entry.event_ref not in seen:  # one change followed twice is one line
                seen.add(entry.event_ref)
                entries.append(entry)
        delivery.queue_digest(session, address, follows, entries, now=now)
        session.execute(delete(FollowDigestEntry).where(FollowDigestEntry.id.in_([e.id for e, _f in pairs])))
        for follow in follows:
            follow.last_digest_at = now
        counts["sent"] += 1
        counts["entries"] += len(entries)
    session.flush()
    return counts


def weekly(frequency: str | None) -> str:
    """The bot's optional second word: 주간/weekly asks for the digest."""
    return (
        WEEKLY
        if (frequency or "").strip().lower() in ("주간", "weekly", "week", "digest", "매주")
        else IMMEDIATE
    )
