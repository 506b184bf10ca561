"""Data versions: one row per feature, given a new value by every transaction that writes it.

Caches (rendered pages in Redis, per-process reference data) are keyed by these versions, so a
write is seen by every process and machine on its next request: no time-based staleness.

How a write bumps its feature's version, in the same transaction:

- every statement the app's engine runs is looked at once (memoised by its text): INSERT,
  UPDATE and DELETE name the tables they write; a table belongs to the feature whose
  ``civic_app.<feature>.models`` maps it;
- just before the transaction's COMMIT, the written features' rows get a fresh random value
  (``INSERT … ON CONFLICT DO UPDATE`` on the same DBAPI connection, so the bump commits or rolls
  back with the data). Random values never repeat, even when a test empties the database.

This sees every write path (ORM flushes, bulk Core statements, ``text()`` SQL), not only ORM
objects. Writes outside the app (psql, pg_restore of another backup) are not seen:
``flask cache clear`` gives every feature a new version.

Tables whose writes no cached page reads are left out (the audit log, the outbox's delivery
state, counters), and so are a few per-request columns of ``users`` (last sign-in, session
token, language): a sign-in must not empty the page cache.

Readers must read the versions *before* the data they cache (``current()`` memoises the
versions per request): then a cached value is never older than its key says.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import threading
from collections.abc import Iterable

import sqlalchemy as sa
from flask import Flask, g, has_app_context
from sqlalchemy import BigInteger, String, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from civic_app.extensions import db


class DataVersion(db.Model):
    """The current version of one feature's data (a random 62-bit value, not a counter)."""

    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


TABLE = DataVersion.__table__
# Written often, read by no cached page (or only by pages that are never cached).
UNVERSIONED_TABLES = frozenset(
    {"data_versions", "audit_log", "outbox_messages", "telegram_bot_state", "allocation_counters"}
)
# An UPDATE that sets only these columns bumps nothing.
VOLATILE_COLUMNS = {"users": frozenset({"last_login_at", "session_token", "locale"})}
MIGRATION = "alembic_version"  # a migration's transaction: the deploy changes the cache keys

_FIRST_WORD = re.compile(r"\s*(\w+)")
_WRITES = re.compile(
    r"(?<!FOR )(?<!DO )\b(INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)"
    r"\s+(?:ONLY\s+)?((?:\"?\w+\"?)(?:\s*,\s*\"?\w+\"?)*)",
    re.IGNORECASE,
)
_SET_COLUMNS = re.compile(r"\bSET\s+(.*?)(?:\bWHERE\b|\bRETURNING\b|$)", re.IGNORECASE | re.DOTALL)
_ASSIGNED = re.compile(r"\"?(\w+)\"?\s*=")
_PENDING = "_data_versions_pending"
_MEMO = "_data_versions"
_WROTE = "_data_versions_wrote"


class _Groups:
    """Table name → feature name, built from the mapped models."""

    def __init__(self) -> None:
        self.by_table: dict[str, str] = {}
        self._statements: dict[str, frozenset[str]] = {}

    def build(self) -> None:
        mapped: dict[str, str] = {}
        for mapper in db.Model.registry.mappers:
            module = mapper.class_.__module__.split(".")
            feature = module[1] if len(module) > 2 and module[0] == "civic_app" else module[-1]
            for table in mapper.tables:
                mapped[table.name] = feature
        for table in db.metadata.tables.values():
            if table.name in mapped:
                continue
            # An association table: the feature of a mapped table sharing its first word.
            stem = table.name.split("_")[0]
            mapped[table.name] = next(
                (f for t, f in sorted(mapped.items()) if t.split("_")[0].startswith(stem)), "misc"
            )
        self.by_table = mapped
        self._statements.clear()

    def names(self) -> list[str]:
        return sorted({f for t, f in self.by_table.items() if t not in UNVERSIONED_TABLES})

    def written(self, statement: str) -> frozenset[str]:
        """The features a statement writes (memoised: statements are few distinct strings)."""
        hit = self._statements.get(statement)
        if hit is not None:
            return hit
        first = _FIRST_WORD.match(statement)
        word = first.group(1).upper() if first else ""
        if word in ("SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "PRAGMA", "SHOW", "SET"):
            groups: frozenset[str] = frozenset()
        else:
            groups = frozenset(self._scan(statement))
        if len(self._statements) > 20_000:
            self._statements.clear()
        self._statements[statement] = groups
        return groups

    def _scan(self, statement: str) -> Iterable[str]:
        for match in _WRITES.finditer(statement):
            verb = match.group(1).upper()
            names = match.group(2).replace('"', "").lower()
            if verb.startswith("TRUNCATE"):
                for table in names.split(","):
                    yield from self._feature(table.strip())
                continue
            table = names.split(",")[0].strip()
            volatile = VOLATILE_COLUMNS.get(table)
            if volatile and verb == "UPDATE":
                assigned = _SET_COLUMNS.search(statement, match.end())
                columns = set(_ASSIGNED.findall(assigned.group(1))) if assigned else set()
                if columns and columns <= volatile:
                    continue
            yield from self._feature(table)

    def _feature(self, table: str) -> Iterable[str]:
        if table == MIGRATION:
            yield MIGRATION
        elif table not in UNVERSIONED_TABLES and table != "set":
            yield self.by_table.get(table, "misc")


GROUPS = _Groups()


# --- writers ------------------------------------------------------------------------------------
def _on_execute(conn, _cursor, statement, _parameters, _context, _executemany) -> None:
    groups = GROUPS.written(statement)
    if groups:
        conn.info.setdefault(_PENDING, set()).update(groups)
        if has_app_context():
            g._data_versions_wrote = g.get(_WROTE, frozenset()) | groups


def _upsert_sql(dialect: sa.Dialect, count: int) -> str:
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    values = ", ".join(f"({mark}, {mark})" for _ in range(count))
    return (
        f"INSERT INTO data_versions (name, version) VALUES {values} "  # noqa: S608 - fixed text
        "ON CONFLICT (name) DO UPDATE SET version = excluded.version"
    )


def bump(conn: sa.Connection, groups: Iterable[str]) -> None:
    """Give ``groups`` new versions on ``conn``'s DBAPI connection (inside its transaction)."""
    names = sorted(set(groups))  # one order for every writer: no deadlock between two bumps
    if not names:
        return
    params: list = []
    for name in names:
        params += [name, secrets.randbits(62)]
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(_upsert_sql(conn.dialect, len(names)), tuple(params))
    finally:
        cursor.close()


def _table_exists(conn: sa.Connection) -> bool:
    """Checked once per engine: a database not yet migrated has no ``data_versions`` (on
    PostgreSQL a failed bump would abort the transaction, so it is looked up, not tried)."""
    engine = conn.engine
    if getattr(engine, "_civic_data_versions", False):
        return True
    if conn.dialect.name == "postgresql":
        sql = "SELECT to_regclass('data_versions') IS NOT NULL"
    else:
        sql = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'data_versions'"
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql)
        found = bool(cursor.fetchone()[0])
    finally:
        cursor.close()
    if found:
        engine._civic_data_versions = True
    return found


