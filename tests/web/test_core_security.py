"""Security baseline: CSRF on forms and htmx, headers, cookies, production config, error pages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from civic_app import create_app
from civic_app.config import DEFAULT_SECRET_KEY, ConfigError, check_production, load_config
from civic_app.dongs.models import Dong
from civic_app.extensions import db
from civic_app.web.policy import ADMIN, public
from tests import conftest
from tests.factories import PASSWORD, login, make_user

TOKEN_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
HX_TOKEN_RE = re.compile(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'')
LEAKS = ("Traceback", 'File "', "SELECT", "sqlalchemy", "psycopg", "sqlite3", "Werkzeug Debugger")


def _form_token(html: str) -> str:
    match = TOKEN_RE.search(html)
    assert match, "no csrf_token field on the page"
    return match.group(1) or match.group(2)


def _login_with_token(client, user) -> None:
    db.session.commit()
    token = _form_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def _dong_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Dong.id)))


DONG_FORM = {"code": "4199099900", "name": "새빛동", "active": "y"}


# --- CSRF ---------------------------------------------------------------------------------


def test_form_post_without_token_is_refused_and_changes_nothing(csrf_app, session):
    client = csrf_app.test_client()
    _login_with_token(client, make_user(ADMIN))
    response = client.post("/admin/dongs/new", data=DONG_FORM)
    assert response.status_code == 400
    assert "보안 토큰" in response.get_data(as_text=True)
    assert _dong_count() == 0


def test_form_post_with_token_from_the_page_works(csrf_app, session):
    client = csrf_app.test_client()
    _login_with_token(client, make_user(ADMIN))
    token = _form_token(client.get("/admin/dongs/new").get_data(as_text=True))
    response = client.post("/admin/dongs/new", data={**DONG_FORM, "csrf_token": token})
    assert response.status_code == 302
    assert _dong_count() == 1


def test_htmx_post_without_header_is_refused(csrf_app, session):
    client = csrf_app.test_client()
    _login_with_token(client, make_user(ADMIN))
    response = client.post("/admin/dongs/new", data=DONG_FORM, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert _dong_count() == 0


def test_htmx_post_with_header_token_works(csrf_app, session):
    client = csrf_app.test_client()
    _login_with_token(client, make_user(ADMIN))
    html = client.get("/").get_data(as_text=True)
    match = HX_TOKEN_RE.search(html)
    assert match, "base.html must put the token in hx-headers"
    response = client.post(
        "/admin/dongs/new", data=DONG_FORM, headers={"HX-Request": "true", "X-CSRFToken": match.group(1)}
    )
    assert response.status_code == 302
    assert _dong_count() == 1


def test_login_and_logout_need_the_token(csrf_app, session):
    user = make_user("citizen")
    db.session.commit()
    client = csrf_app.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 400
    _login_with_token(client, user)
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200  # still signed in


# --- headers and cookies ------------------------------------------------------------------


def _production_config(**extra) -> dict:
    cfg = load_config(
        {
            "CIVIC_ENV": "production",
            "SECRET_KEY": "a-long-random-production-secret-0123456789",
            "DATABASE_URL": "sqlite://",
            "ALLOW_SQLITE_IN_PRODUCTION": "1",
            "REDIS_URL": "redis://127.0.0.1:6379/15",
        }
    )
    cfg.update({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, **extra})
    return cfg


@pytest.mark.parametrize("path", ["/", "/login", "/api/v1/dongs", "/no-such-page"])
def test_security_headers_on_every_response(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "object-src 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "same-origin", "no-referrer")
    assert "Strict-Transport-Security" not in headers  # development: plain http


def test_hsts_and_secure_cookies_in_production(session):
    make_user("citizen", email="prod@example.com")
    db.session.commit()
    prod = create_app(_production_config(SQLALCHEMY_DATABASE_URI=conftest_database_url()))
    with prod.app_context():
        client = prod.test_client()
        home = client.get("/")
        assert home.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        response = client.post("/login", data={"email": "prod@example.com", "password": PASSWORD})
        assert response.status_code == 302
        cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
        flags = [part.strip().lower() for part in cookie.split(";")]
        assert "secure" in flags
        assert "httponly" in flags
        assert "samesite=lax" in flags


def conftest_database_url() -> str:
    return db.engine.url.render_as_string(hide_password=False)


def test_session_cookie_is_httponly_lax_and_holds_nothing_personal(app, client, session):
    user = make_user("citizen", email="hong@example.com", name="홍길동")
    response = login(client, user)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "secure" not in flags  # development over http
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    data = app.session_interface.get_signing_serializer(app).loads(value)
    dumped = repr(data)
    assert "hong@example.com" not in dumped
    assert "홍길동" not in dumped
    assert "010" not in dumped


def test_language_cookie_flags(client):
    response = client.post("/lang", data={"lang": "en", "next": "/"})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("lang="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


# --- production configuration -------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, "", DEFAULT_SECRET_KEY, "short"])
def test_production_refuses_missing_or_default_secret(secret):
    env = {"CIVIC_ENV": "production", "DATABASE_URL": "postgresql://civic@db/civic"}
    if secret is not None:
        env["SECRET_KEY"] = secret
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        check_production(load_config(env))


def test_production_refuses_sqlite_unless_allowed():
    env = {"CIVIC_ENV": "production", "SECRET_KEY": "x" * 40, "REDIS_URL": "redis://cache:6379/0"}
    with pytest.raises(ConfigError, match="SQLite"):
        check_production(load_config(env))
    check_production(load_config({**env, "ALLOW_SQLITE_IN_PRODUCTION": "1"}))
    cfg = load_config({**env, "DATABASE_URL": "postgres://civic@db/civic"})
    check_production(cfg)
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://civic@db/civic"
    assert cfg["SESSION_COOKIE_SECURE"] is True


def test_production_needs_redis_for_the_shared_cache_and_login_limits():
    env = {"CIVIC_ENV": "production", "SECRET_KEY": "x" * 40, "DATABASE_URL": "postgresql://civic@db/civic"}
    with pytest.raises(ConfigError, match="REDIS_URL"):
        check_production(load_config(env))
    cfg = load_config({**env, "REDIS_URL": "redis://cache:6379/0"})
    check_production(cfg)
    assert cfg["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/0"  # login limits shared too
    assert load_config({})["REDIS_URL"] is None  # development: one process, no Redis needed


def test_create_app_refuses_unsafe_production(monkeypatch):
    monkeypatch.setenv("CIVIC_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://civic@db/civic")
    with pytest.raises(ConfigError):
        create_app()


def test_development_defaults_are_safe_for_cookies():
    cfg = load_config({})
    assert cfg["SESSION_COOKIE_HTTPONLY"] is True
    assert cfg["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert cfg["SESSION_COOKIE_SECURE"] is False
    check_production(cfg)  # development is not checked


# --- error pages --------------------------------------------------------------------------


def _assert_korean_error(response, status: int, text: str) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == status
    assert text in body
    assert '<html lang="ko">' in body
    for leak in LEAKS:
        assert leak not in body, f"{status} page leaks {leak!r}"


def test_404_page_is_korean(client):
    _assert_korean_error(client.get("/no-such-page"), 404, "페이지를 찾을 수 없습니다")


def test_403_page_is_korean(client, session):
    login(client, make_user("citizen"))
    _assert_korean_error(client.get("/admin/users"), 403, "권한이 없습니다")


def test_400_page_is_korean(csrf_app, session):
    _assert_korean_error(csrf_app.test_client().post("/lang", data={"lang": "en"}), 400, "보안 토큰")


def test_400_for_a_bad_value_is_korean(client):
    _assert_korean_error(client.post("/lang", data={"lang": "fr"}), 400, "요청이 올바르지 않습니다")


def test_429_page_is_korean(session):
    make_user("citizen", email="limited@example.com")
    db.session.commit()
    limited = create_app(
        conftest.test_config(
            conftest_database_url(),
            RATELIMIT_ENABLED=True,
            RATELIMIT_STORAGE_URI="memory://",
            LOGIN_RATE_LIMIT_ACCOUNT="2 per minute",
        )
    )
    with limited.app_context():
        client = limited.test_client()
        for _ in range(2):
            client.post("/login", data={"email": "limited@example.com", "password": "wrong-password"})
        response = client.post("/login", data={"email": "limited@example.com", "password": PASSWORD})
        _assert_korean_error(response, 429, "요청이 너무 많습니다")


def test_500_page_is_korean_and_leaks_nothing(session):
    other = create_app(conftest.test_config(conftest_database_url(), TESTING=False))

    @other.route("/__boom")
    @public
    def boom():
        raise RuntimeError("SELECT password_hash FROM users -- Traceback secret")

    with other.app_context():
        response = other.test_client().get("/__boom")
        _assert_korean_error(response, 500, "일시적인 오류")
        assert "password_hash" not in response.get_data(as_text=True)
        api = other.test_client().get("/__boom", headers={"Accept": "application/json"})
        assert api.status_code == 500
        assert "password_hash" not in api.get_data(as_text=True)
        assert "일시적인 오류" in api.get_json()["error"]["message"]


def test_api_errors_are_json_in_korean(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert "찾을 수 없습니다" in response.get_json()["error"]["message"]
    bad = client.get("/api/v1/dongs?page=abc")
    assert bad.status_code == 400
    assert bad.get_json()["error"]["message"] == "page 값은 정수여야 합니다."


def test_error_page_falls_back_to_plain_korean_when_rendering_fails(session):
    other = create_app(conftest.test_config(conftest_database_url(), TESTING=False))

    @other.context_processor
    def broken() -> dict:
        raise RuntimeError("SELECT secret FROM users")

    with other.app_context():
        response = other.test_client().get("/no-such-page")
    _assert_korean_error(response, 404, "페이지를 찾을 수 없습니다")


def test_login_survives_an_unreachable_rate_limit_store(session):
    user = make_user("citizen", email="redis-down@example.com")
    db.session.commit()
    other = create_app(
        conftest.test_config(
            conftest_database_url(), RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0"
        )
    )
    with other.app_context():
        client = other.test_client()
        wrong = client.post("/login", data={"email": user.email, "password": "wrong-password"})
        assert wrong.status_code == 400
        assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "/\\evil.example", "https://evil.example/", "/\t/evil.example", "javascript:x"],
)
def test_login_never_redirects_off_site(client, session, target):
    user = make_user("citizen")
    db.session.commit()
    response = client.post(
        "/login", query_string={"next": target}, data={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
