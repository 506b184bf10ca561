"""Visit rules: plan cycles, move/swap/lock, publish, hold, suggestions, results.

Every function takes the session, the acting user id and ``now``; it flushes, never commits,
and raises ``DomainError``s with Korean messages. Validation happens before anything is added,
so a refused request leaves the database unchanged.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from civic_app.dongs.models import Department, Dong
from civic_app.errors import InvalidTransition, NotFound, ValidationFailed
from civic_app.registry import BlockedDaysSource, get_registry
from civic_app.timeutil import seoul_datetime, to_seoul
from civic_app.visits import planner
from civic_app.visits.models import (
    AGENDA_ITEMS,
    CANCELLED,
    CARD_CATEGORIES,
    CONFIRMED,
    FREED,
    HELD,
    KIND_REGULAR,
    KIND_TOUR,
    PARTICIPANT_GROUPS,
    PLANNED,
    POSTPONED,
    RESULTS_PUBLISHED,
    THEME_GROUPS,
    MayorUnavailable,
    TourSite,
    Visit,
    VisitCycle,
)
from civic_app.workdays.services import WorkCalendar

DEFAULT_START = dt.time(10, 0)
DEFAULT_DURATION = dt.timedelta(hours=2)
MOVABLE = (PLANNED, CONFIRMED, POSTPONED)


# --- blocked days -------------------------------------------------------------------------


@dataclass
class BlockedDays:
    """Why a day cannot hold a visit: working-day calendar, days other features keep (통통데이,
    through the registry's blocked-days hook), mayor unavailable."""

    calendar: WorkCalendar
    kept: dict[dt.date, BlockedDaysSource]
    mayor: dict[dt.date, str]

    @classmethod
    def load(cls, session: Session, start: dt.date, end: dt.date) -> BlockedDays:
        mayor = {
            row.day: row.reason
            for row in session.scalars(
                select(MayorUnavailable).where(MayorUnavailable.day >= start, MayorUnavailable.day <= end)
            )
        }
        kept = get_registry(current_app).blocked_days_between(session, start, end)
        return cls(WorkCalendar.load(session, start, end), kept, mayor)

    def problem(self, day: dt.date) -> str | None:
        """A Korean reason why ``day`` is closed to visits, or None."""
        if day.weekday() >= 5:
            return _("주말에는 방문을 잡을 수 없습니다.")
        name = self.calendar.holiday_name(day)
        if name:
            return _("공휴일·휴무일(%(name)s)에는 방문을 잡을 수 없습니다.", name=name)
        reason = self.calendar.blackout_reason(day)
        if reason:
            return _("행사 제한 기간(%(reason)s)에는 방문을 잡을 수 없습니다.", reason=reason)
        if day in self.kept:
            return _("%(name)s에는 방문을 잡을 수 없습니다.", name=self.kept[day].label())
        if day in self.mayor:
            return _("시장 일정 불가일(%(reason)s)에는 방문을 잡을 수 없습니다.", reason=self.mayor[day])
        return None

    def is_blocked(self, day: dt.date) -> bool:
        return (
            day.weekday() >= 5
            or day in self.kept
            or day in self.mayor
            or not self.calendar.is_working_day(day)
        )


FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2100, 12, 31)


def check_range(day: dt.date, *, field: str = "day") -> None:
    """Visits are planned between 2000 and 2100; anything else is a typo."""
    if not (FIRST_DAY <= day <= LAST_DAY):
        problem = _("날짜는 2000년부터 2100년 사이여야 합니다.")
        raise ValidationFailed(problem, [(field, problem)])


def check_day(session: Session, day: dt.date, *, field: str = "day") -> None:
    """A day with no visit yet (see ``check_visit_day``)."""
    check_visit_day(session, None, day, field=field)


