"""Telling people: the suggestion's authors by e-mail (issue 15) and the public Telegram channel.

Korean by rule: these texts are stored in the outbox, whatever the actor's UI language.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from civic_app.cards.base import BUDGET_KIND_KO, public_item_path
from civic_app.cards.models import (
    AUTHOR_NOTICE_STATUSES,
    BUDGET_REFLECTED,
    DONE,
    NOT_FEASIBLE,
    SELECTED,
    CardContact,
    CardItem,
)
from civic_app.errors import ValidationFailed

AUTHOR_STATUS_KO = {SELECTED: "선정", BUDGET_REFLECTED: "예산반영", DONE: "완료", NOT_FEASIBLE: "불가"}
AUTHOR_STATUS_TEXT = {
    SELECTED: "세 기관의 공동 검토를 거쳐 예산 반영 대상으로 선정되었습니다.",
    BUDGET_REFLECTED: "예산에 반영되었습니다.",
    DONE: "사업이 완료되었습니다.",
    NOT_FEASIBLE: "검토 결과 추진하기 어렵다는 결정이 내려졌습니다.",
}
MAX_CONTACTS = 5


# --- the public channel ----------------------------------------------------------------------


def announce(session: Session, item: CardItem, *, now: dt.datetime) -> None:
    """Outbox message for the public Telegram channel (an item reflected in the budget or
    done): public fields only."""
    from civic_app.notify.services import enqueue_telegram

    dong_name = item.dong.name
    if item.status == BUDGET_REFLECTED:
        kind = "card_budget_reflected"
        title = f"{dong_name} 제안이 예산에 반영되었습니다"
        lines = [
            f"회계연도: {item.fiscal_year}년 {BUDGET_KIND_KO.get(item.budget_kind or '', '')}",
            f"반영 금액: {item.budget_amount:,}원",
            f"예산과목: {item.budget_line}",
        ]
        dedupe = f"card:{item.id}:budget_reflected:{item.fiscal_year}"
    else:
        kind = "card_done"
        title = f"{dong_name} 제안이 완료되었습니다"
        lines = [f"분류: {item.category}"]
        if item.fiscal_year:
            lines.append(f"회계연도: {item.fiscal_year}년 {BUDGET_KIND_KO.get(item.budget_kind or '', '')}")
        dedupe = f"card:{item.id}:done"
    enqueue_telegram(
        session,
        kind=kind,
        payload={
            "title": title,
            "summary": item.title,
            "url": public_item_path(item),
            "lines": lines,
            "dong_name": dong_name,
            "fiscal_year": item.fiscal_year,
            "amount": item.budget_amount,
        },
        dedupe_key=dedupe,
        subject_ref=f"card:{item.id}",
        now=now,
    )


# --- the suggestion's authors ------------------------------------------------------------------


def add_contact(
    session: Session, item: CardItem, *, email: str, consent: bool, now: dt.datetime
) -> CardContact:
    """Keep the resident's address (with their consent) to tell them what becomes of the item."""
    email = (email or "").strip()
    if not consent:
        msg = _("알림을 받으려면 개인정보 수집·이용에 동의해야 합니다.")
        raise ValidationFailed(msg, [("contact_consent", msg)])
    if not email or len(email) > 254 or "@" not in email or any(c.isspace() for c in email):
        msg = _("올바른 이메일 주소를 입력해 주세요.")
        raise ValidationFailed(msg, [("contact_email", msg)])
    count = session.scalar(select(func.count(CardContact.id)).where(CardContact.item_id == item.id)) or 0
    if count >= MAX_CONTACTS:
        msg = _("한 항목에 알림 받을 주소는 %(n)d개까지입니다.", n=MAX_CONTACTS)
        raise ValidationFailed(msg, [("contact_email", msg)])
    contact = CardContact(item_id=item.id, contact_email=email, consent_at=now, created_at=now)
    session.add(contact)
    session.flush()
    return contact


