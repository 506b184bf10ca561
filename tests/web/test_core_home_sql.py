"""The public home page gathers a block from every feature yet stays within 10 SQL statements."""

from contextlib import contextmanager

from sqlalchemy import event

from civic_app.extensions import db
from tests.factories import make_dong


@contextmanager
def count_statements():
    seen: list[str] = []

    def listener(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


def test_home_page_statement_count_is_small_and_constant(client, session):
    client.get("/")  # warm-up: first-request work (catalogs, reflection) is not the page's cost
    with count_statements() as few:
        assert client.get("/").status_code == 200
    for i in range(60):
        make_dong(f"추가{i}동")
    session.commit()
    with count_statements() as many:
        assert client.get("/").status_code == 200
    assert len(few) <= 10
    assert len(many) == len(few)
