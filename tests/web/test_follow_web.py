"""Follow pages: the 구독 form on public pages, the confirmation and unsubscribe links
(GET shows, POST does, RFC 8058 one-click), and 내 구독."""

from __future__ import annotations

import re

from sqlalchemy import select

from civic_app.follow import services
from civic_app.follow.models import ACTIVE, PENDING, Follow
from civic_app.notify.models import OutboxMessage
from tests.factories import NOW, login, make_user
from tests.factories_cards import Cast, make_item


def _follows(session) -> list[Follow]:
    session.expire_all()
    return list(session.scalars(select(Follow).order_by(Follow.id)))


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _visitor_follow(session, cast) -> Follow:
    follow = services.follow_by_email(
        session,
        kind="dong",
        target_id=cast.dong.id,
        email="visitor@example.com",
        frequency="immediate",
        locale="ko",
        now=NOW,
    )
    session.commit()
    return follow


def test_a_visitor_follows_a_dong_from_its_page_by_double_opt_in(app, client, session):
    cast = Cast()
    session.commit()
    page = client.get(f"/visits/dongs/{cast.dong.code}").get_data(as_text=True)
    assert 'action="/follow"' in page
    assert 'name="email"' in page
    assert "/follow 중앙동" in page  # the Telegram way too
    form = {
        "target_kind": "dong",
        "target_id": cast.dong.id,
        "frequency": "weekly",
        "next": f"/visits/dongs/{cast.dong.code}",
    }

    refused = client.post("/follow", data={**form, "email": "visitor@example.com"})
    assert refused.status_code == 302
    assert _follows(session) == []  # no consent, no address kept

    response = client.post(
        "/follow", data={**form, "email": "visitor@example.com", "consent": "y"}, follow_redirects=True
    )
    assert "확인 메일을 보냈습니다" in response.get_data(as_text=True)
    [follow] = _follows(session)
    assert (follow.status, follow.frequency) == (PENDING, "weekly")
    mail = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "follow_confirm"))
    path = re.search(r"http://civic\.test(/follow/confirm/\S+)", mail.payload["body"]).group(1)

    shown = client.get(path)  # a link scanner opening the mail changes nothing
    assert shown.status_code == 200
    assert "구독 확인" in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store"
    assert _follows(session)[0].status == PENDING
    done = client.post(path)
    assert "구독이 시작되었습니다" in done.get_data(as_text=True)
    assert _follows(session)[0].status == ACTIVE


def test_a_broken_link_is_refused_without_an_error_page(client, session):
    for path in ("/follow/confirm/nonsense", "/follow/unsubscribe/nonsense"):
        response = client.get(path)
        assert response.status_code == 400
        assert "링크가 올바르지 않습니다" in response.get_data(as_text=True)


def test_unsubscribe_page_shows_then_the_csrf_protected_post_unsubscribes(csrf_app, session):
    cast = Cast()
    follow = _visitor_follow(session, cast)
    services.confirm(session, follow, now=NOW)
    session.commit()
    token = services.unsubscribe_token([follow])
    client = csrf_app.test_client()
    page = client.get(f"/follow/unsubscribe/{token}")
    assert page.status_code == 200
    assert "중앙동" in page.get_data(as_text=True)
    assert len(_follows(session)) == 1
    assert client.post(f"/follow/unsubscribe/{token}").status_code == 400  # no CSRF token
    assert len(_follows(session)) == 1
    done = client.post(
        f"/follow/unsubscribe/{token}", data={"csrf_token": _csrf(page.get_data(as_text=True))}
    )
    assert "구독을 해지했습니다" in done.get_data(as_text=True)
    assert _follows(session) == []
    again = client.get(f"/follow/unsubscribe/{token}")
    assert "이미 해지된 구독입니다" in again.get_data(as_text=True)


