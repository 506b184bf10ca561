"""Shared fixtures: one database per test session, cleaned after every test.

The database is SQLite (a file, so browser tests' live server thread sees the same data) or,
when ``TEST_DATABASE_URL`` is set, a fresh PostgreSQL database created on that server and
dropped at the end. Isolation uses table cleaning instead of a rolled-back SAVEPOINT because
the browser tests and the multi-process tests read committed data from other connections.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from civic_app import create_app
from civic_app.extensions import db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def _pg_admin_url(url: str) -> sa.URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not TEST_DATABASE_URL:
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        yield f"sqlite:///{path}"
        return
    base = _pg_admin_url(TEST_DATABASE_URL)
    name = f"civic_t_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


def test_config(database_url: str, **extra) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "CACHE_PAGES": False,  # the page cache has its own tests (tests/web/test_core_pagecache.py)
        "RATELIMIT_STORAGE_URI": "memory://",
        "SECRET_KEY": "test-secret-key-not-for-production",
        "PUBLIC_BASE_URL": "http://civic.test",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": 1,
        **extra,
    }


def no_fsync(application) -> None:
    """SQLite: commit without waiting for the disk (a test database need not survive a power
    cut); the locking and isolation stay the same."""
    with application.app_context():
        if db.engine.dialect.name == "sqlite":
            sa.event.listen(
                db.engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA synchronous=OFF")
            )


@pytest.fixture(scope="session")
def app(database_url: str):
    application = create_app(test_config(database_url))
    no_fsync(application)
    with application.app_context():
        db.create_all()
        _load_reference(application)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()  # the database itself is temporary: a file in tmp, or dropped whole


def _load_reference(application) -> None:
    from civic_app.demo.cli import ensure_reference_data

    ensure_reference_data(db.session)
    db.session.commit()


def clean_database(application) -> None:
    """Delete every row, then restore the reference data a fresh database holds."""
    db.session.remove()
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            _empty_postgres(conn, tables)
        else:
            conn.execute(sa.text("PRAGMA foreign_keys=OFF"))
            for table in tables:
                conn.execute(table.delete())
            conn.execute(sa.text("PRAGMA foreign_keys=ON"))
    _load_reference(application)


def _filled(conn: sa.Connection, tables: list[sa.Table]) -> list[sa.Table]:
    """The tables holding at least one row (one query; most tests touch a few of ~70)."""
    probe = " UNION ALL ".join(
        f'SELECT {i} FROM (SELECT 1 FROM "{t.name}" LIMIT 1) AS t{i}' for i, t in enumerate(tables)
    )
    filled = {row[0] for row in conn.exec_driver_sql(probe)}
    return [t for i, t in enumerate(tables) if i in filled]


def _empty_postgres(conn: sa.Connection, tables: list[sa.Table]) -> None:
    """Empty every table (children first) and restart every sequence, as a fresh database.

    Cheaper than ``TRUNCATE … RESTART IDENTITY`` (which replaces the files of every table, about
    a second per test on a busy machine): one query finds the tables holding rows, one
    statement deletes from them, one restarts the sequences.
    """
    deletes = " ".join(f'DELETE FROM "{t.name}";' for t in _filled(conn, tables))
    if deletes:
        conn.exec_driver_sql(f"DO $$ BEGIN {deletes} END $$")
    conn.exec_driver_sql(
        "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'S' AND n.nspname = current_schema()"
    )


@pytest.fixture(autouse=True)
def _app_context(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test that uses ``app`` runs inside its context and leaves a clean database."""
    if "app" not in request.fixturenames:
        yield
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        yield
        clean_database(application)


@pytest.fixture
def session(app):
    return db.session


# --- the demo city, seeded once per test process -------------------------------------------


@pytest.fixture(scope="session")
def _demo_snapshot(app) -> dict[str, list[dict]]:
    """Every row of the seeded demo city, read once per test process (xdist worker).

    Seeding runs every feature's demo loader (tens of seconds); restoring these rows costs a
    fraction of that, so each test that wants the demo city still gets a fresh copy of it.
    """
    from tests.factories_calendar import seed_demo

    with app.app_context():
        clean_database(app)
        seed_demo(app)
        snapshot = take_snapshot()
        clean_database(app)
    return snapshot


def take_snapshot() -> dict[str, list[dict]]:
    """Every row of the database by table name, for ``restore_snapshot``."""
    db.session.remove()
    with db.engine.connect() as conn:
        return {
            table.name: [dict(row) for row in conn.execute(table.select()).mappings()]
            for table in db.metadata.sorted_tables
        }


