"""Card pages through the test client: public pages, staff pages, htmx review, API and CSV."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from civic_app.cards import budget, items, queries, transitions
from civic_app.cards.models import CardCategory, CardItem, CardReview
from civic_app.extensions import db
from tests.factories import login
from tests.factories_cards import NOW, Cast, make_item, reflected_item, review, selected_item

REVIEW_DATA = {
    "feasibility": "4",
    "legality": "5",
    "urgency": "3",
    "safety": "4",
    "beneficiaries": "2",
    "cost_estimate": "25000000",
    "recommendation": "select",
    "comment": "비공개 내부 메모 ABC",
}


@pytest.fixture
def cast(session):
    return Cast()


def review_form(item: CardItem, party: str, version: int = 0, **extra) -> dict:
    data = {f"r{item.id}-{k}": v for k, v in REVIEW_DATA.items()}
    data |= {f"r{item.id}-party": party, f"r{item.id}-version": str(version), "next": "queue"}
    data |= {f"r{item.id}-{k}": v for k, v in extra.items()}
    return data


def test_public_pages_show_decisions_but_never_internal_notes(client, cast):
    item = reflected_item(cast, description="연락처 010-9876-5432 로 회신 바람")
    items.add_comment(db.session, item, actor=cast.budget, now=NOW, body="내부 의견 XYZ")
    refused = make_item(cast, title="사유지 도로 포장")
    transitions.move(db.session, refused, "not_feasible", actor=cast.budget, now=NOW, reason="사유지입니다")
    db.session.commit()
    for url in (f"/cards/{cast.dong.code}", f"/cards/{cast.dong.code}/items/{item.id}"):
        body = client.get(url).get_data(as_text=True)
        assert "골목길 보안등 설치" in body
        assert "예산반영" in body
        assert "안전관리 &gt; 보안등 설치" in body
        for secret in ("내부 의견 XYZ", "내부 검토 의견", "예산주무관", "010-9876-5432"):
            assert secret not in body
    card = client.get(f"/cards/{cast.dong.code}").get_data(as_text=True)
    assert "사유지입니다" in card
    assert f'id="item-{item.id}"' in card
    board = client.get("/cards/").get_data(as_text=True)
    assert "중앙동" in board
    home = client.get("/").get_data(as_text=True)
    assert "동 관리카드" in home
    assert client.get("/cards/0000000000").status_code == 404


def test_staff_pages_need_a_card_role(client, cast):
    item = make_item(cast)
    login(client, cast.citizen)
    assert client.get("/staff/cards/").status_code == 403
    assert client.get(f"/staff/cards/items/{item.id}").status_code == 403
    client.post("/logout")
    login(client, cast.policy)
    assert client.get("/staff/cards/queue/budget").status_code == 403
    assert client.get("/staff/cards/settings").status_code == 403


def test_inline_htmx_review_from_the_queue(client, cast):
    item = make_item(cast)
    db.session.commit()
    login(client, cast.budget)
    page = client.get("/staff/cards/queue/budget").get_data(as_text=True)
    assert "대기 1건" in page or "검토 대기 1건" in page
    # The queue shows a compact row; the form is loaded into the row on demand.
    assert f'hx-post="/staff/cards/items/{item.id}/review"' not in page
    assert f'hx-get="/staff/cards/items/{item.id}/review?party=budget"' in page
    fragment = client.get(
        f"/staff/cards/items/{item.id}/review?party=budget", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "<html" not in fragment
    assert f'id="queue-item-{item.id}"' in fragment
    assert f'hx-post="/staff/cards/items/{item.id}/review"' in fragment
    assert f'name="r{item.id}-version" type="hidden" value="0"' in fragment
    # Without JS the same URL is a page of its own.
    full = client.get(f"/staff/cards/items/{item.id}/review?party=budget").get_data(as_text=True)
    assert "<html" in full
    assert f'action="/staff/cards/items/{item.id}/review"' in full
    response = client.post(
        f"/staff/cards/items/{item.id}/review",
        data=review_form(item, "budget"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment
    assert "예산법무과 검토를 기록했습니다." in fragment
    saved = db.session.scalar(select(CardReview).where(CardReview.item_id == item.id))
    assert (saved.party, saved.legality, saved.cost_estimate) == ("budget", 5, 25_000_000)
    assert "검토를 기다리는 항목이 없습니다." in client.get("/staff/cards/queue/budget").get_data(
        as_text=True
    )


def test_bad_review_shows_korean_errors_and_writes_nothing(client, cast):
    item = make_item(cast)
    db.session.commit()
    login(client, cast.budget)
    data = review_form(item, "budget")
    del data[f"r{item.id}-safety"]
    response = client.post(f"/staff/cards/items/{item.id}/review", data=data, headers={"HX-Request": "true"})
    assert "1에서 5 사이의 점수를 골라 주세요." in response.get_data(as_text=True)
    assert db.session.scalar(select(CardReview)) is None
    # Without htmx the whole page comes back with the message and status 400.
    response = client.post(f"/staff/cards/items/{item.id}/review", data=data)
    assert response.status_code == 400


def test_review_answers_name_hx_request_in_vary(client, cast):
    """The review URLs answer htmx with a queue row and other requests with a page or a
    redirect: every answer says it varies with HX-Request, so no cache serves one for the other."""
    item = make_item(cast)
    db.session.commit()
    login(client, cast.budget)
    url = f"/staff/cards/items/{item.id}/review"
    for headers in ({}, {"HX-Request": "true"}):
        shown = client.get(f"{url}?party=budget", headers=headers)
        assert shown.status_code == 200
        assert "HX-Request" in shown.vary
        incomplete = review_form(item, "budget")
        del incomplete[f"r{item.id}-safety"]
        refused = client.post(url, data=incomplete, headers=headers)
        assert refused.status_code == (200 if headers else 400)
        assert "HX-Request" in refused.vary
    saved = client.post(url, data=review_form(item, "budget"))
    assert saved.status_code == 302
    assert "HX-Request" in saved.vary


def test_card_lists_are_paged_and_a_page_past_the_last_is_not_found(client, cast, monkeypatch):
    monkeypatch.setattr(queries, "PER_PAGE", 2)
    titles = [f"페이지 제안 {n}" for n in range(3)]
    for title in titles:
        make_item(cast, title=title)
    db.session.commit()
    login(client, cast.budget)
    for url in (f"/cards/{cast.dong.code}", "/staff/cards/", "/staff/cards/queue/budget"):
        first = client.get(url).get_data(as_text=True)
        second = client.get(f"{url}?page=2").get_data(as_text=True)
        assert "1 / 2쪽" in first, url
        assert "2 / 2쪽" in second, url
        assert sum(t in first for t in titles) == 2, url
        assert sum(t in second for t in titles) == 1, url
        assert client.get(f"{url}?page=3").status_code == 404, url


def test_stale_form_gets_the_conflict_message(client, cast):
    item = make_item(cast)
    db.session.commit()
    stale = item.version
    transitions.move(db.session, item, "under_review", actor=cast.staff, now=NOW)
    db.session.commit()
    login(client, cast.budget)
    response = client.post(
        f"/staff/cards/items/{item.id}/transition",
        data={
            "target": "not_feasible",
            "t-not_feasible-target": "not_feasible",
            "t-not_feasible-version": str(stale),
            "t-not_feasible-reason": "사유",
        },
    )
    assert response.status_code == 409
    assert "다른 사람이 먼저 수정했습니다. 새로 고친 뒤 다시 시도해 주세요." in response.get_data(
        as_text=True
    )
    db.session.refresh(item)
    assert item.status == "under_review"


def test_illegal_transition_is_refused_with_a_clear_message(client, cast):
    item = make_item(cast)
    review(cast, item, "budget")
    db.session.commit()
    login(client, cast.policy)
    response = client.post(
        f"/staff/cards/items/{item.id}/transition",
        data={"target": "selected", "t-selected-target": "selected", "t-selected-version": str(item.version)},
    )
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "세 기관의 검토가 모두 끝나야 선정할 수 있습니다." in body


def test_item_page_shows_consensus_differences_and_score(client, cast):
    item = make_item(cast)
    review(cast, item, "budget", score=5, cost=30_000_000)
    review(cast, item, "policy", score=2, cost=20_000_000)
    review(cast, item, "department", score=4, recommendation="long_term")
    db.session.commit()
    login(client, cast.staff)
    body = client.get(f"/staff/cards/items/{item.id}").get_data(as_text=True)
    assert "의견 차이" in body
    assert "금액 차이" in body
    assert "권고가 다름" in body
    assert "최종 우선순위" in body
    assert "policy 내부 검토 의견" in body  # staff see the internal notes


def test_budget_office_reflects_from_the_budget_view(client, cast):
    first = selected_item(cast, cost=60_000_000)
    second = selected_item(cast, title="큰 사업", cost=50_000_000)
    third = selected_item(cast, title="작은 사업", cost=30_000_000)
    budget.set_envelope(db.session, fiscal_year=2027, amount=100_000_000, actor=cast.budget, now=NOW)
    db.session.commit()
    login(client, cast.budget)
    page = client.get("/staff/cards/budget?year=2027").get_data(as_text=True)
    assert page.index(f'id="budget-item-{first.id}"') < page.index(f'id="budget-item-{second.id}"')
    assert "총액 초과" in page
    assert "남은 금액으로 가능" in page
    response = client.post(
        f"/staff/cards/budget/2027/items/{third.id}/reflect",
        data={
            f"b{third.id}-version": str(third.version),
            f"b{third.id}-target": "budget_reflected",
            f"b{third.id}-fiscal_year": "2027",
            f"b{third.id}-budget_kind": "supplementary",
            f"b{third.id}-amount": "30000000",
            f"b{third.id}-budget_line": "문화체육 > 생활체육시설",
        },
    )
    assert response.status_code == 302
    db.session.refresh(third)
    assert (third.status, third.budget_kind, third.budget_amount) == (
        "budget_reflected",
        "supplementary",
        30_000_000,
    )


def test_api_lists_public_fields_and_filters(client, cast):
    item = reflected_item(cast)
    make_item(cast, title="다른 제안")
    db.session.commit()
    body = client.get(f"/api/v1/cards/items?dong={cast.dong.code}&status=budget_reflected").get_json()
    assert body["total"] == 1
    row = body["items"][0]
    assert row["id"] == item.id
    assert row["dong_code"] == cast.dong.code
    assert (row["status"], row["fiscal_year"], row["budget_amount"]) == ("budget_reflected", 2027, 30_000_000)
    assert row["created_at"].endswith("+09:00")
    assert "comment" not in row
    assert "description" not in row
    assert client.get("/api/v1/cards/items").get_json()["total"] == 2
    bad = client.get("/api/v1/cards/items?status=nope")
    assert bad.status_code == 400
    assert "status" in bad.get_json()["error"]["message"]
    assert client.get("/api/v1/cards/items?dong=9999999999").status_code == 400
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/cards/items" in doc["paths"]
    assert "/api/v1/cards/items.csv" in doc["paths"]
    assert "CardItem" in doc["components"]["schemas"]


def test_csv_export_is_utf8_with_bom(client, cast):
    reflected_item(cast)
    db.session.commit()
    response = client.get(f"/api/v1/cards/items.csv?dong={cast.dong.code}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0]["title"] == "골목길 보안등 설치"
    assert rows[0]["budget_amount"] == "30000000"


def test_staff_create_edit_and_csrf(client, csrf_app, cast):
    login(client, cast.staff)
    response = client.post(
        "/staff/cards/items/new",
        data={"dong_id": cast.dong.id, "title": "x", "category": "안전", "source_kind": "walk_in"},
    )
    assert response.status_code == 400  # no CSRF token


def test_staff_create_and_edit_item(client, cast):
    login(client, cast.staff)
    response = client.post(
        "/staff/cards/items/new",
        data={
            "dong_id": cast.dong.id,
            "title": "횡단보도 신설",
            "category": "도로·교통",
            "source_kind": "walk_in",
            "department_id": cast.dept.id,
            "estimated_cost": "12000000",
        },
    )
    assert response.status_code == 302
    item = db.session.scalar(select(CardItem).where(CardItem.title == "횡단보도 신설"))
    assert (item.source_kind, item.department_id) == ("walk_in", cast.dept.id)
    response = client.post(
        f"/staff/cards/items/{item.id}/edit",
        data={
            "version": str(item.version),
            "title": "횡단보도 신설 (학교 앞)",
            "category": "도로·교통",
            "department_id": "0",
            "estimated_cost": "",
        },
    )
    assert response.status_code == 302
    db.session.refresh(item)
    assert (item.title, item.department_id, item.estimated_cost) == ("횡단보도 신설 (학교 앞)", None, None)
    bad = client.post(
        "/staff/cards/items/new", data={"dong_id": cast.dong.id, "title": "", "category": "안전"}
    )
    assert bad.status_code == 400
    assert "제목을 입력해 주세요." in bad.get_data(as_text=True)


def test_categories_are_configurable(client, cast):
    login(client, cast.staff)
    response = client.post("/staff/cards/categories", data={"name": "주차"})
    assert response.status_code == 302
    assert '<option value="주차">주차</option>' in client.get("/staff/cards/items/new").get_data(as_text=True)
    duplicate = client.post("/staff/cards/categories", data={"name": "주차"})
    assert duplicate.status_code == 400
    assert "같은 이름의 분류가 이미 있습니다." in duplicate.get_data(as_text=True)
    category = db.session.scalar(select(CardCategory).where(CardCategory.name == "주차"))
    client.post(f"/staff/cards/categories/{category.id}/active", data={"active": "0"})
    assert '<option value="주차">' not in client.get("/staff/cards/items/new").get_data(as_text=True)
    client.post("/logout")
    login(client, cast.budget)
    assert client.post("/staff/cards/categories", data={"name": "기타2"}).status_code == 403


def test_review_refusals_are_explained_in_place(client, cast):
    item = make_item(cast)
    review(cast, item, "budget")
    db.session.commit()
    login(client, cast.policy)
    wrong_party = client.post(
        f"/staff/cards/items/{item.id}/review",
        data=review_form(item, "budget"),
        headers={"HX-Request": "true"},
    )
    assert "예산법무과 검토를 기록할 권한이 없습니다." in wrong_party.get_data(as_text=True)
    client.post("/logout")
    login(client, cast.budget)
    # A second "new" budget review while one exists: someone was first.
    again = client.post(f"/staff/cards/items/{item.id}/review", data=review_form(item, "budget", version=0))
    assert again.status_code == 409
    assert "다른 사람이 먼저 수정했습니다." in again.get_data(as_text=True)
    assert (
        db.session.scalar(select(CardReview).where(CardReview.item_id == item.id)).comment
        == "budget 내부 검토 의견"
    )


def test_review_form_on_its_own_page_without_js(client, cast):
    item = make_item(cast)
    db.session.commit()
    login(client, cast.policy)
    # A party the user cannot speak for falls back to the user's own party.
    page = client.get(f"/staff/cards/items/{item.id}/review?party=budget")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f'name="r{item.id}-party" type="hidden" value="policy"' in text
    response = client.post(f"/staff/cards/items/{item.id}/review", data=review_form(item, "policy"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/cards/queue/policy")
    saved = db.session.scalar(select(CardReview).where(CardReview.item_id == item.id))
    assert saved.party == "policy"
    # The form of an item already reviewed carries the review's version.
    text = client.get(f"/staff/cards/items/{item.id}/review?party=policy").get_data(as_text=True)
    assert f'name="r{item.id}-version" type="hidden" value="{saved.version}"' in text
    assert client.get("/staff/cards/items/999999/review").status_code == 404
    client.post("/logout")
    login(client, cast.admin)  # an administrator sees the queues but reviews for no party
    response = client.get(f"/staff/cards/items/{item.id}/review?party=budget")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/cards/items/{item.id}")
