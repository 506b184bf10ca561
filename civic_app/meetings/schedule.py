"""Session rules: the series rule, generation of sessions, cancellation, host slots."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civic_app.dongs.models import Host
from civic_app.errors import InvalidTransition, ValidationFailed
from civic_app.integrity.locks import lock_row
from civic_app.meetings.base import field_error
from civic_app.meetings.booking import carry_over, release_session_bookings, session_moved
from civic_app.meetings.models import (
    DEFAULT_RULE,
    POLICY_NEXT,
    POLICY_PREVIOUS,
    POLICY_SKIP,
    SESSION_CANCELLED,
    SESSION_SCHEDULED,
    SLOT_HOST,
    SLOT_TONGTONG,
    MeetingBooking,
    MeetingSlot,
    TongtongRule,
    TongtongSession,
)
from civic_app.privacy import guard
from civic_app.timeutil import seoul_datetime, to_seoul
from civic_app.workdays.services import WorkCalendar

MAX_MOVE_DAYS = 14


def nth_weekdays(year: int, month: int, weekday: int, ordinals: tuple[int, ...]) -> list[dt.date]:
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    days = [first + dt.timedelta(days=offset + 7 * (n - 1)) for n in ordinals]
    return [d for d in days if d.month == month]


def rule_dates(rule: TongtongRule | dict, start: dt.date, end: dt.date) -> list[dt.date]:
    """The dates the rule gives in [start, end], before the holiday policy."""
    ordinals = (
        rule.ordinal_list
        if isinstance(rule, TongtongRule)
        else tuple(int(x) for x in rule["ordinals"].split(","))
    )
    weekday = rule.weekday if isinstance(rule, TongtongRule) else rule["weekday"]
    days: list[dt.date] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        days += [d for d in nth_weekdays(year, month, weekday, ordinals) if start <= d <= end]
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return days


def ensure_default_rule(session: Session) -> TongtongRule:
    """Reference data: the source's rule (idempotent)."""
    rule = session.scalar(select(TongtongRule).order_by(TongtongRule.id).limit(1))
    if rule is None:
        rule = TongtongRule(**DEFAULT_RULE)
        session.add(rule)
        session.flush()
    return rule


# The CLI's names: "shift" is the rule's "next" (to the next working day).
POLICY_NAMES = {"skip": POLICY_SKIP, "shift": POLICY_NEXT, "next": POLICY_NEXT, "previous": POLICY_PREVIOUS}


def set_holiday_policy(session: Session, rule: TongtongRule, policy: str) -> TongtongRule:
    """What generation does with a rule date that is not a working day: skip it or shift it to
    the next (or previous) working day. Sessions already generated stay as they are."""
    value = POLICY_NAMES.get(policy)
    if value is None:
        raise field_error("holiday_policy", _("공휴일 처리 방식을 골라 주세요."))
    rule.holiday_policy = value
    session.flush()
    return rule


def current_rule(session: Session) -> TongtongRule | None:
    return session.scalar(
        select(TongtongRule).where(TongtongRule.active.is_(True)).order_by(TongtongRule.id).limit(1)
    )


@dataclass
class Planned:
    rule_date: dt.date
    day: dt.date | None  # None: skipped
    reason: str  # why skipped or moved ("" when on the rule's date)


def plan(rule: TongtongRule, calendar: WorkCalendar, start: dt.date, end: dt.date) -> list[Planned]:
    """Apply the holiday policy to the rule's dates (pure: no SQL)."""
    result: list[Planned] = []
    for day in rule_dates(rule, start, end):
        reason = calendar.closed_reason(day)
        if reason is None:
            result.append(Planned(day, day, ""))
            continue
        if rule.holiday_policy in (POLICY_NEXT, POLICY_PREVIOUS):
            step = dt.timedelta(days=1 if rule.holiday_policy == POLICY_NEXT else -1)
            other = day + step
            for _i in range(MAX_MOVE_DAYS):
                if calendar.is_working_day(other):
                    break
                other += step
            else:
                result.append(Planned(day, None, reason))
                continue
            result.append(Planned(day, other, reason))
        else:
            result.append(Planned(day, None, reason))
    return result