def test_one_click_unsubscribe_needs_the_rfc_8058_body_not_a_csrf_token(csrf_app, session):
    cast = Cast()
    follow = _visitor_follow(session, cast)
    token = services.unsubscribe_token([follow])
    client = csrf_app.test_client()
    opened = client.get(f"/follow/unsubscribe/{token}/one-click")  # a GET only shows the page
    assert opened.status_code == 302
    assert len(_follows(session)) == 1
    assert client.post(f"/follow/unsubscribe/{token}/one-click", data={}).status_code == 302
    assert len(_follows(session)) == 1
    response = client.post(f"/follow/unsubscribe/{token}/one-click", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert _follows(session) == []


def test_my_follows_page_changes_frequency_and_unfollows_only_ones_own(app, client, session):
    cast = Cast()
    item = make_item(cast)
    mine = services.follow_by_email(
        session,
        kind="card_item",
        target_id=item.id,
        email=cast.citizen.email,
        frequency="immediate",
        locale="ko",
        now=NOW,
        user=cast.citizen,
    )
    other = make_user("citizen", name="박이웃", email="other@example.com")
    theirs = services.follow_by_email(
        session,
        kind="dong",
        target_id=cast.dong.id,
        email=other.email,
        frequency="immediate",
        locale="ko",
        now=NOW,
        user=other,
    )
    session.commit()
    login(client, cast.citizen)
    item_page = client.get(f"/cards/{cast.dong.code}/items/{item.id}").get_data(as_text=True)
    assert "구독 중" in item_page
    page = client.get("/account/follows").get_data(as_text=True)
    assert item.title in page
    assert re.findall(r"/account/follows/(\d+)/unfollow", page) == [str(mine.id)]  # not the neighbour's

    client.post(f"/account/follows/{mine.id}/frequency", data={"frequency": "weekly"})
    assert session.get(Follow, mine.id).frequency == "weekly"
    refused = client.post(f"/account/follows/{theirs.id}/unfollow", follow_redirects=True)
    assert "본인의 구독만" in refused.get_data(as_text=True)
    assert session.get(Follow, theirs.id) is not None
    client.post(f"/account/follows/{mine.id}/unfollow")
    assert [f.id for f in _follows(session)] == [theirs.id]


def test_a_signed_in_citizen_follows_with_one_click_and_the_owner_sees_the_box_on_a_request(
    app, client, session
):
    from tests.factories_meetings import make_request

    cast = Cast()
    req = make_request(cast.citizen)
    session.commit()
    login(client, cast.citizen)
    page = client.get(f"/tongtong/requests/{req.code}").get_data(as_text=True)
    assert 'name="target_kind" value="request"' in page
    assert 'name="email"' not in page  # the account's verified address is used
    response = client.post(
        "/follow",
        data={
            "target_kind": "request",
            "target_id": req.id,
            "frequency": "immediate",
            "next": f"/tongtong/requests/{req.code}",
        },
        follow_redirects=True,
    )
    assert "구독했습니다" in response.get_data(as_text=True)
    [follow] = _follows(session)
    assert (follow.status, follow.target_kind, follow.user_id) == (ACTIVE, "request", cast.citizen.id)

    # Someone else cannot follow that request, even by posting the form by hand.
    other = make_user("citizen", name="박이웃", email="other@example.com")
    session.commit()
    client.post("/logout")
    login(client, other)
    refused = client.post(
        "/follow",
        data={"target_kind": "request", "target_id": req.id, "frequency": "immediate"},
        follow_redirects=True,
    )
    assert "본인만" in refused.get_data(as_text=True)
    assert len(_follows(session)) == 1


def test_the_follow_box_is_on_the_item_and_task_pages(app, client, session):
    from tests.factories_committee import make_task

    cast = Cast()
    item = make_item(cast)
    task = make_task("A-1", title="보행 환경")
    session.commit()
    item_page = client.get(f"/cards/{cast.dong.code}/items/{item.id}").get_data(as_text=True)
    assert 'name="target_kind" value="card_item"' in item_page
    assert f"/follow {item.id}" in item_page
    task_page = client.get("/committee/tasks/A-1").get_data(as_text=True)
    assert f'name="target_id" value="{task.id}"' in task_page


def test_the_demo_city_has_followers(demo_city, client, session):
    from civic_app.accounts.models import User
    from civic_app.demo.core import DEMO_PASSWORD
    from civic_app.follow.models import FollowDigestEntry

    citizen = session.scalar(select(User).where(User.email == "citizen@demo.civic.kr"))
    assert len(services.user_follows(session, citizen)) >= 3
    assert {f.status for f in _follows(session)} == {ACTIVE, PENDING}  # one visitor has not confirmed
    assert session.scalar(select(OutboxMessage.id).where(OutboxMessage.kind == "follow_notice").limit(1))
    assert session.scalar(select(FollowDigestEntry.id).limit(1))
    login(client, citizen, DEMO_PASSWORD)
    page = client.get("/account/follows").get_data(as_text=True)
    assert len(re.findall(r"/account/follows/\d+/unfollow", page)) >= 3
