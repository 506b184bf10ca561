"""Read-only queries shaped for pages: each costs a fixed number of SQL statements."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from civic_app.cards.budget import fit_envelope, planned_cost
from civic_app.cards.models import (
    BUDGET_REFLECTED,
    CRITERIA,
    DONE,
    IN_PROGRESS,
    LONG_TERM,
    MERGED,
    NOT_FEASIBLE,
    OPEN_STATUSES,
    PARTIES,
    PARTY_DEPARTMENT,
    RECOMMENDATION_LABELS,
    REVIEWABLE_STATUSES,
    SELECTED,
    STATUSES,
    BudgetEnvelope,
    CardComment,
    CardEvent,
    CardItem,
    CardMilestone,
    CardPhoto,
    CardReview,
)
from civic_app.cards.priority import priority_expr, priority_of
from civic_app.cards.settings import get_settings
from civic_app.dongs.models import Dong
from civic_app.extensions import db
from civic_app.timeutil import as_utc, seoul_datetime, to_seoul, today_seoul
from civic_app.workdays.services import WorkCalendar

PER_PAGE = 50
SCOREBOARD_COLUMNS = (DONE, IN_PROGRESS, BUDGET_REFLECTED, LONG_TERM, NOT_FEASIBLE)


def _page(query, page: int, *, count: bool = True) -> Pagination:
    """One page of ``query`` (``PER_PAGE`` rows); a page past the last one is a 404."""
    return db.paginate(query, page=page, per_page=PER_PAGE, count=count)


# --- public ----------------------------------------------------------------------------


def status_counts(session: Session) -> dict[str, int]:
    """City-wide counts per state (merged duplicates are not counted as suggestions)."""
    rows = session.execute(select(CardItem.status, func.count()).group_by(CardItem.status))
    counts = dict.fromkeys(STATUSES, 0)
    for status, n in rows:
        counts[status] = n
    counts["total"] = sum(n for s, n in counts.items() if s != MERGED)
    return counts


@dataclass
class ScoreRow:
    dong: Dong
    counts: dict[str, int]

    @property
    def received(self) -> int:
        return sum(n for s, n in self.counts.items() if s != MERGED)


def scoreboard(session: Session) -> tuple[list[ScoreRow], dict[str, int]]:
    """Per dong: suggestions received, done, in progress, reflected, long-term, not feasible."""
    dongs = list(session.scalars(select(Dong).where(Dong.active.is_(True)).order_by(Dong.code)))
    rows = session.execute(
        select(CardItem.dong_id, CardItem.status, func.count()).group_by(CardItem.dong_id, CardItem.status)
    )
    per_dong: dict[int, dict[str, int]] = {}
    for dong_id, status, n in rows:
        per_dong.setdefault(dong_id, {})[status] = n
    out = [ScoreRow(d, per_dong.get(d.id, {})) for d in dongs]
    totals = {s: sum(r.counts.get(s, 0) for r in out) for s in SCOREBOARD_COLUMNS}
    totals["received"] = sum(r.received for r in out)
    return out, totals


def public_events(session: Session, item_ids: list[int]) -> dict[int, list[CardEvent]]:
    if not item_ids:
        return {}
    by_item: dict[int, list[CardEvent]] = {}
    rows = session.scalars(
        select(CardEvent)
        .where(CardEvent.item_id.in_(item_ids), CardEvent.public.is_(True))
        .order_by(CardEvent.at, CardEvent.id)
    )
    for event in rows:
        by_item.setdefault(event.item_id, []).append(event)
    return by_item


def dong_card(session: Session, dong: Dong, *, status: str | None, page: int) -> tuple[Pagination, dict]:
    query = select(CardItem).where(CardItem.dong_id == dong.id, CardItem.status != MERGED)
    if status:
        query = query.where(CardItem.status == status)
    query = query.order_by(CardItem.updated_at.desc(), CardItem.id.desc())
    result = _page(query, page)
    events = public_events(session, [i.id for i in result.items])
    return result, events


def dong_status_counts(session: Session, dong: Dong) -> dict[str, int]:
    rows = session.execute(
        select(CardItem.status, func.count()).where(CardItem.dong_id == dong.id).group_by(CardItem.status)
    )
    return dict(rows.all())


def history_ids(session: Session, item: CardItem) -> tuple[list[int], CardItem | None]:
    """The item, the duplicates merged into it, and the item it was split from."""
    merged = list(session.scalars(select(CardItem.id).where(CardItem.merged_into_id == item.id)))
    parent = session.get(CardItem, item.split_from_id) if item.split_from_id else None
    return [item.id, *merged], parent


def item_history(session: Session, item: CardItem, *, public_only: bool) -> list[CardEvent]:
    """Every event of the item and of the items merged into it; for a split part, the parent's
    events up to the split — both histories kept."""
    ids, parent = history_ids(session, item)
    clauses = [CardEvent.item_id.in_(ids)]
    if parent is not None:
        clauses.append(and_(CardEvent.item_id == parent.id, CardEvent.at <= item.created_at))
    query = select(CardEvent).where(or_(*clauses)).order_by(CardEvent.at, CardEvent.id)
    if public_only:
        query = query.where(CardEvent.public.is_(True))
    else:
        # Joined in the same statement (only the name is shown; no roles or department): a
        # selectin load would cost two statements, or none when the actors are already loaded.
        query = query.options(joinedload(CardEvent.actor).lazyload("*"))
    return list(session.scalars(query))


# --- staff -----------------------------------------------------------------------------


@dataclass
class QueueRow:
    item: CardItem
    overdue: bool
    due: dt.date


def _queue_query(party: str, department_id: int | None):
    reviewed = exists().where(CardReview.item_id == CardItem.id, CardReview.party == party)
    query = select(CardItem).where(CardItem.status.in_(REVIEWABLE_STATUSES), ~reviewed)
    if party == PARTY_DEPARTMENT:
        # One department's queue, or (department_id None) every department's.
        if department_id is None:
            query = query.where(CardItem.department_id.is_not(None))
        else:
            query = query.where(CardItem.department_id == department_id)
    return query


@dataclass
class ReviewClock:
    """Review deadlines count working days: weekends, public holidays and the city's closed
    dates do not count (election blackouts restrict public events, not office work)."""

    days: int
    calendar: WorkCalendar
    today: dt.date

    def is_workday(self, day: dt.date) -> bool:
        return day.weekday() < 5 and self.calendar.holiday_name(day) is None

    def due(self, received: dt.datetime) -> dt.date:
        day, counted = to_seoul(received).date(), 0
        while counted < self.days:
            day += dt.timedelta(days=1)
            counted += self.is_workday(day)
        return day

    def cutoff(self) -> dt.datetime:
        """Items received before this instant are past their deadline today."""
        day, counted = self.today, 0
        while counted < self.days:
            day -= dt.timedelta(days=1)
            counted += self.is_workday(day)
        return as_utc(seoul_datetime(day, dt.time(0)))


def review_clock(session: Session, *, now: dt.datetime, oldest: dt.datetime | None = None) -> ReviewClock:
    days = get_settings(session).review_deadline_days
    today = today_seoul(now)
    margin = dt.timedelta(days=days * 3 + 30)
    start = min(today - margin, to_seoul(oldest).date() if oldest else today)
    return ReviewClock(days, WorkCalendar.load(session, start, today + margin), today)


def party_queue(
    session: Session, party: str, *, department_id: int | None, now: dt.datetime, page: int
) -> tuple[Pagination, dict[str, int], int]:
    """Items waiting for ``party``'s review, oldest first, with counts and overdue flags."""
    base = _queue_query(party, department_id)
    ordered = base.order_by(CardItem.created_at, CardItem.id)
    # The oldest waiting item walks the (created_at, id) index and stops at the first match.
    oldest = session.scalar(ordered.with_only_columns(CardItem.created_at).limit(1))
    clock = review_clock(session, now=now, oldest=oldest)
    limit = clock.cutoff()
    counts = _waiting_and_overdue(session, party, department_id, limit)
    result = _page(ordered, page, count=False)
    result.total = counts["waiting"]  # the waiting count is the page total: no second count
    rows = []
    for item in result.items:
        due = clock.due(item.created_at)
        rows.append(QueueRow(item, due < clock.today, due))
    result.items = rows
    return result, counts, clock.days


