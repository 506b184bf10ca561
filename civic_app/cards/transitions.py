"""The state machine: one function per move that needs data, and ``move`` for the others.

- ``select_item`` (검토중 → 선정): the three reviews and a department are required; an optional rank.
- ``refer`` (→ 이송): the receiving agency and a reason.
- ``reflect_in_budget`` (선정 → 예산반영): fiscal year, 본예산/추경, amount and 예산과목.
- ``move`` (→ 검토중, 장기검토, 불가, 집행중, 완료): a reason where the state requires one.

All of them go through ``_change``: the state machine (``models.TRANSITIONS``), the edge × role
table (``policy``), the lost-update check, the reason rules, then the history line, the public
post (예산반영, 완료) and the authors' e-mail. Merging is its own operation (``items.merge``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civic_app.cards.base import MAX_AMOUNT, check_version, flush, record_event, roles_of
from civic_app.cards.models import (
    BUDGET_KINDS,
    BUDGET_REFLECTED,
    DONE,
    IN_PROGRESS,
    LONG_TERM,
    NOT_FEASIBLE,
    PARTY_LABELS,
    REFERRED,
    SELECTED,
    STATUS_LABELS,
    STATUSES,
    TRANSITIONS,
    UNDER_REVIEW,
    CardItem,
)
from civic_app.cards.notices import announce, notify_authors
from civic_app.cards.policy import DEPARTMENT, may_transition, owns_department_of
from civic_app.cards.reviews import missing_parties
from civic_app.errors import InvalidTransition, NotAllowed, ValidationFailed
from civic_app.events import ChangeEvent, publish_change
from civic_app.integrity import allocator
from civic_app.satisfaction import triggers as satisfaction_triggers

REASON_REQUIRED = frozenset({LONG_TERM, NOT_FEASIBLE, REFERRED})
# Targets whose data ``move`` cannot carry: each has its own function.
OWN_FUNCTION = {SELECTED: "select_item", REFERRED: "refer", BUDGET_REFLECTED: "reflect_in_budget"}


def move(
    session: Session,
    item: CardItem,
    target: str,
    *,
    actor,
    now: dt.datetime,
    reason: str | None = None,
    expected_version: int | None = None,
) -> CardItem:
    """Move ``item`` to a state that takes nothing but a reason: 검토중, 장기검토, 불가, 집행중
    or 완료. Taking a selected item back (to 검토중 or 장기검토) takes it out of the year's queue."""
    if target in OWN_FUNCTION:
        raise TypeError(f"moving to {target!r} needs data: call transitions.{OWN_FUNCTION[target]}()")

    def leave_queue() -> None:
        if item.status == SELECTED:
            item.rank = None

    return _change(
        session,
        item,
        target,
        actor=actor,
        now=now,
        reason=reason,
        expected_version=expected_version,
        apply=leave_queue,
    )


def select_item(
    session: Session,
    item: CardItem,
    *,
    actor,
    now: dt.datetime,
    rank: int | None = None,
    reason: str | None = None,
    expected_version: int | None = None,
) -> CardItem:
    """선정: once the three parties reviewed and a department is assigned. Without ``rank``
    the item takes the next rank of its target year's queue."""

    def apply() -> None:
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
        # The next rank of the year's queue is read under the year's allocator lock.
        item.rank = (
            rank
            if rank is not None
            else allocator.next_after_max(
                session,
                "card_rank",
                str(item.target_year),
                lambda: session.scalar(
                    select(func.max(CardItem.rank)).where(
                        CardItem.status == SELECTED, CardItem.target_year == item.target_year
                    )
                ),
            )
        )

    return _change(
        session,
        item,
        SELECTED,
        actor=actor,
        now=now,
        reason=reason,
        expected_version=expected_version,
        apply=apply,
    )


def refer(
    session: Session,
    item: CardItem,
    *,
    actor,
    now: dt.datetime,
    referred_to: str | None,
    reason: str | None,
    expected_version: int | None = None,
) -> CardItem:
    """이송: the suggestion belongs to another agency (named in ``referred_to``)."""

    def apply() -> None:
        agency = (referred_to or "").strip()
        if not agency or len(agency) > 200:
            msg = _("이송할 기관을 입력해 주세요.")
            raise ValidationFailed(msg, [("referred_to", msg)])
        item.referred_to = agency

    return _change(
        session,
        item,
        REFERRED,
        actor=actor,
        now=now,
        reason=reason,
        expected_version=expected_version,
        apply=apply,
    )


