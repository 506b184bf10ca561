"""Online suggestions with 공감 through HTTP (issue 17): submit with a photo, give and withdraw
공감 (also by htmx), the department's answer on the public page, overdue answers on the item
page and the dashboard, staff merge, the API's ``source`` and ``supports``, and two 공감 of
one account at the same moment (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from civic_app.cards import suggestions
from civic_app.cards.models import CardAnswerDuty, CardItem, CardPhoto, CardSupport
from civic_app.cards.suggestions import SupportRules
from civic_app.extensions import db
from civic_app.timeutil import today_seoul, utcnow
from tests.factories import login, make_user
from tests.factories_cards import Cast, make_item
from tests.web.test_integrity_races import at_once

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
RULES = SupportRules()


@pytest.fixture
def cast(session):
    return Cast()


def form(cast, **extra) -> dict:
    return {
        "dong_id": str(cast.dong.id),
        "title": "중앙초 앞 횡단보도 신호등",
        "category": "도로·교통",
        "description": "아이들이 건너기 위험합니다.",
        "location": "중앙초등학교 정문",
        "consent": "y",
        **extra,
    }


def suggest(cast, *, now=None, author=None):
    return suggestions.submit_suggestion(
        db.session,
        actor=author or cast.citizen,
        now=now or utcnow(),
        dong_id=cast.dong.id,
        title="중앙초 앞 횡단보도 신호등",
        description="아이들이 건너기 위험합니다.",
        category="도로·교통",
        location=None,
        consent=True,
    )


def crowd(n: int, start: int = 0) -> list:
    return [
        make_user("citizen", name=f"공감{start + k:03d}", email=f"w{start + k}@example.com") for k in range(n)
    ]


def test_a_citizen_submits_a_suggestion_with_a_photo(client, cast):
    login(client, cast.citizen)
    page = client.get(f"/cards/suggestions/new?dong={cast.dong.code}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'<option selected value="{cast.dong.id}">' in html or f'value="{cast.dong.id}" selected' in html
    assert "보유 기간" in html  # the consent states purpose, items, retention, the right to refuse
    refused = client.post("/cards/suggestions/new", data=form(cast, consent=""))
    assert refused.status_code == 400
    assert "개인정보 수집·이용에 동의해야 제안할 수 있습니다." in refused.get_data(as_text=True)
    leaked = client.post("/cards/suggestions/new", data=form(cast, description="010-2222-3333로 연락"))
    assert leaked.status_code == 400
    assert "공개 글에 개인정보" in leaked.get_data(as_text=True)
    response = client.post(
        "/cards/suggestions/new",
        data=form(cast, photos=[(io.BytesIO(PNG), "site.png")]),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    item = db.session.scalar(select(CardItem).where(CardItem.source_kind == "citizen"))
    assert response.headers["Location"].endswith(f"/cards/{cast.dong.code}/items/{item.id}")
    assert item.status == "received"
    public = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "중앙초 앞 횡단보도 신호등" in public
    assert "시민 온라인 제안" in public
    assert "내가 올린 제안입니다" in public  # the author cannot support it
    assert cast.citizen.name not in public  # the author is never shown
    (photo,) = db.session.scalars(select(CardPhoto).where(CardPhoto.item_id == item.id))
    mine = client.get("/cards/suggestions/mine").get_data(as_text=True)
    assert f"/cards/suggestions/photos/{photo.id}" in mine
    assert client.get(f"/cards/suggestions/photos/{photo.id}").data == PNG
    assert client.get(f"/cards/photos/{photo.id}").status_code == 404  # not public
    other = app_client(client)
    login(other, crowd(1)[0])
    assert other.get(f"/cards/suggestions/photos/{photo.id}").status_code == 404


def app_client(client):
    return client.application.test_client()


def test_give_and_withdraw_support_by_form_and_by_htmx(client, cast):
    item = suggest(cast)
    (neighbour,) = crowd(1)
    item_id, code = item.id, cast.dong.code
    anonymous = client.get(f"/cards/{code}/items/{item_id}").get_data(as_text=True)
    assert "로그인하고 공감하기" in anonymous
    login(client, neighbour)
    response = client.post(f"/cards/suggestions/{item_id}/support")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cards/items/{item_id}#support")
    page = client.get(f"/cards/{code}/items/{item_id}").get_data(as_text=True)
    assert "공감 1건" in page
    assert "공감 취소" in page
    again = client.post(f"/cards/suggestions/{item_id}/support", headers={"HX-Request": "true"})
    fragment = again.get_data(as_text=True)
    assert again.status_code == 200
    assert fragment.lstrip().startswith("<section")  # the panel alone, swapped in place
    assert "이미 이 제안에 공감했습니다." in fragment
    assert db.session.scalar(select(func.count(CardSupport.id))) == 1
    withdrawn = client.post(f"/cards/suggestions/{item_id}/support/withdraw", headers={"HX-Request": "true"})
    assert "공감을 취소했습니다." in withdrawn.get_data(as_text=True)
    assert "공감 0건" in withdrawn.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CardSupport.id))) == 0


def test_the_department_answers_and_the_public_page_shows_it(client, cast):
    now = utcnow()
    item = suggest(cast, now=now - dt.timedelta(days=1))
    for person in crowd(30):
        suggestions.support(db.session, item, actor=person, now=now, rules=RULES)
    item_id, code = item.id, cast.dong.code
    db.session.commit()
    public = client.get(f"/cards/{code}/items/{item_id}").get_data(as_text=True)
    assert "답변 기다리는 중" in public
    login(client, cast.other_dept_user)
    assert client.get(f"/staff/cards/suggestions/{item_id}/answer").status_code == 403
    login(client, cast.dept_user)
    assert client.get(f"/staff/cards/suggestions/{item_id}/answer").status_code == 200
    response = client.post(
        f"/staff/cards/suggestions/{item_id}/answer",
        data={"kind": "final", "body": "내년 본예산에 신호등 설치비를 반영합니다."},
    )
    assert response.status_code == 302
    page = client.get(f"/cards/{code}/items/{item_id}").get_data(as_text=True)
    assert "내년 본예산에 신호등 설치비를 반영합니다." in page
    assert "최종 답변" in page
    assert "답변 완료" in page
    assert db.session.scalar(select(CardAnswerDuty.answered_at)) is not None


def test_an_overdue_answer_shows_on_the_item_page_and_the_dashboard(client, cast):
    now = utcnow()
    item = suggest(cast, now=now - dt.timedelta(days=45))
    for person in crowd(30):
        suggestions.support(db.session, item, actor=person, now=now - dt.timedelta(days=40), rules=RULES)
    item_id, code = item.id, cast.dong.code
    db.session.commit()
    late = (today_seoul(now) - today_seoul(now - dt.timedelta(days=40)) - dt.timedelta(days=30)).days
    page = client.get(f"/cards/{code}/items/{item_id}").get_data(as_text=True)
    assert f"답변 기한 {late}일 지남" in page
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "기한이 지난 공감 제안 답변" in dashboard
    assert "중앙초 앞 횡단보도 신호등" in dashboard
    assert f"답변 기한 {late}일 지남" in dashboard
    listing = client.get("/cards/suggestions/").get_data(as_text=True)
    assert f"답변 기한 {late}일 지남" in listing


def test_staff_merge_a_duplicate_and_its_supports_carry_over(client, cast):
    now = utcnow()
    target = make_item(cast, title="중앙초 앞 신호등 설치", now=now - dt.timedelta(days=3))
    duplicate = suggest(cast, now=now - dt.timedelta(days=1))
    both, only_dup, only_target = crowd(3)
    for person in (both, only_dup):
        suggestions.support(db.session, duplicate, actor=person, now=now, rules=RULES)
    for person in (both, only_target):
        suggestions.support(db.session, target, actor=person, now=now, rules=RULES)
    dup_id, target_id, version = duplicate.id, target.id, duplicate.version
    db.session.commit()
    login(client, cast.staff)
    overview = client.get("/staff/cards/suggestions/").get_data(as_text=True)
    assert f"#{target_id} 항목에 병합" in overview  # offered as a likely duplicate
    response = client.post(
        f"/staff/cards/suggestions/{dup_id}/merge",
        data={"target_id": str(target_id), "version": str(version), "reason": ""},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(CardItem, dup_id).status == "merged"
    assert db.session.scalar(select(func.count(CardSupport.id)).where(CardSupport.item_id == target_id)) == 3
    body = client.get(f"/api/v1/cards/items?dong={cast.dong.code}").get_json()
    assert {row["id"]: row["supports"] for row in body["items"]} == {target_id: 3}


def test_the_api_gives_each_items_source_and_supports(client, cast):
    visit_item = make_item(cast, title="보안등", source_kind="visit")
    citizen_item = suggest(cast)
    for person in crowd(2):
        suggestions.support(db.session, citizen_item, actor=person, now=utcnow(), rules=RULES)
    db.session.commit()
    rows = client.get("/api/v1/cards/items").get_json()["items"]
    assert {r["id"]: (r["source"], r["supports"]) for r in rows} == {
        visit_item.id: ("visit", 0),
        citizen_item.id: ("citizen", 2),
    }
    doc = client.get("/api/v1/openapi.json").get_json()
    schema = doc["components"]["schemas"]["CardItem"]
    assert {"source", "supports"} <= set(schema["required"])
    assert "citizen" in schema["properties"]["source"]["enum"]
    assert schema["properties"]["supports"]["type"] == "integer"
    head = client.get("/api/v1/cards/items.csv").get_data(as_text=True).splitlines()[0]
    assert head.rstrip().endswith("source,supports")


@pytest.mark.postgres
def test_two_supports_of_one_account_at_once_give_one_row_and_no_error(app, session):
    cast = Cast()
    item = suggest(cast)
    (neighbour,) = crowd(1)
    item_id = item.id
    clients = [app.test_client() for _ in range(4)]
    for c in clients:
        assert login(c, neighbour).status_code == 302
    session.commit()
    responses = at_once([lambda c=c: c.post(f"/cards/suggestions/{item_id}/support") for c in clients])
    assert [r.status_code for r in responses] == [302] * 4
    session.expire_all()
    assert session.scalar(select(func.count(CardSupport.id)).where(CardSupport.item_id == item_id)) == 1


def test_a_reader_who_chose_english_sees_the_categories_in_english(client, cast):
    """Issue 16: English complete; a category is stored by its Korean name and shown in the
    reader's language (the form's choices and the item's page), the value sent stays Korean."""
    item = suggest(cast)
    db.session.commit()
    login(client, cast.citizen)
    client.post("/lang", data={"lang": "en", "next": "/"})
    html = client.get(f"/cards/suggestions/new?dong={cast.dong.code}").get_data(as_text=True)
    assert 'value="도로·교통">Roads &amp; traffic</option>' in html
    page = client.get(f"/cards/items/{item.id}", follow_redirects=True).get_data(as_text=True)
    assert "Roads &amp; traffic" in page
