"""Card rules: the state machine, joint review, priority, merge/split, carry-over, the envelope.

Every function takes the session, the acting user and the clock, flushes and never commits.
``create_item`` keeps the contract signature: visits and 통통데이 call it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from civic_app.cards.models import (
    AUTHOR_NOTICE_STATUSES,
    BUDGET_KINDS,
    BUDGET_REFLECTED,
    CRITERIA,
    DEFAULT_CATEGORIES,
    DONE,
    IN_PROGRESS,
    LONG_TERM,
    MERGED,
    MILESTONE_KINDS,
    MILESTONE_KO,
    MILESTONE_STATUSES,
    NOT_FEASIBLE,
    OPEN_STATUSES,
    PARTIES,
    PARTY_BUDGET,
    PARTY_DEPARTMENT,
    PARTY_LABELS,
    PARTY_POLICY,
    RECEIVED,
    RECOMMENDATIONS,
    REFERRED,
    REVIEWABLE_STATUSES,
    SELECTED,
    SOURCE_KINDS,
    STATUS_LABELS,
    STATUSES,
    TRANSITIONS,
    UNDER_REVIEW,
    BudgetEnvelope,
    CardCategory,
    CardComment,
    CardContact,
    CardEvent,
    CardItem,
    CardMilestone,
    CardPhoto,
    CardReview,
    CardSettings,
)
from civic_app.cards.policy import (
    ADMIN,
    BUDGET_OFFICE,
    CARD_ROLES,
    CIVIC_STAFF,
    DEPARTMENT,
    POLICY_OFFICE,
    may_transition,
    owns_department_of,
)
from civic_app.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from civic_app.integrity import allocator
from civic_app.integrity.locks import lock_row
from civic_app.timeutil import to_seoul

PARTY_ROLE = {PARTY_BUDGET: BUDGET_OFFICE, PARTY_POLICY: POLICY_OFFICE, PARTY_DEPARTMENT: DEPARTMENT}
REASON_REQUIRED = frozenset({LONG_TERM, NOT_FEASIBLE, REFERRED})
MAX_AMOUNT = 10**13  # 10조원: anything larger is a typing error


# History lines and public posts are data: written in Korean whatever the actor's UI language.
PARTY_KO = {PARTY_BUDGET: "예산법무과", PARTY_POLICY: "정책담당관", PARTY_DEPARTMENT: "담당 부서"}
BUDGET_KIND_KO = {"main": "본예산", "supplementary": "추경"}


def conflict_message() -> str:
    return _("다른 사람이 먼저 수정했습니다. 새로 고친 뒤 다시 시도해 주세요.")


# --- helpers ---------------------------------------------------------------------------


def _roles(actor) -> frozenset[str]:
    return frozenset() if actor is None else actor.role_set


def _check_version(obj, expected: int | None) -> None:
    """Forms carry the version they were rendered with; a different one means a lost update."""
    if expected is not None and expected != obj.version:
        raise Conflict(conflict_message())


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as exc:  # a concurrent UPDATE bumped the version first
        raise Conflict(conflict_message()) from exc


def _event(
    session: Session,
    item: CardItem,
    *,
    kind: str,
    actor,
    now: dt.datetime,
    reason: str | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    public: bool = True,
) -> CardEvent:
    event = CardEvent(
        item_id=item.id,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        reason=(reason or "").strip() or None,
        public=public,
        actor_id=getattr(actor, "id", actor if isinstance(actor, int) else None),
        at=now,
    )
    session.add(event)
    return event


def default_target_year(now: dt.datetime) -> int:
    """Suggestions received this year compete for next year's 본예산."""
    return to_seoul(now).year + 1


def public_item_path(item: CardItem) -> str:
    return f"/cards/{item.dong.code}/items/{item.id}"


def get_settings(session: Session) -> CardSettings:
    settings = session.get(CardSettings, 1)
    if settings is None:
        settings = CardSettings(id=1)
        session.add(settings)
        session.flush()
    return settings


def ensure_reference(session: Session) -> None:
    """Reference data a fresh database holds: the settings row and the default categories."""
    get_settings(session)
    existing = set(session.scalars(select(CardCategory.name)))
    for position, name in enumerate(DEFAULT_CATEGORIES):
        if name not in existing:
            session.add(CardCategory(name=name, position=position, active=True))
    session.flush()


def add_category(session: Session, *, actor, name: str) -> CardCategory:
    """Categories are configurable; items keep the name they were filed under."""
    if not (_roles(actor) & {CIVIC_STAFF, ADMIN}):
        raise NotAllowed(_("분류는 소통민원팀이나 관리자만 바꿀 수 있습니다."))
    name = (name or "").strip()
    if not name or len(name) > 40:
        msg = _("분류 이름은 1~40자로 입력해 주세요.")
        raise ValidationFailed(msg, [("name", msg)])
    existing = session.scalar(select(CardCategory).where(CardCategory.name == name))
    if existing is not None:
        if existing.active:
            msg = _("같은 이름의 분류가 이미 있습니다.")
            raise ValidationFailed(msg, [("name", msg)])
        existing.active = True
        session.flush()
        return existing
    position = allocator.next_after_max(
        session,
        "card_category_position",
        "all",
        lambda: session.scalar(select(func.max(CardCategory.position))),
    )
    category = CardCategory(name=name, position=position, active=True)
    session.add(category)
    session.flush()
    return category


