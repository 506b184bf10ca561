"""만족도 조사 over HTTP: the survey page without sign-in, its Korean pages for links that cannot
be answered, the staff publish toggle, the dashboard block and /api/v1/stats/satisfaction."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from sqlalchemy import select

from civic_app.satisfaction import services
from civic_app.satisfaction.models import SurveyInvitation, SurveyResponse
from civic_app.timeutil import utcnow
from tests.factories import login, make_department, make_user

TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def invite(session, *, process="tongtong", department=None, subject_ref="meeting:1", sent=None):
    return services.offer_survey(
        session,
        process=process,
        subject_ref=subject_ref,
        department_id=department.id if department else None,
        email=f"{subject_ref.replace(':', '-')}@example.com",
        now=sent or utcnow(),
        about="통학로 보도 설치",
    )


def answer(session, invitation, satisfaction, reason_clear, *, at, comment=None):
    return services.submit_answer(
        session,
        services.make_token(invitation),
        satisfaction=satisfaction,
        reason_clear=reason_clear,
        comment=comment,
        now=at,
    )


def test_survey_page_takes_one_answer_without_sign_in(client, session):
    invitation = invite(session)
    session.commit()
    url = f"/survey/{services.make_token(invitation)}"
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "만족도 조사" in html
    assert "통학로 보도 설치" in html
    assert 'type="radio"' in html
    assert "<script" not in html.split("</head>")[1]
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"

    incomplete = client.post(url, data={"satisfaction": "4"})
    assert incomplete.status_code == 400
    assert "이유가 분명했는지 1~5 중에서 골라 주세요." in incomplete.get_data(as_text=True)

    sent = client.post(url, data={"satisfaction": "4", "reason_clear": "2", "comment": "설명이 부족했습니다"})
    assert sent.status_code == 303
    thanks = client.get(sent.headers["Location"])
    assert thanks.status_code == 200
    assert "이미 응답하신 설문입니다" in thanks.get_data(as_text=True)
    assert "응답해 주셔서 고맙습니다." in thanks.get_data(as_text=True)

    again = client.post(url, data={"satisfaction": "1", "reason_clear": "1"})
    assert again.status_code == 409
    assert "이미 응답하신 설문입니다" in again.get_data(as_text=True)
    (stored,) = session.scalars(select(SurveyResponse)).all()
    assert (stored.satisfaction, stored.reason_clear, stored.comment) == (4, 2, "설명이 부족했습니다")


def test_expired_and_tampered_links_get_a_clear_korean_page(client, session):
    old = invite(session, sent=utcnow() - dt.timedelta(days=31))
    fresh = invite(session, subject_ref="meeting:2")
    session.commit()
    expired = client.get(f"/survey/{services.make_token(old)}")
    assert expired.status_code == 410
    assert "응답 기간이 지났습니다" in expired.get_data(as_text=True)
    assert client.post(f"/survey/{services.make_token(old)}", data={"satisfaction": "5"}).status_code == 410

    token = services.make_token(fresh)
    tampered = client.get(f"/survey/{token[:-3]}xyz")
    assert tampered.status_code == 404
    assert "설문 링크를 확인할 수 없습니다" in tampered.get_data(as_text=True)
    refused = client.post(f"/survey/{token[:-3]}xyz", data={"satisfaction": "5", "reason_clear": "5"})
    assert refused.status_code == 404
    assert session.scalars(select(SurveyResponse)).all() == []


def test_the_survey_page_reads_in_english(client, session):
    invitation = invite(session)
    session.commit()
    client.set_cookie("lang", "en")
    html = client.get(f"/survey/{services.make_token(invitation)}").get_data(as_text=True)
    assert "How satisfied are you with the outcome?" in html
    assert "Was the reason for the decision clear?" in html


def _known_answers(session):
    """Three answers about 통통데이 (도로과 twice, none once) and one about a card item (환경정책과),
    in two quarters."""
    road = make_department("도로과", code="ROAD")
    env = make_department("환경정책과", code="ENV")
    q3 = dt.datetime(2026, 8, 10, 3, 0, tzinfo=dt.UTC)
    q4 = dt.datetime(2026, 11, 2, 3, 0, tzinfo=dt.UTC)
    a = invite(session, department=road, subject_ref="meeting:1", sent=q3)
    b = invite(session, department=road, subject_ref="meeting:2", sent=q3)
    c = invite(session, department=None, subject_ref="meeting:3", sent=q4)
    d = invite(session, process="card", department=env, subject_ref="card:1", sent=q4)
    invite(session, department=env, subject_ref="meeting:4", sent=q4)  # never answered
    answer(session, a, 5, 4, at=q3 + dt.timedelta(days=1))
    answer(session, b, 2, 3, at=q3 + dt.timedelta(days=2))
    answer(session, c, 4, 4, at=q4 + dt.timedelta(days=1))
    answer(
        session, d, 3, 1, at=q4 + dt.timedelta(days=3), comment="공사 후 010-1234-5678로 연락이 없었습니다"
    )
    session.commit()


def test_api_gives_the_index_by_process_department_and_quarter(client, session):
    _known_answers(session)
    body = client.get("/api/v1/stats/satisfaction").get_json()
    assert set(body) == {"by_process", "by_department", "by_quarter"}
    assert body["by_process"] == [
        {"process": "tongtong", "responses": 3, "mean": 3.67, "reason_clear_mean": 3.67},
        {"process": "card", "responses": 1, "mean": 3.0, "reason_clear_mean": 1.0},
        {"process": "suggestion", "responses": 0, "mean": None, "reason_clear_mean": None},
    ]
    assert body["by_department"] == [
        {
            "department": "도로과",
            "department_code": "ROAD",
            "responses": 2,
            "mean": 3.5,
            "reason_clear_mean": 3.5,
        },
        {
            "department": "환경정책과",
            "department_code": "ENV",
            "responses": 1,
            "mean": 3.0,
            "reason_clear_mean": 1.0,
        },
        {"department": None, "department_code": None, "responses": 1, "mean": 4.0, "reason_clear_mean": 4.0},
    ]
    assert body["by_quarter"] == [
        {"quarter": "2026-Q3", "responses": 2, "mean": 3.5, "reason_clear_mean": 3.5},
        {"quarter": "2026-Q4", "responses": 2, "mean": 3.5, "reason_clear_mean": 2.5},
    ]


def test_csv_has_the_same_rows_under_a_fixed_header(client, session):
    _known_answers(session)
    response = client.get("/api/v1/stats/satisfaction.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["breakdown", "key", "department_code", "responses", "mean", "reason_clear_mean"]
    assert rows[1] == ["process", "tongtong", "", "3", "3.67", "3.67"]
    assert ["department", "도로과", "ROAD", "2", "3.5", "3.5"] in rows
    assert ["quarter", "2026-Q4", "", "2", "3.5", "2.5"] in rows
    assert rows[-1] == ["total", "합계", "", "4", "3.5", "3.0"]


def test_openapi_lists_the_satisfaction_endpoint_and_its_csv(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    get = doc["paths"]["/api/v1/stats/satisfaction"]["get"]
    assert get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/StatsSatisfaction"
    )
    schema = doc["components"]["schemas"]["StatsSatisfaction"]
    assert set(schema["required"]) == {"by_process", "by_department", "by_quarter"}
    for key in ("by_process", "by_department", "by_quarter"):
        assert {"responses", "mean"} <= set(schema["properties"][key]["items"]["required"])
    csv_get = doc["paths"]["/api/v1/stats/satisfaction.csv"]["get"]
    assert "text/csv" in csv_get["responses"]["200"]["content"]


def test_staff_publish_a_masked_comment_and_the_dashboard_shows_it(csrf_app, session):
    _known_answers(session)
    client = csrf_app.test_client()
    staff = make_user("civic_staff", email="staff@example.com")
    login_page = client.get("/login").get_data(as_text=True)
    session.commit()
    client.post(
        "/login",
        data={
            "email": staff.email,
            "password": "correct-horse-battery",
            "csrf_token": TOKEN_RE.search(login_page)[1],
        },
    )
    page = client.get("/staff/satisfaction/?comments=1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "공사 후 010-1234-5678로 연락이 없었습니다" in html  # staff read the comment as written
    response = session.scalar(select(SurveyResponse).where(SurveyResponse.comment.is_not(None)))
    url = f"/staff/satisfaction/responses/{response.id}/publish"
    assert client.post(url, data={"action": "publish"}).status_code == 400  # no CSRF token: refused
    session.expire_all()
    assert not session.get(SurveyResponse, response.id).published
    done = client.post(url, data={"action": "publish", "csrf_token": TOKEN_RE.search(html)[1]})
    assert done.status_code == 303
    session.expire_all()
    assert session.get(SurveyResponse, response.id).published

    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "만족도 지수" in dashboard
    assert 'id="table-satisfaction-process"' in dashboard
    assert "공사 후 010-****-5678로 연락이 없었습니다" in dashboard
    assert "010-1234-5678" not in dashboard


def test_only_civic_staff_and_admins_may_publish(client, session):
    _known_answers(session)
    response = session.scalar(select(SurveyResponse).where(SurveyResponse.comment.is_not(None)))
    dept_user = make_user("department", department=make_department())
    login(client, dept_user)
    assert client.get("/staff/satisfaction/").status_code == 403
    assert (
        client.post(
            f"/staff/satisfaction/responses/{response.id}/publish", data={"action": "publish"}
        ).status_code
        == 403
    )


def test_the_demo_city_has_survey_answers(demo_city, client, session):
    body = client.get("/api/v1/stats/satisfaction").get_json()
    assert sum(r["responses"] for r in body["by_process"]) > 5
    assert len(body["by_quarter"]) >= 2
    assert any(r["department"] for r in body["by_department"])
    assert session.scalar(select(SurveyInvitation).where(SurveyInvitation.answered_at.is_(None))) is not None
    assert session.scalar(select(SurveyResponse).where(SurveyResponse.published.is_(True))) is not None
    assert "시민 의견" in client.get("/dashboard").get_data(as_text=True)