def _lineage_ids(session: Session, item: CardItem) -> list[int]:
    """The item and every item merged into it (at any depth): their authors follow it."""
    ids = [item.id]
    frontier = [item.id]
    while frontier and len(ids) < 1000:
        frontier = list(session.scalars(select(CardItem.id).where(CardItem.merged_into_id.in_(frontier))))
        ids.extend(i for i in frontier if i not in ids)
    return ids


def author_emails(session: Session, item: CardItem) -> list[str]:
    """Whom to tell: the 통통데이 requesters behind the item (and behind duplicates merged into
    it), and the residents who left an address with consent. Anonymised requests drop out."""
    from civic_app.accounts.models import User
    from civic_app.meetings.models import MeetingRequest

    ids = _lineage_ids(session, item)
    meeting_refs = list(
        session.scalars(
            select(CardItem.source_ref).where(
                CardItem.id.in_(ids), CardItem.source_kind == "meeting", CardItem.source_ref.is_not(None)
            )
        )
    )
    found: list[str] = []
    if meeting_refs:
        rows = session.execute(
            select(MeetingRequest.requester_email, User.email)
            .outerjoin(User, User.id == MeetingRequest.requester_id)
            .where(MeetingRequest.id.in_(meeting_refs))
        )
        found.extend(own or account for own, account in rows if own or account)
    found.extend(session.scalars(select(CardContact.contact_email).where(CardContact.item_id.in_(ids))))
    out: list[str] = []
    seen: set[str] = set()
    for email in found:
        key = email.strip().lower()
        if key and key not in seen:
            seen.add(key)
            out.append(email.strip())
    return out


def notify_authors(session: Session, item: CardItem, *, now: dt.datetime) -> int:
    """E-mail (through the outbox) the people who raised ``item`` that it was selected,
    reflected in the budget, completed or refused. Korean by rule; the link is absolute."""
    if item.status not in AUTHOR_NOTICE_STATUSES:
        return 0
    recipients = author_emails(session, item)
    if not recipients:
        return 0
    from flask import current_app

    from civic_app.notify.services import enqueue_email
    from civic_app.web.filters import korean_won, mask_text

    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    link = base + public_item_path(item)
    label = AUTHOR_STATUS_KO[item.status]
    lines = [
        f"{item.dong.name} 동 관리카드에 올라간 제안의 처리 결과를 알려 드립니다.",
        "",
        f"항목: {item.title}",
        f"결과: {label} — {AUTHOR_STATUS_TEXT[item.status]}",
    ]
    if item.status == SELECTED and item.rank:
        lines.append(f"{item.target_year}년도 예산 검토 순위: {item.rank}순위")
    if item.status == BUDGET_REFLECTED:
        lines.append(
            f"회계연도: {item.fiscal_year}년 {BUDGET_KIND_KO.get(item.budget_kind or '', '')}"
            f" · 반영 금액: {korean_won(item.budget_amount)}"
        )
    if item.decision_reason:
        lines.append(f"사유: {mask_text(item.decision_reason)}")
    lines += ["", f"처리 과정 보기: {link}", "", "이 메일은 발신 전용입니다."]
    subject = f"[동 관리카드] 제안하신 '{item.title}' 항목이 '{label}' 단계가 되었습니다"
    for n, email in enumerate(recipients):
        enqueue_email(
            session,
            to=email,
            subject=subject,
            body="\n".join(lines),
            kind="card_author_notice",
            dedupe_key=f"card-author:{item.id}:{item.status}:{item.version}:{n}",
            now=now,
            subject_ref=f"card:{item.id}",
        )
    return len(recipients)


def purge_contacts(session: Session, cutoff: dt.datetime, now: dt.datetime, dry_run: bool) -> int:
    """Privacy retention: residents' addresses older than the retention period are destroyed."""
    stale = select(CardContact.id).where(CardContact.created_at < cutoff)
    count = session.scalar(select(func.count()).select_from(stale.subquery())) or 0
    if count and not dry_run:
        session.execute(delete(CardContact).where(CardContact.created_at < cutoff))
        session.flush()
    return count
