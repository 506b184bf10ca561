"""Read-only queries of 통통데이, shaped for pages (a fixed number of statements per page).

CONTRACT: ``tongtong_days(session, start, end) -> set[date]`` keeps its signature (the visit
planner calls it to keep visits off session days)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, joinedload, lazyload, selectinload

from civic_app.db_types import seoul_month
from civic_app.meetings import schedule
from civic_app.meetings.booking import candidate_sessions
from civic_app.meetings.models import (
    OPEN_STATUSES,
    ROUTES,
    SESSION_SCHEDULED,
    SLOT_HOST,
    ST_REFERRED,
    ST_SUBMITTED,
    ST_WAITLISTED,
    FollowUp,
    MeetingBooking,
    MeetingRequest,
    MeetingSlot,
    TongtongSession,
)
from civic_app.timeutil import SEOUL, as_utc, today_seoul


def nth_weekdays(year: int, month: int, weekday: int, ordinals: tuple[int, ...]) -> list[dt.date]:
    return schedule.nth_weekdays(year, month, weekday, ordinals)


def tongtong_days(session: Session, start: dt.date, end: dt.date) -> set[dt.date]:
    """Dates in [start, end] that hold (or by the rule would hold) a 통통데이 session."""
    return schedule.tongtong_days(session, start, end)


# --- sessions --------------------------------------------------------------------------------------
def booked_counts(session: Session, session_ids: list[int]) -> dict[int, int]:
    if not session_ids:
        return {}
    rows = session.execute(
        select(MeetingSlot.session_id, func.count(MeetingBooking.id))
        .join(MeetingBooking, MeetingBooking.slot_id == MeetingSlot.id)
        .where(MeetingSlot.session_id.in_(session_ids))
        .group_by(MeetingSlot.session_id)
    ).all()
    return {int(sid): int(n) for sid, n in rows}


@dataclass
class SessionRow:
    session: TongtongSession
    slots: int
    free: int
    open_slots: list[MeetingSlot] = field(default_factory=list)  # active slots without a booking


def sessions_between(
    session: Session, start: dt.datetime | None, end: dt.datetime | None
) -> list[SessionRow]:
    """Sessions with their slots and free places: three statements (sessions, slots, booked
    slots) whatever the number of sessions."""
    query = (
        select(TongtongSession)
        .options(selectinload(TongtongSession.slots).lazyload(MeetingSlot.booking))
        .order_by(TongtongSession.start_at)
    )
    if start is not None:
        query = query.where(TongtongSession.start_at >= start)
    if end is not None:
        query = query.where(TongtongSession.start_at < end)
    rows = session.scalars(query).all()
    booked = session.execute(
        select(MeetingSlot.session_id, MeetingBooking.slot_id)
        .join(MeetingBooking, MeetingBooking.slot_id == MeetingSlot.id)
        .where(MeetingSlot.session_id.in_([r.id for r in rows] or [0]))
    ).all()
    counts = Counter(session_id for session_id, _slot in booked)
    taken = {slot_id for _session, slot_id in booked}
    result = []
    for row in rows:
        total = len([s for s in row.slots if s.active])
        free = 0 if row.status != SESSION_SCHEDULED else max(0, total - counts.get(row.id, 0))
        open_slots = [s for s in row.slots if s.active and s.id not in taken]
        result.append(SessionRow(row, total, free, open_slots))
    return result


def request_with_history(session: Session, request_id: int) -> MeetingRequest:
    """A request with its bookings, timeline and follow-ups in one statement (a handful of rows
    each), for the review page."""
    from civic_app.errors import NotFound

    req = (
        session.scalars(
            select(MeetingRequest)
            .where(MeetingRequest.id == request_id)
            .options(
                joinedload(MeetingRequest.bookings),
                joinedload(MeetingRequest.events),
                joinedload(MeetingRequest.followups),
            )
        )
        .unique()
        .one_or_none()
    )
    if req is None:
        raise NotFound(_("신청을 찾을 수 없습니다."))
    return req


def upcoming_sessions(session: Session, now: dt.datetime, limit: int = 8) -> list[SessionRow]:
    rows = sessions_between(session, now, now + dt.timedelta(days=120))
    return [r for r in rows if r.session.status == SESSION_SCHEDULED][:limit]


def open_host_slots(session: Session, now: dt.datetime, host_id: int | None = None) -> list[MeetingSlot]:
    query = (
        select(MeetingSlot)
        .outerjoin(MeetingBooking, MeetingBooking.slot_id == MeetingSlot.id)
        .where(
            MeetingSlot.kind == SLOT_HOST,
            MeetingSlot.active.is_(True),
            MeetingSlot.start_at > now,
            MeetingBooking.id.is_(None),
        )
        .order_by(MeetingSlot.start_at)
    )
    if host_id is not None:
        query = query.where(MeetingSlot.host_id == host_id)
    return list(session.scalars(query.limit(100)))


# --- queue -----------------------------------------------------------------------------------------
@dataclass
class QueueInfo:
    place: int | None
    estimated: dt.datetime | None


def queue_info(
    session: Session, req: MeetingRequest, now: dt.datetime, upcoming_rows: list[SessionRow] | None = None
) -> QueueInfo:
    """Place among the requests waiting for review or a free place, and the estimated date:
    filling the free places in queue order, each request ahead takes the first free place
    among its candidate sessions (the sessions it chose, then later ones), and this request's
    estimate is the first of its own candidates with a place left."""
    from types import SimpleNamespace

    if req.status not in OPEN_STATUSES:
        booking = req.active_booking
        return QueueInfo(None, booking.start_at if booking else None)
    ahead = session.execute(
        select(MeetingRequest.id, MeetingRequest.preferred_session_ids)
        .where(
            MeetingRequest.status.in_(OPEN_STATUSES),
            (MeetingRequest.queue_since < req.queue_since)
            | ((MeetingRequest.queue_since == req.queue_since) & (MeetingRequest.id < req.id)),
        )
        .order_by(MeetingRequest.queue_since, MeetingRequest.id)
    ).all()
    place = len(ahead) + 1
    rows = upcoming_rows if upcoming_rows is not None else upcoming_sessions(session, now, limit=24)
    upcoming = [r.session for r in rows]
    free = {r.session.id: r.free for r in rows}
    for other in ahead:
        for tsession in candidate_sessions(SimpleNamespace(preferred_session_ids=other[1]), upcoming):
            if free[tsession.id] > 0:
                free[tsession.id] -= 1
                break
    for tsession in candidate_sessions(req, upcoming):
        if free[tsession.id] > 0:
            return QueueInfo(place, tsession.start_at)
    return QueueInfo(place, None)


@dataclass
class ReviewFilters:
    category: str | None = None
    dong_id: int | None = None
    group: bool = False
    overdue: bool = False
    status: str | None = None
    change: bool = False  # only booked requests with a pending session change request


QUEUE_PER_PAGE = 50


def _overdue_clause(now: dt.datetime):
    """SQL form of :func:`is_overdue` (so the filter pages and counts the whole queue)."""
    return or_(
        and_(
            MeetingRequest.status == ST_SUBMITTED,
            MeetingRequest.queue_since < now - dt.timedelta(days=REVIEW_DAYS),
        ),
        and_(
            MeetingRequest.status == ST_REFERRED,
            MeetingRequest.answer_due.is_not(None),
            MeetingRequest.answer_due < today_seoul(now),
        ),
    )


def review_query(filters: ReviewFilters, now: dt.datetime) -> Select:
    """Open and in-progress requests, the longest waiting first, for ``db.paginate`` (the row
    shows no bookings, events or follow-ups, so none are loaded)."""
    statuses = [filters.status] if filters.status else [*OPEN_STATUSES, ST_REFERRED, "booked"]
    query = select(MeetingRequest).where(MeetingRequest.status.in_(statuses))
    if filters.category:
        query = query.where(MeetingRequest.category == filters.category)
    if filters.dong_id:
        query = query.where(MeetingRequest.dong_id == filters.dong_id)
    if filters.group:
        query = query.where(MeetingRequest.is_group.is_(True))
    if filters.overdue:
        query = query.where(_overdue_clause(now))
    if filters.change:
        query = query.where(MeetingRequest.change_session_id.is_not(None))
    return query.options(
        lazyload(MeetingRequest.bookings),
        lazyload(MeetingRequest.events),
        lazyload(MeetingRequest.followups),
    ).order_by(MeetingRequest.queue_since, MeetingRequest.id)


REVIEW_DAYS = 7  # a request waiting longer than this for review is overdue


def is_overdue(req: MeetingRequest, now: dt.datetime) -> bool:
    if req.status == "submitted":
        return (now - req.queue_since) > dt.timedelta(days=REVIEW_DAYS)
    if req.status == ST_REFERRED:
        return req.answer_due is not None and req.answer_due < today_seoul(now)
    return False


def my_requests(session: Session, user_id: int) -> list[MeetingRequest]:
    return list(
        session.scalars(
            select(MeetingRequest)
            .where(MeetingRequest.requester_id == user_id)
            .order_by(MeetingRequest.created_at.desc())
        )
    )


def request_by_code(session: Session, code: str) -> MeetingRequest | None:
    return session.scalar(select(MeetingRequest).where(MeetingRequest.code == code))


def host_bookings(session: Session, host_ids: list[int], now: dt.datetime) -> list[MeetingBooking]:
    if not host_ids:
        return []
    return list(
        session.scalars(
            select(MeetingBooking)
            .where(
                MeetingBooking.host_id.in_(host_ids),
                MeetingBooking.active.is_(True),
                MeetingBooking.end_at > now - dt.timedelta(days=30),
            )
            .options(selectinload(MeetingBooking.request))
            .order_by(MeetingBooking.start_at)
        )
    )


def public_summaries(session: Session, limit: int = 20) -> list[MeetingRequest]:
    return list(
        session.scalars(
            select(MeetingRequest)
            .where(MeetingRequest.publish_consent.is_(True), MeetingRequest.public_summary.is_not(None))
            .order_by(MeetingRequest.held_at.desc())
            .limit(limit)
            # The summaries show no bookings, timeline or follow-ups (eager for other pages).
            .options(
                lazyload(MeetingRequest.bookings),
                lazyload(MeetingRequest.events),
                lazyload(MeetingRequest.followups),
            )
        )
    )


# --- statistics ------------------------------------------------------------------------------------
@dataclass
class Stats:
    per_month: list[tuple[str, int]] = field(default_factory=list)
    by_route: list[tuple[str, int, float]] = field(default_factory=list)
    by_category: list[tuple[str, int]] = field(default_factory=list)
    median_wait_days: float | None = None
    p90_wait_days: float | None = None
    overdue_followups: int = 0
    open_followups: int = 0
    total: int = 0
    waiting: int = 0
    # Requests in a period against the same period a year earlier (computed from the data).
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    period_count: int = 0
    previous_start: dt.date | None = None
    previous_end: dt.date | None = None
    previous_count: int = 0


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def _year_earlier(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def statistics_for(
    session: Session, now: dt.datetime, period_start: dt.date | None = None, period_end: dt.date | None = None
) -> Stats:
    """Aggregates only: no personal data. Three statements computed in SQL, one pass over the
    requests whatever their number (only booked requests' dates are read, for the median
    wait). The period comparison counts requests received in [period_start, period_end]
    (default: this year up to today) and in the same days a year earlier."""
    today = today_seoul(now)
    end = period_end or today
    start = period_start or dt.date(end.year, 1, 1)
    if start > end:
        start, end = end, start
    previous_start, previous_end = _year_earlier(start), _year_earlier(end)
    stats = Stats(
        period_start=start, period_end=end, previous_start=previous_start, previous_end=previous_end
    )

    def count_if(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    def received(lo: dt.date, hi: dt.date):
        return count_if(
            and_(
                MeetingRequest.created_at >= _seoul_midnight(lo),
                MeetingRequest.created_at < _seoul_midnight(hi + dt.timedelta(days=1)),
            )
        )

    # One pass: counts per (month, route, category); the groups are bounded by the calendar
    # and the code lists, not by the number of requests.
    month = seoul_month(MeetingRequest.created_at)
    months: Counter = Counter()
    routes: Counter = Counter()
    categories: Counter = Counter()
    for first_day, route, category, n, waiting, in_period, in_previous in session.execute(
        select(
            month,
            MeetingRequest.route,
            MeetingRequest.category,
            func.count(),
            count_if(MeetingRequest.status.in_(OPEN_STATUSES)),
            received(start, end),
            received(previous_start, previous_end),
        ).group_by(month, MeetingRequest.route, MeetingRequest.category)
    ):
        months[str(first_day)[:7]] += n
        if route:
            routes[route] += n
        categories[category] += n
        stats.total += n
        stats.waiting += waiting
        stats.period_count += in_period
        stats.previous_count += in_previous
    stats.per_month = sorted(months.items())
    decided = sum(routes.values())
    stats.by_route = [
        (route, routes.get(route, 0), (100.0 * routes.get(route, 0) / decided) if decided else 0.0)
        for route in ROUTES
    ]
    stats.by_category = sorted(categories.items(), key=lambda item: (-item[1], item[0]))

    _followups_and_waits(session, stats, today)
    return stats


def headline_stats(session: Session, now: dt.datetime) -> Stats:
    """What the 통통데이 page shows: the number of requests, the median wait, overdue follow-ups
    (three small statements; the full breakdown is on the statistics page)."""
    stats = Stats(total=session.scalar(select(func.count()).select_from(MeetingRequest)) or 0)
    _followups_and_waits(session, stats, today_seoul(now))
    return stats


def _followups_and_waits(session: Session, stats: Stats, today: dt.date) -> None:
    open_count, overdue = session.execute(
        select(
            func.count(FollowUp.id),
            func.coalesce(func.sum(case((FollowUp.due_date < today, 1), else_=0)), 0),
        ).where(FollowUp.status == "open")
    ).one()
    stats.open_followups, stats.overdue_followups = open_count, overdue
    # Requests that got a meeting: as many as there were places, whatever the number of requests.
    first = (
        select(MeetingBooking.request_id, func.min(MeetingBooking.start_at).label("start_at"))
        .where(MeetingBooking.active.is_(True))
        .group_by(MeetingBooking.request_id)
        .subquery()
    )
    booked = session.execute(
        select(MeetingRequest.created_at, first.c.start_at).join(
            first, first.c.request_id == MeetingRequest.id
        )
    ).all()
    waits = [
        (as_utc(begin) - as_utc(created)).total_seconds() / 86400
        for created, begin in booked
        if begin is not None
    ]
    if waits:
        stats.median_wait_days = round(statistics.median(waits), 1)
        stats.p90_wait_days = round(percentile(waits, 90) or 0, 1)


def _seoul_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=SEOUL).astimezone(dt.UTC)


def overdue_followups(session: Session, now: dt.datetime) -> list[FollowUp]:
    return list(
        session.scalars(
            select(FollowUp)
            .where(FollowUp.status == "open", FollowUp.due_date < today_seoul(now))
            .options(selectinload(FollowUp.request))
            .order_by(FollowUp.due_date)
        )
    )


__all__ = ["ST_WAITLISTED", "tongtong_days"]


@dataclass
class DepartmentWork:
    """A department's 통통데이 work: written answers to give and follow-up actions."""

    answers: list[MeetingRequest]
    followups: list[FollowUp]


