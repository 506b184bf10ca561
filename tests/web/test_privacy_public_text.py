"""Issue 12, finding 2: names that staff type reached public 통통데이 summaries and visit pages.
One guard judges the text when it is saved (a Korean form error naming what to remove) and the
public pages mask what is left when they render."""

from __future__ import annotations

import datetime as dt

from civic_app.meetings.outcomes import record_outcome
from civic_app.meetings.review import decide_mayor
from civic_app.visits.models import Visit
from tests.factories import NOW, login, make_department, make_dong, make_user
from tests.factories_meetings import make_request, make_sessions, make_staff

NAME, PHONE, EMAIL = "홍길동", "010-1234-5678", "hong.gildong@example.com"


def booked(session, monkeypatch):
    """A booked request of 홍길동 and a clock pinned after its meeting."""
    make_sessions()
    staff = make_staff(phone=None)
    citizen = make_user("citizen", name=NAME, phone=PHONE, email=EMAIL)
    req = make_request(citizen, dong_id=make_dong("중앙동").id)
    booking = decide_mayor(session, req, actor=staff, now=NOW)
    after = booking.end_at + dt.timedelta(hours=1)
    monkeypatch.setattr("civic_app.meetings.views.common.utcnow", lambda: after)
    session.commit()
    return staff, req, after


def test_staff_get_a_form_error_naming_the_citizens_name_in_a_public_summary(client, session, monkeypatch):
    staff, req, _after = booked(session, monkeypatch)
    login(client, staff)
    url = f"/staff/tongtong/requests/{req.id}/outcome"
    data = {"attended": "y", "outcome": "보도 설치 합의"}
    response = client.post(url, data={**data, "public_summary": "홍길동 님과 보도 설치를 약속했습니다."})
    assert response.status_code == 400
    assert "공개 글에 개인정보(이름: 홍길동)가 있습니다. 지우고 다시 저장하세요." in response.text
    for leaky, named in [
        ("홍 길동 씨 요청 반영", "이름: 홍 길동"),
        ("문의는 +82 10 1234 5678", "전화번호: +82 10 1234 5678"),
        ("hong.gildong＠example.com 으로 회신", "이메일 주소: hong.gildong＠example.com"),
    ]:
        response = client.post(url, data={**data, "public_summary": leaky})
        assert response.status_code == 400
        assert named in response.text
    session.expire_all()
    assert req.status == "booked"
    assert req.public_summary is None
    client.set_cookie("lang", "en")
    response = client.post(url, data={**data, "public_summary": "홍길동 님과 약속"})
    assert "Public text contains personal data (Name: 홍길동). Remove it and save again." in response.text
    client.set_cookie("lang", "ko")
    response = client.post(url, data={**data, "public_summary": "보도 설치를 약속했습니다."})
    assert response.status_code == 302


def test_public_follow_up_titles_are_judged_too(client, session, monkeypatch):
    staff, req, after = booked(session, monkeypatch)
    record_outcome(
        session,
        req,
        attended=True,
        outcome="합의",
        public_summary="보도를 놓기로 했습니다.",
        actor=staff,
        now=after,
    )
    dept = make_department("도로과")
    session.commit()
    login(client, staff)
    data = {"due_date": "2027-03-31", "department_id": str(dept.id)}
    response = client.post(
        f"/staff/tongtong/requests/{req.id}/followups", data={**data, "title": "길동 씨 댁 앞 보도 설치"}
    )
    assert response.status_code == 400
    assert "이름: 길동" in response.text


