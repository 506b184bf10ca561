"""Event pages offer "add to calendar" (.ics) and webcal:// subscribe links (issue 8)."""

import datetime as dt

from civic_app.timeutil import SEOUL, today_seoul, utcnow
from tests.factories import make_dong
from tests.factories_calendar import make_committee_meeting, make_session, make_visit

# Upcoming relative to the real clock: the public pages list what is still ahead.
START = dt.datetime.combine(today_seoul(utcnow()) + dt.timedelta(days=21), dt.time(14, 0), tzinfo=SEOUL)


def test_public_pages_link_to_their_ics_and_feed(client, session):
    sess = make_session(START)
    visit = make_visit(make_dong("중앙동"), START + dt.timedelta(days=1))
    meeting = make_committee_meeting(START + dt.timedelta(days=2))
    session.commit()

    tongtong = client.get("/tongtong").get_data(as_text=True)
    assert f"/calendar/events/tongtong/{sess.id}.ics" in tongtong
    assert "webcal://" in tongtong

    page = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert f"/calendar/events/visit/{visit.id}.ics" in page
    assert "webcal://" in page
    assert "webcal://" in client.get("/visits").get_data(as_text=True)

    page = client.get(f"/committee/meetings/{meeting.id}").get_data(as_text=True)
    assert f"/calendar/events/committee/{meeting.id}.ics" in page
    assert "webcal://" in client.get("/committee/meetings").get_data(as_text=True)

    for path in (
        f"/calendar/events/tongtong/{sess.id}.ics",
        f"/calendar/events/visit/{visit.id}.ics",
        f"/calendar/events/committee/{meeting.id}.ics",
    ):
        response = client.get(path)
        assert response.status_code == 200
        assert response.mimetype == "text/calendar"
        assert b"BEGIN:VEVENT" in response.data