def department_work(session: Session, department_id: int, now: dt.datetime) -> DepartmentWork:
    """Requests referred to the department waiting for its answer (the earliest deadline, so the
    overdue, first) and its open follow-up actions (overdue first, then by deadline); three
    statements."""
    answers = list(
        session.scalars(
            select(MeetingRequest)
            .where(MeetingRequest.department_id == department_id, MeetingRequest.status == ST_REFERRED)
            .options(
                lazyload(MeetingRequest.bookings),
                lazyload(MeetingRequest.events),
                lazyload(MeetingRequest.followups),
            )
            .order_by(MeetingRequest.answer_due, MeetingRequest.id)
        )
    )
    followups = list(
        session.scalars(
            select(FollowUp)
            .where(FollowUp.department_id == department_id, FollowUp.status == "open")
            .options(
                # Joined, not selectin: a selectin load skips requests already loaded above, so
                # the statement count would depend on the data.
                joinedload(FollowUp.request).options(
                    lazyload(MeetingRequest.events),
                    lazyload(MeetingRequest.bookings),
                    lazyload(MeetingRequest.followups),
                )
            )
            .order_by(FollowUp.due_date, FollowUp.id)
        )
    )
    return DepartmentWork(answers, followups)


def dong_history(session: Session, req: MeetingRequest, limit: int = 20) -> tuple[list[MeetingRequest], list]:
    """Earlier requests of the request's dong and that dong's 동 관리카드 items (for briefings)."""
    from civic_app.cards.models import CardItem

    if req.dong_id is None:
        return [], []
    earlier = list(
        session.scalars(
            select(MeetingRequest)
            .where(MeetingRequest.dong_id == req.dong_id, MeetingRequest.id != req.id)
            .options(
                lazyload(MeetingRequest.bookings),
                lazyload(MeetingRequest.events),
                lazyload(MeetingRequest.followups),
            )
            .order_by(MeetingRequest.created_at.desc())
            .limit(limit)
        )
    )
    cards = list(
        session.scalars(
            select(CardItem).where(CardItem.dong_id == req.dong_id).order_by(CardItem.id.desc()).limit(limit)
        )
    )
    return earlier, cards