def reflect_in_budget(
    session: Session,
    item: CardItem,
    *,
    actor,
    now: dt.datetime,
    fiscal_year: int | None,
    budget_kind: str | None,
    amount: int | None,
    budget_line: str | None,
    reason: str | None = None,
    expected_version: int | None = None,
) -> CardItem:
    """예산반영: the selected item is funded (``budget_kind`` 본예산 "main" or 추경
    "supplementary", ``amount`` in KRW, ``budget_line`` the 예산과목)."""

    def apply() -> None:
        line = (budget_line or "").strip()
        errors = []
        if fiscal_year is None or not (2000 <= fiscal_year <= 2100):
            errors.append(("fiscal_year", _("회계연도를 2000~2100 사이로 입력해 주세요.")))
        if budget_kind not in BUDGET_KINDS:
            errors.append(("budget_kind", _("본예산 또는 추경을 골라 주세요.")))
        if amount is None or not (0 < amount <= MAX_AMOUNT):
            errors.append(("amount", _("반영 금액은 1원 이상 10조원 이하로 입력해 주세요.")))
        if not line or len(line) > 200:
            errors.append(("budget_line", _("예산과목을 입력해 주세요.")))
        if errors:
            raise ValidationFailed(errors[0][1], errors)
        item.fiscal_year = fiscal_year
        item.budget_kind = budget_kind
        item.budget_amount = amount
        item.budget_line = line

    return _change(
        session,
        item,
        BUDGET_REFLECTED,
        actor=actor,
        now=now,
        reason=reason,
        expected_version=expected_version,
        apply=apply,
    )


# --- the shared core ---------------------------------------------------------------------------


def _change(
    session: Session,
    item: CardItem,
    target: str,
    *,
    actor,
    now: dt.datetime,
    reason: str | None,
    expected_version: int | None,
    apply: Callable[[], None],
) -> CardItem:
    """Check the move, let ``apply`` check and write the target's own data, then change the
    state, write the history line and tell the channel and the authors."""
    if target not in TRANSITIONS:
        raise InvalidTransition(_("알 수 없는 단계입니다."))
    if not item.can_transition_to(target):
        raise _refuse(item, target)
    _check_actor(item, target, actor)
    check_version(item, expected_version)
    reason = _checked_reason(item, target, reason)
    apply()
    previous = item.status
    item.status = target
    item.status_changed_at = now
    item.updated_at = now
    if reason or target in (SELECTED, BUDGET_REFLECTED, REFERRED):
        item.decision_reason = reason
    record_event(
        session,
        item,
        kind="status",
        actor=actor,
        now=now,
        reason=reason,
        from_status=previous,
        to_status=target,
    )
    flush(session)
    publish_change(session, ChangeEvent("card_status", item.id, now, detail=previous))
    if target in (BUDGET_REFLECTED, DONE):
        announce(session, item, now=now)
    notify_authors(session, item, now=now)
    satisfaction_triggers.after_card_done(session, item, now=now)
    return item


def _checked_reason(item: CardItem, target: str, reason: str | None) -> str | None:
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
    return reason


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


def _check_actor(item: CardItem, target: str, actor) -> None:
    """The edge × role table and the own-department rule live in ``civic_app.cards.policy``."""
    if may_transition(actor, item, target):
        return
    if (
        target in (IN_PROGRESS, DONE)
        and DEPARTMENT in roles_of(actor)
        and not owns_department_of(actor, item)
    ):
        raise NotAllowed(_("담당 부서만 집행 단계를 기록할 수 있습니다."))
    raise NotAllowed(
        _(
            "'%(a)s' 상태에서 '%(b)s'(으)로 바꿀 권한이 없습니다.",
            a=item.status_label,
            b=str(STATUS_LABELS.get(target, target)),
        )
    )
