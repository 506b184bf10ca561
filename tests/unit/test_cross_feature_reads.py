"""Features read each other through the owner's query functions and the registry's hooks:
errors surface instead of emptying a feed, and a hook another feature registers is obeyed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from civic_app.privacy import guard
from civic_app.registry import get_registry
from civic_app.telegram import sources
from civic_app.visits.rules import BlockedDays
from tests.factories import NOW, make_dong, make_user


def test_telegram_reads_raise_database_errors_and_leave_the_callers_work_alone(session):
    """Before: the Telegram sources caught the error, answered "no visits" and rolled back the
    caller's session, silently dropping its unsaved work."""
    dong = make_dong()
    citizen = make_user("citizen", name="유보람")  # the caller's unit of work, not yet committed
    target = session()

    def unreadable_visits(state) -> None:
        if state.is_select and " visits" in str(state.statement):
            raise OperationalError(str(state.statement), {}, Exception("visits unreadable"))

    event.listen(target, "do_orm_execute", unreadable_visits)
    try:
        with pytest.raises(OperationalError):
            sources.upcoming_visits(session, now=NOW, dong=dong)
    finally:
        event.remove(target, "do_orm_execute", unreadable_visits)
    assert citizen in session
    assert session.get(type(citizen), citizen.id).name == "유보람"


def test_visits_keep_off_the_days_another_feature_registers(app, session):
    registry = get_registry(app)
    festival = dt.date(2026, 12, 1)  # a Tuesday

    def festival_days(_session, start: dt.date, end: dt.date) -> set[dt.date]:
        return {festival} if start <= festival <= end else set()

    registry.add_blocked_days("test_festival", festival_days, lambda: "시민의 날")
    try:
        blocked = BlockedDays.load(session, dt.date(2026, 11, 30), dt.date(2026, 12, 4))
        assert blocked.is_blocked(festival)
        assert blocked.problem(festival) == "시민의 날에는 방문을 잡을 수 없습니다."
        assert not blocked.is_blocked(dt.date(2026, 12, 2))
    finally:
        registry.blocked_days[:] = [s for s in registry.blocked_days if s.name != "test_festival"]


def test_the_tongtong_feature_registers_its_session_days(app):
    assert "tongtong" in [source.name for source in get_registry(app).blocked_days]


def test_the_privacy_guard_knows_the_names_a_feature_registers(app, session):
    registry = get_registry(app)
    registry.add_name_source("test_visitors", lambda _session: ["남궁민수"])
    try:
        assert "남궁민수" in guard.known_names(session)
        assert guard.scan("남궁민수 님이 다녀갔습니다", guard.known_names(session))
    finally:
        registry.name_sources.pop("test_visitors")