# --- read by other features ------------------------------------------------------------------
# The calendar feeds, the Telegram digest and commands, the dashboard and the privacy guard
# read 통통데이 through these functions only (never its models), so a renamed column breaks
# here, in the feature that renamed it.


def calendar_sessions(session: Session, *, since: dt.datetime) -> list[TongtongSession]:
    """Sessions starting from ``since``, cancelled ones included (feeds announce them)."""
    return list(
        session.scalars(
            select(TongtongSession)
            .where(TongtongSession.start_at >= since)
            .order_by(TongtongSession.start_at, TongtongSession.id)
            .options(lazyload(TongtongSession.slots))  # a calendar event shows the session only
        )
    )


def session_by_id(session: Session, session_id: int) -> TongtongSession | None:
    return session.get(TongtongSession, session_id)


def calendar_bookings(
    session: Session, *, since: dt.datetime, host_user_id: int | None = None
) -> list[MeetingBooking]:
    """Bookings starting from ``since`` with their requests, released ones included (a
    subscribed calendar must drop them); with ``host_user_id`` only that host account's."""
    query = (
        select(MeetingBooking)
        .where(MeetingBooking.start_at >= since)
        .order_by(MeetingBooking.start_at, MeetingBooking.id)
        .options(
            # The request's code, name, category and dong only: not its history or follow-ups.
            selectinload(MeetingBooking.request).options(
                lazyload(MeetingRequest.events),
                lazyload(MeetingRequest.followups),
                lazyload(MeetingRequest.bookings),
            )
        )
    )
    if host_user_id is not None:
        query = query.where(MeetingBooking.host.has(user_id=host_user_id))
    return list(session.scalars(query).unique())


