"""Follow (구독): who may follow what, double opt-in, one notice per follower per change, digests."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from civic_app.cards import milestones as card_milestones
from civic_app.cards import transitions as cards
from civic_app.errors import DomainError, NotAllowed
from civic_app.events import ChangeEvent, publish_change
from civic_app.follow import services
from civic_app.follow.models import ACTIVE, PENDING, Follow, FollowDigestEntry
from civic_app.notify.models import OutboxMessage
from tests.factories import NOW, make_dong, make_user
from tests.factories_cards import Cast, make_item, review_all
from tests.factories_telegram import make_chat


def _rows(session, kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.kind.like("follow%")).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(session.scalars(query))


def _follow(session, user, kind, target_id, **kw):
    return services.follow_by_email(
        session,
        kind=kind,
        target_id=target_id,
        email=kw.pop("email", user.email if user else ""),
        frequency=kw.pop("frequency", "immediate"),
        locale=kw.pop("locale", "ko"),
        now=kw.pop("now", NOW),
        user=user,
    )


@pytest.fixture
def cast(session):
    return Cast()


def test_a_signed_in_citizen_with_a_verified_address_follows_at_once(session, cast):
    follow = _follow(session, cast.citizen, "dong", cast.dong.id)
    assert follow.status == ACTIVE
    assert _rows(session) == []  # no confirmation mail needed

    item = make_item(cast)
    cards.move(session, item, "under_review", actor=cast.staff, now=NOW)
    [notice] = _rows(session, "follow_notice")
    assert notice.recipient == cast.citizen.email
    assert "중앙동" in notice.payload["subject"]
    assert "'검토중' 단계" in notice.payload["subject"]
    assert notice.payload["headers"]["List-Unsubscribe"].startswith("<http://civic.test/follow/unsubscribe/")
    assert notice.payload["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "구독 해지: http://civic.test/follow/unsubscribe/" in notice.payload["body"]
    assert "http://civic.test/cards/items/" in notice.payload["body"]


def test_a_visitor_must_confirm_by_the_signed_link_before_anything_is_sent(session, cast):
    item = make_item(cast)
    follow = _follow(session, None, "dong", cast.dong.id, email=" Visitor@Example.com ")
    assert (follow.status, follow.address) == (PENDING, "visitor@example.com")
    [confirmation] = _rows(session)
    assert confirmation.kind == "follow_confirm"
    assert confirmation.recipient == "visitor@example.com"
    link = next(line for line in confirmation.payload["body"].splitlines() if "/follow/confirm/" in line)
    token = link.rsplit("/", 1)[1]

    cards.move(session, item, "under_review", actor=cast.staff, now=NOW)
    assert _rows(session, "follow_notice") == []  # unconfirmed: nothing

    # Asking again at once sends no second confirmation (nobody floods a mailbox).
    _follow(
        session, None, "dong", cast.dong.id, email="visitor@example.com", now=NOW + dt.timedelta(minutes=1)
    )
    assert len(_rows(session, "follow_confirm")) == 1

    services.confirm(session, services.read_confirm_token(session, token), now=NOW)
    assert follow.status == ACTIVE
    review_all(cast, item)
    cards.select_item(session, item, actor=cast.policy, now=NOW)
    [notice] = _rows(session, "follow_notice")
    assert notice.recipient == "visitor@example.com"


def test_a_confirmation_link_is_signed(session, cast):
    follow = _follow(session, None, "dong", cast.dong.id, email="visitor@example.com")
    token = services.confirm_token(follow)
    with pytest.raises(DomainError):
        services.read_confirm_token(session, token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])
    with pytest.raises(DomainError):
        services.read_unsubscribe_token(session, token)  # another purpose's signature


def test_a_signed_in_user_cannot_silently_follow_for_someone_elses_address(session, cast):
    follow = _follow(session, cast.citizen, "dong", cast.dong.id, email="someone@example.com")
    assert follow.status == PENDING
    assert follow.user_id is None
    assert [r.kind for r in _rows(session)] == ["follow_confirm"]


def test_only_the_owner_follows_a_request(session, cast):
    from tests.factories_meetings import make_request

    owner = make_user("citizen", name="김민원", email="owner@example.com")
    req = make_request(owner)
    other = make_user("citizen", name="박이웃", email="other@example.com")
    with pytest.raises(NotAllowed):
        _follow(session, other, "request", req.id)
    with pytest.raises(NotAllowed):
        _follow(
            session, None, "request", req.id, email="owner@example.com"
        )  # a visitor, even with the address
    stranger_chat = make_chat("777", user=other)
    with pytest.raises(NotAllowed):
        services.follow_by_telegram(
            session, chat=stranger_chat, kind="request", target_id=req.id, frequency="immediate", now=NOW
        )
    assert _follow(session, owner, "request", req.id).status == ACTIVE
    owner_chat = make_chat("778", user=owner)
    follow, created = services.follow_by_telegram(
        session, chat=owner_chat, kind="request", target_id=req.id, frequency="immediate", now=NOW
    )
    assert created
    assert follow.status == ACTIVE


def test_a_request_change_reaches_the_owners_chat_and_not_their_mailbox_twice(session):
    from civic_app.meetings import review as meetings
    from tests.factories_meetings import make_request, make_staff

    owner = make_user("citizen", name="김민원", email="owner@example.com")
    req = make_request(owner)
    _follow(session, owner, "request", req.id)
    services.follow_by_telegram(
        session,
        chat=make_chat("778", user=owner),
        kind="request",
        target_id=req.id,
        frequency="immediate",
        now=NOW,
    )
    meetings.decline(
        session, req, reason_code="out_of_scope", note="도 소관입니다.", actor=make_staff(), now=NOW
    )
    [notice] = _rows(session, "follow_notice")
    assert notice.channel == "telegram"
    assert notice.recipient == "778"
    assert req.code in notice.payload["title"]
    # The requester's own e-mail about the decision is the 통통데이 notice, sent once.
    assert session.scalar(select(OutboxMessage.id).where(OutboxMessage.kind == "tongtong_notice").limit(1))


def test_one_change_is_one_notice_per_follower_whatever_they_follow(session, cast):
    item = make_item(cast)
    _follow(session, cast.citizen, "dong", cast.dong.id)
    _follow(session, cast.citizen, "card_item", item.id)
    other = make_dong("서문동")
    _follow(session, cast.citizen, "dong", other.id)
    cards.move(session, item, "under_review", actor=cast.staff, now=NOW)
    assert len(_rows(session, "follow_notice")) == 1
    # The same event told again (a retried call) sends nothing more.
    publish_change(session, ChangeEvent("card_status", item.id, NOW, detail="received"))
    assert len(_rows(session, "follow_notice")) == 1
    # The unsubscribe link of that notice covers both follows the change concerned.
    token = _rows(session, "follow_notice")[0].payload["body"].split("/follow/unsubscribe/")[1].split()[0]
    assert {(f.target_kind, f.target_id) for f in services.read_unsubscribe_token(session, token)} == {
        ("dong", cast.dong.id),
        ("card_item", item.id),
    }


def test_unsubscribed_followers_get_nothing_and_unsent_notices_are_withdrawn(session, cast):
    item = make_item(cast)
    follow = _follow(session, cast.citizen, "dong", cast.dong.id)
    cards.move(session, item, "under_review", actor=cast.staff, now=NOW)
    [notice] = _rows(session, "follow_notice")
    services.unsubscribe(session, [follow], now=NOW)
    assert notice.status == "withdrawn"  # still queued: it will not go out
    assert session.get(Follow, follow.id) is None
    review_all(cast, item)
    cards.select_item(session, item, actor=cast.policy, now=NOW)
    assert len(_rows(session, "follow_notice")) == 1


def test_milestones_visit_results_and_committee_reports_reach_their_followers(session, cast):
    from civic_app.committee import committees
    from civic_app.committee import reports as committee
    from civic_app.visits import results as visits
    from civic_app.visits.models import Visit
    from tests.factories import make_department
    from tests.factories_cards import reflected_item
    from tests.factories_committee import make_task

    item = reflected_item(cast)
    _follow(session, cast.citizen, "card_item", item.id)
    card_milestones.add_milestone(
        session, item, actor=cast.dept_user, now=NOW, kind="start", day=dt.date(2026, 11, 19)
    )
    [milestone] = _rows(session, "follow_notice")
    assert "착공" in milestone.payload["subject"]

    resident = make_user("citizen", name="이주민", email="resident@example.com")
    _follow(session, resident, "dong", cast.dong.id)
    visit = Visit(
        dong_id=cast.dong.id,
        start_at=NOW - dt.timedelta(days=1),
        end_at=NOW - dt.timedelta(days=1) + dt.timedelta(hours=2),
        status="held",
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(visit)
    session.flush()
    visits.publish_results(session, visit, actor_id=None, now=NOW, summary="보안등 3곳을 점검했습니다.")
    [result] = _rows(session, "follow_notice")[1:]
    assert result.recipient == "resident@example.com"
    assert "현장소통 결과가 공개되었습니다" in result.payload["subject"]
    assert "보안등 3곳을 점검했습니다." in result.payload["body"]

    road = make_department("도시과", code="CITY")
    task = make_task("A-1", department=road, title="보행 환경")
    make_task("A-2", department=road, title="가로등")
    _follow(session, resident, "committee_task", task.id)
    sec = make_user("committee_secretariat")
    quarter = committee.open_quarter(
        session,
        committees.get_committee(session),
        year=2026,
        quarter=4,
        deadline=dt.date(2026, 12, 4),
        actor=sec,
        now=NOW,
    )
    entry = next(e for e in quarter.entries if e.task_id == task.id)
    committee.submit_entry(
        session,
        entry,
        actor=make_user("department", department=road),
        now=NOW,
        progress_text="설계",
        progress_pct=40,
    )
    committee.publish_quarter(session, quarter, actor=sec, now=NOW + dt.timedelta(days=1))
    [report] = _rows(session, "follow_notice")[2:]
    assert report.recipient == "resident@example.com"
    assert "A-1 보행 환경: - → 40%" in report.payload["body"]
    assert "A-2" not in report.payload["body"]  # only the task this follower follows


def test_notice_texts_pass_the_privacy_guard(session, cast):
    make_user("citizen", name="김철수", email="cs@example.com")
    item = make_item(cast, title="김철수님 댁 앞 보안등 010-2222-3333")
    _follow(session, cast.citizen, "card_item", item.id)
    cards.move(session, item, "under_review", actor=cast.staff, now=NOW)
    [notice] = _rows(session, "follow_notice")
    text = notice.payload["subject"] + notice.payload["body"]
    assert "김철수" not in text
    assert "010-2222-3333" not in text
    assert "김*수" in text


def test_weekly_followers_get_one_digest_a_week(session, cast):
    item = make_item(cast)
    _follow(session, cast.citizen, "dong", cast.dong.id, frequency="weekly")
    cards.move(session, item, "under_review", actor=cast.staff, now=NOW)
    review_all(cast, item)
    cards.select_item(session, item, actor=cast.policy, now=NOW)
    assert _rows(session) == []
    assert len(list(session.scalars(select(FollowDigestEntry)))) == 2

    assert services.send_digests(session, now=NOW) == {"sent": 1, "entries": 2, "waiting": 0}
    [digest] = _rows(session, "follow_digest")
    assert "'검토중' 단계" in digest.payload["body"]
    assert "'선정' 단계" in digest.payload["body"]
    assert digest.payload["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert services.send_digests(session, now=NOW) == {"sent": 0, "entries": 0, "waiting": 0}

    cards.move(
        session, item, "long_term", actor=cast.policy, now=NOW + dt.timedelta(days=1), reason="내년 재검토"
    )
    assert services.send_digests(session, now=NOW + dt.timedelta(days=2))["waiting"] == 1
    assert services.send_digests(session, now=NOW + dt.timedelta(days=7))["sent"] == 1
    assert len(_rows(session, "follow_digest")) == 2


def test_the_digest_command_runs(app, session, cast):
    _follow(session, cast.citizen, "dong", cast.dong.id, frequency="weekly")
    cards.move(session, make_item(cast), "under_review", actor=cast.staff, now=NOW)
    session.commit()
    result = app.test_cli_runner().invoke(args=["follow", "digest"])
    assert result.exit_code == 0, result.output
    assert "주간 요약 1건" in result.output
    session.expire_all()
    assert len(_rows(session, "follow_digest")) == 1


def test_a_follower_reads_in_the_language_they_followed_in(session, cast):
    item = make_item(cast)
    follow = _follow(session, None, "card_item", item.id, email="reader@example.com", locale="en")
    [confirmation] = _rows(session, "follow_confirm")
    assert confirmation.payload["subject"] == "[Citizen Communication Office] Confirm following"
    services.confirm(session, follow, now=NOW)
    cards.move(session, item, "under_review", actor=cast.staff, now=NOW)
    [notice] = _rows(session, "follow_notice")
    assert notice.payload["subject"].startswith("[Following] 중앙동 · 골목길 보안등 설치: now ")
    assert "Unfollow: http://civic.test/follow/unsubscribe/" in notice.payload["body"]
