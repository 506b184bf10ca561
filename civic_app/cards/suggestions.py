"""Online suggestions with 공감 (issue 17): the rules.

A signed-in citizen puts a suggestion on a dong's card (an ordinary CardItem in state 접수 with
source ``citizen``); other citizens give it 공감, one per account and withdrawable. When an item
gathers ``answer_threshold`` 공감 within ``window_days`` the responsible department owes a public
answer within ``answer_days``; at the deadline an interim answer (with the next date) or the
final answer is due, otherwise the item is overdue on its public page and on the dashboard. At
``agenda_threshold`` it goes on the next 통통데이's agenda. A merge carries the duplicate's 공감
to the surviving item (one per citizen).

Every function takes the session, the acting user and the clock, flushes and never commits.
The 공감 of one item are serialised by a row lock on the item, so a threshold is crossed once;
the unique constraint (item, account) settles a double click or two tabs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from civic_app.cards import base as card_base
from civic_app.cards import items as card_items
from civic_app.cards import notices as card_notices
from civic_app.cards import photos as card_photos
from civic_app.cards import settings as card_settings
from civic_app.cards.models import (
    ANSWER_FINAL,
    ANSWER_INTERIM,
    ANSWER_KINDS,
    MERGED,
    OPEN_STATUSES,
    CardAgendaEntry,
    CardAnswer,
    CardAnswerDuty,
    CardEvent,
    CardItem,
    CardSuggestion,
    CardSupport,
)
from civic_app.cards.policy import ADMIN, owns_department_of
from civic_app.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from civic_app.integrity.conflicts import is_unique_violation, register_unique, savepoint
from civic_app.integrity.locks import lock_row
from civic_app.satisfaction.models import PROCESS_SUGGESTION
from civic_app.satisfaction.services import offer_survey
from civic_app.timeutil import today_seoul

CITIZEN = "citizen"
SOURCE_CITIZEN = "citizen"
CONSENT_VERSION = "suggest-2026-12"
MAX_PHOTOS = 3
MAX_PHOTOS_BYTES = 10 * 1024 * 1024  # all photos of one suggestion (the request limit is 12 MB)
MAX_TEXT = 4000

register_unique("card_supports", ("item_id", "user_id"), lambda: _("이미 이 제안에 공감했습니다."))


@dataclass(frozen=True)
class SupportRules:
    """The thresholds (settings ``SUGGEST_*``; defaults 30 공감 in 30 days → answer in 30 days,
    100 → the next 통통데이's agenda)."""

    answer_threshold: int = 30
    agenda_threshold: int = 100
    window_days: int = 30
    answer_days: int = 30

    @classmethod
    def from_config(cls, config) -> SupportRules:
        return cls(
            answer_threshold=int(config.get("SUGGEST_ANSWER_THRESHOLD", cls.answer_threshold)),
            agenda_threshold=int(config.get("SUGGEST_AGENDA_THRESHOLD", cls.agenda_threshold)),
            window_days=int(config.get("SUGGEST_WINDOW_DAYS", cls.window_days)),
            answer_days=int(config.get("SUGGEST_ANSWER_DAYS", cls.answer_days)),
        )


def app_rules() -> SupportRules:
    """The running app's thresholds (for callers outside a view, such as the merge hook)."""
    from flask import current_app

    return SupportRules.from_config(current_app.config)


def _roles(actor) -> frozenset[str]:
    return frozenset() if actor is None else frozenset(actor.role_set)


def _event(session: Session, item: CardItem, *, kind: str, actor, now: dt.datetime, reason: str) -> None:
    """A public line of the item's history (Korean by rule: stored text is data)."""
    session.add(
        CardEvent(
            item_id=item.id,
            kind=kind,
            reason=reason,
            public=True,
            actor_id=getattr(actor, "id", None),
            at=now,
        )
    )


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as exc:  # staff changed the item meanwhile (its version moved on)
        raise Conflict(card_base.conflict_message()) from exc


def ko_date(day: dt.date) -> str:
    return f"{day.year}년 {day.month}월 {day.day}일"


def suggestion_of(session: Session, item: CardItem) -> CardSuggestion | None:
    return session.scalar(select(CardSuggestion).where(CardSuggestion.item_id == item.id))


# --- submitting ----------------------------------------------------------------------------------


def _responsible_department(session: Session, category: str) -> int | None:
    """The department whose field is the category, when exactly one is (staff assign the rest)."""
    from civic_app.dongs.models import Department

    ids = list(
        session.scalars(
            select(Department.id).where(Department.field == category, Department.active.is_(True)).limit(2)
        )
    )
    return ids[0] if len(ids) == 1 else None


def submit_suggestion(
    session: Session,
    *,
    actor,
    now: dt.datetime,
    dong_id: int | None,
    title: str,
    description: str,
    category: str,
    location: str | None,
    consent: bool,
    photos: list[tuple[str, bytes]] | None = None,
    upload_dir: str | None = None,
) -> CardItem:
    """A citizen's suggestion, on the dong's card as 접수 from source ``citizen``.

    Consent as for 통통데이 requests (purpose, items, retention, the right to refuse). The title,
    text and place are public: personal data in them (phone numbers, e-mail addresses, the
    author's own name) is refused with a message naming it, and masked again when shown."""
    from civic_app.dongs.models import Dong
    from civic_app.privacy import guard

    if CITIZEN not in _roles(actor):
        raise NotAllowed(_("시민 계정으로 로그인해야 제안할 수 있습니다."))
    title = (title or "").strip()
    description = (description or "").strip()
    location = (location or "").strip() or None
    photos = [p for p in (photos or []) if p and p[0]]
    errors: list[tuple[str, str]] = []
    if not consent:
        errors.append(("consent", _("개인정보 수집·이용에 동의해야 제안할 수 있습니다.")))
    dong = session.get(Dong, dong_id) if dong_id else None
    if dong is None or not dong.active:
        errors.append(("dong_id", _("동을 골라 주세요.")))
    if not title or len(title) > 200:
        errors.append(("title", _("제목은 1~200자로 입력해 주세요.")))
    if not description or len(description) > MAX_TEXT:
        errors.append(("description", _("제안 내용을 4000자 이내로 입력해 주세요.")))
    if category not in card_settings.category_names(session):
        errors.append(("category", _("분류를 선택해 주세요.")))
    if location is not None and len(location) > 200:
        errors.append(("location", _("장소는 200자 이내로 입력해 주세요.")))
    if len(photos) > MAX_PHOTOS:
        errors.append(("photos", _("사진은 %(n)d장까지 올릴 수 있습니다.", n=MAX_PHOTOS)))
    elif sum(len(data) for _name, data in photos) > MAX_PHOTOS_BYTES:
        errors.append(("photos", _("사진은 모두 합쳐 10MB 이하여야 합니다.")))
    else:
        for name, data in photos:
            try:
                card_photos.check_photo(name, data)
            except ValidationFailed as exc:
                errors.extend(("photos", message) for _field, message in exc.errors)
                break
    if errors:
        raise ValidationFailed(errors[0][1], errors)
    guard.require_public(
        {"title": title, "description": description, "location": location},
        [actor.name],
        phones=[actor.phone],
        emails=[actor.email],
    )
    item = card_items.create_item(
        session,
        dong_id=dong.id,
        title=title,
        description=description,
        category=category,
        source_kind=SOURCE_CITIZEN,
        actor_id=actor.id,
        now=now,
        location=location,
        department_id=_responsible_department(session, category),
    )
    session.add(
        CardSuggestion(
            item_id=item.id,
            author_id=actor.id,
            consent_at=now,
            consent_version=CONSENT_VERSION,
            created_at=now,
        )
    )
    # The author hears what becomes of it like any resident who left an address (same outbox
    # notices, same retention purge).
    card_notices.add_contact(session, item, email=actor.email, consent=True, now=now)
    for name, data in photos:
        if upload_dir:
            card_photos.store_photo(
                session,
                item,
                uploaded_by_id=actor.id,
                now=now,
                filename=name,
                data=data,
                upload_dir=upload_dir,
            )
    session.flush()
    return item


# --- 공감 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupportResult:
    created: bool  # False: the account had already given its 공감 (a double click, two tabs)
    supports: int
    duty: CardAnswerDuty | None = None  # set when this 공감 created the answer deadline
    agenda: CardAgendaEntry | None = None  # set when this 공감 put the item on the agenda


def support_count(session: Session, item_id: int, *, since: dt.datetime | None = None) -> int:
    query = select(func.count(CardSupport.id)).where(CardSupport.item_id == item_id)
    if since is not None:
        query = query.where(CardSupport.created_at >= since)
    return session.scalar(query) or 0


def has_supported(session: Session, item_id: int, user_id: int) -> bool:
    query = select(CardSupport.id).where(CardSupport.item_id == item_id, CardSupport.user_id == user_id)
    return session.scalar(query) is not None


def support(
    session: Session, item: CardItem, *, actor, now: dt.datetime, rules: SupportRules
) -> SupportResult:
    """Give ``actor``'s 공감 to ``item`` (idempotent); cross the thresholds when it is the one."""
    if CITIZEN not in _roles(actor):
        raise NotAllowed(_("시민 계정으로 로그인해야 공감할 수 있습니다."))
    session.flush()  # the lock reloads the row: nothing pending on it may be lost
    lock_row(session, item)  # one 공감 at a time per item: each threshold is crossed once
    if item.status == MERGED:
        raise InvalidTransition(
            _("다른 항목(#%(i)d)에 병합된 제안입니다. 그 항목에 공감해 주세요.", i=item.merged_into_id or 0)
        )
    if item.status not in OPEN_STATUSES:
        raise InvalidTransition(_("'%(s)s' 상태의 항목에는 공감할 수 없습니다.", s=item.status_label))
    author = suggestion_of(session, item)
    if author is not None and author.author_id == actor.id:
        raise NotAllowed(_("자신이 올린 제안에는 공감할 수 없습니다."))
    if has_supported(session, item.id, actor.id):
        return SupportResult(False, support_count(session, item.id))
    try:
        with savepoint(session):
            session.add(CardSupport(item_id=item.id, user_id=actor.id, created_at=now))
            session.flush()
    except IntegrityError as exc:  # the same account, at the same moment, in another request
        if not is_unique_violation(exc, "card_supports", "item_id", "user_id"):
            raise
        return SupportResult(False, support_count(session, item.id))
    duty, agenda = check_thresholds(session, item, now=now, rules=rules)
    return SupportResult(True, support_count(session, item.id), duty, agenda)


def withdraw_support(session: Session, item: CardItem, *, actor, now: dt.datetime) -> bool:
    """Take back ``actor``'s 공감 (True when there was one). An answer deadline or agenda place
    the item already earned stays: the count at that moment is on record."""
    if CITIZEN not in _roles(actor):
        raise NotAllowed(_("시민 계정으로 로그인해야 공감할 수 있습니다."))
    result = session.execute(
        delete(CardSupport).where(CardSupport.item_id == item.id, CardSupport.user_id == actor.id)
    )
    session.flush()
    return bool(result.rowcount)


def _next_tongtong_session_id(session: Session, now: dt.datetime) -> int | None:
    from civic_app.meetings.models import SESSION_SCHEDULED, TongtongSession

    return session.scalar(
        select(TongtongSession.id)
        .where(TongtongSession.status == SESSION_SCHEDULED, TongtongSession.start_at > now)
        .order_by(TongtongSession.start_at)
        .limit(1)
    )


def check_thresholds(
    session: Session, item: CardItem, *, now: dt.datetime, rules: SupportRules
) -> tuple[CardAnswerDuty | None, CardAgendaEntry | None]:
    """Create the answer deadline and the agenda entry the item's recent 공감 call for (each
    once). Callers hold the item's row lock."""
    if item.status == MERGED:
        return None, None
    since = now - dt.timedelta(days=rules.window_days)
    recent = support_count(session, item.id, since=since)
    new_duty = new_agenda = None
    if recent >= rules.answer_threshold and duty_of(session, item) is None:
        due = today_seoul(now) + dt.timedelta(days=rules.answer_days)
        new_duty = CardAnswerDuty(
            item_id=item.id, triggered_at=now, supports_at_trigger=recent, first_due_on=due, due_on=due
        )
        session.add(new_duty)
        _event(
            session,
            item,
            kind="answer_due",
            actor=None,
            now=now,
            reason=f"{rules.window_days}일 동안 공감 {recent}건: 담당 부서가 {ko_date(due)}까지 공개 답변합니다.",
        )
        session.flush()
        _tell_department(session, item, new_duty, now=now)
    if recent >= rules.agenda_threshold and agenda_of(session, item) is None:
        new_agenda = CardAgendaEntry(
            item_id=item.id,
            reached_at=now,
            supports_at_trigger=recent,
            session_id=_next_tongtong_session_id(session, now),
        )
        session.add(new_agenda)
        _event(
            session,
            item,
            kind="agenda",
            actor=None,
            now=now,
            reason=f"공감 {recent}건: 다음 통통데이 안건으로 올라갔습니다.",
        )
    session.flush()
    return new_duty, new_agenda


def duty_of(session: Session, item: CardItem) -> CardAnswerDuty | None:
    return session.scalar(select(CardAnswerDuty).where(CardAnswerDuty.item_id == item.id))


def agenda_of(session: Session, item: CardItem) -> CardAgendaEntry | None:
    return session.scalar(select(CardAgendaEntry).where(CardAgendaEntry.item_id == item.id))


# --- merge ---------------------------------------------------------------------------------------


def carry_supports(
    session: Session,
    source: CardItem,
    target: CardItem,
    *,
    now: dt.datetime,
    rules: SupportRules | None = None,
) -> None:
    """After ``source`` was merged into ``target`` (``card_items.merge`` calls this): its 공감 move
    to ``target`` with their dates, except where the same citizen already supports ``target``
    (no double count) or wrote it. An answer deadline or agenda place moves along when
    ``target`` has none; then ``target``'s thresholds are checked with the combined 공감.

    Both rows are locked by the merge's own UPDATEs, so no 공감 slips in between."""
    already = select(CardSupport.user_id).where(CardSupport.item_id == target.id).scalar_subquery()
    session.execute(
        delete(CardSupport).where(CardSupport.item_id == source.id, CardSupport.user_id.in_(already))
    )
    author = suggestion_of(session, target)
    if author is not None:
        session.execute(
            delete(CardSupport).where(
                CardSupport.item_id == source.id, CardSupport.user_id == author.author_id
            )
        )
    session.execute(update(CardSupport).where(CardSupport.item_id == source.id).values(item_id=target.id))
    duty = duty_of(session, source)
    if duty is not None and duty_of(session, target) is None:
        duty.item_id = target.id
        session.execute(update(CardAnswer).where(CardAnswer.item_id == source.id).values(item_id=target.id))
    agenda = agenda_of(session, source)
    if agenda is not None and agenda_of(session, target) is None:
        agenda.item_id = target.id
    session.flush()
    check_thresholds(session, target, now=now, rules=rules or app_rules())


# --- answers -------------------------------------------------------------------------------------


def may_answer(actor, item: CardItem) -> bool:
    """The responsible department answers (an administrator may act for it)."""
    return owns_department_of(actor, item) or ADMIN in _roles(actor)


def answerable(session: Session, item: CardItem) -> bool:
    return item.status != MERGED and (
        item.source_kind == SOURCE_CITIZEN or duty_of(session, item) is not None
    )


def answer(
    session: Session,
    item: CardItem,
    *,
    actor,
    now: dt.datetime,
    kind: str,
    body: str,
    next_due_on: dt.date | None,
    rules: SupportRules,
) -> CardAnswer:
    """The department's public answer: interim (it names the date of the next answer, at most
    the answer period ahead, and that date becomes the deadline) or final (it closes the duty)."""
    from civic_app.privacy import guard

    if not may_answer(actor, item):
        raise NotAllowed(_("담당 부서만 답변할 수 있습니다."))
    if not answerable(session, item):
        raise InvalidTransition(_("시민 제안이나 공감으로 답변 기한이 생긴 항목에만 답변할 수 있습니다."))
    duty = duty_of(session, item)
    if duty is not None:
        lock_row(session, duty)
    body = (body or "").strip()
    today = today_seoul(now)
    errors: list[tuple[str, str]] = []
    if kind not in ANSWER_KINDS:
        errors.append(("kind", _("답변 종류를 골라 주세요.")))
    if not body or len(body) > MAX_TEXT:
        errors.append(("body", _("답변 내용을 4000자 이내로 입력해 주세요.")))
    latest = today + dt.timedelta(days=rules.answer_days)
    if kind == ANSWER_INTERIM:
        if next_due_on is None or not (today < next_due_on <= latest):
            errors.append(
                (
                    "next_due_on",
                    _("다음 답변 날짜는 내일부터 %(d)s 사이로 정해 주세요.", d=latest.isoformat()),
                )
            )
        elif duty is not None and duty.answered_at is not None:
            errors.append(("kind", _("이미 최종 답변을 했습니다. 고칠 내용은 최종 답변으로 올려 주세요.")))
    if errors:
        raise ValidationFailed(errors[0][1], errors)
    suggestion = suggestion_of(session, item)
    author = suggestion_author(session, suggestion)
    names = [*guard.known_names(session)]
    guard.require_public(
        {"body": body},
        names,
        phones=[author.phone] if author else [],
        emails=[author.email] if author else [],
    )
    row = CardAnswer(
        item_id=item.id,
        kind=kind,
        body=body,
        next_due_on=next_due_on if kind == ANSWER_INTERIM else None,
        department_id=item.department_id,
        actor_id=actor.id,
        created_at=now,
    )
    session.add(row)
    if duty is not None:
        if kind == ANSWER_INTERIM:
            duty.due_on = next_due_on
        elif duty.answered_at is None:
            duty.answered_at = now
    if kind == ANSWER_INTERIM:
        text = f"담당 부서 중간 답변 (다음 답변: {ko_date(next_due_on)})"
    else:
        text = "담당 부서 최종 답변"
    _event(session, item, kind="answer", actor=actor, now=now, reason=text)
    item.updated_at = now
    _flush(session)
    _tell_author(session, item, row, author, now=now)
    if kind == ANSWER_FINAL:
        _offer_survey(session, item, row, author, now=now)
    return row


def _tell_department(session: Session, item: CardItem, duty: CardAnswerDuty, *, now: dt.datetime) -> None:
    """E-mail the responsible department's accounts (through the outbox) that they owe a public
    answer by the deadline. Korean by rule; no department yet: the staff overview lists it."""
    from flask import current_app

    from civic_app.accounts.models import User, UserRole
    from civic_app.notify.services import enqueue_email

    if item.department_id is None:
        return
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    accounts = session.execute(
        select(User.id, User.email)
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            User.department_id == item.department_id,
            UserRole.role == "department",
            User.active.is_(True),
            User.anonymized_at.is_(None),
        )
        .order_by(User.id)
    ).all()
    body = "\n".join(
        [
            f"{item.dong.name} 동 관리카드의 시민 제안에 공감이 {duty.supports_at_trigger}건 모였습니다.",
            f"담당 부서는 {ko_date(duty.due_on)}까지 공개 답변해야 합니다.",
            "기한까지 결론을 내지 못하면 중간 답변과 다음 답변 날짜를 올려 주세요.",
            "",
            f"제안: #{item.id} {item.title}",
            f"답변하기: {base}/staff/cards/suggestions/{item.id}/answer",
        ]
    )
    for user_id, email in accounts:
        enqueue_email(
            session,
            to=email,
            subject=f"[동 관리카드] 공감 {duty.supports_at_trigger}건: '{item.title}' 답변 기한 {ko_date(duty.due_on)}",
            body=body,
            kind="card_answer_due",
            dedupe_key=f"card-answer-due:{duty.id}:{user_id}",
            now=now,
            subject_ref=f"card:{item.id}",
        )


