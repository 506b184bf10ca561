"""Read-only queries for the online-suggestion pages (issue 17): a fixed number of statements
per page whatever the data size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, undefer
from sqlalchemy.sql.selectable import ScalarSelect

from civic_app.cards.models import (
    MERGED,
    OPEN_STATUSES,
    CardAgendaEntry,
    CardAnswer,
    CardAnswerDuty,
    CardItem,
    CardPhoto,
    CardSuggestion,
    CardSupport,
)
from civic_app.cards.suggestions import CITIZEN, SOURCE_CITIZEN, SupportRules, may_answer
from civic_app.extensions import db
from civic_app.timeutil import today_seoul

PER_PAGE = 20
ORDERS = ("supports", "new")


def _page(session: Session, query, page: int) -> Pagination:
    """One page of ``query`` (``PER_PAGE`` rows), as every list of the app: a page past the
    last one is a 404."""
    return db.paginate(query, page=page, per_page=PER_PAGE)


@dataclass
class Panel:
    """What the 공감 panel of one item shows (public page and staff item page)."""

    item: CardItem
    supports: int
    recent: int
    rules: SupportRules
    today: dt.date
    mine: bool = False
    is_author: bool = False
    can_support: bool = False
    can_answer: bool = False
    duty: CardAnswerDuty | None = None
    agenda: CardAgendaEntry | None = None
    agenda_session: object | None = None
    answers: list[CardAnswer] = field(default_factory=list)

    @property
    def overdue_days(self) -> int:
        return self.duty.overdue_days(self.today) if self.duty is not None else 0

    @property
    def shown(self) -> bool:
        """Citizen suggestions always show it; other items once they have 공감 or answers."""
        return (
            self.item.source_kind == SOURCE_CITIZEN
            or self.supports > 0
            or self.duty is not None
            or bool(self.answers)
        )

    @property
    def to_answer(self) -> int:
        """공감 still missing within the window for the answer deadline (0 once reached)."""
        return 0 if self.duty is not None else max(0, self.rules.answer_threshold - self.recent)


def _display_session(session: Session, entry: CardAgendaEntry | None, now: dt.datetime):
    """The 통통데이 whose agenda holds the item: the one recorded, or when that was cancelled
    (or none was planned then) the next scheduled one."""
    from civic_app.meetings.models import SESSION_SCHEDULED, TongtongSession

    if entry is None:
        return None
    recorded = session.get(TongtongSession, entry.session_id) if entry.session_id else None
    if recorded is not None and recorded.status == SESSION_SCHEDULED:
        return recorded
    return session.scalar(
        select(TongtongSession)
        .where(TongtongSession.status == SESSION_SCHEDULED, TongtongSession.start_at > now)
        .order_by(TongtongSession.start_at)
        .limit(1)
    )


def panel(session: Session, item: CardItem, *, user, now: dt.datetime, rules: SupportRules) -> Panel:
    since = now - dt.timedelta(days=rules.window_days)
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    user_id = user.id if signed_in else 0

    def count(*where) -> ScalarSelect:
        return (
            select(func.count(CardSupport.id)).where(CardSupport.item_id == item.id, *where).scalar_subquery()
        )

    # The counts and the reader's own support and authorship in one statement.
    supports, recent, mine, is_author = session.execute(
        select(
            count(),
            count(CardSupport.created_at >= since),
            count(CardSupport.user_id == user_id),
            select(func.count(CardSuggestion.id))
            .where(CardSuggestion.item_id == item.id, CardSuggestion.author_id == user_id)
            .scalar_subquery(),
        )
    ).one()
    out = Panel(item=item, supports=supports, recent=recent, rules=rules, today=today_seoul(now))
    # The answer duty and the agenda entry (at most one each) in one statement.
    out.duty, out.agenda = session.execute(
        select(CardAnswerDuty, CardAgendaEntry)
        .select_from(CardItem)
        .outerjoin(CardAnswerDuty, CardAnswerDuty.item_id == CardItem.id)
        .outerjoin(CardAgendaEntry, CardAgendaEntry.item_id == CardItem.id)
        .where(CardItem.id == item.id)
    ).one()
    out.agenda_session = _display_session(session, out.agenda, now)
    out.answers = list(
        session.scalars(
            select(CardAnswer)
            .where(CardAnswer.item_id == item.id)
            .order_by(CardAnswer.created_at, CardAnswer.id)
        )
    )
    if signed_in:
        out.mine = mine > 0
        out.is_author = is_author > 0
        out.can_support = CITIZEN in user.role_set and not out.is_author and item.status in OPEN_STATUSES
        out.can_answer = (
            may_answer(user, item)
            and item.status != MERGED
            and (item.source_kind == SOURCE_CITIZEN or out.duty is not None)
        )
    return out


@dataclass
class ListRow:
    item: CardItem
    duty: CardAnswerDuty | None
    agenda: CardAgendaEntry | None
    answered: bool


def _rows(session: Session, items: list[CardItem]) -> list[ListRow]:
    ids = [i.id for i in items] or [0]
    duties = {
        d.item_id: d for d in session.scalars(select(CardAnswerDuty).where(CardAnswerDuty.item_id.in_(ids)))
    }
    agendas = {
        a.item_id: a for a in session.scalars(select(CardAgendaEntry).where(CardAgendaEntry.item_id.in_(ids)))
    }
    answered = set(
        session.scalars(
            select(CardAnswer.item_id).where(CardAnswer.item_id.in_(ids), CardAnswer.kind == "final")
        )
    )
    return [ListRow(i, duties.get(i.id), agendas.get(i.id), i.id in answered) for i in items]


def public_list(
    session: Session, *, dong=None, order: str = "supports", page: int = 1
) -> tuple[Pagination, list[ListRow]]:
    """Citizen suggestions (and items that gathered 공감), most supported or newest first."""
    has_support = exists().where(CardSupport.item_id == CardItem.id)
    query = (
        select(CardItem)
        .options(undefer(CardItem.support_count))
        .where(CardItem.status != MERGED, or_(CardItem.source_kind == SOURCE_CITIZEN, has_support))
    )
    if dong is not None:
        query = query.where(CardItem.dong_id == dong.id)
    if order == "new":
        query = query.order_by(CardItem.created_at.desc(), CardItem.id.desc())
    else:
        query = query.order_by(CardItem.support_count.desc(), CardItem.created_at.desc(), CardItem.id.desc())
    result = _page(session, query, page)
    return result, _rows(session, result.items)


def my_suggestions(session: Session, user) -> list[ListRow]:
    items = list(
        session.scalars(
            select(CardItem)
            .join(CardSuggestion, CardSuggestion.item_id == CardItem.id)
            .options(undefer(CardItem.support_count))
            .where(CardSuggestion.author_id == user.id)
            .order_by(CardItem.created_at.desc(), CardItem.id.desc())
        )
    )
    return _rows(session, items)


def own_photo(session: Session, photo_id: int, user) -> CardPhoto | None:
    """A photo the citizen attached to their own suggestion (the others stay with the staff)."""
    return session.scalar(
        select(CardPhoto)
        .join(CardSuggestion, CardSuggestion.item_id == CardPhoto.item_id)
        .where(
            CardPhoto.id == photo_id,
            CardPhoto.milestone_id.is_(None),
            CardPhoto.uploaded_by_id == user.id,
            CardSuggestion.author_id == user.id,
        )
    )


def photos_of(session: Session, item_ids: list[int]) -> dict[int, list[CardPhoto]]:
    out: dict[int, list[CardPhoto]] = {}
    query = (
        select(CardPhoto)
        .where(CardPhoto.item_id.in_(item_ids or [0]), CardPhoto.milestone_id.is_(None))
        .order_by(CardPhoto.id)
    )
    for photo in session.scalars(query):
        out.setdefault(photo.item_id, []).append(photo)
    return out


# --- staff ----------------------------------------------------------------------------------------


@dataclass
class DutyRow:
    duty: CardAnswerDuty
    supports: int
    overdue_days: int
    last_answer: CardAnswer | None


@dataclass
class NewRow:
    item: CardItem
    candidates: list[CardItem]


@dataclass
class StaffOverview:
    agenda: list[tuple[CardAgendaEntry, object | None, int]]
    duties: list[DutyRow]
    fresh: list[NewRow]


def staff_overview(session: Session, *, now: dt.datetime, department_id: int | None) -> StaffOverview:
    """The agenda for the coming 통통데이, the open answer deadlines (a department account sees
    its own first) and the newest citizen suggestions with possible duplicates to merge."""
    from civic_app.meetings.models import SESSION_SCHEDULED, TongtongSession

    today = today_seoul(now)
    counts = (
        select(CardSupport.item_id, func.count(CardSupport.id).label("n"))
        .group_by(CardSupport.item_id)
        .subquery()
    )
    agenda_rows = session.execute(
        select(CardAgendaEntry, func.coalesce(counts.c.n, 0))
        .join(CardItem, CardItem.id == CardAgendaEntry.item_id)
        .outerjoin(counts, counts.c.item_id == CardAgendaEntry.item_id)
        .where(CardItem.status.in_(OPEN_STATUSES))
        .order_by(CardAgendaEntry.reached_at)
    ).all()
    session_ids = {e.session_id for e, _n in agenda_rows if e.session_id}
    sessions = {
        s.id: s
        for s in session.scalars(select(TongtongSession).where(TongtongSession.id.in_(session_ids or {0})))
    }
    upcoming = session.scalar(
        select(TongtongSession)
        .where(TongtongSession.status == SESSION_SCHEDULED, TongtongSession.start_at > now)
        .order_by(TongtongSession.start_at)
        .limit(1)
    )
    agenda = []
    for entry, n in agenda_rows:
        recorded = sessions.get(entry.session_id) if entry.session_id else None
        shown = recorded if recorded is not None and recorded.status == SESSION_SCHEDULED else upcoming
        agenda.append((entry, shown, n))

    duty_rows = session.execute(
        select(CardAnswerDuty, func.coalesce(counts.c.n, 0))
        .join(CardItem, CardItem.id == CardAnswerDuty.item_id)
        .outerjoin(counts, counts.c.item_id == CardAnswerDuty.item_id)
        .where(CardAnswerDuty.answered_at.is_(None), CardItem.status != MERGED)
        .order_by(CardAnswerDuty.due_on, CardAnswerDuty.id)
    ).all()
    ids = [d.item_id for d, _n in duty_rows] or [0]
    last: dict[int, CardAnswer] = {}
    for answer in session.scalars(
        select(CardAnswer).where(CardAnswer.item_id.in_(ids)).order_by(CardAnswer.created_at, CardAnswer.id)
    ):
        last[answer.item_id] = answer
    duties = [DutyRow(d, n, d.overdue_days(today), last.get(d.item_id)) for d, n in duty_rows]
    if department_id is not None:
        duties.sort(key=lambda r: r.duty.item.department_id != department_id)  # stable: own first

    fresh_items = list(
        session.scalars(
            select(CardItem)
            .where(CardItem.source_kind == SOURCE_CITIZEN, CardItem.status == "received")
            .order_by(CardItem.created_at.desc(), CardItem.id.desc())
            .limit(20)
        )
    )
    dong_ids = {i.dong_id for i in fresh_items} or {0}
    open_items = list(
        session.scalars(
            select(CardItem)
            .where(CardItem.dong_id.in_(dong_ids), CardItem.status.in_(OPEN_STATUSES))
            .order_by(CardItem.id)
        )
    )
    fresh = []
    for item in fresh_items:
        same_dong = [o for o in open_items if o.dong_id == item.dong_id and o.id != item.id]
        same_dong.sort(key=lambda o: (o.category != item.category, -o.id))
        fresh.append(NewRow(item, same_dong[:5]))
    return StaffOverview(agenda, duties, fresh)


def overdue(session: Session, now: dt.datetime, *, limit: int = 10) -> tuple[list[CardAnswerDuty], int]:
    """Answer deadlines already past, oldest first, and how many there are (the dashboard)."""
    today = today_seoul(now)
    where = (CardAnswerDuty.answered_at.is_(None), CardAnswerDuty.due_on < today, CardItem.status != MERGED)
    # The count of every match rides along each row (a window over the rows before the limit).
    found = session.execute(
        select(CardAnswerDuty, func.count().over())
        .join(CardItem, CardItem.id == CardAnswerDuty.item_id)
        .where(*where)
        .order_by(CardAnswerDuty.due_on, CardAnswerDuty.id)
        .limit(limit)
    ).all()
    return [duty for duty, _total in found], found[0][1] if found else 0
