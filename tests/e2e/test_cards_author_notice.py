"""Browser, issue 15 point 7: a citizen's 통통데이 suggestion went to the dong's card; when the
policy office selects it, the citizen gets an e-mail with a link, follows it, and finds the
item from their own request page too."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from civic_app.cards.models import CardItem
from civic_app.extensions import db
from civic_app.meetings.outcomes import add_followup
from civic_app.notify.models import OutboxMessage
from tests.e2e.conftest import assert_accessible
from tests.e2e.test_cards_flow import sign_in, sign_out, take_step
from tests.factories import make_user
from tests.factories_cards import NOW, Cast, review_all
from tests.factories_meetings import make_request

pytestmark = pytest.mark.e2e


def test_citizen_hears_that_their_suggestion_was_selected(page, live_server, session):
    cast = Cast()
    citizen = make_user("citizen", name="김민원", email="minwon@example.com")
    req = make_request(citizen, dong_id=cast.dong.id, topic="통학로 보도 설치")
    req.status = "answered"
    follow = add_followup(
        db.session,
        req,
        title="초등학교 앞 통학로 보도 설치",
        department=cast.dept,
        due_date=dt.date(2027, 3, 31),
        local_budget=True,
        actor=cast.staff,
        now=NOW,
    )
    item = db.session.get(CardItem, follow.card_item_id)
    review_all(cast, item)
    item_id, code, req_code = item.id, cast.dong.code, req.code
    db.session.commit()
    base = live_server

    # The policy office selects the item on its page, with a public reason.
    sign_in(page, base, "policy@example.com")
    page.goto(f"{base}/staff/cards/items/{item_id}")
    take_step(page, "선정", "세 기관 모두 시급하다고 보았습니다")
    assert page.get_by_text("'선정' 단계로 바꿨습니다.").is_visible()
    sign_out(page)

    # The citizen's e-mail waits in the outbox, with an absolute link to the item.
    db.session.rollback()
    mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "card_author_notice")).one()
    assert mail.recipient == "minwon@example.com"
    link = re.search(r"https?://\S+", mail.payload["body"]).group(0)
    assert link == f"{base}/cards/{code}/items/{item_id}"
    assert "세 기관 모두 시급하다고 보았습니다" in mail.payload["body"]

    # Following the link shows the decision and how the priority was made.
    page.goto(link)
    assert "선정" in page.locator("h1").inner_text()
    assert page.get_by_text("우선순위는 이렇게 정해졌습니다").is_visible()
    assert_accessible(page)

    # The citizen's own request page links to the same item.
    sign_in(page, base, "minwon@example.com")
    page.goto(f"{base}/tongtong/requests/{req_code}")
    page.get_by_role("link", name=f"동 관리카드 #{item_id}").click()
    page.wait_for_load_state()
    assert page.url == link
    assert "초등학교 앞 통학로 보도 설치" in page.locator("h1").inner_text()
    assert "세 기관 모두 시급하다고 보았습니다" in page.content()