def test_public_pages_mask_names_typed_before_the_guard(client, session, monkeypatch):
    """Rows saved before the guard (or by another path) are masked when rendered."""
    staff, req, after = booked(session, monkeypatch)
    record_outcome(
        session,
        req,
        attended=True,
        outcome="합의",
        public_summary="보도를 놓기로 했습니다.",
        actor=staff,
        now=after,
    )
    req.public_summary = "홍길동 님과 홍 길동 씨 가족을 만났습니다. 연락 010 - 1234 - 5678"
    dong = make_dong("신흥동")
    visit = Visit(
        kind="regular",
        dong_id=dong.id,
        start_at=NOW - dt.timedelta(days=1),
        end_at=NOW - dt.timedelta(hours=20),
        status="results_published",
        published=True,
        sequence=0,
        result_summary="주민 대표 연락처 (010)1234-5678, hong.gildong [at] example.com",
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(visit)
    session.commit()
    for url in ("/tongtong", f"/tongtong/summaries/{req.id}"):
        body = client.get(url).get_data(as_text=True)
        assert NAME not in body, url
        assert "홍 길동" not in body, url
        assert "1234" not in body, url
        assert "홍*동 님과" in body, url
    body = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "1234-5678" not in body
    assert "gildong" not in body
    assert "010-****-5678" in body


def test_visit_results_refuse_names_of_citizens(client, session):
    make_user("citizen", name=NAME, phone=PHONE, email=EMAIL)
    staff = make_staff(phone=None)
    visit = Visit(
        kind="regular",
        dong_id=make_dong("중앙동").id,
        start_at=NOW - dt.timedelta(days=1),
        end_at=NOW - dt.timedelta(hours=20),
        status="held",
        published=True,
        sequence=0,
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(visit)
    session.commit()
    login(client, staff)
    response = client.post(
        f"/staff/visits/{visit.id}/results", data={"r-summary": "홍길동 씨가 건의했습니다."}
    )
    assert response.status_code == 400
    assert "공개 글에 개인정보(이름: 홍길동)가 있습니다. 지우고 다시 저장하세요." in response.text
    session.expire_all()
    assert visit.result_summary is None
    assert client.get(f"/visits/{visit.id}").status_code == 200


def test_other_public_visit_texts_refuse_personal_data(session):
    """Suggestions go on the dong's public card; tour themes and postponement reasons are shown
    on public pages and feeds: the same guard judges them."""
    import pytest

    from civic_app.errors import ValidationFailed
    from civic_app.visits.results import add_suggestion
    from civic_app.visits.schedule import change_status
    from civic_app.visits.tours import create_tour

    make_user("citizen", name=NAME, phone=PHONE, email=EMAIL)
    dong = make_dong("중앙동")
    held = Visit(
        kind="regular",
        dong_id=dong.id,
        start_at=NOW - dt.timedelta(days=1),
        end_at=NOW - dt.timedelta(hours=20),
        status="held",
        published=True,
        sequence=0,
        created_at=NOW,
        updated_at=NOW,
    )
    planned = Visit(
        kind="regular",
        dong_id=make_dong("신흥동").id,
        start_at=NOW + dt.timedelta(days=5),
        end_at=NOW + dt.timedelta(days=5, hours=2),
        status="confirmed",
        published=True,
        sequence=0,
        created_at=NOW,
        updated_at=NOW,
    )
    session.add_all([held, planned])
    session.flush()
    with pytest.raises(ValidationFailed) as refused:
        add_suggestion(
            session,
            held,
            actor_id=None,
            now=NOW,
            title="보도 정비",
            description="홍 길동 님 건의, 010 1234 5678",
            category="도로·교통",
        )
    assert [field for field, _m in refused.value.errors] == ["description"]
    assert "이름: 홍 길동" in refused.value.errors[0][1]
    with pytest.raises(ValidationFailed) as refused:
        change_status(session, planned, "postponed", actor_id=None, now=NOW, reason="홍길동 씨 요청으로 연기")
    assert refused.value.errors[0][0] == "reason"
    with pytest.raises(ValidationFailed) as refused:
        create_tour(
            session,
            actor_id=None,
            now=NOW,
            day=(NOW + dt.timedelta(days=10)).date(),
            start_time=dt.time(10),
            end_time=dt.time(12),
            theme_group="issue",
            theme="hong.gildong@example.com 민원 현장",
            sites_text="중앙시장",
        )
    assert refused.value.errors[0][0] == "theme"


def test_a_session_cancellation_reason_is_public_and_judged(session):
    import pytest

    from civic_app.errors import ValidationFailed
    from civic_app.meetings import schedule

    make_user("citizen", name=NAME, phone=PHONE, email=EMAIL)
    tsession = make_sessions()[-1]
    with pytest.raises(ValidationFailed) as refused:
        schedule.cancel_session(
            session, tsession, reason="홍길동 님 민원 대응", actor=make_staff(phone=None), now=NOW
        )
    assert "이름: 홍길동" in refused.value.errors[0][1]
    assert tsession.status == "scheduled"