def suggestion_author(session: Session, suggestion: CardSuggestion | None):
    from civic_app.accounts.models import User

    if suggestion is None:
        return None
    user = session.get(User, suggestion.author_id)
    return user if user is not None and user.anonymized_at is None else None


def _tell_author(session: Session, item: CardItem, row: CardAnswer, author, *, now: dt.datetime) -> None:
    """E-mail the author (through the outbox) that the department answered. Korean by rule."""
    if author is None or not author.email:
        return
    from flask import current_app

    from civic_app.notify.services import enqueue_email

    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    link = base + card_base.public_item_path(item)
    label = "중간 답변" if row.kind == ANSWER_INTERIM else "최종 답변"
    lines = [
        f"{item.dong.name} 동 관리카드에 올리신 제안에 담당 부서가 {label}을 올렸습니다.",
        "",
        f"제안: {item.title}",
        f"답변: {row.body}",
    ]
    if row.next_due_on is not None:
        lines.append(f"다음 답변 예정일: {ko_date(row.next_due_on)}")
    lines += ["", f"답변 보기: {link}", "", "이 메일은 발신 전용입니다."]
    session.flush()
    enqueue_email(
        session,
        to=author.email,
        subject=f"[동 관리카드] 제안하신 '{item.title}'에 {label}이 올라왔습니다",
        body="\n".join(lines),
        kind="card_suggestion_answer",
        dedupe_key=f"card-answer:{row.id}",
        now=now,
        subject_ref=f"card:{item.id}",
    )


