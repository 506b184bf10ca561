"""Public pages are shared briefly between anonymous visitors, never between users' tokens."""

import re

import pytest

from civic_app import create_app
from civic_app.extensions import db
from tests.conftest import test_config as make_config
from tests.factories import login, make_dong, make_user

TOKEN_RE = re.compile(r'"X-CSRFToken": "([^"]+)"')


@pytest.fixture
def cached_app(database_url, app):
    # No app context of its own: each request gets a fresh one (and a fresh g), as in production.
    return create_app(make_config(database_url, PUBLIC_PAGE_CACHE_SECONDS=60, WTF_CSRF_ENABLED=True))


def test_anonymous_pages_are_cached_with_each_visitors_own_token(cached_app):
    make_dong("중앙동", code="4199051000")
    db.session.commit()
    first, second = cached_app.test_client(), cached_app.test_client()
    body1 = first.get("/api/v1/dongs").get_json()
    assert body1["total"] == 1

    make_dong("신흥동", code="4199051300")
    db.session.commit()
    # Within the TTL the anonymous answer is the cached one ...
    assert second.get("/api/v1/dongs").get_json()["total"] == 1

    page1 = first.get("/").get_data(as_text=True)
    page2 = second.get("/").get_data(as_text=True)
    token1, token2 = TOKEN_RE.search(page1).group(1), TOKEN_RE.search(page2).group(1)
    assert "__civic_csrf_placeholder__" not in page1 + page2
    assert token1 != token2  # each visitor gets a token bound to their own session

    # ... and the token from the cached page works for that visitor's POST (language switch).
    response = second.post("/lang", data={"lang": "en", "next": "/", "csrf_token": token2})
    assert response.status_code == 302
    assert "Set-Cookie" in response.headers


def test_signed_in_users_and_staff_pages_are_never_cached(cached_app):
    make_dong("중앙동", code="4199051000")
    user = make_user("civic_staff", email="cache-staff@example.com")
    db.session.commit()
    client = cached_app.test_client()
    client.get("/api/v1/dongs")  # fills the anonymous cache
    make_dong("신흥동", code="4199051300")
    db.session.commit()
    cached_app.config["WTF_CSRF_ENABLED"] = False
    login(client, user)
    assert client.get("/api/v1/dongs").get_json()["total"] == 2
