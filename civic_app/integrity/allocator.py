"""Gap-free, collision-free numbers from a per-scope counter row.

``next_value`` runs ``UPDATE allocation_counters SET value = value + 1 ... RETURNING value``:
the UPDATE takes the row lock (PostgreSQL: the same lock as SELECT ... FOR UPDATE; SQLite: the
database write lock), so concurrent allocators queue on the row and each gets the next number.
The lock is held until the caller's transaction ends, and the increment commits or rolls back
with the row that uses the number: no duplicates, no gaps. Callers should allocate late in their
transaction (just before the INSERT that uses the number) to keep the lock short.

The first use of a (scope, key) creates its row with ``INSERT ... ON CONFLICT DO NOTHING``,
starting from ``floor()`` (the highest number already in use, for data written before the
counter existed); two first users race harmlessly: one inserts, the other waits and reuses it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import update
from sqlalchemy.orm import Session

from civic_app.integrity.models import AllocationCounter


def _bump(session: Session, scope: str, key: str) -> int | None:
    stmt = (
        update(AllocationCounter)
        .where(AllocationCounter.scope == scope, AllocationCounter.key == key)
        .values(value=AllocationCounter.value + 1)
        .returning(AllocationCounter.value)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).scalar()


def _create(session: Session, scope: str, key: str, start: int) -> None:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = (
        insert(AllocationCounter)
        .values(scope=scope, key=key, value=start)
        .on_conflict_do_nothing(index_elements=["scope", "key"])
    )
    session.execute(stmt)


def next_value(
    session: Session, scope: str, key: str, *, floor: Callable[[], int | None] | None = None
) -> int:
    """The next number of ``(scope, key)``, locked until the caller's transaction ends.

    ``floor`` gives the highest number already used when the counter row does not exist yet.
    """
    value = _bump(session, scope, key)
    if value is None:
        _create(session, scope, key, int((floor() if floor else 0) or 0))
        value = _bump(session, scope, key)
    if value is None:  # pragma: no cover - the row exists after _create
        raise RuntimeError(f"allocation counter {scope}/{key} missing")
    return int(value)


def next_after_max(session: Session, scope: str, key: str, current_max: Callable[[], int | None]) -> int:
    """``current_max() + 1``, read under the (scope, key) row lock.

    For numbers users may also set or clear by hand (a queue rank): the counter row only
    serialises the allocators, the number comes from the data read after the lock is held.
    """
    next_value(session, scope, key)
    return int(current_max() or 0) + 1
