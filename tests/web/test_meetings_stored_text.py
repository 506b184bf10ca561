"""Stored text is data: what staff do in English lands in Korean on a Korean citizen's request.

Issue 18 (item 6): with English selected, a staff action stored English timeline notes and
e-mail subjects on a Korean citizen's request. Timeline notes and e-mails are stored in Korean
by rule; the acting user's language only changes what that user is shown.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from civic_app.meetings.models import MeetingRequest
from civic_app.meetings.review import decide_written
from civic_app.notify.models import OutboxMessage
from tests.factories import NOW, login, make_department, make_user
from tests.factories_meetings import make_mayor, make_request, make_sessions, make_staff

# English a translated note or e-mail would carry (the catalog's English of the Korean text).
ENGLISH = re.compile(r"Decision|Reason|confirmed|Current status|Tongtong Day|Answer|What happened|Next step")


@pytest.fixture
def pinned(monkeypatch):
    monkeypatch.setattr("civic_app.meetings.views.common.utcnow", lambda: NOW)


def english(client) -> None:
    """The language switch of the site, as the signed-in user."""
    client.post("/lang", data={"lang": "en", "next": "/"})


def mails_of(session, req: MeetingRequest) -> list[dict]:
    rows = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.subject_ref == f"meeting:{req.id}", OutboxMessage.channel == "email"
        )
    ).all()
    return [row.payload for row in rows]


def test_staff_deciding_in_english_store_korean_and_the_citizen_reads_korean(app, client, session, pinned):
    make_mayor()
    make_sessions()
    citizen = make_user("citizen", email="citizen.kim@example.com")
    req = make_request(citizen)
    staff = make_staff()
    login(client, staff)
    english(client)

    response = client.post(
        f"/staff/tongtong/requests/{req.id}/decide/mayor",
        data={"m-reason_code": "mayor_priority", "m-note": "시장이 직접 듣겠습니다."},
    )
    assert response.status_code == 302
    staff_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<html lang="en">' in staff_page
    assert "Meeting with the mayor booked." in staff_page  # staff are told in their language

    req = session.get(MeetingRequest, req.id)
    assert req.status == "booked"
    notes = [event.note for event in req.events]
    assert "결정: 시장 면담. 사유: 시장 직접 면담이 필요한 사안. 시장이 직접 듣겠습니다." in notes
    booked = notes[-1]
    assert "면담이 확정되었습니다" in booked
    assert re.search(r"\d{4}년 \d{1,2}월 \d{1,2}일 \([월화수목금토일]\) \d{2}:\d{2}", booked)
    for note in notes:
        assert not ENGLISH.search(note), note

    mail = [m for m in mails_of(session, req) if "확정" in m["subject"]]
    assert mail, mails_of(session, req)
    assert mail[0]["subject"] == f"[통통데이] 면담 일정이 확정되었습니다 ({req.code})"
    assert "현재 상태: 면담 확정" in mail[0]["body"]
    assert not ENGLISH.search(mail[0]["body"]), mail[0]["body"]

    own = app.test_client()  # the citizen, on their own device, never switched language
    login(own, citizen)
    page = own.get(f"/tongtong/requests/{req.code}").get_data(as_text=True)
    assert '<html lang="ko">' in page
    assert booked in page
    assert "결정: 시장 면담" in page


def test_a_department_answering_in_english_stores_korean(app, client, session, pinned):
    make_sessions()
    dept = make_department("도로과")
    clerk = make_user("department", department=dept)
    req = make_request(make_user("citizen", email="citizen.lee@example.com"))
    decide_written(
        session,
        req,
        route="referral",
        department=dept,
        reason_code="department_matter",
        note="",
        actor=make_staff(),
        now=NOW,
    )
    login(client, clerk)
    english(client)

    response = client.post(
        f"/department/tongtong/requests/{req.id}/answer/final", data={"text": "12월에 보도를 놓습니다."}
    )
    assert response.status_code == 302
    assert "Saved. The citizen was told by e-mail." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )

    req = session.get(MeetingRequest, req.id)
    assert req.status == "answered"
    assert req.events[-1].note == "답변: 12월에 보도를 놓습니다."
    mail = [m for m in mails_of(session, req) if m["subject"].startswith("[통통데이] 답변 안내")]
    assert mail, mails_of(session, req)
    assert "현재 상태: 답변 완료" in mail[0]["body"]
    assert not ENGLISH.search(mail[0]["subject"] + mail[0]["body"])


def test_a_reader_who_chose_english_sees_the_stored_korean_timeline_in_english(app, client, session, pinned):
    """Issue 16: stored notes shown in the viewer's language (and meeting categories)."""
    make_mayor()
    make_sessions()
    citizen = make_user("citizen", email="citizen.park@example.com")
    req = make_request(citizen, category="도로·교통")
    staff = make_staff()
    login(client, staff)
    client.post(
        f"/staff/tongtong/requests/{req.id}/decide/mayor",
        data={"m-reason_code": "mayor_priority", "m-note": "시장이 직접 듣겠습니다."},
    )
    req = session.get(MeetingRequest, req.id)
    booked = req.events[-1]
    assert "면담이 확정되었습니다" in booked.note  # stored in Korean, whatever the reader

    reader = app.test_client()
    login(reader, citizen)
    english(reader)
    page = reader.get(f"/tongtong/requests/{req.code}").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert booked.note not in page  # not the Korean as stored ...
    assert "Decision: Meeting with the mayor. Reason: " in page  # ... but the reader's language
    assert "시장이 직접 듣겠습니다." in page  # what staff typed stays as typed
    assert not re.search(
        r"\d{4}년 \d{1,2}월", page.split("<ol", 1)[1].split("</ol>", 1)[0]
    )  # dates in English
    assert "Roads &amp; traffic" in page  # the category too
    reader.post("/lang", data={"lang": "ko", "next": "/"})
    assert booked.note in reader.get(f"/tongtong/requests/{req.code}").get_data(as_text=True)