def check_visit_day(session: Session, visit: Visit | None, day: dt.date, *, field: str = "day") -> None:
    """The one check every change of a visit's date goes through (new tour, move, swap, moving
    the visits a new blackout hits): the year range, the visit's cycle window, then holidays,
    closed dates, election blackouts, 통통데이 and the mayor's unavailable days."""
    check_range(day, field=field)
    cycle = visit.cycle if visit is not None else None
    if cycle is not None and not (cycle.start_day <= day <= cycle.end_day):
        raise ValidationFailed(
            _(
                "방문 주기 기간(%(s)s ~ %(e)s) 안의 날짜를 골라 주세요.",
                s=cycle.start_day,
                e=cycle.end_day,
            ),
            [(field, _("주기 기간 밖의 날짜입니다."))],
        )
    problem = BlockedDays.load(session, day, day).problem(day)
    if problem:
        raise ValidationFailed(problem, [(field, problem)])


# --- helpers ------------------------------------------------------------------------------


def _times(day: dt.date, start: dt.time | None = None, end: dt.time | None = None):
    start_at = seoul_datetime(day, start or DEFAULT_START)
    end_at = seoul_datetime(day, end) if end else start_at + DEFAULT_DURATION
    if end_at <= start_at:
        raise ValidationFailed(
            _("종료 시각은 시작 시각보다 뒤여야 합니다."), [("end_time", _("시각을 확인해 주세요."))]
        )
    return start_at.astimezone(dt.UTC), end_at.astimezone(dt.UTC)


def _touch(visit: Visit, now: dt.datetime, *, bump: bool = True) -> None:
    visit.updated_at = now
    if bump:
        visit.sequence = (visit.sequence or 0) + 1


def parse_weights(text: str) -> dict[str, int]:
    """``3,2,2`` → weights of contested area, natural village, outlying area."""
    parts = [p.strip() for p in (text or "").split(",")]
    if len(parts) != 3 or any(not re.fullmatch(r"\d{1,3}", p) for p in parts):
        raise ValidationFailed(
            _(
                "우선순위 가중치는 쟁점민원·자연부락·외곽지역 순서로 숫자 세 개를 쉼표로 구분해 입력해 주세요 (예: 3,2,2)."
            ),
            [("weights", _("형식이 올바르지 않습니다."))],
        )
    return dict(zip(planner.FLAGS, (int(p) for p in parts), strict=True))


def parse_quotas(text: str) -> list[int]:
    parts = [p.strip() for p in (text or "").split(",")]
    if not parts or any(not re.fullmatch(r"\d{1,5}", p) for p in parts):
        raise ValidationFailed(
            _("연도별 할당은 쉼표로 구분한 숫자로 입력해 주세요 (예: 19,20)."),
            [("quotas", _("형식이 올바르지 않습니다."))],
        )
    return [int(p) for p in parts]


def _last_held(session: Session, before: dt.datetime) -> dict[int, dt.date]:
    rows = session.execute(
        select(Visit.dong_id, func.max(Visit.start_at))
        .where(
            Visit.kind == KIND_REGULAR,
            Visit.status.in_((HELD, RESULTS_PUBLISHED)),
            Visit.start_at < before,
            Visit.dong_id.is_not(None),
        )
        .group_by(Visit.dong_id)
    )
    result = {}
    for dong_id, latest in rows:
        aware = latest if latest.tzinfo else latest.replace(tzinfo=dt.UTC)  # SQLite max() is naive
        result[dong_id] = to_seoul(aware).date()
    return result


def _planner_dongs(session: Session, before: dt.datetime) -> list[planner.PlannerDong]:
    last = _last_held(session, before)
    dongs = session.scalars(select(Dong).where(Dong.active.is_(True)).order_by(Dong.code))
    return [
        planner.PlannerDong(
            d.id, d.code, d.name, d.contested_area, d.natural_village, d.outlying_area, last.get(d.id)
        )
        for d in dongs
    ]


# --- cycles -------------------------------------------------------------------------------