def set_category_active(session: Session, category: CardCategory, *, actor, active: bool) -> CardCategory:
    if not (_roles(actor) & {CIVIC_STAFF, ADMIN}):
        raise NotAllowed(_("분류는 소통민원팀이나 관리자만 바꿀 수 있습니다."))
    category.active = active
    session.flush()
    return category


def category_names(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(CardCategory.name).where(CardCategory.active.is_(True)).order_by(CardCategory.position)
        )
    )


# --- items -----------------------------------------------------------------------------


def create_item(
    session: Session,
    *,
    dong_id: int,
    title: str,
    description: str,
    category: str,
    source_kind: str,
    actor_id: int | None,
    now: dt.datetime,
    source_ref: int | None = None,
    location: str | None = None,
    department_id: int | None = None,
    estimated_cost: int | None = None,
) -> CardItem:
    """Add a suggestion to a dong's card in state 접수 (received). Flushes, never commits."""
    if source_kind not in SOURCE_KINDS:
        raise ValidationFailed(_("알 수 없는 접수 경로입니다: %(kind)s", kind=source_kind))
    title = (title or "").strip()
    errors = []
    if not title or len(title) > 200:
        errors.append(("title", _("제목은 1~200자로 입력해 주세요.")))
    if not category or len(category) > 40:
        errors.append(("category", _("분류를 선택해 주세요.")))
    if estimated_cost is not None and not (0 <= estimated_cost <= MAX_AMOUNT):
        errors.append(("estimated_cost", _("예상 사업비는 0원 이상 10조원 이하로 입력해 주세요.")))
    if errors:
        raise ValidationFailed(errors[0][1], errors)
    item = CardItem(
        dong_id=dong_id,
        title=title,
        description=description or "",
        category=category,
        location=location,
        source_kind=source_kind,
        source_ref=source_ref,
        department_id=department_id,
        estimated_cost=estimated_cost,
        status=RECEIVED,
        created_by_id=actor_id,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
        target_year=default_target_year(now),
    )
    session.add(item)
    session.flush()
    _event(session, item, kind="created", actor=actor_id, now=now, to_status=RECEIVED)
    session.flush()
    return item


def update_item(
    session: Session,
    item: CardItem,
    *,
    actor,
    now: dt.datetime,
    expected_version: int | None,
    title: str,
    description: str,
    category: str,
    location: str | None,
    department_id: int | None,
    estimated_cost: int | None,
) -> CardItem:
    """Edit an open item's facts (the department assignment included)."""
    if not (_roles(actor) & (CARD_ROLES - {DEPARTMENT})):
        raise NotAllowed(_("관리카드 항목을 고칠 권한이 없습니다."))
    if item.status not in OPEN_STATUSES:
        raise InvalidTransition(_("'%(s)s' 상태의 항목은 고칠 수 없습니다.", s=item.status_label))
    _check_version(item, expected_version)
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ValidationFailed(
            _("제목은 1~200자로 입력해 주세요."), [("title", _("제목은 1~200자로 입력해 주세요."))]
        )
    if estimated_cost is not None and not (0 <= estimated_cost <= MAX_AMOUNT):
        msg = _("예상 사업비는 0원 이상 10조원 이하로 입력해 주세요.")
        raise ValidationFailed(msg, [("estimated_cost", msg)])
    changed = []
    for name, value in (
        ("title", title),
        ("description", description or ""),
        ("category", category),
        ("location", location or None),
        ("department_id", department_id),
        ("estimated_cost", estimated_cost),
    ):
        if getattr(item, name) != value:
            setattr(item, name, value)
            changed.append(name)
    if changed:
        item.updated_at = now
        _event(session, item, kind="edit", actor=actor, now=now, reason=", ".join(changed), public=False)
    _flush(session)
    return item


def add_comment(session: Session, item: CardItem, *, actor, now: dt.datetime, body: str) -> CardComment:
    """An internal note between the offices (never public)."""
    if not (_roles(actor) & CARD_ROLES):
        raise NotAllowed(_("내부 의견을 남길 권한이 없습니다."))
    body = (body or "").strip()
    if not body or len(body) > 4000:
        msg = _("의견은 1~4000자로 입력해 주세요.")
        raise ValidationFailed(msg, [("body", msg)])
    comment = CardComment(item_id=item.id, author_id=actor.id, body=body, created_at=now)
    session.add(comment)
    session.flush()
    return comment


# --- state machine ---------------------------------------------------------------------


def _refuse(item: CardItem, target: str) -> InvalidTransition:
    allowed = [s for s in STATUSES if s in TRANSITIONS.get(item.status, frozenset())]
    if allowed:
        nexts = ", ".join(str(STATUS_LABELS[s]) for s in allowed)
        return InvalidTransition(
            _(
                "'%(a)s' 상태에서 '%(b)s'(으)로 바꿀 수 없습니다. 가능한 다음 단계: %(n)s",
                a=item.status_label,
                b=str(STATUS_LABELS.get(target, target)),
                n=nexts,
            )
        )
    return InvalidTransition(
        _(
            "'%(a)s' 상태는 마지막 단계라서 '%(b)s'(으)로 바꿀 수 없습니다.",
            a=item.status_label,
            b=str(STATUS_LABELS.get(target, target)),
        )
    )


