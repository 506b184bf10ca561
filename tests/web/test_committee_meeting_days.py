"""Committee meetings follow the visits' working-day rules (holidays, closed dates, blackouts)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from civic_app.committee.committees import get_committee
from civic_app.committee.meetings import save_meeting
from civic_app.committee.models import CommitteeMeeting
from civic_app.errors import ValidationFailed
from civic_app.workdays.models import BlackoutRange, ClosedDate
from tests.factories import NOW, login, make_user

FORM = {
    "kind": "regular",
    "title": "정기회의",
    "day": "2026-09-25",  # 추석
    "start": "14:00",
    "duration": "120",
    "location": "대회의실",
    "agenda": "",
}


def _count(session) -> int:
    return session.scalar(select(func.count(CommitteeMeeting.id)))


def test_a_meeting_on_chuseok_is_refused_with_a_korean_form_error(client, session):
    login(client, make_user("committee_secretariat"))
    response = client.post("/committee/admin/meetings/new", data=FORM)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "2026-09-25은(는) 근무일이 아닙니다: 공휴일(추석)" in body
    assert _count(session) == 0
    assert client.post("/committee/admin/meetings/new", data={**FORM, "day": "2026-09-29"}).status_code == 302
    assert _count(session) == 1


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        ("2026-10-03", "주말"),
        ("2026-10-12", "공휴일(임시공휴일)"),
        ("2026-10-14", "선거 등 행사 제한 기간(보궐선거)"),
    ],
)
def test_weekends_closed_dates_and_blackouts_are_refused_too(client, session, day, reason):
    session.add(ClosedDate(day=dt.date(2026, 10, 12), reason="임시공휴일"))
    session.add(
        BlackoutRange(start_day=dt.date(2026, 10, 13), end_day=dt.date(2026, 10, 20), reason="보궐선거")
    )
    login(client, make_user("committee_secretariat"))
    response = client.post("/committee/admin/meetings/new", data={**FORM, "day": day})
    assert response.status_code == 400
    assert f"{day}은(는) 근무일이 아닙니다: {reason}" in response.get_data(as_text=True)
    assert _count(session) == 0


def test_moving_a_meeting_onto_a_holiday_is_refused_but_other_edits_keep_working(session):
    secretariat = make_user("committee_secretariat")
    committee = get_committee(session)
    start = dt.datetime(2026, 9, 22, 5, 0, tzinfo=dt.UTC)
    kwargs = {"kind": "regular", "location": "", "agenda": "", "actor": secretariat, "now": NOW}
    meeting = save_meeting(
        session,
        committee,
        None,
        title="정기회의",
        start_at=start,
        end_at=start + dt.timedelta(hours=2),
        **kwargs,
    )
    moved = start + dt.timedelta(days=3)
    with pytest.raises(ValidationFailed) as error:
        save_meeting(
            session,
            committee,
            meeting,
            title="정기회의",
            start_at=moved,
            end_at=moved + dt.timedelta(hours=2),
            **kwargs,
        )
    assert error.value.errors == [("day", "2026-09-25은(는) 근무일이 아닙니다: 공휴일(추석)")]
    # A holiday declared after the meeting was scheduled does not block a title change.
    session.add(ClosedDate(day=dt.date(2026, 9, 22), reason="임시공휴일"))
    session.flush()
    save_meeting(
        session,
        committee,
        meeting,
        title="정기회의(변경)",
        start_at=start,
        end_at=start + dt.timedelta(hours=2),
        **kwargs,
    )
    assert meeting.title == "정기회의(변경)"
