"""Browser: three offices review from their queues, the budget office reflects the item, the
department completes it; the public card and the outbox show each public step."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from civic_app.extensions import db
from civic_app.notify.models import OutboxMessage
from tests.e2e.conftest import assert_accessible
from tests.factories import PASSWORD
from tests.factories_cards import Cast, make_item

pytestmark = pytest.mark.e2e


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("이메일").fill(email)
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.wait_for_load_state()


def sign_out(page) -> None:
    page.get_by_role("button", name="로그아웃").click()
    page.wait_for_load_state()


def review_from_queue(
    page, base: str, party: str, label: str, item_id: int, *, cost: str, check=False
) -> None:
    page.goto(f"{base}/staff/cards/queue/{party}")
    row = page.locator(f"#queue-item-{item_id}")
    # The queue row is compact: the review form is loaded into it on demand (htmx GET).
    assert row.get_by_role("button", name="검토 저장").count() == 0
    row.get_by_text("검토하기").click()
    for criterion, score in (
        ("실현 가능성", "4"),
        ("적법성", "5"),
        ("시급성", "4"),
        ("안전", "5"),
        ("수혜 범위", "3"),
    ):
        row.get_by_role("group", name=criterion).get_by_label(score, exact=True).check()
    row.get_by_label("추정 사업비 (원)").fill(cost)
    row.get_by_label("권고").select_option("select")
    row.get_by_label("내부 의견 (공개되지 않음)").fill(f"{label} 내부 메모")
    if check:
        assert_accessible(page)
    row.get_by_role("button", name="검토 저장").click()
    # htmx swapped the row in place: the queue stays on screen.
    page.locator(f"#queue-item-{item_id}").get_by_text(f"{label} 검토를 기록했습니다.").wait_for()
    assert page.url.endswith(f"/staff/cards/queue/{party}")


def take_step(page, label: str, reason: str | None = None) -> None:
    page.locator("summary").filter(has_text=re.compile(f"^{label}$")).click()
    form = page.locator("details[open] form")
    if reason:
        form.get_by_label("사유 (공개)").fill(reason)
    form.get_by_role("button", name=f"'{label}'(으)로 바꾸기").click()
    page.wait_for_load_state()


def outbox_kinds() -> list[str]:
    db.session.rollback()
    return [m.kind for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_joint_review_reflection_and_completion(page, live_server, session):
    cast = Cast()
    item = make_item(cast, title="골목길 보안등 설치", cost=28_000_000)
    item_id, code = item.id, cast.dong.code
    db.session.commit()
    base = live_server

    sign_in(page, base, "budget@example.com")
    review_from_queue(page, base, "budget", "예산법무과", item_id, cost="30000000", check=True)
    sign_out(page)
    sign_in(page, base, "policy@example.com")
    review_from_queue(page, base, "policy", "정책담당관", item_id, cost="28000000")
    sign_out(page)
    sign_in(page, base, "road@example.com")
    review_from_queue(page, base, "department", "담당 부서", item_id, cost="30000000")
    sign_out(page)

    # The budget office selects it (all three reviewed) and confirms it in the budget view.
    sign_in(page, base, "budget@example.com")
    page.goto(f"{base}/staff/cards/items/{item_id}")
    assert "합의: 선정 권고" in page.content()
    assert_accessible(page)
    take_step(page, "선정", "세 기관 모두 선정 권고")
    assert page.get_by_text("'선정' 단계로 바꿨습니다.").is_visible()
    page.goto(f"{base}/staff/cards/budget?year=2027")
    page.get_by_label("예산 총액 (원)").fill("100000000")
    page.get_by_role("button", name="예산 총액 저장").click()
    page.wait_for_load_state()
    row = page.locator(f"#budget-item-{item_id}")
    assert "총액 안에 들어감" in row.inner_text()
    assert "3,000만 원" in row.inner_text()
    assert row.locator(f"#pick-{item_id}").is_checked()  # it fits: checked for the bulk reflect
    # On a 390 px phone the table scrolls inside its wrapper; the page itself does not.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)
    bulk = page.locator("#bulk-reflect")
    bulk.get_by_label("예산 구분").select_option("main")
    bulk.get_by_label("예산과목").fill("안전관리 > 보안등 설치")
    bulk.get_by_role("button", name="고른 항목 예산 반영 확정").click()
    page.wait_for_load_state()
    assert page.get_by_text("1개 항목을 예산에 반영했습니다 (합계 3,000만 원).").is_visible()
    sign_out(page)

    page.goto(f"{base}/cards/{code}")
    card = page.locator(f"#item-{item_id}")
    assert "예산반영" in card.inner_text()
    assert "안전관리 > 보안등 설치" in card.inner_text()
    assert "3,000만 원" in card.inner_text()
    assert "내부 메모" not in page.content()
    assert outbox_kinds() == ["card_budget_reflected"]

    # The department carries it out and completes it.
    sign_in(page, base, "road@example.com")
    page.goto(f"{base}/staff/cards/items/{item_id}")
    take_step(page, "집행중")
    take_step(page, "완료", "보안등 3기 설치를 마쳤습니다.")
    assert page.get_by_text("'완료' 단계로 바꿨습니다.").is_visible()
    sign_out(page)

    page.goto(f"{base}/cards/{code}")
    card = page.locator(f"#item-{item_id}")
    assert "완료" in card.inner_text()
    assert "보안등 3기 설치를 마쳤습니다." in card.inner_text()
    assert_accessible(page)
    page.goto(f"{base}/cards/{code}/items/{item_id}")
    timeline = page.locator("ol.timeline").inner_text()
    for step in ("접수", "검토중", "선정", "예산반영", "집행중", "완료"):
        assert step in timeline
    assert outbox_kinds() == ["card_budget_reflected", "card_done"]
    message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "card_done")).one()
    assert message.payload["url"] == f"/cards/{code}/items/{item_id}"