def _check_transition_actor(item: CardItem, target: str, actor) -> None:
    """The edge × role table and the own-department rule live in ``civic_app.cards.policy``."""
    if may_transition(actor, item, target):
        return
    if target in (IN_PROGRESS, DONE) and DEPARTMENT in _roles(actor) and not owns_department_of(actor, item):
        raise NotAllowed(_("담당 부서만 집행 단계를 기록할 수 있습니다."))
    raise NotAllowed(
        _(
            "'%(a)s' 상태에서 '%(b)s'(으)로 바꿀 권한이 없습니다.",
            a=item.status_label,
            b=str(STATUS_LABELS.get(target, target)),
        )
    )


def reviews_of(session: Session, item: CardItem) -> dict[str, CardReview]:
    rows = session.scalars(select(CardReview).where(CardReview.item_id == item.id))
    return {r.party: r for r in rows}


def missing_parties(session: Session, item: CardItem) -> list[str]:
    done = reviews_of(session, item)
    return [p for p in PARTIES if p not in done]


def transition(
    session: Session,
    item: CardItem,
    target: str,
    *,
    actor,
    now: dt.datetime,
    reason: str | None = None,
    expected_version: int | None = None,
    rank: int | None = None,
    fiscal_year: int | None = None,
    budget_kind: str | None = None,
    amount: int | None = None,
    budget_line: str | None = None,
    referred_to: str | None = None,
) -> CardItem:
    """Move ``item`` to ``target`` if the state machine, the actor and the gate allow it."""
    if target not in TRANSITIONS:
        raise InvalidTransition(_("알 수 없는 단계입니다."))
    if not item.can_transition_to(target):
        raise _refuse(item, target)
    _check_transition_actor(item, target, actor)
    _check_version(item, expected_version)
    reason = (reason or "").strip() or None
    if target in REASON_REQUIRED and not reason:
        msg = _("'%(b)s' 결정에는 사유가 필요합니다.", b=str(STATUS_LABELS[target]))
        raise ValidationFailed(msg, [("reason", msg)])
    if item.status == SELECTED and target == UNDER_REVIEW and not reason:
        msg = _("선정을 취소하고 다시 검토하려면 사유가 필요합니다.")
        raise ValidationFailed(msg, [("reason", msg)])
    if reason and len(reason) > 2000:
        msg = _("사유는 2000자 이내로 입력해 주세요.")
        raise ValidationFailed(msg, [("reason", msg)])

    if target == SELECTED:
        missing = missing_parties(session, item)
        if item.department_id is None:
            raise InvalidTransition(_("담당 부서를 먼저 지정해야 선정할 수 있습니다."))
        if missing:
            names = ", ".join(str(PARTY_LABELS[p]) for p in missing)
            raise InvalidTransition(
                _("세 기관의 검토가 모두 끝나야 선정할 수 있습니다. 남은 검토: %(n)s", n=names)
            )
        if rank is not None and not (1 <= rank <= 100000):
            msg = _("순위는 1 이상의 정수로 입력해 주세요.")
            raise ValidationFailed(msg, [("rank", msg)])
        if rank is None:  # the next rank of the year's queue, read under the year's allocator lock
            rank = allocator.next_after_max(
                session,
                "card_rank",
                str(item.target_year),
                lambda: session.scalar(
                    select(func.max(CardItem.rank)).where(
                        CardItem.status == SELECTED, CardItem.target_year == item.target_year
                    )
                ),
            )
        item.rank = rank
    elif target == REFERRED:
        referred_to = (referred_to or "").strip()
        if not referred_to or len(referred_to) > 200:
            msg = _("이송할 기관을 입력해 주세요.")
            raise ValidationFailed(msg, [("referred_to", msg)])
        item.referred_to = referred_to
    elif target == BUDGET_REFLECTED:
        errors = []
        if fiscal_year is None or not (2000 <= fiscal_year <= 2100):
            errors.append(("fiscal_year", _("회계연도를 2000~2100 사이로 입력해 주세요.")))
        if budget_kind not in BUDGET_KINDS:
            errors.append(("budget_kind", _("본예산 또는 추경을 골라 주세요.")))
        if amount is None or not (0 < amount <= MAX_AMOUNT):
            errors.append(("amount", _("반영 금액은 1원 이상 10조원 이하로 입력해 주세요.")))
        budget_line = (budget_line or "").strip()
        if not budget_line or len(budget_line) > 200:
            errors.append(("budget_line", _("예산과목을 입력해 주세요.")))
        if errors:
            raise ValidationFailed(errors[0][1], errors)
        item.fiscal_year = fiscal_year
        item.budget_kind = budget_kind
        item.budget_amount = amount
        item.budget_line = budget_line
    elif item.status == SELECTED and target in (UNDER_REVIEW, LONG_TERM):
        item.rank = None

    previous = item.status
    item.status = target
    item.status_changed_at = now
    item.updated_at = now
    if reason or target in (SELECTED, BUDGET_REFLECTED, REFERRED):
        item.decision_reason = reason
    _event(
        session,
        item,
        kind="status",
        actor=actor,
        now=now,
        reason=reason,
        from_status=previous,
        to_status=target,
    )
    _flush(session)
    if target in (BUDGET_REFLECTED, DONE):
        _announce(session, item, now=now)
    notify_authors(session, item, now=now)
    return item


