"""Mid-term reviews: a round over the baseline tasks, decided and then applied to them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.accounts.models import User
from civic_app.committee.committees import require_secretariat
from civic_app.committee.models import (
    OUTCOME_REPLACED,
    OUTCOME_TO_STATUS,
    OUTCOMES,
    STATUS_ACTIVE,
    Committee,
    CommitteeTask,
    MidtermOutcome,
    MidtermReview,
)
from civic_app.committee.tasks import link_lineage
from civic_app.errors import InvalidTransition, ValidationFailed


def start_review(
    session: Session, committee: Committee, *, title: str, actor: User, now: dt.datetime
) -> MidtermReview:
    """A round over every baseline task still active, each proposed as 유지 until decided."""
    require_secretariat(actor)
    if not title.strip():
        raise ValidationFailed(_("제목을 입력해 주세요."), [("title", _("제목을 입력해 주세요."))])
    tasks = session.scalars(
        select(CommitteeTask)
        .where(
            CommitteeTask.committee_id == committee.id,
            CommitteeTask.origin == "baseline",
            CommitteeTask.status == STATUS_ACTIVE,
        )
        .order_by(CommitteeTask.code)
    ).all()
    if not tasks:
        raise ValidationFailed(_("점검할 추진 중인 정책합의과제가 없습니다."))
    review = MidtermReview(committee_id=committee.id, title=title.strip(), created_at=now)
    session.add(review)
    for task in tasks:
        review.outcomes.append(
            MidtermOutcome(
                task_id=task.id,
                task_code=task.code,
                task_title=task.title,
                field_name=task.subcommittee.name,
                previous_status=task.status,
                outcome="maintained",
            )
        )
    session.flush()
    return review


def apply_review(
    session: Session,
    review: MidtermReview,
    decisions: dict[int, tuple[str, str]],
    *,
    actor: User,
    now: dt.datetime,
    apply: bool = True,
) -> MidtermReview:
    """Record ``{outcome id: (outcome, successor codes)}`` and, when ``apply``, change the tasks.

    An applied round is a frozen snapshot: its outcomes no longer change.
    """
    require_secretariat(actor)
    if review.is_applied:
        raise InvalidTransition(_("이미 반영한 중간점검은 바꿀 수 없습니다."))
    codes = {
        t.code: t
        for t in session.scalars(
            select(CommitteeTask).where(CommitteeTask.committee_id == review.committee_id)
        )
    }
    errors: list[tuple[str, str]] = []
    for outcome in review.outcomes:
        value, successors = decisions.get(outcome.id, (outcome.outcome, outcome.successor_codes or ""))
        if value not in OUTCOMES:
            errors.append((outcome.task_code, _("결과 값이 올바르지 않습니다.")))
            continue
        names = [c.strip() for c in (successors or "").split(",") if c.strip()]
        if value == OUTCOME_REPLACED:
            if not names:
                errors.append((outcome.task_code, _("대체·통합 과제는 후속 과제 코드를 적어야 합니다.")))
            for name in names:
                if name not in codes or name == outcome.task_code:
                    errors.append((outcome.task_code, _("후속 과제 코드 %(c)s가 없습니다.", c=name)))
        outcome.outcome = value
        outcome.successor_codes = ",".join(names) if value == OUTCOME_REPLACED else None
    if errors:
        raise ValidationFailed(
            _("중간점검 결과에 오류가 있습니다: %(e)s", e="; ".join(f"{c}: {m}" for c, m in errors)), errors
        )
    if apply:
        successors_of: dict[str, list[str]] = defaultdict(list)
        for outcome in review.outcomes:
            if outcome.outcome == OUTCOME_REPLACED:
                for name in (outcome.successor_codes or "").split(","):
                    successors_of[name].append(outcome.task_code)
        for outcome in review.outcomes:
            task = codes.get(outcome.task_code)
            if task is None:
                continue
            task.status = OUTCOME_TO_STATUS[outcome.outcome]
            task.updated_at = now
            if outcome.outcome == OUTCOME_REPLACED:
                for name in (outcome.successor_codes or "").split(","):
                    kind = "merged" if len(successors_of[name]) > 1 else "replaced"
                    link_lineage(session, task, codes[name], kind=kind)
        review.applied_at = now
    session.flush()
    return review
