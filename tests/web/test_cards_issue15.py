"""Issue 15, 동 관리카드: authors hear back, reviewers see what they decide on, a compact
budget table, execution milestones and a transparent priority on the public page."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from civic_app.cards import budget, items, notices, priority, transitions
from civic_app.cards.models import CardItem, CardMilestone, CardPhoto
from civic_app.extensions import db
from civic_app.meetings.outcomes import add_followup
from civic_app.notify.models import OutboxMessage
from civic_app.visits.models import HELD, Visit
from civic_app.web.filters import korean_won
from tests.factories import login, make_user
from tests.factories_cards import NOW, Cast, make_item, reflected_item, review_all, selected_item
from tests.factories_meetings import make_request
from tests.factories_visits import plan

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
BASE = "http://civic.test"


@pytest.fixture
def cast(session):
    return Cast()


def _author_mails(to: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.kind == "card_author_notice").order_by(OutboxMessage.id)
    if to:
        query = query.where(OutboxMessage.recipient == to)
    return list(db.session.scalars(query))


def _meeting_item(cast: Cast, email: str = "citizen-a@example.com"):
    citizen = make_user("citizen", name="김민원", email=email)
    req = make_request(citizen, dong_id=cast.dong.id)
    req.status = "answered"
    follow = add_followup(
        db.session,
        req,
        title="통학로 보도 설치",
        department=cast.dept,
        due_date=dt.date(2027, 3, 31),
        local_budget=True,
        actor=cast.staff,
        now=NOW,
    )
    item = db.session.get(CardItem, follow.card_item_id)
    item.estimated_cost = 1_477_333_333
    db.session.flush()
    return citizen, req, item


# --- 7. the author hears back -----------------------------------------------------------


def test_meeting_requester_is_told_at_each_decision_and_the_request_links_the_item(client, cast):
    citizen, req, item = _meeting_item(cast)
    review_all(cast, item)
    assert _author_mails() == []  # reviews alone tell nobody
    transitions.select_item(db.session, item, actor=cast.policy, now=NOW)
    transitions.reflect_in_budget(
        db.session,
        item,
        actor=cast.budget,
        now=NOW,
        fiscal_year=2027,
        budget_kind="main",
        amount=1_477_333_333,
        budget_line="도로관리 > 보도 설치",
    )
    transitions.move(db.session, item, "in_progress", actor=cast.dept_user, now=NOW)
    transitions.move(db.session, item, "done", actor=cast.dept_user, now=NOW)
    mails = _author_mails("citizen-a@example.com")
    assert len(mails) == 3  # 선정, 예산반영, 완료 (집행중 is not a decision)
    link = f"{BASE}/cards/{cast.dong.code}/items/{item.id}"
    for mail in mails:
        assert link in mail.payload["body"]
        assert "통학로 보도 설치" in mail.payload["subject"]
    assert "'선정'" in mails[0].payload["subject"]
    assert "14억 7,733만 원" in mails[1].payload["body"]
    assert "'완료'" in mails[2].payload["subject"]
    db.session.commit()
    login(client, citizen)
    page = client.get(f"/tongtong/requests/{req.code}").get_data(as_text=True)
    assert f'href="/cards/items/{item.id}"' in page
    jump = client.get(f"/cards/items/{item.id}")
    assert jump.status_code == 302
    assert jump.headers["Location"].endswith(f"/cards/{cast.dong.code}/items/{item.id}")


def test_refusal_reaches_the_author_of_a_merged_duplicate_too(cast):
    _c, _r, original = _meeting_item(cast, email="first@example.com")
    _c2, _r2, duplicate = _meeting_item(cast, email="second@example.com")
    items.merge(db.session, duplicate, original, actor=cast.staff, now=NOW)
    transitions.move(
        db.session, original, "not_feasible", actor=cast.budget, now=NOW, reason="사유지라 공사할 수 없습니다"
    )
    for email in ("first@example.com", "second@example.com"):
        (mail,) = _author_mails(email)
        assert "'불가'" in mail.payload["subject"]
        assert "사유지라 공사할 수 없습니다" in mail.payload["body"]


def test_visit_suggestion_keeps_a_consented_address_and_a_photo(client, session, cast, tmp_path, app):
    app.instance_path = str(tmp_path)
    plan(dt.date(2026, 11, 2), dt.date(2026, 11, 30), [1], publish=True)
    visit = session.scalar(select(Visit))
    visit.status = HELD
    login(client, cast.staff)
    data = {
        "g-title": "버스정류장 그늘막",
        "g-category": "안전",
        "g-department_id": "0",
        "g-dong_id": "0",
        "g-contact_email": "resident@example.com",
    }
    refused = client.post(f"/staff/visits/{visit.id}/suggestions", data=data)
    assert refused.status_code == 400  # an address without consent is not kept
    assert session.scalar(select(func.count(CardItem.id))) == 0
    not_a_photo = client.post(
        f"/staff/visits/{visit.id}/suggestions",
        data={**data, "g-contact_consent": "y", "g-photo": (io.BytesIO(b"%PDF-1.4"), "site.png")},
        content_type="multipart/form-data",
    )
    assert not_a_photo.status_code == 400
    assert session.scalar(select(func.count(CardItem.id))) == 0
    ok = client.post(
        f"/staff/visits/{visit.id}/suggestions",
        data={**data, "g-contact_consent": "y", "g-photo": (io.BytesIO(PNG), "site.png")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    item = session.scalar(select(CardItem))
    assert notices.author_emails(session, item) == ["resident@example.com"]
    photo = session.scalar(select(CardPhoto))
    assert photo.item_id == item.id
    assert photo.milestone_id is None
    client.post("/logout")
    login(client, cast.budget)
    form = client.get(f"/staff/cards/items/{item.id}/review?party=budget").get_data(as_text=True)
    assert f'src="/staff/cards/photos/{photo.id}"' in form
    transitions.move(session, item, "not_feasible", actor=cast.budget, now=NOW, reason="국유지")
    (mail,) = _author_mails("resident@example.com")
    assert f"{BASE}/cards/{item.dong.code}/items/{item.id}" in mail.payload["body"]
    # Retention: the address is destroyed with the other personal data.
    assert notices.purge_contacts(session, dt.datetime.now(dt.UTC) + dt.timedelta(days=1), NOW, False) == 1
    assert notices.author_emails(session, item) == []


# --- 8. informed review and the next item -------------------------------------------------


def test_review_form_shows_text_photos_history_and_leads_to_the_next_item(client, cast, tmp_path, app):
    app.instance_path = str(tmp_path)
    first = make_item(cast, title="첫째 보안등", description="골목 끝이 어둡습니다 ABC")
    second = make_item(cast, title="둘째 보안등", now=NOW + dt.timedelta(minutes=5))
    third = make_item(cast, title="셋째 보안등", now=NOW + dt.timedelta(minutes=9))
    items.add_comment(db.session, first, actor=cast.staff, now=NOW, body="메모")
    db.session.commit()
    login(client, cast.budget)
    upload = client.post(
        f"/staff/cards/items/{first.id}/photos",
        data={"photo": (io.BytesIO(PNG), "site.png"), "caption": "현장 야간 사진"},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    photo = db.session.scalar(select(CardPhoto))
    page = client.get(f"/staff/cards/items/{first.id}/review?party=budget").get_data(as_text=True)
    assert "골목 끝이 어둡습니다 ABC" in page
    assert f'src="/staff/cards/photos/{photo.id}"' in page
    assert "현장 야간 사진" in page
    assert "이력" in page
    assert "접수" in page
    assert "저장하고 다음 항목" in page
    assert client.get(f"/staff/cards/photos/{photo.id}").status_code == 200
    assert client.get(f"/cards/photos/{photo.id}").status_code == 404  # a suggestion photo is internal
    data = {f"r{first.id}-{k}": v for k, v in {"feasibility": "4", "legality": "4", "urgency": "4"}.items()}
    data |= {
        f"r{first.id}-safety": "4",
        f"r{first.id}-beneficiaries": "4",
        f"r{first.id}-recommendation": "select",
    }
    data |= {f"r{first.id}-party": "budget", f"r{first.id}-version": "0", "next": "queue", "after": "next"}
    saved = client.post(f"/staff/cards/items/{first.id}/review", data=data)
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith(f"/staff/cards/items/{second.id}/review?party=budget")
    # With htmx the saved row offers the next item.
    data[f"r{first.id}-version"] = str(db.session.scalar(select(func.max(CardItem.version))))
    fragment = client.post(
        f"/staff/cards/items/{second.id}/review",
        data={k.replace(f"r{first.id}-", f"r{second.id}-"): v for k, v in data.items()}
        | {f"r{second.id}-version": "0"},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert "검토를 기록했습니다" in fragment
    assert f'href="/staff/cards/items/{third.id}/review?party=budget" id="next-item"' in fragment


# --- 9. the budget table ------------------------------------------------------------------


def test_korean_won_filter():
    assert korean_won(1_477_333_333) == "14억 7,733만 원"
    assert korean_won(1_400_000_000) == "14억 원"
    assert korean_won(30_000_000) == "3,000만 원"
    assert korean_won(9_999) == "9,999원"
    assert korean_won(2 * 10**12 + 5 * 10**8) == "2조 5억 원"
    assert korean_won(None) == ""


def test_budget_page_is_a_table_with_korean_amounts_totals_and_bulk_reflect(client, cast):
    a = selected_item(cast, title="보안등 A", cost=1_477_333_333)
    b = selected_item(cast, title="보안등 B", cost=300_000_000)
    c = selected_item(cast, title="보안등 C", cost=900_000_000)
    budget.set_envelope(db.session, fiscal_year=2027, amount=2_000_000_000, actor=cast.budget, now=NOW)
    db.session.commit()
    login(client, cast.budget)
    page = client.get("/staff/cards/budget?year=2027").get_data(as_text=True)
    assert 'class="budget-table"' in page
    assert "14억 7,733만 원" in page
    assert "1477333333</" not in page
    assert "20억 원" in page  # the envelope
    assert "26억 7,733만 원" in page  # planned total of the three
    assert "17억 7,733만 원" in page  # what fits (A and B)
    assert page.count("<form") < 8  # one bulk form, not a form per item
    assert f'name="item_id" value="{a.id}" id="pick-{a.id}" checked' in page
    assert f'name="item_id" value="{c.id}" id="pick-{c.id}" >' in page  # does not fit: unchecked
    common = {"fiscal_year": "2027", "budget_kind": "main", "budget_line": "안전 > 보안등"}
    stale = client.post(
        "/staff/cards/budget/2027/reflect",
        data=common
        | {"item_id": [str(a.id), str(b.id)], f"version-{a.id}": str(a.version), f"version-{b.id}": "1"}
        | {f"amount-{a.id}": "1477333333", f"amount-{b.id}": "300,000,000"},
    )
    assert stale.status_code == 409  # b changed since the page was shown: nothing is reflected
    db.session.expire_all()
    assert (
        db.session.scalar(select(func.count(CardItem.id)).where(CardItem.status == "budget_reflected")) == 0
    )
    done = client.post(
        "/staff/cards/budget/2027/reflect",
        data=common
        | {
            "item_id": [str(a.id), str(b.id)],
            f"version-{a.id}": str(a.version),
            f"version-{b.id}": str(b.version),
        }
        | {f"amount-{a.id}": "1477333333", f"amount-{b.id}": "300,000,000"},
    )
    assert done.status_code == 302
    db.session.expire_all()
    rows = db.session.scalars(select(CardItem).where(CardItem.status == "budget_reflected")).all()
    assert {(r.id, r.budget_amount, r.budget_line) for r in rows} == {
        (a.id, 1_477_333_333, "안전 > 보안등"),
        (b.id, 300_000_000, "안전 > 보안등"),
    }
    assert client.post("/staff/cards/budget/2027/reflect", data=common).status_code == 400
    # The other bulk action: what does not fit goes to 장기검토, with one public reason.
    later = {"fiscal_year": "2027", "budget_kind": "main", "action": "long_term", "item_id": str(c.id)}
    later[f"version-{c.id}"] = str(c.version)
    assert client.post("/staff/cards/budget/2027/reflect", data=later).status_code == 400  # no reason
    moved = client.post(
        "/staff/cards/budget/2027/reflect", data=later | {"reason": "내년 추경에서 다시 봅니다"}
    )
    assert moved.status_code == 302
    db.session.expire_all()
    assert db.session.get(CardItem, c.id).status == "long_term"
    assert db.session.get(CardItem, c.id).decision_reason == "내년 추경에서 다시 봅니다"
    client.post("/logout")
    login(client, cast.policy)
    assert (
        client.post("/staff/cards/budget/2027/reflect", data=common | {"item_id": str(c.id)}).status_code
        == 403
    )


# --- 10. milestones -----------------------------------------------------------------------


def test_department_records_milestones_shown_on_public_page_api_and_dong_card(client, cast, tmp_path, app):
    app.instance_path = str(tmp_path)
    item = reflected_item(cast)
    waiting = make_item(cast, title="아직 검토중")
    db.session.commit()
    login(client, cast.other_dept_user)
    refused = client.post(
        f"/staff/cards/items/{item.id}/milestones", data={"kind": "design", "day": "2027-02-10"}
    )
    assert refused.status_code == 403
    client.post("/logout")
    login(client, cast.dept_user)
    ok = client.post(
        f"/staff/cards/items/{item.id}/milestones",
        data={
            "kind": "design",
            "day": "2027-02-10",
            "note": "실시설계 완료",
            "photo": (io.BytesIO(PNG), "d.png"),
        },
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    client.post(f"/staff/cards/items/{item.id}/milestones", data={"kind": "start", "day": "2027-04-01"})
    bad = client.post(
        f"/staff/cards/items/{item.id}/milestones",
        data={"kind": "start", "day": "2027-04-01", "photo": (io.BytesIO(b"GIF89a"), "x.png")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400
    assert "파일 내용이 확장자와 맞지 않습니다" in bad.get_data(as_text=True)
    early = client.post(
        f"/staff/cards/items/{waiting.id}/milestones", data={"kind": "start", "day": "2027-04-01"}
    )
    assert early.status_code == 409  # 예산반영 first
    assert "예산반영 뒤에" in early.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CardMilestone.id))) == 2
    photo = db.session.scalar(select(CardPhoto))
    client.post("/logout")

    public = client.get(f"/cards/{cast.dong.code}/items/{item.id}").get_data(as_text=True)
    assert "집행 단계" in public
    assert "설계" in public
    assert "착공" in public
    assert "실시설계 완료" in public
    assert "2027년 2월 10일" in public
    assert f'src="/cards/photos/{photo.id}"' in public
    served = client.get(f"/cards/photos/{photo.id}")
    assert served.status_code == 200
    assert served.mimetype == "image/png"
    card = client.get(f"/cards/{cast.dong.code}").get_data(as_text=True)
    assert "실시설계 완료" in card
    body = client.get(f"/api/v1/cards/items?dong={cast.dong.code}&status=budget_reflected").get_json()
    (row,) = body["items"]
    assert row["milestones"] == [
        {
            "kind": "design",
            "date": "2027-02-10",
            "note": "실시설계 완료",
            "photos": [f"/cards/photos/{photo.id}"],
        },
        {"kind": "start", "date": "2027-04-01", "note": None, "photos": []},
    ]
    for field in ("id", "dong_code", "title", "status", "fiscal_year", "budget_amount", "decision_reason"):
        assert field in row
    csv_head = client.get("/api/v1/cards/items.csv").get_data(as_text=True).splitlines()[0]
    assert "milestones" not in csv_head


# --- 11. the priority, explained ----------------------------------------------------------


def test_public_item_page_explains_the_score_and_the_override(client, cast):
    item = make_item(cast)
    review_all(cast, item, score=4)
    priority.set_override(
        db.session, item, actor=cast.budget, now=NOW, score=99.5, reason="우기 전 긴급 정비 필요"
    )
    plain = make_item(cast, title="조정 없는 항목")
    db.session.commit()
    page = client.get(f"/cards/{cast.dong.code}/items/{item.id}").get_data(as_text=True)
    assert "우선순위는 이렇게 정해졌습니다" in page
    assert "검토 점수 평균" in page
    assert "75.00" in page
    assert "동 우선지역 가산점" in page
    assert "1개 × 5점 = 5점" in page
    assert "계산 점수" in page
    assert "80.00" in page
    assert "직접 조정" in page
    assert "99.50" in page
    assert "우기 전 긴급 정비 필요" in page
    other = client.get(f"/cards/{cast.dong.code}/items/{plain.id}").get_data(as_text=True)
    assert "직접 조정" not in other
    assert "(검토 전)" in other