def _announce(session: Session, item: CardItem, *, now: dt.datetime) -> None:
    """Outbox message for the public Telegram channel: public fields only."""
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


# --- joint review ----------------------------------------------------------------------


def parties_of(actor, item: CardItem | None = None) -> list[str]:
    """The review parties ``actor`` can speak for (on ``item`` when given)."""
    roles = _roles(actor)
    out = []
    if BUDGET_OFFICE in roles:
        out.append(PARTY_BUDGET)
    if POLICY_OFFICE in roles:
        out.append(PARTY_POLICY)
    dept = actor.department_id if DEPARTMENT in roles else None
    if dept is not None and (item is None or item.department_id == dept):
        out.append(PARTY_DEPARTMENT)
    return out


def record_review(
    session: Session,
    item: CardItem,
    *,
    party: str,
    actor,
    now: dt.datetime,
    scores: dict[str, int],
    recommendation: str,
    cost_estimate: int | None = None,
    comment: str = "",
    expected_version: int | None = None,
) -> CardReview:
    """Record (or revise) one party's review; ``expected_version`` 0 means "a new review"."""
    if party not in PARTIES:
        raise ValidationFailed(_("알 수 없는 검토 기관입니다."))
    settings = lock_for_scoring(session, item)
    if party not in parties_of(actor, item):
        raise NotAllowed(_("%(p)s 검토를 기록할 권한이 없습니다.", p=str(PARTY_LABELS[party])))
    if item.status not in REVIEWABLE_STATUSES:
        raise InvalidTransition(
            _(
                "'%(s)s' 상태의 항목은 검토할 수 없습니다. 접수 또는 검토중인 항목만 검토합니다.",
                s=item.status_label,
            )
        )
    errors = []
    for criterion in CRITERIA:
        value = scores.get(criterion)
        if value is None or not (1 <= value <= 5):
            errors.append((criterion, _("1에서 5 사이의 점수를 골라 주세요.")))
    if recommendation not in RECOMMENDATIONS:
        errors.append(("recommendation", _("권고 의견을 골라 주세요.")))
    if cost_estimate is not None and not (0 <= cost_estimate <= MAX_AMOUNT):
        errors.append(("cost_estimate", _("추정 사업비는 0원 이상 10조원 이하로 입력해 주세요.")))
    if comment and len(comment) > 4000:
        errors.append(("comment", _("의견은 4000자 이내로 입력해 주세요.")))
    if errors:
        raise ValidationFailed(_("검토 내용을 확인해 주세요."), errors)

    review = session.scalar(
        select(CardReview).where(CardReview.item_id == item.id, CardReview.party == party)
    )
    if review is None:
        if expected_version not in (None, 0):
            raise Conflict(conflict_message())
        review = CardReview(item_id=item.id, party=party, created_at=now)
        session.add(review)
    elif expected_version == 0:  # someone of the same party reviewed in the meantime
        raise Conflict(conflict_message())
    else:
        _check_version(review, expected_version)
    review.reviewer_id = actor.id
    for criterion in CRITERIA:
        setattr(review, criterion, scores[criterion])
    review.recommendation = recommendation
    review.cost_estimate = cost_estimate
    review.comment = (comment or "").strip()
    review.updated_at = now
    previous = item.status
    if item.status == RECEIVED:
        item.status = UNDER_REVIEW
        item.status_changed_at = now
        _event(
            session,
            item,
            kind="status",
            actor=actor,
            now=now,
            from_status=previous,
            to_status=UNDER_REVIEW,
            reason="공동 검토를 시작했습니다.",
        )
    _event(
        session,
        item,
        kind="review",
        actor=actor,
        now=now,
        reason=f"{PARTY_KO[party]} 검토 기록",
        public=False,
    )
    try:
        _flush(session)
    except IntegrityError as exc:  # the unique (item, party) lost a race
        raise Conflict(conflict_message()) from exc
    refresh_score(session, item, settings, now=now)
    return review


def review_score(review: CardReview, weights: dict[str, float]) -> float:
    """One review on 0..100: the weighted mean of its 1-5 scores, rescaled."""
    total = sum(weights.values()) or 1.0
    return round(sum(weights[c] * (getattr(review, c) - 1) / 4 for c in CRITERIA) / total * 100, 2)


def lock_for_scoring(session: Session, item: CardItem) -> CardSettings:
    """Lock the inputs of ``item.review_score`` and reload them; returns the settings.

    The settings row (the weights) is taken FOR SHARE, so reviews of different items do not
    wait for each other while a weight change (FOR UPDATE in ``update_settings``) waits for
    them and they for it; then the item row FOR UPDATE, so two offices reviewing one item
    at once take turns, and the second reads the first one's committed review before it
    recomputes. Without it, a transaction that did not change the stored score left it stale
    (each computed from the reviews it could see). Always settings first, then the item: one
    lock order, no deadlock. SQLite ignores FOR UPDATE: its writers are serialised anyway.
    """
    settings = get_settings(session)
    lock_row(session, settings, read=True)
    lock_row(session, item)
    return settings