def next_sessions(session: Session, *, now: dt.datetime, limit: int) -> list[TongtongSession]:
    """Scheduled sessions from ``now`` on, soonest first."""
    return list(
        session.scalars(
            select(TongtongSession)
            .where(TongtongSession.start_at >= now, TongtongSession.status == SESSION_SCHEDULED)
            .order_by(TongtongSession.start_at, TongtongSession.id)
            .limit(limit)
        )
    )


def latest_requests_of(session: Session, user_id: int, *, limit: int) -> list[MeetingRequest]:
    """One citizen's requests (only theirs), newest first."""
    return list(
        session.scalars(
            select(MeetingRequest)
            .where(MeetingRequest.requester_id == user_id)
            .order_by(MeetingRequest.created_at.desc(), MeetingRequest.id.desc())
            .limit(limit)
        )
    )


def requester_names(session: Session) -> set[str]:
    """Every stored requester name (walk-ins included): the privacy guard keeps them off public
    surfaces (registered as a personal-name source)."""
    return set(session.scalars(select(MeetingRequest.requester_name).distinct()))


def session_span(session: Session) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The first and the last session's start (None, None without sessions)."""
    first, last = session.execute(
        select(func.min(TongtongSession.start_at), func.max(TongtongSession.start_at))
    ).one()
    return first, last