def create_cycle(
    session: Session,
    *,
    start: dt.date,
    end: dt.date,
    quotas: list[int],
    actor_id: int | None,
    now: dt.datetime,
    max_per_week: int = 3,
    name: str | None = None,
    publish: bool = False,
    weights: dict[str, int] | None = None,
    max_per_day: int = 1,
) -> VisitCycle:
    """Create a cycle and its draft plan; nothing is written when the plan is impossible."""
    check_range(start, field="start")
    check_range(end, field="end")
    if end < start:
        raise ValidationFailed(
            _("종료일은 시작일과 같거나 뒤여야 합니다."), [("end", _("종료일을 확인해 주세요."))]
        )
    years = list(range(start.year, end.year + 1))
    if len(quotas) != len(years):
        raise ValidationFailed(
            _(
                "연도별 할당은 %(first)d년부터 %(last)d년까지 %(n)d개 연도에 하나씩, 연도 순서대로 입력해야 합니다.",
                first=years[0],
                last=years[-1],
                n=len(years),
            ),
            [("quotas", _("연도 수와 할당 수가 다릅니다."))],
        )
    overlap = session.scalar(
        select(VisitCycle.id).where(VisitCycle.start_day <= end, VisitCycle.end_day >= start).limit(1)
    )
    if overlap is not None:
        raise ValidationFailed(
            _("이 기간과 겹치는 방문 주기가 이미 있습니다."), [("start", _("기간이 겹칩니다."))]
        )
    quota_map = dict(zip(years, quotas, strict=True))
    dongs = _planner_dongs(session, seoul_datetime(start, dt.time(0)))
    if not dongs:
        raise ValidationFailed(_("활성 행정동이 없습니다. 먼저 행정동을 가져와 주세요."))
    blocked = BlockedDays.load(session, start, end)
    placements = planner.plan(
        dongs,
        start=start,
        end=end,
        quotas=quota_map,
        is_blocked=blocked.is_blocked,
        max_per_week=max_per_week,
        max_per_day=max_per_day,
        weights=weights,
    )
    cycle = VisitCycle(
        priority_weights=dict(weights) if weights else None,
        name=name or _("%(start)s ~ %(end)s 동 방문", start=start.isoformat(), end=end.isoformat()),
        start_day=start,
        end_day=end,
        quotas=[[y, q] for y, q in quota_map.items()],
        max_per_week=max_per_week,
        max_per_day=max_per_day,
        created_at=now,
        updated_at=now,
    )
    session.add(cycle)
    session.flush()
    _add_placements(session, cycle, placements, now=now, publish=publish)
    session.flush()
    return cycle