def refresh_score(session: Session, item: CardItem, settings: CardSettings, *, now: dt.datetime) -> None:
    """Store the mean of the item's review scores; call under ``lock_for_scoring``."""
    reviews = list(reviews_of(session, item).values())
    weights = settings.weights()
    score = round(sum(review_score(r, weights) for r in reviews) / len(reviews), 2) if reviews else None
    if item.review_score != score:
        item.review_score = score
        item.updated_at = now
        _flush(session)


def dong_flag_count(dong) -> int:
    return int(dong.contested_area) + int(dong.natural_village) + int(dong.outlying_area)


@dataclass
class ScoreBreakdown:
    review_score: float | None
    flag_count: int
    flag_bonus: float
    computed: float
    override: float | None
    override_reason: str | None
    final: float
    per_review: list[tuple[str, float]] = field(default_factory=list)


def score_breakdown(item: CardItem, reviews: list[CardReview], settings: CardSettings) -> ScoreBreakdown:
    """How the priority is made, shown on the item page (transparency)."""
    weights = settings.weights()
    flags = dong_flag_count(item.dong)
    bonus = flags * settings.dong_flag_bonus
    computed = round((item.review_score or 0.0) + bonus, 2)
    final = item.priority_override if item.priority_override is not None else computed
    return ScoreBreakdown(
        review_score=item.review_score,
        flag_count=flags,
        flag_bonus=bonus,
        computed=computed,
        override=item.priority_override,
        override_reason=item.override_reason,
        final=final,
        per_review=[(r.party_label, review_score(r, weights)) for r in reviews],
    )


def priority_expr(settings: CardSettings):
    """SQL for the priority (needs ``Dong`` joined): the override, or reviews + dong flags."""
    from civic_app.dongs.models import Dong

    flags = (
        case((Dong.contested_area.is_(True), 1), else_=0)
        + case((Dong.natural_village.is_(True), 1), else_=0)
        + case((Dong.outlying_area.is_(True), 1), else_=0)
    )
    computed = func.coalesce(CardItem.review_score, 0.0) + flags * settings.dong_flag_bonus
    return func.coalesce(CardItem.priority_override, computed)


def set_override(
    session: Session,
    item: CardItem,
    *,
    actor,
    now: dt.datetime,
    score: float | None,
    reason: str | None,
    expected_version: int | None = None,
) -> CardItem:
    """Replace the computed priority (with a reason), or clear the override (``score`` None)."""
    if not (_roles(actor) & {BUDGET_OFFICE, POLICY_OFFICE, ADMIN}):
        raise NotAllowed(_("우선순위를 조정할 권한이 없습니다."))
    _check_version(item, expected_version)
    reason = (reason or "").strip()
    if score is not None:
        if not (0 <= score <= 1000):
            msg = _("우선순위 점수는 0~1000 사이로 입력해 주세요.")
            raise ValidationFailed(msg, [("score", msg)])
        if not reason:
            msg = _("우선순위를 직접 조정하려면 사유가 필요합니다.")
            raise ValidationFailed(msg, [("reason", msg)])
    item.priority_override = score
    item.override_reason = reason or None if score is not None else None
    item.updated_at = now
    text = f"우선순위 {score:g}점으로 조정: {reason}" if score is not None else "우선순위 조정 해제"
    _event(session, item, kind="override", actor=actor, now=now, reason=text, public=False)
    _flush(session)
    return item


def update_settings(
    session: Session,
    *,
    actor,
    now: dt.datetime,
    weights: dict[str, float],
    dong_flag_bonus: float,
    review_deadline_days: int,
) -> CardSettings:
    """The budget office sets the weights; every open item's score is recomputed."""
    if not (_roles(actor) & {BUDGET_OFFICE, ADMIN}):
        raise NotAllowed(_("가중치는 예산법무과만 바꿀 수 있습니다."))
    errors = [
        (f"weight_{c}", _("가중치는 0~10 사이로 입력해 주세요."))
        for c in CRITERIA
        if not (0 <= weights[c] <= 10)
    ]
    if sum(weights.values()) <= 0:
        errors.append(("weight_feasibility", _("가중치 중 하나는 0보다 커야 합니다.")))
    if not (0 <= dong_flag_bonus <= 100):
        errors.append(("dong_flag_bonus", _("동 우선 가산점은 0~100 사이로 입력해 주세요.")))
    if not (1 <= review_deadline_days <= 365):
        errors.append(("review_deadline_days", _("검토 기한은 1~365 근무일 사이로 입력해 주세요.")))
    if errors:
        raise ValidationFailed(errors[0][1], errors)
    settings = get_settings(session)
    # Every review transaction holds the settings row FOR SHARE (lock_for_scoring): wait for
    # them, and keep new ones waiting until the scores below are written with the new weights.
    lock_row(session, settings)
    for c in CRITERIA:
        setattr(settings, f"weight_{c}", weights[c])
    settings.dong_flag_bonus = dong_flag_bonus
    settings.review_deadline_days = review_deadline_days
    settings.updated_by_id = actor.id
    settings.updated_at = now
    session.flush()
    # Recompute in one pass: reviews grouped per item.
    by_item: dict[int, list[CardReview]] = {}
    for review in session.scalars(select(CardReview)):
        by_item.setdefault(review.item_id, []).append(review)
    w = settings.weights()
    items = (
        session.scalars(
            select(CardItem).where(CardItem.id.in_(list(by_item))).execution_options(populate_existing=True)
        )
        if by_item
        else []
    )
    for item in items:
        reviews = by_item[item.id]
        item.review_score = round(sum(review_score(r, w) for r in reviews) / len(reviews), 2)
    _flush(session)
    return settings


