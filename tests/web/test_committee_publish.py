"""Publishing a quarterly report: a confirmation page, amendments (정정) and late reports."""

from __future__ import annotations

import datetime as dt
import html

from sqlalchemy import select

from civic_app.committee.committees import get_committee
from civic_app.committee.models import ReportingQuarter, ReportVersion
from civic_app.committee.reports import open_quarter, publish_quarter, submit_entry
from civic_app.extensions import db
from civic_app.timeutil import today_seoul, utcnow
from tests.factories import login, make_department, make_user
from tests.factories_committee import make_task


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _setup(session, n_tasks: int = 3):
    road = make_department("도로과", code="ROAD")
    secretariat = make_user("committee_secretariat")
    road_user = make_user("department", department=road)
    for i in range(1, n_tasks + 1):
        make_task(f"A-{i}", title=f"과제 {i}", department=road)
    today = today_seoul(utcnow())  # the views read the real clock
    quarter = open_quarter(
        session,
        get_committee(session),
        year=2026,
        quarter=4,
        deadline=today + dt.timedelta(days=9),
        actor=secretariat,
        now=utcnow(),
    )
    submit_entry(
        session, quarter.entries[0], actor=road_user, now=utcnow(), progress_text="설계 완료", progress_pct=30
    )
    return secretariat, road_user, quarter


def test_quarter_page_has_no_one_click_publish(client, session):
    secretariat, _, quarter = _setup(session)
    login(client, secretariat)
    page = _text(client.get(f"/committee/admin/quarters/{quarter.id}"))
    assert f'action="/committee/admin/quarters/{quarter.id}/publish"' not in page
    assert f'href="/committee/admin/quarters/{quarter.id}/publish"' in page
    assert "제출 1/3" in page


def test_confirmation_page_shows_the_deadline_and_what_is_missing(client, session):
    secretariat, _, quarter = _setup(session)
    login(client, secretariat)
    page = _text(client.get(f"/committee/admin/quarters/{quarter.id}/publish"))
    assert "마감까지 9일 남았습니다" in page
    assert "1 / 3건" in page
    assert "A-2 과제 2" in page
    assert "A-3 과제 3" in page
    missing = page[page.index("미제출 과제") :]
    assert "A-1 과제 1" not in missing
    assert "위 내용을 확인했고, 이대로 공개합니다." in page


def test_publishing_needs_the_confirmation(client, session):
    secretariat, _, quarter = _setup(session)
    login(client, secretariat)
    response = client.post(f"/committee/admin/quarters/{quarter.id}/publish", data={"summary": "총평"})
    assert response.status_code == 400
    assert "공개하려면 확인란에 표시해 주세요." in _text(response)
    db.session.expire_all()
    assert db.session.get(ReportingQuarter, quarter.id).status == "open"
    response = client.post(
        f"/committee/admin/quarters/{quarter.id}/publish", data={"summary": "총평", "confirm": "y"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    record = db.session.get(ReportingQuarter, quarter.id)
    assert record.status == "published"
    assert [v.number for v in record.versions] == [1]
    public = _text(client.get(f"/committee/reports/{quarter.id}"))
    assert "총평" in public
    assert "정정" not in public


def test_late_report_amendment_and_public_diff(client, session):
    secretariat, road_user, quarter = _setup(session)
    publish_quarter(session, quarter, actor=secretariat, now=utcnow())
    entry_id = quarter.entries[1].id

    # The department still sees the missing task and reports it late.
    login(client, road_user)
    listing = _text(client.get("/committee/department"))
    assert "A-2 과제 2" in listing
    form = _text(client.get(f"/committee/department/entries/{entry_id}"))
    assert "이미 공개되었습니다. 지금 제출하면 지연 제출로 표시되고" in form
    response = client.post(
        f"/committee/department/entries/{entry_id}",
        data={"progress_text": "늦은 보고: 착공", "progress_pct": "15"},
    )
    assert response.status_code == 302
    # Nothing public changes until the secretariat publishes the amendment.
    assert "늦은 보고" not in _text(client.get(f"/committee/reports/{quarter.id}"))

    login(client, secretariat)
    page = _text(client.get(f"/committee/admin/quarters/{quarter.id}"))
    assert "지연 제출" in page
    assert "공개 뒤 바뀐 보고 1건" in page
    confirm = _text(client.get(f"/committee/admin/quarters/{quarter.id}/publish"))
    assert "1판과 달라지는 내용" in confirm
    assert "늦은 보고: 착공" in confirm
    no_note = client.post(f"/committee/admin/quarters/{quarter.id}/publish", data={"confirm": "y"})
    assert no_note.status_code == 400
    assert "정정 사유를 적어 주세요." in _text(no_note)
    response = client.post(
        f"/committee/admin/quarters/{quarter.id}/publish",
        data={"confirm": "y", "note": "도로과 지연 보고 반영"},
    )
    assert response.status_code == 302
    assert session.scalar(select(ReportVersion.number).order_by(ReportVersion.number.desc())) == 2

    public = _text(client.get(f"/committee/reports/{quarter.id}"))
    assert "정정" in public
    assert "2판" in public
    assert "도로과 지연 보고 반영" in public
    diff = public[public.index("정정 내용") : public.index("과제별 추진상황")]
    assert "A-2 과제 2" in diff
    assert "미제출" in diff
    assert "15%" in diff
    assert "A-1" not in diff
    row = public[public.index(f'id="entry-{entry_id}"') :]
    assert "지연 제출" in row[: row.index("</tr>")]
    assert f'href="/committee/reports/{quarter.id}/versions/1"' in public
    old = _text(client.get(f"/committee/reports/{quarter.id}/versions/1"))
    assert "이 판은 정정되었습니다." in old
    assert "늦은 보고" not in old
    assert "정정" in _text(client.get("/committee/reports"))
    assert client.get(f"/committee/reports/{quarter.id}/versions/3").status_code == 404


def test_an_open_report_is_not_public(client, session):
    _, _, quarter = _setup(session)
    assert client.get(f"/committee/reports/{quarter.id}").status_code == 404
    assert client.get(f"/committee/reports/{quarter.id}/versions/1").status_code == 404


def test_publish_page_is_for_the_secretariat(client, session):
    _, road_user, quarter = _setup(session)
    login(client, road_user)
    assert client.get(f"/committee/admin/quarters/{quarter.id}/publish").status_code == 403
    assert (
        client.post(f"/committee/admin/quarters/{quarter.id}/publish", data={"confirm": "y"}).status_code
        == 403
    )