def _on_commit(conn) -> None:
    info = _pending_of(conn)
    pending = info.pop(_PENDING, None) if info is not None else None
    if has_app_context():
        g.pop(_MEMO, None)
        g.pop(_WROTE, None)
    if not pending or MIGRATION in pending or not _table_exists(conn):
        return
    bump(conn, pending)


def _pending_of(conn) -> dict | None:
    """The connection's info, or None when the connection is gone (invalidated: the server
    closed it; its pending writes went with it)."""
    try:
        return conn.info
    except sa.exc.SQLAlchemyError:
        return None


def _on_rollback(conn) -> None:
    info = _pending_of(conn)
    if info is not None:
        info.pop(_PENDING, None)
    if has_app_context():
        g.pop(_WROTE, None)


def _on_reset(_dbapi_connection, record, _reset_state) -> None:
    record.info.pop(_PENDING, None)


def install(engine: Engine) -> None:
    """Track writes on ``engine`` (the app's engine; idempotent)."""
    if event.contains(engine, "before_cursor_execute", _on_execute):
        return
    event.listen(engine, "before_cursor_execute", _on_execute)
    event.listen(engine, "commit", _on_commit)
    event.listen(engine, "rollback", _on_rollback)
    event.listen(engine, "reset", _on_reset)


def init_app(app: Flask) -> None:
    GROUPS.build()
    with app.app_context():
        install(db.engine)


# --- readers ------------------------------------------------------------------------------------
_SELECT = "SELECT name, version FROM data_versions"


def current() -> dict[str, int]:
    """Every feature's version (0: never written), read once per request and memoised on ``g``.

    On PostgreSQL the read goes through a connection of its own per thread, in autocommit mode
    with a prepared statement: one round trip (~25 µs here), no transaction to open and roll
    back, no pooled connection of the request's session taken (a page cache hit touches nothing
    else in the database). It runs before the page reads its data, on another connection, and
    READ COMMITTED lets each later statement see at least what it saw. SQLite (one machine,
    tests) reads through the session."""
    memo = g.get(_MEMO)
    if memo is None:
        memo = dict.fromkeys(GROUPS.names(), 0)
        reader = _reader()
        rows = reader.read() if reader is not None else None
        if rows is None:
            rows = db.session.execute(sa.select(TABLE.c.name, TABLE.c.version)).tuples().all()
        memo.update(rows)
        g._data_versions = memo
    return memo


class _Reader:
    """One autocommit psycopg connection per thread for the versions read."""

    def __init__(self, url: sa.URL) -> None:
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.local = threading.local()

    def read(self) -> list | None:
        import psycopg

        from civic_app.web import sqlcount

        for _attempt in range(2):
            conn = getattr(self.local, "conn", None)
            try:
                if conn is None or conn.closed:
                    conn = self.local.conn = psycopg.connect(
                        self.conninfo, autocommit=True, connect_timeout=5
                    )
                with conn.cursor() as cursor:
                    cursor.execute(_SELECT, prepare=True)
                    rows = cursor.fetchall()
                sqlcount.count_one()  # X-SQL-Count counts it like the session's statements
                return rows
            except psycopg.Error:
                with contextlib.suppress(Exception):
                    conn.close()
                self.local.conn = None
        return None  # the session will read them (and report the error if there is one)


def _reader() -> _Reader | None:
    from flask import current_app

    extensions = current_app.extensions
    if "civic_version_reader" not in extensions:
        engine = db.engine
        extensions["civic_version_reader"] = (
            _Reader(engine.url) if engine.dialect.name == "postgresql" else None
        )
    return extensions["civic_version_reader"]


def wrote_uncommitted(group: str | None = None) -> bool:
    """Whether this request (app context) wrote rows not yet committed (of ``group``, or of any
    feature): what it reads must not come from a cache nor go into one (the transaction sees its
    own rows, and may still roll back)."""
    wrote = g.get(_WROTE) if has_app_context() else None
    return bool(wrote) if group is None else bool(wrote and group in wrote)


def clear_all(session) -> None:
    """New versions for every feature (``flask cache clear``, after editing data by hand)."""
    bump(session.connection(), GROUPS.names())