# --- merge, split, carry-over ----------------------------------------------------------


def merge(
    session: Session,
    source: CardItem,
    target: CardItem,
    *,
    actor,
    now: dt.datetime,
    reason: str | None = None,
    expected_version: int | None = None,
) -> CardItem:
    """Fold duplicate ``source`` into ``target``; both histories stay and show on ``target``."""
    if not (_roles(actor) & {CIVIC_STAFF, BUDGET_OFFICE, POLICY_OFFICE, ADMIN}):
        raise NotAllowed(_("항목을 병합할 권한이 없습니다."))
    _check_version(source, expected_version)
    if source.id == target.id:
        raise ValidationFailed(
            _("같은 항목끼리는 병합할 수 없습니다."),
            [("target_id", _("같은 항목끼리는 병합할 수 없습니다."))],
        )
    if source.dong_id != target.dong_id:
        msg = _("같은 동의 항목끼리만 병합할 수 있습니다.")
        raise ValidationFailed(msg, [("target_id", msg)])
    for one in (source, target):
        if one.status not in OPEN_STATUSES:
            raise InvalidTransition(
                _("'%(s)s' 상태의 항목(#%(i)d)은 병합할 수 없습니다.", s=one.status_label, i=one.id)
            )
    previous = source.status
    source.status = MERGED
    source.merged_into_id = target.id
    source.status_changed_at = now
    source.updated_at = now
    source.rank = None
    text = (reason or "").strip()
    source.decision_reason = f"#{target.id} 항목과 같은 제안이라 병합했습니다." + (f" {text}" if text else "")
    _event(
        session,
        source,
        kind="merge",
        actor=actor,
        now=now,
        from_status=previous,
        to_status=MERGED,
        reason=source.decision_reason,
    )
    _event(
        session,
        target,
        kind="merge",
        actor=actor,
        now=now,
        reason=f"#{source.id} 항목({source.title})을 병합했습니다." + (f" {text}" if text else ""),
    )
    if target.estimated_cost is None and source.estimated_cost is not None:
        target.estimated_cost = source.estimated_cost
    target.updated_at = now
    _flush(session)
    from civic_app.cards.suggestions import carry_supports  # issue 17: 공감 follow the merge

    carry_supports(session, source, target, now=now)
    return target


def split(
    session: Session,
    item: CardItem,
    parts: list[dict],
    *,
    actor,
    now: dt.datetime,
    reason: str | None = None,
    expected_version: int | None = None,
) -> list[CardItem]:
    """Split ``item``: it keeps the first part (and its history); the others become new items
    that point back to it and show its history up to the split."""
    if not (_roles(actor) & {CIVIC_STAFF, BUDGET_OFFICE, POLICY_OFFICE, ADMIN}):
        raise NotAllowed(_("항목을 나눌 권한이 없습니다."))
    _check_version(item, expected_version)
    if item.status not in (RECEIVED, UNDER_REVIEW, LONG_TERM):
        raise InvalidTransition(_("'%(s)s' 상태의 항목은 나눌 수 없습니다.", s=item.status_label))
    clean = []
    errors = []
    for n, part in enumerate(parts, start=1):
        title = (part.get("title") or "").strip()
        if not title:
            continue
        if len(title) > 200:
            errors.append((str(n), _("%(n)d번째 제목이 200자를 넘습니다.", n=n)))
        cost = part.get("estimated_cost")
        if cost is not None and not (0 <= cost <= MAX_AMOUNT):
            errors.append((str(n), _("%(n)d번째 예상 사업비가 올바르지 않습니다.", n=n)))
        clean.append({"title": title, "description": part.get("description") or "", "estimated_cost": cost})
    if len(clean) < 2:
        errors.append(("parts", _("두 개 이상의 항목 제목을 입력해 주세요.")))
    if errors:
        raise ValidationFailed(errors[0][1], errors)
    text = (reason or "").strip()
    first, rest = clean[0], clean[1:]
    new_items = []
    for part in rest:
        child = CardItem(
            dong_id=item.dong_id,
            title=part["title"],
            description=part["description"],
            category=item.category,
            location=item.location,
            source_kind=item.source_kind,
            source_ref=item.source_ref,
            department_id=item.department_id,
            estimated_cost=part["estimated_cost"],
            status=RECEIVED,
            created_by_id=actor.id,
            created_at=now,
            updated_at=now,
            status_changed_at=now,
            target_year=item.target_year,
            split_from_id=item.id,
        )
        session.add(child)
        new_items.append(child)
    session.flush()
    for child in new_items:
        _event(
            session,
            child,
            kind="split",
            actor=actor,
            now=now,
            to_status=RECEIVED,
            reason=f"#{item.id} 항목에서 나뉘었습니다." + (f" {text}" if text else ""),
        )
    ids = ", ".join(f"#{c.id}" for c in new_items)
    _event(
        session,
        item,
        kind="split",
        actor=actor,
        now=now,
        reason=f"항목을 나누어 {ids} 항목을 만들었습니다." + (f" {text}" if text else ""),
    )
    item.title = first["title"]
    if first["description"]:
        item.description = first["description"]
    if first["estimated_cost"] is not None:
        item.estimated_cost = first["estimated_cost"]
    item.updated_at = now
    _flush(session)
    return [item, *new_items]


