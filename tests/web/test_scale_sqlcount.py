"""The benchmark's X-SQL-Count header: off by default, exact when switched on."""

from __future__ import annotations

from civic_app import create_app
from tests import conftest
from tests.factories import make_dong


def test_header_is_off_by_default(client):
    assert "X-SQL-Count" not in client.get("/api/v1/dongs").headers


def test_header_counts_statements_and_does_not_grow_with_rows(app, session, database_url):
    counted = create_app(conftest.test_config(database_url, SQL_COUNT_HEADER=True))
    client = counted.test_client()
    make_dong()
    session.commit()
    one = int(client.get("/api/v1/dongs").headers["X-SQL-Count"])
    for _ in range(30):
        make_dong()
    session.commit()
    many = int(client.get("/api/v1/dongs").headers["X-SQL-Count"])
    assert one >= 2  # the count and the page query at least
    assert many == one
    assert client.get("/static/css/app.css").headers["X-SQL-Count"] == "0"
