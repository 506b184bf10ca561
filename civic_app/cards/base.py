"""What every card service shares: the actor's roles, the lost-update check, the history line.

Card services take the session, the acting user and the clock, flush and never commit. Each
aggregate has its module: ``items`` (create, edit, merge, split), ``transitions`` (the state
machine), ``reviews`` (joint review), ``priority``, ``settings`` (weights and categories),
``budget`` (envelope, carry-over), ``notices`` (authors and the public channel), ``photos`` and
``milestones``.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from civic_app.cards.models import PARTY_BUDGET, PARTY_DEPARTMENT, PARTY_POLICY, CardEvent, CardItem
from civic_app.errors import Conflict
from civic_app.timeutil import to_seoul

MAX_AMOUNT = 10**13  # 10조원: anything larger is a typing error

# History lines and public posts are data: written in Korean whatever the actor's UI language.
PARTY_KO = {PARTY_BUDGET: "예산법무과", PARTY_POLICY: "정책담당관", PARTY_DEPARTMENT: "담당 부서"}
BUDGET_KIND_KO = {"main": "본예산", "supplementary": "추경"}


def conflict_message() -> str:
    return _("다른 사람이 먼저 수정했습니다. 새로 고친 뒤 다시 시도해 주세요.")


def roles_of(actor) -> frozenset[str]:
    return frozenset() if actor is None else actor.role_set


def check_version(obj, expected: int | None) -> None:
    """Forms carry the version they were rendered with; a different one means a lost update."""
    if expected is not None and expected != obj.version:
        raise Conflict(conflict_message())


def flush(session: Session) -> None:
    """Flush; a concurrent UPDATE that bumped the version first is a ``Conflict``."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(conflict_message()) from exc


def record_event(
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
    """A line of the item's history (public ones show on the dong's card)."""
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