def carry_over(session: Session, *, from_year: int, actor, now: dt.datetime) -> int:
    """Items of ``from_year`` not funded move to the next fiscal year, with their history."""
    if not (_roles(actor) & {BUDGET_OFFICE, ADMIN}):
        raise NotAllowed(_("이월은 예산법무과만 할 수 있습니다."))
    items = list(
        session.scalars(
            select(CardItem).where(CardItem.target_year == from_year, CardItem.status.in_(OPEN_STATUSES))
        )
    )
    to_year = from_year + 1
    for item in items:
        item.target_year = to_year
        item.updated_at = now
        _event(
            session,
            item,
            kind="carry_over",
            actor=actor,
            now=now,
            reason=f"{from_year}년도 예산에 반영되지 않아 {to_year}년도로 이월했습니다.",
        )
    _flush(session)
    return len(items)


# --- budget envelope -------------------------------------------------------------------


def set_envelope(
    session: Session, *, fiscal_year: int, amount: int, actor, now: dt.datetime
) -> BudgetEnvelope:
    if not (_roles(actor) & {BUDGET_OFFICE, ADMIN}):
        raise NotAllowed(_("예산 총액은 예산법무과만 정할 수 있습니다."))
    if not (2000 <= fiscal_year <= 2100):
        msg = _("회계연도를 2000~2100 사이로 입력해 주세요.")
        raise ValidationFailed(msg, [("fiscal_year", msg)])
    if not (0 < amount <= MAX_AMOUNT):
        msg = _("예산 총액은 1원 이상 10조원 이하로 입력해 주세요.")
        raise ValidationFailed(msg, [("amount", msg)])
    envelope = session.scalar(select(BudgetEnvelope).where(BudgetEnvelope.fiscal_year == fiscal_year))
    if envelope is None:
        envelope = BudgetEnvelope(fiscal_year=fiscal_year, amount=amount, updated_at=now)
        session.add(envelope)
    envelope.amount = amount
    envelope.updated_by_id = actor.id
    envelope.updated_at = now
    session.flush()
    return envelope


FITS = "fits"
DOES_NOT_FIT = "does_not_fit"
FITS_REMAINDER = "fits_remainder"
NO_COST = "no_cost"


@dataclass
class FitRow:
    key: object
    cost: int | None
    verdict: str
    remaining_after: int


@dataclass
class EnvelopeFit:
    envelope: int
    committed: int
    rows: list[FitRow]
    remaining: int  # what is left after the rank-order fill and the best next items

    @property
    def fitting(self) -> list[FitRow]:
        return [r for r in self.rows if r.verdict == FITS]

    @property
    def not_fitting(self) -> list[FitRow]:
        return [r for r in self.rows if r.verdict == DOES_NOT_FIT]

    @property
    def next_fitting(self) -> list[FitRow]:
        return [r for r in self.rows if r.verdict == FITS_REMAINDER]


def fit_envelope(envelope: int, committed: int, candidates: list[tuple[object, int | None]]) -> EnvelopeFit:
    """Fill the envelope in rank order until an item does not fit; then the remaining money
    takes the best next items (in rank order) that still fit it."""
    remaining = envelope - committed
    blocked = False
    rows = []
    for key, cost in candidates:
        if cost is None:
            rows.append(FitRow(key, cost, NO_COST, remaining))
            continue
        if cost <= remaining:
            remaining -= cost
            rows.append(FitRow(key, cost, FITS_REMAINDER if blocked else FITS, remaining))
        else:
            blocked = True
            rows.append(FitRow(key, cost, DOES_NOT_FIT, remaining))
    return EnvelopeFit(envelope=envelope, committed=committed, rows=rows, remaining=remaining)


def planned_cost(item: CardItem, reviews: list[CardReview]) -> int | None:
    """The budget office's estimate when it has one, else the item's own estimate."""
    for review in reviews:
        if review.party == PARTY_BUDGET and review.cost_estimate is not None:
            return review.cost_estimate
    return item.estimated_cost


# --- telling the suggestion's author (issue 15) ------------------------------------------

AUTHOR_STATUS_KO = {SELECTED: "선정", BUDGET_REFLECTED: "예산반영", DONE: "완료", NOT_FEASIBLE: "불가"}
AUTHOR_STATUS_TEXT = {
    SELECTED: "세 기관의 공동 검토를 거쳐 예산 반영 대상으로 선정되었습니다.",
    BUDGET_REFLECTED: "예산에 반영되었습니다.",
    DONE: "사업이 완료되었습니다.",
    NOT_FEASIBLE: "검토 결과 추진하기 어렵다는 결정이 내려졌습니다.",
}
MAX_CONTACTS = 5


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


# --- photos and milestones (issue 15) ------------------------------------------------------

PHOTO_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MILESTONE_ROLES = frozenset({DEPARTMENT, BUDGET_OFFICE, CIVIC_STAFF, ADMIN})


