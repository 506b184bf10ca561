"""Demo followers: the demo citizen follows a dong, an item, their own request and a committee
task; two visitors follow by e-mail (one weekly, one still unconfirmed). One change is replayed
so the dev mailbox and the digest have real content. Idempotent."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civic_app.events import ChangeEvent
from civic_app.follow import services
from civic_app.follow.models import CARD_ITEM, COMMITTEE_TASK, DONG, REQUEST, WEEKLY, Follow

VISITOR = "resident.follow@demo.civic.kr"
UNCONFIRMED = "new.follower@demo.civic.kr"


def load_demo(session: Session, ctx: dict) -> None:
    from civic_app.accounts.models import User
    from civic_app.cards.models import CardItem
    from civic_app.committee.models import CommitteeTask
    from civic_app.meetings.models import MeetingRequest

    now = ctx["now"]
    if session.scalar(select(Follow.id).limit(1)) is not None:
        return
    citizen = session.scalar(select(User).where(User.email == "citizen@demo.civic.kr"))
    item = session.scalar(
        select(CardItem)
        .where(CardItem.status.in_(("in_progress", "budget_reflected")))
        .order_by(CardItem.id)
        .limit(1)
    )
    if citizen is None or item is None:
        return
    if citizen.email_verified_at is None:
        citizen.email_verified_at = now
    wanted: list[tuple[str, int, str]] = [
        (DONG, item.dong_id, "immediate"),
        (CARD_ITEM, item.id, "immediate"),
    ]
    request_id = session.scalar(
        select(MeetingRequest.id)
        .where(MeetingRequest.requester_id == citizen.id)
        .order_by(MeetingRequest.id)
        .limit(1)
    )
    if request_id:
        wanted.append((REQUEST, request_id, "immediate"))
    task_id = session.scalar(select(CommitteeTask.id).order_by(CommitteeTask.id).limit(1))
    if task_id:
        wanted.append((COMMITTEE_TASK, task_id, WEEKLY))
    for kind, target_id, frequency in wanted:
        services.follow_by_email(
            session,
            kind=kind,
            target_id=target_id,
            email=citizen.email,
            frequency=frequency,
            locale="ko",
            now=now,
            user=citizen,
        )
    visitor = services.follow_by_email(
        session, kind=DONG, target_id=item.dong_id, email=VISITOR, frequency=WEEKLY, locale="ko", now=now
    )
    services.confirm(session, visitor, now=now)
    services.follow_by_email(
        session,
        kind=CARD_ITEM,
        target_id=item.id,
        email=UNCONFIRMED,
        frequency="immediate",
        locale="en",
        now=now,
    )
    # Replay the item's latest change: the citizen's notice is in the outbox (the dev mailbox)
    # and the weekly visitor's waits for `flask follow digest`.
    services.on_change(session, ChangeEvent("card_status", item.id, now, detail="demo"))
    session.flush()
    count = session.scalar(select(func.count(Follow.id)))
    ctx.get("echo", print)(f"    구독 {count}건")