def restore_snapshot(snapshot: dict[str, list[dict]]) -> None:
    """Replace the whole database with ``snapshot`` (rows by table name), sequences included."""
    db.session.remove()
    tables = db.metadata.sorted_tables
    with db.engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            conn.execute(sa.text("PRAGMA foreign_keys=OFF"))
            for table in reversed(tables):
                conn.execute(table.delete())
        for table in tables:
            rows = snapshot.get(table.name)
            if not rows:
                continue
            # A column pointing at its own table (a card split from another) is filled in a
            # second pass, so the rows need no particular order.
            own = [c.name for c in table.columns if any(fk.column.table is table for fk in c.foreign_keys)]
            conn.execute(table.insert(), [{**r, **dict.fromkeys(own)} for r in rows] if own else rows)
            if own:
                pk = [c.name for c in table.primary_key.columns]
                update = (
                    table.update()
                    .where(*(table.c[k] == sa.bindparam(f"pk_{k}") for k in pk))
                    .values({k: sa.bindparam(f"v_{k}") for k in own})
                )
                linked = [r for r in rows if any(r[k] is not None for k in own)]
                if linked:
                    conn.execute(
                        update,
                        [{**{f"pk_{k}": r[k] for k in pk}, **{f"v_{k}": r[k] for k in own}} for r in linked],
                    )
        if postgres:
            for table in tables:
                ident = [
                    c
                    for c in table.primary_key.columns
                    if c.autoincrement is True
                    or (
                        c.autoincrement == "auto"
                        and isinstance(c.type, sa.Integer)
                        and len(table.primary_key.columns) == 1
                    )
                ]
                if len(ident) == 1 and snapshot.get(table.name):
                    col = ident[0].name
                    conn.execute(
                        sa.text(
                            f"SELECT setval(pg_get_serial_sequence(:t, :c), "
                            f'(SELECT max("{col}") FROM "{table.name}"))'
                        ),
                        {"t": f'"{table.name}"', "c": col},
                    )
        else:
            conn.execute(sa.text("PRAGMA foreign_keys=ON"))


@pytest.fixture
def demo_city(app, session, _demo_snapshot):
    """The demo city 한빛시 as ``flask seed-demo`` loads it, fresh for this test."""
    restore_snapshot(_demo_snapshot)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def csrf_app(app):
    """The same app with CSRF protection switched on, as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield app
    app.config["WTF_CSRF_ENABLED"] = False


# Tests whose subject is the HTTP surface rather than the database (browsers, hostile input,
# the OpenAPI contract) and that cost the most: `make test` runs them once, on PostgreSQL when it
# runs both databases (the production one, and the stricter one for hostile input).
ONCE_PATHS = ("e2e/", "web/test_fuzz_inputs.py", "web/test_openapi_schemathesis.py")
TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


LONGEST = ("web/test_fuzz_inputs.py", "web/test_openapi_schemathesis.py", "web/test_multiprocess_pg.py")


def _cost_rank(item: pytest.Item) -> int:
    relative = os.path.relpath(str(item.path), TESTS_DIR).replace(os.sep, "/")
    if relative.startswith(LONGEST):
        return 0
    if item.get_closest_marker("once") or item.get_closest_marker("slow"):
        return 1
    return 2


# Tests that run on one xdist worker, one after the other (path under tests/ → group): they
# share an expensive module fixture (two seeded cities, a set of server processes) that would
# otherwise be built on both workers. xdist's own `xdist_group` marker cannot do this: with
# pytest 9.2 the group suffix xdist 3.8 writes into the node id is ignored. (The browser tests
# are not grouped: one after the other on one worker they took longer than the rest together.)
XDIST_GROUPS = {
    "web/test_statement_counts.py": "statement_counts",
    "web/test_multiprocess_pg.py": "multiprocess_pg",
    "web/test_two_instances.py": "two_instances",
}


@pytest.hookimpl(optionalhook=True)  # a hook of xdist's; without xdist (-p no:xdist) unused
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        """Each test is its own unit of work, except the groups above (largest units first)."""

        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            for prefix, group in XDIST_GROUPS.items():
                if path.startswith(f"tests/{prefix}"):
                    return group
            return nodeid

    return GroupScheduling(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        relative = os.path.relpath(str(item.path), TESTS_DIR).replace(os.sep, "/")
        if relative.startswith(ONCE_PATHS):
            item.add_marker(pytest.mark.once)
    # Longest first, so that two xdist workers finish together instead of one waiting on the
    # other's last long test (the sort is stable: modules stay in one piece).
    items.sort(key=_cost_rank)
    if TEST_DATABASE_URL:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL (.ci/run does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 (aiosmtpd) collecting messages in a list."""
    import socket

    from aiosmtpd.controller import Controller

    class Collector:
        def __init__(self) -> None:
            self.messages: list = []

        async def handle_DATA(self, server, session, envelope):
            import email
            from email import policy

            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port
    try:
        yield handler
    finally:
        controller.stop()