def queue_counts(session: Session, *, department_id: int | None, now: dt.datetime) -> dict[str, dict]:
    """Waiting and overdue counts of the three queues (department: the given one, or all)."""
    limit = review_clock(session, now=now).cutoff()
    return {party: _waiting_and_overdue(session, party, department_id, limit) for party in PARTIES}


def _waiting_and_overdue(session: Session, party: str, department_id: int | None, limit: dt.datetime) -> dict:
    """How many items wait for ``party`` and how many of them are past the deadline. The count
    reads every item in review against the party's reviews (tens of milliseconds at Seoul
    scale), so each process keeps it per data version of the cards: any card write anywhere
    changes the version and the next request counts again."""
    from civic_app import refdata

    def count() -> dict:
        sub = (
            _queue_query(party, department_id).with_only_columns(CardItem.id, CardItem.created_at).subquery()
        )
        row = session.execute(
            select(func.count(), func.count().filter(sub.c.created_at < limit)).select_from(sub)
        ).one()
        return {"waiting": row[0], "overdue": row[1]}

    if not refdata.for_session(session):
        return count()
    return dict(refdata.cached(f"card_queue:{party}:{department_id}:{limit.isoformat()}", "cards", count))


def ranked(
    session: Session, *, dong: Dong | None, page: int
) -> tuple[Pagination, dict[int, list[CardReview]]]:
    """Open items by priority (highest first), city-wide or for one dong; the page's items
    are (item, priority) pairs."""
    settings = get_settings(session)
    query = (
        select(CardItem)
        .join(Dong, Dong.id == CardItem.dong_id)
        .options(contains_eager(CardItem.dong))
        .where(CardItem.status.in_(OPEN_STATUSES))
        .order_by(priority_expr(settings).desc(), CardItem.created_at, CardItem.id)
    )
    if dong is not None:
        query = query.where(CardItem.dong_id == dong.id)
    result = _page(query, page)
    reviews = _reviews_for(session, [item.id for item in result.items])
    result.items = [(item, priority_of(item, settings)) for item in result.items]
    return result, reviews


