"""The fixed cost of a signed-in request (issue 19): the user and their roles in one statement,
no ping of the database before each request, the session cookie written only when it changed;
and a connection the server dropped costs one request a 503, not every request a ping."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from civic_app import create_app
from civic_app.config import load_config
from civic_app.extensions import db
from tests.conftest import test_config as make_config
from tests.factories import login, make_user


@pytest.fixture
def counted(database_url, app):
    return create_app(make_config(database_url, SQL_COUNT_HEADER=True))


def test_a_signed_in_request_loads_the_user_with_roles_in_one_statement(counted):
    user = make_user("civic_staff", "budget_office", email="floor@example.com")
    db.session.commit()
    client = counted.test_client()
    anonymous = {path: int(client.get(path).headers["X-SQL-Count"]) for path in ("/healthz", "/login")}
    login(client, user)
    client.get("/account")  # the sign-in message is shown (and the session changes) here
    # A page shows who is signed in: the user, roles and department in one more statement.
    assert int(client.get("/login").headers["X-SQL-Count"]) == anonymous["/login"] + 1
    # A public route that shows nobody (health check, static files) loads no user at all.
    assert int(client.get("/healthz").headers["X-SQL-Count"]) == anonymous["/healthz"]
    staff_page = client.get("/staff/tongtong/requests")
    assert staff_page.status_code == 200  # the roles loaded with the user let the staff in


def test_the_session_cookie_is_written_only_when_it_changes(counted):
    user = make_user("citizen", email="cookie@example.com")
    db.session.commit()
    client = counted.test_client()
    login(client, user)
    client.get("/account")
    for path in ("/healthz", "/account", "/tongtong"):
        assert "Set-Cookie" not in client.get(path).headers, path
    config = load_config({})
    assert config["SESSION_REFRESH_EACH_REQUEST"] is False  # not even for a permanent session


def test_no_ping_before_each_request_but_connections_are_recycled():
    options = load_config({})["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is False
    assert 0 < options["pool_recycle"] <= 3600
    assert load_config({"DB_POOL_RECYCLE_SECONDS": "600"})["SQLALCHEMY_ENGINE_OPTIONS"]["pool_recycle"] == 600


@pytest.mark.postgres
def test_a_connection_dropped_by_the_server_costs_one_request_not_every_request(database_url, app):
    """Without a ping per request, a connection PostgreSQL closed (restart, idle timeout) is found
    dead by the next request on it: that request answers 503 and the pool reconnects."""
    served = create_app(make_config(database_url))
    client = served.test_client()
    assert client.get("/healthz").status_code == 200
    with served.app_context():
        pooled = {row[0] for row in db.session.execute(sa.text("SELECT pg_backend_pid()"))}
        db.session.remove()
    with db.engine.connect() as admin:
        for pid in pooled:
            admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    # /healthz catches its own database errors; an ordinary page meets the dead connection.
    first = client.get("/api/v1/dongs")
    assert first.status_code == 503
    assert first.headers["Retry-After"] == "1"
    assert client.get("/api/v1/dongs").status_code == 200
