"""Issue 12, finding 6: TRUSTED_PROXY_COUNT. Behind one proxy, the login limiter and the audit
log use the client's address from X-Forwarded-For; with 0 the header is ignored."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from civic_app import create_app
from civic_app.audit.models import AuditLog
from civic_app.config import ConfigError, load_config
from civic_app.extensions import db
from tests import conftest
from tests.factories import login, make_user

PROXY = "10.0.0.1"


def _app(proxies: int):
    return create_app(
        conftest.test_config(
            db.engine.url.render_as_string(hide_password=False),
            RATELIMIT_ENABLED=True,
            RATELIMIT_STORAGE_URI="memory://",
            LOGIN_RATE_LIMIT_ACCOUNT="100 per minute",
            LOGIN_RATE_LIMIT_ADDRESS="3 per minute",
            TRUSTED_PROXY_COUNT=proxies,
        )
    )


def _attempt(client, n: int, forwarded: str) -> int:
    return client.post(
        "/login",
        data={"email": f"u{n}@example.com", "password": "wrong-password"},
        environ_base={"REMOTE_ADDR": PROXY},
        headers={"X-Forwarded-For": forwarded, "X-Forwarded-Proto": "https"},
    ).status_code


def test_behind_one_proxy_each_client_has_its_own_login_limit(session):
    app = _app(1)
    with app.app_context():
        client = app.test_client()
        assert [_attempt(client, i, "203.0.113.5") for i in range(3)] == [400] * 3
        assert _attempt(client, 9, "203.0.113.5") == 429
        # Another client through the same proxy is not locked out.
        assert _attempt(client, 9, "203.0.113.6") == 400
        # A client cannot pick its address: only the entry the proxy appended counts.
        assert _attempt(client, 9, "198.51.100.1, 203.0.113.5") == 429


def test_without_trusted_proxies_the_header_is_ignored(session):
    app = _app(0)
    with app.app_context():
        client = app.test_client()
        assert [_attempt(client, i, f"203.0.113.{i}") for i in range(3)] == [400] * 3
        # Forging a new X-Forwarded-For does not escape the limit of the real peer.
        assert _attempt(client, 9, "198.51.100.77") == 429


@pytest.mark.parametrize(("proxies", "expected"), [(1, "203.0.113.5"), (0, PROXY)])
def test_audit_log_records_the_client_behind_the_proxy(session, proxies, expected):
    admin = make_user("admin", email="admin-proxy@example.com")
    session.commit()
    app = _app(proxies)
    with app.app_context():
        client = app.test_client()
        client.environ_base.update({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.5"})
        login(client, admin)
        assert client.get("/admin/users").status_code == 200
        db.session.expire_all()
        entry = db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
        assert (entry.target_type, entry.ip) == ("user_list", expected)


def test_trusted_proxy_count_setting():
    assert load_config({})["TRUSTED_PROXY_COUNT"] == 0
    assert load_config({"TRUSTED_PROXY_COUNT": "1"})["TRUSTED_PROXY_COUNT"] == 1
    with pytest.raises(ConfigError):
        create_app({"TRUSTED_PROXY_COUNT": -1})