def _calendar(session: Session, start: dt.date, end: dt.date) -> WorkCalendar:
    pad = dt.timedelta(days=MAX_MOVE_DAYS + 1)
    return WorkCalendar.load(session, start - pad, end + pad)


@dataclass
class GenerateLine:
    action: str  # created | moved | skipped | exists
    rule_date: dt.date
    day: dt.date | None
    reason: str


def generate(
    session: Session, rule: TongtongRule, start: dt.date, end: dt.date, *, now: dt.datetime
) -> list[GenerateLine]:
    """Materialise the sessions of [start, end]. Idempotent: existing rows (also ones moved or
    cancelled by hand) are left as they are."""
    if end < start:
        raise ValidationFailed(_("종료일은 시작일과 같거나 뒤여야 합니다."))
    existing = {
        s.rule_date
        for s in session.scalars(
            select(TongtongSession).where(
                TongtongSession.rule_id == rule.id,
                TongtongSession.rule_date >= start,
                TongtongSession.rule_date <= end,
            )
        )
    }
    lines: list[GenerateLine] = []
    for item in plan(rule, _calendar(session, start, end), start, end):
        if item.rule_date in existing:
            lines.append(GenerateLine("exists", item.rule_date, None, _("이미 있음")))
            continue
        if item.day is None:
            lines.append(GenerateLine("skipped", item.rule_date, None, item.reason))
            continue
        _create_session(session, rule, item, now=now)
        action = "moved" if item.day != item.rule_date else "created"
        lines.append(GenerateLine(action, item.rule_date, item.day, item.reason))
    session.flush()
    if any(x.action in ("created", "moved") for x in lines):
        carry_over(session, actor=None, now=now)  # new places for the waiting list
    return lines


