"""Session generation: every 2nd and 4th Thursday 14:00, holidays skipped or moved."""

from __future__ import annotations

import calendar
import datetime as dt

import holidays
from sqlalchemy import select

from civic_app.meetings import schedule
from civic_app.meetings.models import DEFAULT_RULE, SESSION_CANCELLED, TongtongRule, TongtongSession
from civic_app.meetings.queries import tongtong_days
from civic_app.timeutil import SEOUL
from civic_app.workdays.models import BlackoutRange, ClosedDate
from tests.factories import NOW

# The 2nd/4th Thursdays of 2018-07 … 2027-12 that are public holidays, found by hand from the
# lunar calendar and the substitute-holiday rules (DOMAIN.md: "seven of them").
HOLIDAY_THURSDAYS = {
    dt.date(2019, 9, 12): "추석 전날",  # 추석 2019-09-13
    dt.date(2021, 2, 11): "설날 전날",  # 설날 2021-02-12
    dt.date(2023, 9, 28): "추석 전날",  # 추석 2023-09-29
    dt.date(2025, 10, 9): "한글날",
    dt.date(2025, 12, 25): "기독탄신일",
    dt.date(2026, 9, 24): "추석 전날",  # 추석 2026-09-25
    dt.date(2027, 5, 13): "부처님오신날",
}
# With "move to the next working day": 2019: 추석 연휴 → Monday; 2023: 추석, weekend,
# 임시공휴일 10-02 and 개천절 10-03 → Wednesday 10-04; 2026: 추석 연휴 ends Saturday 09-26 and
# Chuseok gets no Saturday substitute → Monday 09-28.
MOVED_NEXT = {
    dt.date(2019, 9, 12): dt.date(2019, 9, 16),
    dt.date(2021, 2, 11): dt.date(2021, 2, 15),
    dt.date(2023, 9, 28): dt.date(2023, 10, 4),
    dt.date(2025, 10, 9): dt.date(2025, 10, 10),
    dt.date(2025, 12, 25): dt.date(2025, 12, 26),
    dt.date(2026, 9, 24): dt.date(2026, 9, 28),
    dt.date(2027, 5, 13): dt.date(2027, 5, 14),
}
START, END = dt.date(2018, 7, 1), dt.date(2027, 12, 31)


def second_and_fourth_thursdays(start: dt.date, end: dt.date) -> list[dt.date]:
    days = []
    for year in range(start.year, end.year + 1):
        for month in range(1, 13):
            thursdays = [
                week[calendar.THURSDAY]
                for week in calendar.monthcalendar(year, month)
                if week[calendar.THURSDAY]
            ]
            for n in (1, 3):  # 2nd and 4th
                day = dt.date(year, month, thursdays[n])
                if start <= day <= end:
                    days.append(day)
    return days


def _rule(session) -> TongtongRule:
    return session.scalar(select(TongtongRule))


def _sessions(session) -> list[TongtongSession]:
    return list(session.scalars(select(TongtongSession).order_by(TongtongSession.start_at)))


def test_fresh_database_holds_the_source_rule(session):
    rule = _rule(session)
    assert rule is not None
    assert rule.ordinal_list == (2, 4)
    assert rule.weekday == 3
    assert rule.start_time == dt.time(14, 0)
    assert rule.duration_minutes == 60
    assert rule.holiday_policy == "skip"
    assert DEFAULT_RULE["ordinals"] == "2,4"


def test_the_hand_made_holiday_list_agrees_with_the_holidays_package():
    kr = holidays.country_holidays("KR", years=range(2018, 2028), language="ko")
    found = {d for d in second_and_fourth_thursdays(START, END) if d in kr}
    assert found == set(HOLIDAY_THURSDAYS)


