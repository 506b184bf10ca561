"""Every message kind renders valid Telegram HTML; the privacy guard stops personal data."""

from __future__ import annotations

import pytest

from civic_app.telegram import privacy
from civic_app.telegram.render import KINDS, MAX_LENGTH, render_message
from tests.bots.telegram_html import TelegramHTMLError, validate
from tests.factories import NOW, make_user
from tests.factories_telegram import sample_payload

HOSTILE = '<script>alert("x")</script> & <b>굵게</b> &amp; <a href="javascript:x">링크</a>'


@pytest.mark.parametrize("kind", [*KINDS, "some_future_kind"])
def test_every_kind_renders_valid_telegram_html(app, kind):
    payload = sample_payload(kind, 7)
    rendered = render_message(kind, payload)
    validate(rendered.text)
    assert "소식 7" in rendered.text
    assert '<a href="http://civic.test/items/7">' in rendered.text
    assert not rendered.truncated


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_input_is_escaped(app, kind):
    payload = sample_payload(kind, 8)
    payload.update(title=HOSTILE, summary=HOSTILE, lines=[HOSTILE], dong_name=HOSTILE, departments=[HOSTILE])
    if kind == "weekly_digest":
        payload["sessions"] = [{"start_at": HOSTILE, "location": HOSTILE}]
    text = render_message(kind, payload).text
    validate(text)
    assert "<script>" not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text or "&lt;script&gt;alert(&quot;" in text
    assert "&amp;amp;" in text  # the literal "&amp;" stays visible as typed
    assert 'href="javascript' not in text


def test_unknown_entities_in_numeric_form_are_accepted_by_the_checker():
    validate("a &#34; b &lt; c")
    with pytest.raises(TelegramHTMLError):
        validate("a & b")
    with pytest.raises(TelegramHTMLError):
        validate("<div>x</div>")


def test_url_is_public_base_plus_path_and_rejects_other_hosts(app):
    payload = sample_payload("visit_result", 9)
    payload["url"] = "//evil.example/x"
    assert '<a href="http://civic.test/">' in render_message("visit_result", payload).text
    payload["url"] = "https://evil.example/x"
    assert "evil.example" not in render_message("visit_result", payload).text


def test_long_messages_are_shortened_with_a_link_to_the_page(app):
    payload = sample_payload("committee_quarterly_report", 10)
    payload["lines"] = [f"과제 {i}: " + "가나다라 & <마바사> " * 5 for i in range(400)]
    rendered = render_message("committee_quarterly_report", payload)
    assert rendered.truncated
    assert len(rendered.text) <= MAX_LENGTH
    validate(rendered.text)
    assert "과제 0:" in rendered.text
    assert "전체 내용은 아래 링크에서" in rendered.text
    assert rendered.text.endswith('<a href="http://civic.test/items/10">자세히 보기</a>')


def test_a_huge_summary_is_cut_without_breaking_entities(app):
    payload = sample_payload("tongtong_summary", 11)
    payload["summary"] = "&<>" * 5000
    payload["lines"] = []
    rendered = render_message("tongtong_summary", payload)
    assert rendered.truncated
    assert len(rendered.text) <= MAX_LENGTH
    validate(rendered.text)


def test_english_rendering_for_private_chats(app):
    text = render_message("card_done", {**sample_payload("card_done", 12), "lines": []}, locale="en").text
    validate(text)
    assert "Details" in text or "More" in text


# --- privacy guard ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "planted",
    ["010-1234-5678", "01012345678", "010 1234 5678", "02-123-4567", "+82-10-1234-5678", "031.123.4567"],
)
def test_guard_blocks_phone_numbers(app, session, planted):
    text = render_message(
        "visit_result", {**sample_payload("visit_result"), "summary": f"문의 {planted} 로"}
    ).text
    findings = privacy.check_message(session, text)
    assert [f.kind for f in findings] == ["phone"]
    assert planted not in privacy.describe(findings)  # staff see a masked sample


def test_guard_blocks_email_addresses_even_in_links(app, session):
    text = render_message("card_done", {**sample_payload("card_done"), "url": "/x?mail=kim@example.com"}).text
    assert [f.kind for f in privacy.check_message(session, text)] == ["email"]


def test_guard_blocks_a_citizens_stored_name(app, session):
    make_user("citizen", name="김민준")
    make_user("civic_staff", name="박서연")  # staff names are not requesters
    text = render_message(
        "tongtong_summary", {**sample_payload("tongtong_summary"), "summary": "김민준님의 제안"}
    ).text
    assert [f.kind for f in privacy.check_message(session, text)] == ["name"]
    other = render_message(
        "tongtong_summary", {**sample_payload("tongtong_summary"), "summary": "박서연 과장 설명"}
    ).text
    assert privacy.check_message(session, other) == []


def test_guard_does_not_flag_names_inside_other_words(app, session):
    make_user("citizen", name="이동")  # a real 2-character name that is also a common word part
    make_user("citizen", name="김")  # 1 character: never matched
    make_user("citizen", name="Lee Min")
    text = render_message(
        "visit_result",
        {
            **sample_payload("visit_result"),
            "summary": "주민이동 편의를 위한 이동식 쉼터, Leeway 김포 2026-11-20 120,000,000원",
        },
    ).text
    assert privacy.check_message(session, text) == []
    assert privacy.scan("이동 님이 말했다", {"이동"})[0].kind == "name"
    assert privacy.scan("lee min said", {"Lee Min"})[0].kind == "name"


def test_guard_knows_walk_in_requesters_without_accounts(app, session):
    meetings = pytest.importorskip("civic_app.meetings.models")
    session.add(
        meetings.MeetingRequest(
            code="TT-2026-9001",
            requester_name="최하늘",
            topic="보도 정비",
            category="도로·교통",
            desired_outcome="정비",
            consent_at=NOW,
            consent_version="2026-11",
            queue_since=NOW,
            created_at=NOW,
            updated_at=NOW,
            walk_in=True,
        )
    )
    session.flush()
    assert "최하늘" in privacy.requester_names(session)
    assert privacy.scan("최하늘 씨의 요청", privacy.requester_names(session))[0].kind == "name"
