"""Unique-constraint races (and lock failures) as the user's ordinary outcome, never a 500.

Two requests that pass the same "is it free?" check at once both reach the INSERT; the database
refuses the second with a unique violation. That is not a bug to report but an answer to give:
"someone was faster, look again". This module is the one place that recognises such errors:

- ``conflict_for(error)`` maps a database error to a ``Conflict`` with a Korean message (by the
  table and columns of the violated unique constraint, see ``UNIQUE_MESSAGES``), or None when the
  error is a real bug (a NOT NULL violation, a syntax error ...);
- ``is_unique_violation(error, table, *columns)``: for a service that routes a race into its
  ordinary path (registration treats a lost e-mail race exactly like an existing e-mail), with
  ``savepoint(session)`` around the INSERT so the outer transaction stays usable;
- the application's error handler (``civic_app._init_errors``) calls ``conflict_for`` for every
  database error a view lets escape: rollback, then HTTP 409 with the message (JSON under
  /api/), so a race nobody foresaw still gets a Korean "try again" page instead of a 500.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from civic_app.errors import Conflict

# PostgreSQL SQLSTATEs that mean "another transaction got there first; retry".
UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"
RETRY_STATES = {
    "40001": "serialization_failure",
    "40P01": "deadlock_detected",
    "55P03": "lock_not_available",
}


def _taken() -> str:
    return _("다른 사람이 먼저 바꾸었거나 이미 처리된 요청입니다. 새로 고친 뒤 다시 확인해 주세요.")


def _busy() -> str:
    return _("동시에 들어온 요청이 많아 처리하지 못했습니다. 잠시 후 다시 시도해 주세요.")


# (table, columns) of a unique constraint → the message a user who lost the race reads.
# Unlisted constraints get the generic "someone was faster, reload" message. users.email is
# deliberately not listed: registration handles its race itself (no account enumeration).
UNIQUE_MESSAGES: dict[tuple[str, frozenset[str]], Callable[[], str]] = {
    ("meeting_bookings", frozenset({"slot_id"})): lambda: _(
        "이 면담 시간은 방금 다른 신청에 배정되었습니다. 다른 시간을 골라 주세요."
    ),
    ("meeting_requests", frozenset({"code"})): _busy,
    ("allocation_counters", frozenset({"scope", "key"})): _busy,
    ("card_reviews", frozenset({"item_id", "party"})): lambda: _(
        "다른 사람이 먼저 수정했습니다. 새로 고친 뒤 다시 시도해 주세요."
    ),
    ("closed_dates", frozenset({"day"})): lambda: _("이미 등록된 날짜입니다."),
}


def register_unique(table: str, columns: tuple[str, ...], message: Callable[[], str]) -> None:
    """Let a feature name the message for one of its unique constraints."""
    UNIQUE_MESSAGES[(table, frozenset(columns))] = message


def _sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)


_PG_KEY = re.compile(r"Key \((?P<cols>[^)]*)\)=")
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?P<cols>[\w.]+(?:, [\w.]+)*)")


def unique_violation(error: BaseException) -> tuple[str, frozenset[str]] | None:
    """(table, columns) of the unique constraint ``error`` violated, or None."""
    if not isinstance(error, IntegrityError):
        return None
    state = _sqlstate(error)
    if state is not None:
        if state != UNIQUE_VIOLATION:
            return None
        diag = getattr(error.orig, "diag", None)
        table = getattr(diag, "table_name", None) or ""
        match = _PG_KEY.search(getattr(diag, "message_detail", None) or str(error.orig))
        cols = frozenset(c.strip().strip('"') for c in match["cols"].split(",")) if match else frozenset()
        return table, cols
    match = _SQLITE_UNIQUE.search(str(error.orig))
    if match is None:
        return None
    pairs = [c.split(".", 1) for c in match["cols"].split(", ")]
    return pairs[0][0], frozenset(p[-1] for p in pairs)


def is_unique_violation(error: BaseException, table: str, *columns: str) -> bool:
    found = unique_violation(error)
    return found is not None and found == (table, frozenset(columns))


def conflict_for(error: BaseException) -> Conflict | None:
    """The user's answer to a database error caused by a concurrent request, or None (a bug)."""
    if not isinstance(error, DBAPIError):
        return None
    found = unique_violation(error)
    if found is not None:
        message = UNIQUE_MESSAGES.get(found, _taken)
        return Conflict(message())
    state = _sqlstate(error)
    if state in RETRY_STATES:
        return Conflict(_busy())
    if state == FOREIGN_KEY_VIOLATION:  # the row referred to was deleted meanwhile
        return Conflict(_taken())
    text = str(error.orig)
    if state is None and "database is locked" in text:  # SQLite's busy timeout ran out
        return Conflict(_busy())
    return None


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """``session.begin_nested()`` that also nests on SQLite's default driver.

    pysqlite opens its transaction only before a data-changing statement, so a SAVEPOINT sent
    first would start the transaction itself, and its RELEASE would commit it: the caller's
    later rollback could no longer undo the block. Open the transaction first.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")
    with session.begin_nested():
        yield
