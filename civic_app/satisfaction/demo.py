"""Demo data (loader order 90, after every process): survey answers in the demo city.

The 통통데이 demo already triggered invitations through the real services (a held meeting, a
written answer); so does any other process whose demo runs before this loader. The 동 관리카드
demo items have no author contacts, so completed items get an invitation here, to a demo
citizen, as the completion would have sent. Then most invitations are answered a few days after
they were sent (some stay unanswered, as in life) and staff publish a few comments.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civic_app.satisfaction import services
from civic_app.satisfaction.models import PROCESS_CARD, SurveyInvitation, SurveyResponse

CITIZEN_EMAILS = ("citizen@demo.civic.kr", "citizen2@demo.civic.kr", "citizen3@demo.civic.kr")
# (satisfaction, reason clear) answers, cycled; lower for some departments so the index differs.
ANSWERS = ((5, 5), (4, 4), (4, 5), (3, 3), (5, 4), (2, 2), (4, 3), (5, 5), (3, 4), (4, 4), (1, 2), (4, 5))
COMMENTS = (
    "현장에 직접 나와 설명해 주셔서 이해가 잘 됐습니다.",
    "결과는 아쉽지만 왜 안 되는지 분명히 알려 주셔서 납득했습니다.",
    "처리까지 너무 오래 걸렸습니다. 중간에 진행 상황을 알려 주면 좋겠습니다.",
    "공사 후 길이 훨씬 안전해졌습니다. 고맙습니다.",
    "답변이 형식적이었습니다. 궁금하면 010-2345-6789로 연락 주세요.",
    "담당 부서가 친절하게 안내해 주었습니다.",
)
UNANSWERED_EVERY = 5  # every fifth invitation stays unanswered


def _staff(session: Session):
    from civic_app.accounts.models import User

    return session.scalar(select(User).where(User.email == "staff@demo.civic.kr"))


def _offer_for_done_cards(session: Session, now: dt.datetime) -> int:
    from civic_app.cards.models import DONE, CardItem

    items = session.scalars(
        select(CardItem)
        .where(CardItem.status == DONE, CardItem.status_changed_at < now)
        .order_by(CardItem.id)
    )
    n = 0
    for i, item in enumerate(items):
        invitation = services.offer_survey(
            session,
            process=PROCESS_CARD,
            subject_ref=f"card:{item.id}",
            department_id=item.department_id,
            email=CITIZEN_EMAILS[i % len(CITIZEN_EMAILS)],
            now=item.status_changed_at,
            about=item.title,
        )
        n += invitation is not None
    return n


def load_demo(session: Session, ctx: dict) -> None:
    now: dt.datetime = ctx["now"]
    echo = ctx.get("echo", print)
    if (session.scalar(select(func.count(SurveyResponse.id))) or 0) > 0:
        return  # already loaded
    staff = _staff(session)
    offered = _offer_for_done_cards(session, now)
    pending = list(
        session.scalars(
            select(SurveyInvitation)
            .where(SurveyInvitation.answered_at.is_(None))
            .order_by(SurveyInvitation.created_at, SurveyInvitation.id)
        )
    )
    answered = published = 0
    for i, invitation in enumerate(pending):
        at = invitation.created_at + dt.timedelta(days=1 + i % 6, hours=i % 9)
        if i % UNANSWERED_EVERY == UNANSWERED_EVERY - 1 or at >= now or at >= invitation.expires_at:
            continue
        satisfaction, reason_clear = ANSWERS[(i + (invitation.department_id or 0)) % len(ANSWERS)]
        comment = COMMENTS[i % len(COMMENTS)] if i % 2 == 0 else None
        response = services.submit_answer(
            session,
            services.make_token(invitation),
            satisfaction=satisfaction,
            reason_clear=reason_clear,
            comment=comment,
            now=at,
        )
        answered += 1
        if comment and staff is not None and i % 4 == 0:
            services.set_published(
                session, response, published=True, actor=staff, now=at + dt.timedelta(days=1)
            )
            published += 1
    session.flush()
    echo(f"    만족도 조사: 관리카드 요청 {offered}건, 응답 {answered}건, 공개 의견 {published}건")