def _create_session(
    session: Session, rule: TongtongRule, item: Planned, *, now: dt.datetime
) -> TongtongSession:
    assert item.day is not None
    start_at = seoul_datetime(item.day, rule.start_time).astimezone(dt.UTC)
    end_at = start_at + dt.timedelta(minutes=rule.duration_minutes)
    row = TongtongSession(
        rule_id=rule.id,
        rule_date=item.rule_date,
        start_at=start_at,
        end_at=end_at,
        status=SESSION_SCHEDULED,
        moved_from=item.rule_date if item.day != item.rule_date else None,
        host_id=rule.host_id,
        location=rule.location,
        sequence=0,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    length = dt.timedelta(minutes=rule.duration_minutes // max(1, rule.slot_count))
    for i in range(rule.slot_count):
        session.add(
            MeetingSlot(
                kind=SLOT_TONGTONG,
                session_id=row.id,
                host_id=rule.host_id,
                start_at=start_at + i * length,
                end_at=start_at + (i + 1) * length,
                location=rule.location,
                active=True,
                created_at=now,
            )
        )
    return row


def tongtong_days(session: Session, start: dt.date, end: dt.date) -> set[dt.date]:
    """Non-cancelled materialised session dates, plus the rule's dates (after the holiday
    policy) where no session is materialised."""
    rule = current_rule(session)
    pad = dt.timedelta(days=MAX_MOVE_DAYS + 1)
    rows = session.execute(
        select(TongtongSession.rule_date, TongtongSession.start_at, TongtongSession.status).where(
            TongtongSession.rule_date >= start - pad, TongtongSession.rule_date <= end + pad
        )
    ).all()
    materialised = {r.rule_date for r in rows}
    days: set[dt.date] = set()
    for r in rows:
        day = to_seoul(r.start_at).date()
        if r.status != SESSION_CANCELLED and start <= day <= end:
            days.add(day)
    if rule is None:
        return days
    for item in plan(rule, _calendar(session, start, end), start - pad, end + pad):
        if item.rule_date not in materialised and item.day and start <= item.day <= end:
            days.add(item.day)
    return days


def publish_host_slot(
    session: Session,
    host: Host,
    *,
    start_at: dt.datetime,
    minutes: int,
    location: str,
    now: dt.datetime,
) -> MeetingSlot:
    """A deputy's or director's own meeting slot (any weekday time)."""
    errors = []
    if start_at <= now:
        errors.append(("start", _("지난 시각에는 면담 시간을 열 수 없습니다.")))
    if not 10 <= minutes <= 180:
        errors.append(("minutes", _("면담 시간은 10분에서 180분 사이여야 합니다.")))
    if host.rank == Host.RANK_MAYOR:
        errors.append(("host_id", _("시장 면담은 통통데이 회차로만 엽니다.")))
    end_at = start_at + dt.timedelta(minutes=minutes)
    overlap = session.scalar(
        select(MeetingSlot.id).where(
            MeetingSlot.host_id == host.id,
            MeetingSlot.active.is_(True),
            MeetingSlot.start_at < end_at,
            MeetingSlot.end_at > start_at,
        )
    )
    if overlap is not None:
        errors.append(("start", _("이 시간과 겹치는 면담 시간이 이미 있습니다.")))
    if errors:
        raise ValidationFailed(_("입력 내용을 확인해 주세요."), errors)
    slot = MeetingSlot(
        kind=SLOT_HOST,
        host_id=host.id,
        start_at=start_at,
        end_at=start_at + dt.timedelta(minutes=minutes),
        location=location or host.title + " 집무실",
        active=True,
        created_at=now,
    )
    session.add(slot)
    session.flush()
    return slot


def cancel_session(
    session: Session, tsession: TongtongSession, *, reason: str, actor, now: dt.datetime
) -> list:
    """Cancel a session (e.g. the mayor is called away). Booked citizens keep their queue place
    and are moved to the waiting list for the next session (or a deputy, by staff decision)."""
    lock_row(session, tsession)  # one change at a time: each gets its own SEQUENCE
    if tsession.status != SESSION_SCHEDULED:
        raise InvalidTransition(_("예정된 회차만 취소할 수 있습니다."))
    if not reason.strip():
        raise field_error("reason", _("취소 사유를 입력해 주세요."))
    # the reason is published in the public 통통데이 calendar feed
    guard.require_public({"reason": reason.strip()}, guard.known_names(session))
    tsession.status = SESSION_CANCELLED
    tsession.cancel_reason = reason.strip()
    tsession.sequence += 1
    tsession.updated_at = now
    affected = release_session_bookings(session, tsession, reason=reason.strip(), actor=actor, now=now)
    session.flush()
    return affected


def move_session(
    session: Session, tsession: TongtongSession, *, day: dt.date, reason: str, actor, now: dt.datetime
) -> None:
    """Move a session by hand to another working day (same time of day). Generation keeps it
    there; booked citizens get a new invitation (same UID, higher SEQUENCE)."""
    lock_row(session, tsession)  # one change at a time: each gets its own SEQUENCE
    if tsession.status != SESSION_SCHEDULED:
        raise InvalidTransition(_("예정된 회차만 옮길 수 있습니다."))
    errors = []
    if not reason.strip():
        errors.append(("reason", _("옮기는 사유를 입력해 주세요.")))
    closed = _calendar(session, day, day).closed_reason(day)
    if closed:
        errors.append(("day", _("%(d)s은(는) 근무일이 아닙니다: %(r)s", d=day.isoformat(), r=closed)))
    local = to_seoul(tsession.start_at)
    new_start = seoul_datetime(day, local.timetz().replace(tzinfo=None)).astimezone(dt.UTC)
    if new_start <= now:
        errors.append(("day", _("지난 날짜로는 옮길 수 없습니다.")))
    if errors:
        raise ValidationFailed(_("입력 내용을 확인해 주세요."), errors)
    delta = new_start - tsession.start_at
    tsession.start_at += delta
    tsession.end_at += delta
    tsession.moved_from = tsession.rule_date if day != tsession.rule_date else None
    tsession.sequence += 1
    tsession.updated_at = now
    for slot in tsession.slots:
        slot.start_at += delta
        slot.end_at += delta
    bookings = session.scalars(
        select(MeetingBooking).where(
            MeetingBooking.session_id == tsession.id, MeetingBooking.active.is_(True)
        )
    ).all()
    for booking in bookings:
        booking.start_at += delta
        booking.end_at += delta
        booking.sequence += 1
        booking.updated_at = now
        session_moved(session, booking, reason=reason.strip(), actor=actor, now=now)
    session.flush()


# --- closing days that hold sessions ----------------------------------------------------------
@dataclass
class ClosureConflict:
    session_id: int
    start_at: dt.datetime
    booked: int  # confirmed meetings in the session
    shift_to: dt.date | None  # the next working day once the day is closed (None: none near)


def _scheduled_between(session: Session, start: dt.date, end: dt.date) -> list[TongtongSession]:
    lo = seoul_datetime(start, dt.time(0)).astimezone(dt.UTC)
    hi = seoul_datetime(end + dt.timedelta(days=1), dt.time(0)).astimezone(dt.UTC)
    return list(
        session.scalars(
            select(TongtongSession)
            .where(
                TongtongSession.status == SESSION_SCHEDULED,
                TongtongSession.start_at >= lo,
                TongtongSession.start_at < hi,
            )
            .order_by(TongtongSession.start_at)
        )
    )


def closure_conflicts(
    session: Session, start: dt.date, end: dt.date, *, extra_closed: tuple[dt.date, dt.date] | None = None
) -> list[ClosureConflict]:
    """Scheduled sessions on days about to be closed, with their confirmed meetings and the
    working day they would shift to (``extra_closed``: the range being closed, not yet saved)."""
    rows = _scheduled_between(session, start, end)
    if not rows:
        return []
    counts = dict(
        session.execute(
            select(MeetingBooking.session_id, func.count(MeetingBooking.id))
            .where(MeetingBooking.session_id.in_([r.id for r in rows]), MeetingBooking.active.is_(True))
            .group_by(MeetingBooking.session_id)
        ).all()
    )
    calendar = _calendar(session, start, end + dt.timedelta(days=MAX_MOVE_DAYS))
    lo, hi = extra_closed or (start, end)

    def open_day(d: dt.date) -> bool:
        return not (lo <= d <= hi) and calendar.is_working_day(d)

    result = []
    for row in rows:
        day = row.day + dt.timedelta(days=1)
        shift_to = None
        for _i in range(MAX_MOVE_DAYS):
            if open_day(day):
                shift_to = day
                break
            day += dt.timedelta(days=1)
        result.append(ClosureConflict(row.id, row.start_at, int(counts.get(row.id, 0)), shift_to))
    return result


def resolve_closure(
    session: Session, start: dt.date, end: dt.date, *, action: str, reason: str, actor, now: dt.datetime
) -> int:
    """After the closure is saved (flushed): cancel the sessions on the closed days (their
    citizens carried over to the next sessions with free places) or shift each to the next
    working day (a new invitation, same UID). Booked citizens are e-mailed either way."""
    if action not in ("cancel", "shift"):
        raise field_error("action", _("회차를 취소할지 옮길지 골라 주세요."))
    done = 0
    for conflict in closure_conflicts(session, start, end):
        tsession = session.get(TongtongSession, conflict.session_id)
        if tsession.start_at <= now:
            continue
        if action == "shift" and conflict.shift_to is not None:
            move_session(session, tsession, day=conflict.shift_to, reason=reason, actor=actor, now=now)
        else:
            cancel_session(session, tsession, reason=reason, actor=actor, now=now)
        done += 1
    session.flush()
    return done


class ClosureGuard:
    """What the workdays admin calls before and after closing days (registered by init_app as
    ``app.extensions["closure_guard"]``, so the core does not import this feature)."""

    conflicts = staticmethod(closure_conflicts)
    resolve = staticmethod(resolve_closure)