def _add_placements(session, cycle, placements, *, now, publish: bool) -> None:
    rows = []
    for p in placements:
        start_at, end_at = _times(p.day)
        rows.append(
            {
                "kind": KIND_REGULAR,
                "cycle_id": cycle.id,
                "dong_id": p.dong_id,
                "start_at": start_at,
                "end_at": end_at,
                "status": PLANNED,
                "published": publish,
                "locked": False,
                "moved_manually": False,
                "plan_reason": p.reason,
                "agenda": [],
                "participant_groups": [],
                "results_revision": 0,
                "sequence": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    if rows:
        session.execute(Visit.__table__.insert(), rows)
    session.expire(cycle, ["visits"])


def replan_cycle(session: Session, cycle: VisitCycle, *, actor_id: int | None, now: dt.datetime) -> int:
    """Re-plan around kept visits (held, confirmed, published, locked or moved by hand).

    Planned drafts that nobody touched are replaced; postponed or cancelled visits stay as a
    record but free their dong. Returns the number of new placements.
    """
    session.flush()
    visits = session.scalars(select(Visit).where(Visit.cycle_id == cycle.id)).all()
    kept = [
        v
        for v in visits
        if v.status in FREED or v.locked or v.moved_manually or v.published or v.status != PLANNED
    ]
    removable = [v.id for v in visits if v not in kept]
    fixed = [(v.dong_id, v.local_day) for v in kept if v.keeps_slot]
    fixed_ids = {d for d, _day in fixed}
    dongs = _planner_dongs(session, seoul_datetime(cycle.start_day, dt.time(0)))
    # Dongs that left the registry but still hold a kept visit stay counted.
    active_ids = {d.id for d in dongs}
    for dong_id in fixed_ids - active_ids:
        dongs.append(planner.PlannerDong(dong_id, f"~{dong_id}"))
    blocked = BlockedDays.load(session, cycle.start_day, cycle.end_day)
    placements = planner.plan(
        dongs,
        start=cycle.start_day,
        end=cycle.end_day,
        quotas=cycle.quota_map,
        is_blocked=blocked.is_blocked,
        fixed=fixed,
        max_per_week=cycle.max_per_week,
        max_per_day=cycle.max_per_day or 1,
        weights=cycle.priority_weights,
    )
    if removable:
        session.execute(delete(Visit).where(Visit.id.in_(removable)))
        session.expire_all()
    _add_placements(session, cycle, placements, now=now, publish=False)
    cycle.updated_at = now
    session.flush()
    return len(placements)


def publish_cycle(session: Session, cycle: VisitCycle, *, actor_id: int | None, now: dt.datetime) -> int:
    """Make the cycle's plan public; returns how many visits became public."""
    count = 0
    for visit in session.scalars(select(Visit).where(Visit.cycle_id == cycle.id, Visit.published.is_(False))):
        if visit.status == CANCELLED:
            continue
        visit.published = True
        _touch(visit, now)
        count += 1
    cycle.updated_at = now
    session.flush()
    return count


# --- single visits ------------------------------------------------------------------------


def move_visit(
    session: Session,
    visit: Visit,
    *,
    day: dt.date,
    actor_id: int | None,
    now: dt.datetime,
    start_time: dt.time | None = None,
    end_time: dt.time | None = None,
) -> Visit:
    if visit.status not in MOVABLE:
        raise InvalidTransition(_("이미 진행했거나 취소한 방문은 옮길 수 없습니다."))
    check_visit_day(session, visit, day)
    local = to_seoul(visit.start_at)
    duration = visit.end_at - visit.start_at
    start_t = start_time or local.time()
    start_at, end_at = _times(day, start_t, end_time)
    if end_time is None:
        end_at = start_at + duration
    visit.start_at, visit.end_at = start_at, end_at
    visit.moved_manually = True
    if visit.status == POSTPONED:
        visit.status = PLANNED
        visit.status_reason = None
    _touch(visit, now)
    session.flush()
    return visit


def swap_visits(session: Session, a: Visit, b: Visit, *, actor_id: int | None, now: dt.datetime) -> None:
    if a.id == b.id:
        raise ValidationFailed(_("서로 다른 두 방문을 골라 주세요."), [("other", _("같은 방문입니다."))])
    for v in (a, b):
        if v.status not in (PLANNED, CONFIRMED):
            raise InvalidTransition(_("예정·확정 상태의 방문만 맞바꿀 수 있습니다."))
    # Each visit lands on the other's day: both new days pass the same check as a move.
    check_visit_day(session, a, to_seoul(b.start_at).date(), field="other")
    check_visit_day(session, b, to_seoul(a.start_at).date(), field="other")
    a.start_at, b.start_at = b.start_at, a.start_at
    a.end_at, b.end_at = b.end_at, a.end_at
    for v in (a, b):
        v.moved_manually = True
        _touch(v, now)
    session.flush()


@dataclass
class DayConflict:
    """A published visit on a day that became closed to visits, and where it could go."""

    visit: Visit
    problem: str
    suggestion: dt.date | None


SEARCH_DAYS = 90  # how far after the closed day a free day is looked for


def blocked_visits(session: Session, start: dt.date, end: dt.date) -> list[DayConflict]:
    """Published, not yet held visits between ``start`` and ``end`` whose day is now closed
    (a blackout, closed date or holiday added after publishing), with the next free day each
    could move to (inside its cycle; not closed; below the cycle's visits-a-day limit)."""
    check_range(start, field="start")
    check_range(end, field="end")
    visits = list(
        session.scalars(
            select(Visit)
            .where(
                Visit.published.is_(True),
                Visit.status.in_((PLANNED, CONFIRMED)),
                Visit.start_at >= seoul_datetime(start, dt.time(0)),
                Visit.start_at < seoul_datetime(end + dt.timedelta(days=1), dt.time(0)),
            )
            .order_by(Visit.start_at, Visit.id)
        )
    )
    if not visits:
        return []
    horizon = min(end + dt.timedelta(days=SEARCH_DAYS), LAST_DAY)
    blocked = BlockedDays.load(session, start, horizon)
    taken: dict[dt.date, int] = {}
    for (start_at,) in session.execute(
        select(Visit.start_at).where(
            Visit.status.not_in(FREED),
            Visit.start_at >= seoul_datetime(start, dt.time(0)),
            Visit.start_at < seoul_datetime(horizon + dt.timedelta(days=1), dt.time(0)),
        )
    ):
        day = to_seoul(start_at).date()
        taken[day] = taken.get(day, 0) + 1
    out = []
    for visit in visits:
        day = to_seoul(visit.start_at).date()
        problem = blocked.problem(day)
        if not problem:
            continue
        cycle = visit.cycle
        limit = (cycle.max_per_day or 1) if cycle else 1
        last = min(cycle.end_day, horizon) if cycle else horizon
        suggestion = None
        candidate = day + dt.timedelta(days=1)
        while candidate <= last:
            if not blocked.is_blocked(candidate) and taken.get(candidate, 0) < limit:
                suggestion = candidate
                taken[candidate] = taken.get(candidate, 0) + 1
                break
            candidate += dt.timedelta(days=1)
        out.append(DayConflict(visit, problem, suggestion))
    return out


def move_blocked(
    session: Session, start: dt.date, end: dt.date, visit_ids: list[int], *, actor_id: int | None, now
) -> list[Visit]:
    """Move the chosen conflicting visits to their suggested days (each through
    ``move_visit``, so through the one date check). All or nothing."""
    chosen = set(visit_ids)
    moved = []
    for conflict in blocked_visits(session, start, end):
        if conflict.visit.id not in chosen:
            continue
        if conflict.suggestion is None:
            raise ValidationFailed(
                _("#%(id)d 방문을 옮길 빈 날짜가 주기 안에 없습니다. 직접 옮겨 주세요.", id=conflict.visit.id)
            )
        moved.append(move_visit(session, conflict.visit, day=conflict.suggestion, actor_id=actor_id, now=now))
    return moved


def set_locked(
    session: Session, visit: Visit, locked: bool, *, actor_id: int | None, now: dt.datetime
) -> None:
    visit.locked = locked
    _touch(visit, now, bump=False)
    session.flush()


def require_public_text(session: Session, fields: dict[str, str | None]) -> None:
    """Visit pages, feeds, dong cards and the Telegram channel are public: refuse text with a
    phone number, an e-mail address or a citizen's name (a Korean error naming what to remove)."""
    from civic_app.privacy import guard

    if any((text or "").strip() for text in fields.values()):
        guard.require_public(fields, guard.known_names(session))


def change_status(
    session: Session, visit: Visit, status: str, *, actor_id: int | None, now: dt.datetime, reason: str = ""
) -> Visit:
    """Confirm, postpone or cancel (postpone/cancel need a reason and free the dong)."""
    if status not in (CONFIRMED, POSTPONED, CANCELLED):
        raise InvalidTransition(_("이 화면에서 바꿀 수 없는 상태입니다."))
    if not visit.can_transition_to(status):
        raise InvalidTransition(_("현재 상태에서는 그렇게 바꿀 수 없습니다."))
    reason = (reason or "").strip()
    if status in FREED and not reason:
        raise ValidationFailed(_("연기·취소 사유를 입력해 주세요."), [("reason", _("사유를 입력해 주세요."))])
    require_public_text(session, {"reason": reason})
    visit.status = status
    visit.status_reason = reason[:300] or None
    _touch(visit, now)
    session.flush()
    return visit


def _departments(session: Session, ids: list[int]) -> list[Department]:
    ids = sorted(set(ids or []))
    if not ids:
        return []
    found = session.scalars(select(Department).where(Department.id.in_(ids))).all()
    if len(found) != len(ids):
        raise ValidationFailed(
            _("알 수 없는 부서가 있습니다."), [("departments", _("부서를 다시 골라 주세요."))]
        )
    return list(found)


def record_held(
    session: Session,
    visit: Visit,
    *,
    actor_id: int | None,
    now: dt.datetime,
    agenda: list[str],
    residents_count: int | None,
    participant_groups: list[str],
    other_participants: str = "",
    notes: str = "",
    department_ids: list[int] | None = None,
) -> Visit:
    """Record that the visit took place (or update what was recorded)."""
    if visit.status not in (PLANNED, CONFIRMED, HELD):
        raise InvalidTransition(_("예정·확정·진행 상태의 방문만 진행 결과를 기록할 수 있습니다."))
    if to_seoul(visit.start_at).date() > to_seoul(now).date():
        raise ValidationFailed(
            _("아직 방문일이 되지 않았습니다."), [("agenda", _("방문일 이후에 기록해 주세요."))]
        )
    if any(a not in AGENDA_ITEMS for a in agenda) or any(
        g not in PARTICIPANT_GROUPS for g in participant_groups
    ):
        raise ValidationFailed(_("알 수 없는 항목이 있습니다."))
    if residents_count is not None and not (0 <= residents_count <= 100_000):
        raise ValidationFailed(
            _("참석 주민 수를 확인해 주세요."), [("residents_count", _("0 이상이어야 합니다."))]
        )
    departments = _departments(session, department_ids or [])
    changed = visit.status != HELD
    visit.status = HELD
    visit.agenda = list(agenda)
    visit.residents_count = residents_count
    visit.participant_groups = list(participant_groups)
    visit.other_participants = (other_participants or "").strip()[:200] or None
    visit.notes = (notes or "").strip() or None
    visit.departments = departments
    _touch(visit, now, bump=changed)
    session.flush()
    return visit


def add_suggestion(
    session: Session,
    visit: Visit,
    *,
    actor_id: int | None,
    now: dt.datetime,
    title: str,
    description: str,
    category: str,
    location: str = "",
    department_id: int | None = None,
    dong_id: int | None = None,
    contact_email: str | None = None,
    contact_consent: bool = False,
    photo: tuple[str, bytes] | None = None,
    upload_dir: str | None = None,
):
    """A suggestion heard on the spot goes straight into the dong's 동 관리카드; with the
    resident's consent, their e-mail address is kept to tell them what becomes of it."""
    from civic_app.cards.services import add_contact, check_photo, create_item, store_photo

    if visit.status not in (HELD, RESULTS_PUBLISHED):
        raise InvalidTransition(_("진행한 방문에만 건의사항을 기록할 수 있습니다."))
    title = (title or "").strip()
    errors = []
    if not title or len(title) > 200:
        errors.append(("title", _("제목은 1~200자로 입력해 주세요.")))
    if category not in CARD_CATEGORIES:
        errors.append(("category", _("분류를 골라 주세요.")))
    target_dong = visit.dong_id
    if visit.kind == KIND_TOUR:
        site_dongs = {s.dong_id for s in visit.sites if s.dong_id}
        target_dong = dong_id or (next(iter(site_dongs)) if len(site_dongs) == 1 else None)
        if target_dong is None or (dong_id and session.get(Dong, dong_id) is None):
            errors.append(("dong_id", _("건의사항이 속한 동을 골라 주세요.")))
    if department_id:
        _departments(session, [department_id])
    contact_email = (contact_email or "").strip() or None
    if contact_email and not contact_consent:
        errors.append(("contact_consent", _("알림을 받으려면 개인정보 수집·이용에 동의해야 합니다.")))
    if photo is not None:
        try:
            check_photo(*photo)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(_("건의사항 입력 내용을 확인해 주세요."), errors)
    # the item goes on the dong's public card
    require_public_text(session, {"title": title, "description": description, "location": location})
    item = create_item(
        session,
        dong_id=target_dong,
        title=title,
        description=(description or "").strip(),
        category=category,
        source_kind="visit",
        source_ref=visit.id,
        actor_id=actor_id,
        now=now,
        location=(location or "").strip() or None,
        department_id=department_id or None,
    )
    if contact_email:
        add_contact(session, item, email=contact_email, consent=contact_consent, now=now)
    if photo is not None and upload_dir:
        store_photo(
            session,
            item,
            uploaded_by_id=actor_id,
            now=now,
            filename=photo[0],
            data=photo[1],
            upload_dir=upload_dir,
        )
    return item


def suggestions_for(session: Session, visit_ids: list[int]):
    from civic_app.cards.models import CardItem

    if not visit_ids:
        return []
    return session.scalars(
        select(CardItem)
        .where(CardItem.source_kind == "visit", CardItem.source_ref.in_(visit_ids))
        .order_by(CardItem.id)
    ).all()


def publish_results(
    session: Session, visit: Visit, *, actor_id: int | None, now: dt.datetime, summary: str
) -> Visit:
    """Publish (or correct) the public result and queue an anonymous Telegram post."""
    from civic_app.notify.services import enqueue_telegram
    from civic_app.web.filters import mask_text

    summary = (summary or "").strip()
    if not summary:
        raise ValidationFailed(
            _("공개할 결과 요약을 입력해 주세요."), [("summary", _("결과 요약을 입력해 주세요."))]
        )
    require_public_text(session, {"summary": summary})
    if visit.status not in (HELD, RESULTS_PUBLISHED):
        raise InvalidTransition(_("진행한 방문만 결과를 공개할 수 있습니다."))
    correction = visit.status == RESULTS_PUBLISHED
    visit.result_summary = mask_text(summary)
    visit.status = RESULTS_PUBLISHED
    visit.published = True
    visit.results_revision = (visit.results_revision or 0) + (1 if correction else 0)
    _touch(visit, now, bump=not correction)
    session.flush()
    items = suggestions_for(session, [visit.id])
    place = visit.dong.name if visit.dong else ", ".join(s.name for s in visit.sites)
    day = to_seoul(visit.start_at).date()
    title = (
        _("[동 방문 결과] %(place)s", place=place)
        if visit.kind == KIND_REGULAR
        else _("[민생현장 탐방 결과] %(theme)s", theme=visit.theme or place)
    )
    payload = {
        "title": title,
        "summary": visit.result_summary,
        "url": f"/visits/{visit.id}",
        "lines": [f"{item.category} · {mask_text(item.title)}" for item in items],
        "dong_name": place,
        "date": day.isoformat(),
        "departments": [d.name for d in visit.departments],
    }
    key = (
        f"visit_result:{visit.id}" if not correction else f"visit_result:{visit.id}:r{visit.results_revision}"
    )
    enqueue_telegram(
        session,
        kind="visit_result",
        payload=payload,
        dedupe_key=key,
        subject_ref=f"visit:{visit.id}",
        now=now,
    )
    return visit


# --- themed field tours -------------------------------------------------------------------


def parse_sites(session: Session, text: str) -> list[tuple[str, int | None]]:
    """One site per line: ``장소명`` or ``행정동코드 장소명``; unknown codes are refused."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        raise ValidationFailed(
            _("탐방 장소를 한 줄에 하나씩 입력해 주세요."), [("sites", _("장소를 입력해 주세요."))]
        )
    codes = {}
    parsed = []
    for line in lines:
        match = re.match(r"^(\d{10})\s+(.+)$", line)
        if match:
            codes[match.group(1)] = None
            parsed.append((match.group(2).strip()[:200], match.group(1)))
        elif re.match(r"^\d{6,}\b", line):
            problem = _("행정동코드는 숫자 10자리여야 합니다: '%(v)s'", v=line.split()[0])
            raise ValidationFailed(problem, [("sites", problem)])
        else:
            parsed.append((line[:200], None))
    if codes:
        for dong in session.scalars(select(Dong).where(Dong.code.in_(list(codes)))):
            codes[dong.code] = dong.id
        unknown = [c for c, i in codes.items() if i is None]
        if unknown:
            problem = _("알 수 없는 행정동코드입니다: %(codes)s", codes=", ".join(sorted(unknown)))
            raise ValidationFailed(problem, [("sites", problem)])
    return [(name, codes[code] if code else None) for name, code in parsed]


def create_tour(
    session: Session,
    *,
    actor_id: int | None,
    now: dt.datetime,
    day: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    theme_group: str,
    theme: str,
    sites_text: str,
    department_ids: list[int] | None = None,
    publish: bool = False,
) -> Visit:
    if theme_group not in THEME_GROUPS:
        raise ValidationFailed(
            _("탐방 유형을 골라 주세요."), [("theme_group", _("탐방 유형을 골라 주세요."))]
        )
    theme = (theme or "").strip()
    if not theme:
        raise ValidationFailed(_("탐방 주제를 입력해 주세요."), [("theme", _("주제를 입력해 주세요."))])
    require_public_text(session, {"theme": theme, "sites": sites_text})
    sites = parse_sites(session, sites_text)
    check_visit_day(session, None, day)
    start_at, end_at = _times(day, start_time, end_time)
    departments = _departments(session, department_ids or [])
    first_dong = next((d for _n, d in sites if d), None)
    visit = Visit(
        kind=KIND_TOUR,
        dong_id=first_dong,
        start_at=start_at,
        end_at=end_at,
        status=PLANNED,
        published=publish,
        theme_group=theme_group,
        theme=theme[:200],
        agenda=[],
        participant_groups=[],
        results_revision=0,
        sequence=0,
        created_at=now,
        updated_at=now,
    )
    visit.departments = departments
    visit.sites = [
        TourSite(position=i, name=name, dong_id=dong_id) for i, (name, dong_id) in enumerate(sites)
    ]
    session.add(visit)
    session.flush()
    return visit


def publish_visit(session: Session, visit: Visit, *, actor_id: int | None, now: dt.datetime) -> None:
    if visit.status == CANCELLED:
        raise InvalidTransition(_("취소한 방문은 공개할 수 없습니다."))
    if not visit.published:
        visit.published = True
        _touch(visit, now)
        session.flush()


# --- mayor unavailable days ---------------------------------------------------------------


def add_mayor_unavailable(session: Session, *, day: dt.date, reason: str, actor_id, now) -> MayorUnavailable:
    check_range(day)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("사유를 입력해 주세요."), [("reason", _("사유를 입력해 주세요."))])
    if session.scalar(select(MayorUnavailable).where(MayorUnavailable.day == day)) is not None:
        raise ValidationFailed(_("이미 등록된 날짜입니다."), [("day", _("이미 등록된 날짜입니다."))])
    row = MayorUnavailable(day=day, reason=reason[:200])
    session.add(row)
    session.flush()
    return row


def get_visit(session: Session, visit_id: int) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(_("방문을 찾을 수 없습니다."))
    return visit