def _offer_survey(session: Session, item: CardItem, row: CardAnswer, author, *, now: dt.datetime) -> None:
    """After a department's final answer the suggester is offered the two-question survey
    (만족도): once per answer, by e-mail, no login needed. ``author`` is None when the item
    has no online author (or the account was anonymised): nobody to ask."""
    if author is None:
        return
    offer_survey(
        session,
        process=PROCESS_SUGGESTION,
        subject_ref=f"suggestion:{item.id}",
        department_id=row.department_id or item.department_id,
        user_id=author.id,
        now=now,
        about=item.title,
    )


# --- the author's rights (열람·전송, 회원 탈퇴) -------------------------------------------------------


def export_personal(session: Session, user) -> dict:
    """The citizen's own suggestions and 공감, unmasked (it is their data)."""
    from civic_app.timeutil import iso_seoul

    rows = session.execute(
        select(CardSuggestion, CardItem)
        .join(CardItem, CardItem.id == CardSuggestion.item_id)
        .where(CardSuggestion.author_id == user.id)
        .order_by(CardSuggestion.id)
    ).all()
    supported = session.execute(
        select(CardSupport.item_id, CardSupport.created_at)
        .where(CardSupport.user_id == user.id)
        .order_by(CardSupport.created_at)
    ).all()
    return {
        "suggestions": [
            {
                "item_id": item.id,
                "dong": item.dong.name,
                "title": item.title,
                "description": item.description,
                "category": item.category,
                "location": item.location,
                "status": item.status,
                "created_at": iso_seoul(row.created_at),
                "consent_at": iso_seoul(row.consent_at),
                "consent_version": row.consent_version,
            }
            for row, item in rows
        ],
        "supports": [{"item_id": item_id, "at": iso_seoul(at)} for item_id, at in supported],
    }


def erase_personal(session: Session, user, *, now: dt.datetime, **_context) -> list:
    """Account deletion: the suggestions stay on the cards (they never named their author) but
    the author's address for notices and their photos go; their 공감 stay as anonymous counts.
    Returns the photo files to delete once the transaction has committed."""
    from pathlib import Path

    from civic_app.cards.models import CardContact, CardPhoto

    item_ids = list(
        session.scalars(select(CardSuggestion.item_id).where(CardSuggestion.author_id == user.id))
    )
    if not item_ids:
        return []
    if user.email:
        session.execute(
            delete(CardContact).where(
                CardContact.item_id.in_(item_ids), func.lower(CardContact.contact_email) == user.email.lower()
            )
        )
    photos = list(
        session.scalars(
            select(CardPhoto).where(
                CardPhoto.item_id.in_(item_ids),
                CardPhoto.uploaded_by_id == user.id,
                CardPhoto.milestone_id.is_(None),
            )
        )
    )
    folder = Path(card_photos.photo_folder())
    files = [folder / photo.stored_name for photo in photos]
    for photo in photos:
        session.delete(photo)
    session.flush()
    return files
