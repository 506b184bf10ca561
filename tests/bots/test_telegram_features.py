"""Messages queued by the other features' own services are delivered as valid posts.

Each feature is optional here (importorskip): the bot must work while they are being built.
A visit result published twice becomes one post edited in place.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.bots.conftest import CHANNEL
from tests.bots.telegram_html import validate
from tests.factories import NOW, make_department, make_dong


def test_visit_results_and_their_correction(app, session, fake_api, run_bot):
    visits = pytest.importorskip("civic_app.visits.models")
    visit_results = pytest.importorskip("civic_app.visits.results")
    dong = make_dong("한빛동")
    visit = visits.Visit(
        dong_id=dong.id,
        start_at=NOW - dt.timedelta(days=1),
        end_at=NOW - dt.timedelta(days=1) + dt.timedelta(hours=2),
        status="held",
        published=True,
        created_at=NOW,
        updated_at=NOW,
    )
    visit.departments.append(make_department("도로과"))
    session.add(visit)
    session.flush()
    visit_results.publish_results(
        session, visit, actor_id=None, now=NOW, summary="보도 정비 요청 & 가로등 <추가>"
    )
    assert run_bot().returncode == 0
    visit_results.publish_results(session, visit, actor_id=None, now=NOW, summary="고친 결과 요약")
    result = run_bot()
    assert "edited=1" in result.stdout, result.stderr + result.stdout
    posts = fake_api.channel_posts(CHANNEL)
    assert len(posts) == 1
    validate(posts[0].text)
    assert "한빛동" in posts[0].text
    assert "고친 결과 요약" in posts[0].text
    assert "가로등 &lt;추가&gt;" in posts[0].edits[0]
    assert f'href="http://civic.test/visits/{visit.id}"' in posts[0].text


def test_card_announcements(app, session, fake_api, run_bot):
    items = pytest.importorskip("civic_app.cards.items")
    notices = pytest.importorskip("civic_app.cards.notices")
    dong = make_dong("가온동")
    item = items.create_item(
        session,
        dong_id=dong.id,
        title="어린이보호구역 과속방지턱",
        description="",
        category="도로·교통",
        source_kind="staff",
        actor_id=None,
        now=NOW,
    )
    item.status = "budget_reflected"
    item.fiscal_year = 2027
    item.budget_kind = "main"
    item.budget_amount = 35_000_000
    item.budget_line = "도로유지관리"
    session.flush()
    notices.announce(session, item, now=NOW)  # what the card transition calls
    item.status = "done"
    notices.announce(session, item, now=NOW)
    result = run_bot()
    assert "sent=2" in result.stdout, result.stderr
    texts = [p.text for p in fake_api.channel_posts(CHANNEL)]
    for text in texts:
        validate(text)
    assert "35,000,000" in texts[0]
    assert "가온동" in texts[1]


def test_tongtong_public_summary(app, session, fake_api, run_bot):
    meetings = pytest.importorskip("civic_app.meetings.models")
    meeting_outcomes = pytest.importorskip("civic_app.meetings.outcomes")
    dong = make_dong("누리동")
    req = meetings.MeetingRequest(
        code="TT-2026-0777",
        requester_name="윤하람",
        requester_phone="010-5555-6666",
        topic="공원 조명 개선",
        category="안전",
        desired_outcome="조명",
        dong_id=dong.id,
        consent_at=NOW,
        consent_version="2026-11",
        publish_consent=True,
        public_summary="야간 조명을 늘리기로 했습니다. 문의 010-5555-6666",
        queue_since=NOW,
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(req)
    session.flush()
    meeting_outcomes.publish_summary(session, req, now=NOW)
    result = run_bot()
    assert result.returncode == 0, result.stderr
    posts = fake_api.channel_posts(CHANNEL)
    assert len(posts) == 1
    validate(posts[0].text)
    assert "야간 조명을 늘리기로 했습니다" in posts[0].text
    assert "윤하람" not in posts[0].text
    assert "5555-6666" not in posts[0].text
