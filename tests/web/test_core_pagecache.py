"""Rendered pages are shared between visitors and always as fresh as the data (issue 19).

The cache is keyed by the data versions every write bumps in its own transaction, so the page
after a write is the new one at once, whichever process served the old one; readers of a page
without a form get no session cookie, and each visitor who needs a token gets their own.
"""

import re

import pytest

from civic_app import create_app
from civic_app.extensions import db
from tests.conftest import test_config as make_config
from tests.factories import PASSWORD, login, make_dong, make_user
from tests.factories_meetings import make_request

TOKEN_RE = re.compile(r'"X-CSRFToken": "([^"]*)"')


@pytest.fixture
def cached_app(database_url, app):
    # No app context of its own: each request gets a fresh one (and a fresh g), as in production.
    return create_app(
        make_config(database_url, CACHE_PAGES=True, SQL_COUNT_HEADER=True, WTF_CSRF_ENABLED=True)
    )


def _sql(response) -> int:
    return int(response.headers["X-SQL-Count"])


def test_a_write_is_seen_on_the_next_request_and_unchanged_pages_come_from_the_cache(cached_app):
    make_dong("중앙동", code="4199051000")
    db.session.commit()
    first, second = cached_app.test_client(), cached_app.test_client()
    miss = first.get("/api/v1/dongs")
    assert miss.get_json()["total"] == 1
    hit = second.get("/api/v1/dongs")
    assert hit.get_json()["total"] == 1
    assert _sql(hit) == 1 < _sql(miss)  # only the data versions are read on a hit

    make_dong("신흥동", code="4199051300")
    db.session.commit()
    # No waiting for an expiry: the write changed the key.
    assert second.get("/api/v1/dongs").get_json()["total"] == 2


def test_another_process_sees_the_write_at_once(cached_app, database_url):
    """Two app instances (two processes' worth of state, each with its own memory store): a
    write committed through either is read through the other on its next request."""
    other = create_app(make_config(database_url, CACHE_PAGES=True))
    make_dong("중앙동", code="4199051000")
    db.session.commit()
    assert other.test_client().get("/api/v1/dongs").get_json()["total"] == 1
    assert cached_app.test_client().get("/api/v1/dongs").get_json()["total"] == 1
    admin = make_user("admin", email="cache-admin@example.com")
    db.session.commit()
    writer = cached_app.test_client()
    cached_app.config["WTF_CSRF_ENABLED"] = False
    login(writer, admin)
    response = writer.post(
        "/admin/dongs/new",
        data={"code": "4199051400", "name": "새동", "active": "y"},
    )
    assert response.status_code in (302, 303), response.status_code
    assert other.test_client().get("/api/v1/dongs").get_json()["total"] == 2


def test_readers_of_a_page_without_a_form_get_no_session_cookie(cached_app):
    make_dong("중앙동", code="4199051000")
    db.session.commit()
    for _ in range(2):  # the miss and the hit
        response = cached_app.test_client().get("/")
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
        body = response.get_data(as_text=True)
        assert TOKEN_RE.search(body).group(1) == ""
        assert "__civic_csrf" not in body
    # A page rendered outside the cache (the 404 page) does not start a session either.
    assert "Set-Cookie" not in cached_app.test_client().get("/no-such-page").headers


def test_a_visitor_with_a_session_gets_their_own_token_in_a_cached_page(cached_app):
    first, second = cached_app.test_client(), cached_app.test_client()
    for client in (first, second):
        assert client.get("/login").status_code == 200  # a form: this starts the session
    page1 = first.get("/").get_data(as_text=True)
    page2 = second.get("/").get_data(as_text=True)
    token1, token2 = TOKEN_RE.search(page1).group(1), TOKEN_RE.search(page2).group(1)
    assert token1
    assert token2
    assert token1 != token2
    response = second.post("/lang", data={"lang": "en", "next": "/", "csrf_token": token2})
    assert response.status_code == 302
    # The other visitor's token is refused: tokens are bound to their own session.
    assert second.post("/lang", data={"lang": "ko", "next": "/", "csrf_token": token1}).status_code == 400


def test_the_language_switch_without_a_session_checks_the_origin(cached_app):
    client = cached_app.test_client()
    same = client.post("/lang", data={"lang": "en", "next": "/"}, headers={"Origin": "http://localhost"})
    assert same.status_code == 302
    assert "lang=en" in same.headers["Set-Cookie"]
    forged = client.post(
        "/lang", data={"lang": "en", "next": "/"}, headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 400
    assert client.post("/lang", data={"lang": "en", "next": "/"}).status_code == 400  # no origin at all


def _sign_in(client, user) -> None:
    """Through the real form, CSRF token included (the app checks it, as in production)."""
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").text).group(1)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_staff_queue_is_cached_per_user_and_fresh_after_a_write(cached_app):
    staff = make_user("civic_staff", email="queue-staff@example.com")
    other = make_user("civic_staff", email="queue-other@example.com")
    make_request()  # a row with its inline form (the view builds a CSRF-protected form)
    db.session.commit()
    one, two = cached_app.test_client(), cached_app.test_client()
    _sign_in(one, staff)
    _sign_in(two, other)
    one.get("/account")  # the sign-in's flash message is shown (and cleared) here
    two.get("/account")
    miss = one.get("/staff/tongtong/requests")
    hit = one.get("/staff/tongtong/requests")
    assert miss.status_code == hit.status_code == 200
    assert _sql(hit) == 2 < _sql(miss)  # the user with roles, the data versions
    assert "Set-Cookie" not in hit.headers
    body = hit.get_data(as_text=True)
    assert TOKEN_RE.search(body).group(1)  # signed in: the page carries the user's own token
    assert _sql(two.get("/staff/tongtong/requests")) > 2  # another user: their own entry
    make_dong("중앙동", code="4199051000")
    db.session.commit()
    assert _sql(one.get("/staff/tongtong/requests")) == _sql(miss)  # a write: rendered again


def test_cache_pages_off_renders_every_time(database_url, app):
    plain = create_app(make_config(database_url, CACHE_PAGES=False, SQL_COUNT_HEADER=True))
    client = plain.test_client()
    counts = {_sql(client.get("/api/v1/dongs")) for _ in range(2)}
    assert len(counts) == 1
    assert counts.pop() > 1


def test_signed_in_users_never_get_the_anonymous_page(cached_app):
    make_dong("중앙동", code="4199051000")
    user = make_user("civic_staff", email="cache-staff@example.com")
    db.session.commit()
    client = cached_app.test_client()
    anonymous = client.get("/").get_data(as_text=True)
    cached_app.config["WTF_CSRF_ENABLED"] = False
    login(client, user)
    signed_in = client.get("/").get_data(as_text=True)
    assert "로그아웃" in signed_in
    assert "로그아웃" not in anonymous
