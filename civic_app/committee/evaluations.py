"""Semiannual evaluations: rounds opened and closed by the secretariat, scores by members."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.accounts.models import User
from civic_app.committee.committees import member_for_user, require_secretariat
from civic_app.committee.models import Committee, CommitteeTask, Evaluation, EvaluationRound
from civic_app.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed


def open_evaluation_round(
    session: Session, committee: Committee, *, year: int, half: int, actor: User, now: dt.datetime
) -> EvaluationRound:
    require_secretariat(actor)
    if half not in (1, 2) or not 2000 <= year <= 2100:
        raise ValidationFailed(_("연도와 반기(1 또는 2)를 확인해 주세요."))
    if session.scalar(
        select(EvaluationRound.id).where(
            EvaluationRound.committee_id == committee.id,
            EvaluationRound.year == year,
            EvaluationRound.half == half,
        )
    ):
        raise Conflict(_("%(y)d년 %(h)d반기 평가는 이미 있습니다.", y=year, h=half))
    record = EvaluationRound(committee_id=committee.id, year=year, half=half, opened_at=now)
    session.add(record)
    session.flush()
    return record


def close_evaluation_round(
    session: Session, record: EvaluationRound, *, actor: User, now: dt.datetime
) -> None:
    require_secretariat(actor)
    if not record.is_open:
        raise InvalidTransition(_("이미 마감한 평가입니다."))
    record.closed_at = now
    session.flush()


def record_evaluation(
    session: Session,
    record: EvaluationRound,
    task: CommitteeTask,
    *,
    actor: User,
    score: int | None,
    comment: str,
    now: dt.datetime,
) -> Evaluation:
    """A member scores a task of their own sub-committee (1–5); scoring again replaces it."""
    member = member_for_user(session, actor)
    if member is None or not member.active or member.committee_id != record.committee_id:
        raise NotAllowed(_("위원 계정만 평가할 수 있습니다."))
    if not record.is_open:
        raise InvalidTransition(_("마감된 평가입니다."))
    if task.committee_id != record.committee_id or task.subcommittee_id != member.subcommittee_id:
        raise NotAllowed(_("소속 분과의 과제만 평가할 수 있습니다."))
    if score is None or not 1 <= score <= 5:
        raise ValidationFailed(
            _("점수는 1에서 5 사이여야 합니다."), [("score", _("점수는 1에서 5 사이여야 합니다."))]
        )
    evaluation = session.scalar(
        select(Evaluation).where(
            Evaluation.round_id == record.id, Evaluation.task_id == task.id, Evaluation.member_id == member.id
        )
    )
    if evaluation is None:
        evaluation = Evaluation(round_id=record.id, task_id=task.id, member_id=member.id)
        session.add(evaluation)
    evaluation.score = score
    evaluation.comment = comment.strip()[:2000] or None
    evaluation.updated_at = now
    session.flush()
    return evaluation