def test_generate_2018_to_2027_skips_holidays(session):
    lines = schedule.generate(session, _rule(session), START, END, now=NOW)
    session.commit()
    rule_days = second_and_fourth_thursdays(START, END)
    assert len(rule_days) == 228
    rows = _sessions(session)
    got = [s.start_at.astimezone(SEOUL) for s in rows]
    assert [g.date() for g in got] == [d for d in rule_days if d not in HOLIDAY_THURSDAYS]
    assert all((g.hour, g.minute) == (14, 0) for g in got)
    assert all(s.end_at - s.start_at == dt.timedelta(minutes=60) for s in rows)
    assert all(len(s.slots) == 3 for s in rows[:3])
    skipped = {x.rule_date: x.reason for x in lines if x.action == "skipped"}
    assert set(skipped) == set(HOLIDAY_THURSDAYS)
    assert "추석" in skipped[dt.date(2023, 9, 28)]
    # 12 sessions in 2018 H2 in the plan; 2018 H2 has no holiday Thursday.
    assert sum(1 for g in got if g.year == 2018) == 12


def test_generate_moves_to_next_working_day(session):
    rule = _rule(session)
    rule.holiday_policy = "next"
    schedule.generate(session, rule, START, END, now=NOW)
    rows = _sessions(session)
    assert len(rows) == 228
    moved = {s.moved_from: s.start_at.astimezone(SEOUL).date() for s in rows if s.moved_from}
    assert moved == MOVED_NEXT
    assert all(s.start_at.astimezone(SEOUL).hour == 14 for s in rows)


def test_generate_previous_policy_and_blackout(session):
    rule = _rule(session)
    rule.holiday_policy = "previous"
    session.add(ClosedDate(day=dt.date(2026, 12, 10), reason="시 개청 기념일"))
    session.add(
        BlackoutRange(start_day=dt.date(2026, 12, 24), end_day=dt.date(2026, 12, 24), reason="보궐선거")
    )
    lines = schedule.generate(session, rule, dt.date(2026, 12, 1), dt.date(2026, 12, 31), now=NOW)
    assert [(x.action, x.day) for x in lines] == [
        ("moved", dt.date(2026, 12, 9)),
        ("moved", dt.date(2026, 12, 23)),
    ]
    assert "보궐선거" in lines[1].reason


def test_generate_is_idempotent_and_keeps_hand_changes(session, runner):
    rule = _rule(session)
    schedule.generate(session, rule, dt.date(2026, 11, 1), dt.date(2026, 12, 31), now=NOW)
    rows = _sessions(session)
    rows[0].status = SESSION_CANCELLED
    rows[1].start_at = rows[1].start_at + dt.timedelta(days=1)
    rows[1].end_at = rows[1].end_at + dt.timedelta(days=1)
    session.commit()
    result = runner.invoke(args=["tongtong", "generate", "--from", "2026-11-01", "--to", "2026-12-31"])
    assert result.exit_code == 0, result.output
    assert "생성 0건" in result.output
    assert "기존 유지 4건" in result.output
    after = _sessions(session)
    assert len(after) == 4
    assert after[0].status == SESSION_CANCELLED
    assert after[1].start_at.astimezone(SEOUL).date() == dt.date(2026, 11, 27)


def test_cli_prints_created_skipped_and_why(runner, session):
    result = runner.invoke(args=["tongtong", "generate", "--from", "2025-10-01", "--to", "2025-12-31"])
    assert result.exit_code == 0, result.output
    assert "생성 2025-10-23" in result.output
    assert "건너뜀 2025-10-09 (공휴일(한글날))" in result.output
    assert "건너뜀 2025-12-25" in result.output
    assert "생성 4건, 이동 0건, 건너뜀 2건" in result.output
    bad = runner.invoke(args=["tongtong", "generate", "--from", "2025-13-01", "--to", "2025-12-31"])
    assert bad.exit_code != 0
    assert "YYYY-MM-DD" in bad.output


def test_tongtong_days_uses_sessions_and_the_rule(session):
    rule = _rule(session)
    schedule.generate(session, rule, dt.date(2026, 11, 1), dt.date(2026, 11, 30), now=NOW)
    rows = _sessions(session)
    rows[0].status = SESSION_CANCELLED  # 11-12 cancelled
    session.flush()
    days = tongtong_days(session, dt.date(2026, 11, 1), dt.date(2026, 12, 31))
    # November from the sessions (one cancelled), December from the rule (12-10, 12-24).
    assert days == {dt.date(2026, 11, 26), dt.date(2026, 12, 10), dt.date(2026, 12, 24)}
    assert dt.date(2025, 12, 25) not in tongtong_days(session, dt.date(2025, 12, 1), dt.date(2025, 12, 31))