def _reviews_for(session: Session, ids: list[int]) -> dict[int, list[CardReview]]:
    if not ids:
        return {}
    out: dict[int, list[CardReview]] = {}
    for review in session.scalars(select(CardReview).where(CardReview.item_id.in_(ids))):
        out.setdefault(review.item_id, []).append(review)
    return out


@dataclass
class Consensus:
    """Where the three parties agree and where they differ."""

    scores: dict[str, dict[str, int]]  # criterion -> party -> score
    differ: set[str]  # criteria whose scores differ by 2 or more
    recommendation: str | None  # the shared recommendation, when all agree
    recommendations: dict[str, str]
    cost_min: int | None
    cost_max: int | None

    @property
    def cost_differs(self) -> bool:
        return self.cost_min is not None and self.cost_max is not None and self.cost_max > self.cost_min

    @property
    def recommendation_label(self) -> str:
        return str(RECOMMENDATION_LABELS.get(self.recommendation or "", ""))


def consensus(reviews: list[CardReview]) -> Consensus:
    scores = {c: {r.party: getattr(r, c) for r in reviews} for c in CRITERIA}
    differ = {c for c, by in scores.items() if by and max(by.values()) - min(by.values()) >= 2}
    recs = {r.party: r.recommendation for r in reviews}
    shared = next(iter(recs.values())) if recs and len(set(recs.values())) == 1 else None
    costs = [r.cost_estimate for r in reviews if r.cost_estimate is not None]
    return Consensus(
        scores, differ, shared, recs, min(costs) if costs else None, max(costs) if costs else None
    )


def staff_item(session: Session, item_id: int) -> CardItem | None:
    return session.get(CardItem, item_id)


def item_reviews(session: Session, item: CardItem) -> list[CardReview]:
    order = {p: i for i, p in enumerate(PARTIES)}
    rows = list(session.scalars(select(CardReview).where(CardReview.item_id == item.id)))
    return sorted(rows, key=lambda r: order[r.party])


def item_comments(session: Session, item: CardItem) -> list[CardComment]:
    return list(
        session.scalars(
            select(CardComment)
            .where(CardComment.item_id == item.id)
            .options(selectinload(CardComment.author))
            .order_by(CardComment.created_at, CardComment.id)
        )
    )


@dataclass
class BudgetView:
    year: int
    envelope: BudgetEnvelope | None
    committed: int
    rows: list  # (item, planned cost, FitRow)
    reflected: list[CardItem]
    remaining: int | None