def _check_photo(filename: str, data: bytes) -> tuple[str, str]:
    ext = (filename.rsplit(".", 1)[-1] if "." in filename else "").lower()
    if ext not in PHOTO_TYPES:
        msg = _("사진은 PNG, JPG만 올릴 수 있습니다.")
        raise ValidationFailed(msg, [("photo", msg)])
    if len(data) > MAX_PHOTO_BYTES:
        msg = _("사진은 5MB 이하여야 합니다.")
        raise ValidationFailed(msg, [("photo", msg)])
    content_type, magics = PHOTO_TYPES[ext]
    if not any(data.startswith(m) for m in magics):
        msg = _("파일 내용이 확장자와 맞지 않습니다.")
        raise ValidationFailed(msg, [("photo", msg)])
    return ("jpg" if ext == "jpeg" else ext), content_type


def photo_folder(instance_path: str) -> str:
    """Where card photos are kept (outside the static folder: served through the views)."""
    from pathlib import Path

    return str(Path(instance_path) / "card_photos")


def check_photo(filename: str, data: bytes) -> tuple[str, str]:
    """(extension, content type) of an acceptable photo, or ``ValidationFailed``."""
    return _check_photo(filename, data)


def store_photo(
    session: Session,
    item: CardItem,
    *,
    uploaded_by_id: int | None,
    now: dt.datetime,
    filename: str,
    data: bytes,
    upload_dir: str,
    caption: str | None = None,
    milestone: CardMilestone | None = None,
) -> CardPhoto:
    """Keep a checked photo (random file name in ``upload_dir``); callers check the actor."""
    import secrets
    from pathlib import Path

    ext, content_type = _check_photo(filename, data)
    stored = f"{secrets.token_hex(16)}.{ext}"
    photo = CardPhoto(
        item_id=item.id,
        milestone_id=milestone.id if milestone is not None else None,
        stored_name=stored,
        content_type=content_type,
        caption=(caption or "").strip()[:200] or None,
        uploaded_by_id=uploaded_by_id,
        created_at=now,
    )
    session.add(photo)
    session.flush()
    folder = Path(upload_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored).write_bytes(data)
    return photo


def add_photo(
    session: Session,
    item: CardItem,
    *,
    actor,
    now: dt.datetime,
    filename: str,
    data: bytes,
    upload_dir: str,
    caption: str | None = None,
    milestone: CardMilestone | None = None,
) -> CardPhoto:
    """A staff member adds a photo of the item (the site as suggested, or a milestone's)."""
    if not (_roles(actor) & CARD_ROLES):
        raise NotAllowed(_("사진을 올릴 권한이 없습니다."))
    return store_photo(
        session,
        item,
        uploaded_by_id=getattr(actor, "id", None),
        now=now,
        filename=filename,
        data=data,
        upload_dir=upload_dir,
        caption=caption,
        milestone=milestone,
    )


def add_milestone(
    session: Session,
    item: CardItem,
    *,
    actor,
    now: dt.datetime,
    kind: str,
    day: dt.date,
    note: str | None = None,
    photo: tuple[str, bytes] | None = None,
    upload_dir: str | None = None,
) -> CardMilestone:
    """A dated execution step (설계, 착공, 준공 …) once the item is funded; public, in the
    item's history and so on the dong's card."""
    roles = _roles(actor)
    if not (roles & MILESTONE_ROLES):
        raise NotAllowed(_("집행 단계를 기록할 권한이 없습니다."))
    if roles & MILESTONE_ROLES == {DEPARTMENT} and (
        item.department_id is None or actor.department_id != item.department_id
    ):
        raise NotAllowed(_("담당 부서만 집행 단계를 기록할 수 있습니다."))
    if item.status not in MILESTONE_STATUSES:
        raise InvalidTransition(
            _("예산반영 뒤에 집행 단계를 기록할 수 있습니다. 지금 상태: %(s)s", s=item.status_label)
        )
    errors = []
    if kind not in MILESTONE_KINDS:
        errors.append(("kind", _("단계를 골라 주세요.")))
    if day is None or not (dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31)):
        errors.append(("day", _("날짜는 2000년부터 2100년 사이여야 합니다.")))
    note = (note or "").strip()
    if len(note) > 500:
        errors.append(("note", _("설명은 500자 이내로 입력해 주세요.")))
    if photo is not None:
        try:
            _check_photo(*photo)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors[0][1], errors)
    milestone = CardMilestone(
        item_id=item.id, kind=kind, day=day, note=note or None, actor_id=actor.id, created_at=now
    )
    session.add(milestone)
    session.flush()
    if photo is not None and upload_dir:
        add_photo(
            session,
            item,
            actor=actor,
            now=now,
            filename=photo[0],
            data=photo[1],
            upload_dir=upload_dir,
            milestone=milestone,
        )
    text = f"{MILESTONE_KO[kind]} ({day.year}년 {day.month}월 {day.day}일)" + (f": {note}" if note else "")
    _event(session, item, kind="milestone", actor=actor, now=now, reason=text)
    item.updated_at = now
    _flush(session)
    session.expire(item, ["milestones"])
    return milestone


def purge_contacts(session: Session, cutoff: dt.datetime, now: dt.datetime, dry_run: bool) -> int:
    """Privacy retention: residents' addresses older than the retention period are destroyed."""
    from sqlalchemy import delete

    stale = select(CardContact.id).where(CardContact.created_at < cutoff)
    count = session.scalar(select(func.count()).select_from(stale.subquery())) or 0
    if count and not dry_run:
        session.execute(delete(CardContact).where(CardContact.created_at < cutoff))
        session.flush()
    return count
