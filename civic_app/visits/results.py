"""What a held visit leaves: the record of the visit, suggestions on the dong's card, the public result."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.dongs.models import Dong
from civic_app.errors import InvalidTransition, ValidationFailed
from civic_app.events import ChangeEvent, publish_change
from civic_app.timeutil import to_seoul
from civic_app.visits.models import (
    AGENDA_ITEMS,
    CARD_CATEGORIES,
    CONFIRMED,
    HELD,
    KIND_REGULAR,
    KIND_TOUR,
    PARTICIPANT_GROUPS,
    PLANNED,
    RESULTS_PUBLISHED,
    Visit,
)
from civic_app.visits.rules import departments_by_id, require_public_text, touch


def record_held(
    session: Session,
    visit: Visit,
    *,
    actor_id: int | None,
    now: dt.datetime,
    agenda: list[str],
    residents_count: int | None,
    participant_groups: list[str],
    other_participants: str = "",
    notes: str = "",
    department_ids: list[int] | None = None,
) -> Visit:
    """Record that the visit took place (or update what was recorded)."""
    if visit.status not in (PLANNED, CONFIRMED, HELD):
        raise InvalidTransition(_("예정·확정·진행 상태의 방문만 진행 결과를 기록할 수 있습니다."))
    if to_seoul(visit.start_at).date() > to_seoul(now).date():
        raise ValidationFailed(
            _("아직 방문일이 되지 않았습니다."), [("agenda", _("방문일 이후에 기록해 주세요."))]
        )
    if any(a not in AGENDA_ITEMS for a in agenda) or any(
        g not in PARTICIPANT_GROUPS for g in participant_groups
    ):
        raise ValidationFailed(_("알 수 없는 항목이 있습니다."))
    if residents_count is not None and not (0 <= residents_count <= 100_000):
        raise ValidationFailed(
            _("참석 주민 수를 확인해 주세요."), [("residents_count", _("0 이상이어야 합니다."))]
        )
    departments = departments_by_id(session, department_ids or [])
    changed = visit.status != HELD
    visit.status = HELD
    visit.agenda = list(agenda)
    visit.residents_count = residents_count
    visit.participant_groups = list(participant_groups)
    visit.other_participants = (other_participants or "").strip()[:200] or None
    visit.notes = (notes or "").strip() or None
    visit.departments = departments
    touch(visit, now, bump=changed)
    session.flush()
    return visit


def add_suggestion(
    session: Session,
    visit: Visit,
    *,
    actor_id: int | None,
    now: dt.datetime,
    title: str,
    description: str,
    category: str,
    location: str = "",
    department_id: int | None = None,
    dong_id: int | None = None,
    contact_email: str | None = None,
    contact_consent: bool = False,
    photo: tuple[str, bytes] | None = None,
    upload_dir: str | None = None,
):
    """A suggestion heard on the spot goes straight into the dong's 동 관리카드; with the
    resident's consent, their e-mail address is kept to tell them what becomes of it."""
    from civic_app.cards.items import create_item
    from civic_app.cards.notices import add_contact
    from civic_app.cards.photos import check_photo, store_photo

    if visit.status not in (HELD, RESULTS_PUBLISHED):
        raise InvalidTransition(_("진행한 방문에만 건의사항을 기록할 수 있습니다."))
    title = (title or "").strip()
    errors = []
    if not title or len(title) > 200:
        errors.append(("title", _("제목은 1~200자로 입력해 주세요.")))
    if category not in CARD_CATEGORIES:
        errors.append(("category", _("분류를 골라 주세요.")))
    target_dong = visit.dong_id
    if visit.kind == KIND_TOUR:
        site_dongs = {s.dong_id for s in visit.sites if s.dong_id}
        target_dong = dong_id or (next(iter(site_dongs)) if len(site_dongs) == 1 else None)
        if target_dong is None or (dong_id and session.get(Dong, dong_id) is None):
            errors.append(("dong_id", _("건의사항이 속한 동을 골라 주세요.")))
    if department_id:
        departments_by_id(session, [department_id])
    contact_email = (contact_email or "").strip() or None
    if contact_email and not contact_consent:
        errors.append(("contact_consent", _("알림을 받으려면 개인정보 수집·이용에 동의해야 합니다.")))
    if photo is not None:
        try:
            check_photo(*photo)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(_("건의사항 입력 내용을 확인해 주세요."), errors)
    # the item goes on the dong's public card
    require_public_text(session, {"title": title, "description": description, "location": location})
    item = create_item(
        session,
        dong_id=target_dong,
        title=title,
        description=(description or "").strip(),
        category=category,
        source_kind="visit",
        source_ref=visit.id,
        actor_id=actor_id,
        now=now,
        location=(location or "").strip() or None,
        department_id=department_id or None,
    )
    if contact_email:
        add_contact(session, item, email=contact_email, consent=contact_consent, now=now)
    if photo is not None and upload_dir:
        store_photo(
            session,
            item,
            uploaded_by_id=actor_id,
            now=now,
            filename=photo[0],
            data=photo[1],
            upload_dir=upload_dir,
        )
    return item


def suggestions_for(session: Session, visit_ids: list[int]):
    from civic_app.cards.models import CardItem

    if not visit_ids:
        return []
    return session.scalars(
        select(CardItem)
        .where(CardItem.source_kind == "visit", CardItem.source_ref.in_(visit_ids))
        .order_by(CardItem.id)
    ).all()


def publish_results(
    session: Session, visit: Visit, *, actor_id: int | None, now: dt.datetime, summary: str
) -> Visit:
    """Publish (or correct) the public result and queue an anonymous Telegram post."""
    from civic_app.notify.services import enqueue_telegram
    from civic_app.web.filters import mask_text

    summary = (summary or "").strip()
    if not summary:
        raise ValidationFailed(
            _("공개할 결과 요약을 입력해 주세요."), [("summary", _("결과 요약을 입력해 주세요."))]
        )
    require_public_text(session, {"summary": summary})
    if visit.status not in (HELD, RESULTS_PUBLISHED):
        raise InvalidTransition(_("진행한 방문만 결과를 공개할 수 있습니다."))
    correction = visit.status == RESULTS_PUBLISHED
    visit.result_summary = mask_text(summary)
    visit.status = RESULTS_PUBLISHED
    visit.published = True
    visit.results_revision = (visit.results_revision or 0) + (1 if correction else 0)
    touch(visit, now, bump=not correction)
    session.flush()
    items = suggestions_for(session, [visit.id])
    place = visit.dong.name if visit.dong else ", ".join(s.name for s in visit.sites)
    day = to_seoul(visit.start_at).date()
    title = (
        _("[동 방문 결과] %(place)s", place=place)
        if visit.kind == KIND_REGULAR
        else _("[민생현장 탐방 결과] %(theme)s", theme=visit.theme or place)
    )
    payload = {
        "title": title,
        "summary": visit.result_summary,
        "url": f"/visits/{visit.id}",
        "lines": [f"{item.category} · {mask_text(item.title)}" for item in items],
        "dong_name": place,
        "date": day.isoformat(),
        "departments": [d.name for d in visit.departments],
    }
    key = (
        f"visit_result:{visit.id}" if not correction else f"visit_result:{visit.id}:r{visit.results_revision}"
    )
    enqueue_telegram(
        session,
        kind="visit_result",
        payload=payload,
        dedupe_key=key,
        subject_ref=f"visit:{visit.id}",
        now=now,
    )
    publish_change(session, ChangeEvent("visit_result", visit.id, now))
    return visit