def _year_month(first_day) -> tuple[int, int]:
    """(year, month) of a ``seoul_month`` value (a date, or 'YYYY-MM-01' on SQLite)."""
    text = str(first_day)
    return int(text[:4]), int(text[5:7])


def session_counts_by_month(session: Session) -> list[tuple[int, int, str, int]]:
    """(year, month, status, sessions) per Seoul month and status: one statement, one row per
    month and status whatever the number of sessions."""
    month = seoul_month(TongtongSession.start_at)
    return [
        (*_year_month(first_day), status, n)
        for first_day, status, n in session.execute(
            select(month, TongtongSession.status, func.count()).group_by(month, TongtongSession.status)
        )
    ]


@dataclass(frozen=True)
class ReceivedRequests:
    """Requests received in a period: counts per Seoul month and route, and the waits."""

    per_month_route: list[tuple[int, str | None, int]]  # (month, route or None, requests)
    wait_days: list[float]  # from the request to its first active booking, booked ones only


def requests_received(
    session: Session, *, start: dt.datetime, end: dt.datetime, dong_id: int | None = None
) -> ReceivedRequests:
    """Requests received in [start, end) (in one dong with ``dong_id``), counted in SQL per
    Seoul month and route; only booked requests' dates are read (the wait). Two statements."""
    in_period = [MeetingRequest.created_at >= start, MeetingRequest.created_at < end]
    if dong_id is not None:
        in_period.append(MeetingRequest.dong_id == dong_id)
    month = seoul_month(MeetingRequest.created_at)
    counts = [
        (_year_month(first_day)[1], route, n)
        for first_day, route, n in session.execute(
            select(month, MeetingRequest.route, func.count())
            .where(*in_period)
            .group_by(month, MeetingRequest.route)
        )
    ]
    # From the bookings (as many as there were places) to their requests, not the reverse.
    first = (
        select(MeetingBooking.request_id, func.min(MeetingBooking.start_at).label("start_at"))
        .where(MeetingBooking.active.is_(True))
        .group_by(MeetingBooking.request_id)
        .subquery()
    )
    booked = session.execute(
        select(MeetingRequest.created_at, first.c.start_at)
        .join(first, first.c.request_id == MeetingRequest.id)
        .where(*in_period)
    )
    waits = [
        (as_utc(begin) - as_utc(created)).total_seconds() / 86400
        for created, begin in booked
        if begin is not None
    ]
    return ReceivedRequests(counts, waits)