def budget_view(session: Session, year: int) -> BudgetView:
    """Selected items of ``year`` in rank order against the envelope, before confirmation."""
    envelope = session.scalar(select(BudgetEnvelope).where(BudgetEnvelope.fiscal_year == year))
    settings = get_settings(session)
    priority = priority_expr(settings)
    candidates = list(
        session.scalars(
            select(CardItem)
            .join(Dong, Dong.id == CardItem.dong_id)
            .where(CardItem.status == SELECTED, CardItem.target_year == year)
            .order_by(CardItem.rank.is_(None), CardItem.rank, priority.desc(), CardItem.id)
        ).unique()
    )
    reviews = _reviews_for(session, [i.id for i in candidates])
    reflected = list(
        session.scalars(
            select(CardItem)
            .where(CardItem.fiscal_year == year, CardItem.status.in_((BUDGET_REFLECTED, IN_PROGRESS, DONE)))
            .order_by(CardItem.rank.is_(None), CardItem.rank, CardItem.id)
        ).unique()
    )
    committed = sum(i.budget_amount or 0 for i in reflected)
    costs = [(i, planned_cost(i, reviews.get(i.id, []))) for i in candidates]
    if envelope is None:
        return BudgetView(year, None, committed, [(i, c, None) for i, c in costs], reflected, None)
    fit = fit_envelope(envelope.amount, committed, costs)
    rows = [(row.key, row.cost, row) for row in fit.rows]
    return BudgetView(year, envelope, committed, rows, reflected, fit.remaining)


# --- API -------------------------------------------------------------------------------


def api_query(*, dong: Dong | None, status: str | None, milestones: bool = True):
    query = select(CardItem).where(CardItem.status != MERGED) if status is None else select(CardItem)
    if dong is not None:
        query = query.where(CardItem.dong_id == dong.id)
    if status is not None:
        query = query.where(CardItem.status == status)
    if milestones:  # with their photos, one more statement per page whatever its size
        query = query.options(selectinload(CardItem.milestones).selectinload(CardMilestone.photos))
    return query.order_by(CardItem.id)


# --- issue 15: next item to review, photos, milestones --------------------------------------


def next_in_queue(
    session: Session, party: str, *, department_id: int | None, after: CardItem
) -> CardItem | None:
    """The item after ``after`` in ``party``'s queue (oldest first), wrapping to the oldest."""
    base = _queue_query(party, department_id).where(CardItem.id != after.id)
    ordered = base.order_by(CardItem.created_at, CardItem.id)
    later = or_(
        CardItem.created_at > after.created_at,
        and_(CardItem.created_at == after.created_at, CardItem.id > after.id),
    )
    return session.scalars(ordered.where(later).limit(1)).first() or session.scalars(ordered.limit(1)).first()


def item_photos(session: Session, item: CardItem, *, public_only: bool) -> list[CardPhoto]:
    query = select(CardPhoto).where(CardPhoto.item_id == item.id)
    if public_only:
        query = query.where(CardPhoto.milestone_id.is_not(None))
    return list(session.scalars(query.order_by(CardPhoto.id)))


def item_milestones(session: Session, item: CardItem) -> list[CardMilestone]:
    """The item's milestones with their photos, in one statement (a selectin load of the photos
    would cost a second one only when the item has milestones)."""
    return list(
        session.scalars(
            select(CardMilestone)
            .where(CardMilestone.item_id == item.id)
            .options(joinedload(CardMilestone.photos))
            .order_by(CardMilestone.day, CardMilestone.id)
        ).unique()
    )


def budget_totals(view: BudgetView) -> dict[str, int]:
    """The envelope line of the budget table: planned costs of the ranked rows, and of those
    that fit the envelope."""
    planned = sum(cost or 0 for _item, cost, _fit in view.rows)
    fitting = sum(
        cost or 0
        for _item, cost, fit in view.rows
        if fit is not None and fit.verdict in ("fits", "fits_remainder")
    )
    return {"planned": planned, "fitting": fitting}


# --- read by other features ------------------------------------------------------------------
# The Telegram commands and the dashboard read 동 관리카드 through these functions only.


def dong_status_summary(session: Session, dong: Dong) -> list[tuple[str, int]]:
    """(status label in the current language, item count) of a dong's card, by status code."""
    from civic_app.cards.models import STATUS_LABELS

    counts = dong_status_counts(session, dong)
    return [(str(STATUS_LABELS.get(status, status)), counts[status]) for status in sorted(counts)]


def counts_by_dong_and_status(
    session: Session, *, start: dt.datetime, end: dt.datetime, dong_id: int | None = None
) -> list[tuple[int, str, int]]:
    """(dong id, status, count) of items raised in [start, end), merged duplicates left out
    (they live on in the item they were merged into)."""
    query = (
        select(CardItem.dong_id, CardItem.status, func.count())
        .where(CardItem.created_at >= start, CardItem.created_at < end, CardItem.status != MERGED)
        .group_by(CardItem.dong_id, CardItem.status)
    )
    if dong_id is not None:
        query = query.where(CardItem.dong_id == dong_id)
    return [(dong, status, count) for dong, status, count in session.execute(query)]
