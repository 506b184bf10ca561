"""Row locks for derived values, and counters incremented in SQL.

A derived number (a score, a progress, a counter) is either computed when read, or written in
the transaction that holds the lock protecting its inputs (docs/data-integrity.md lists each).

- ``lock_row(session, obj)``: ``SELECT ... FOR UPDATE`` (``read=True``: ``FOR SHARE``) of one
  mapped row, reloading it, so checks and computations after it see the latest committed state
  and concurrent writers of the same row take turns. SQLite has no row locks and ignores the
  clause; its writers are serialised by the database lock.
- Counters listed in ``ATOMIC_COUNTERS`` (iCalendar ``SEQUENCE`` numbers, revision numbers),
  written in Python as ``obj.sequence += 1``, are flushed as ``SET sequence = sequence + 1``:
  the UPDATE's own row lock makes two concurrent changes count twice instead of writing the
  same number (which calendar clients would take for "no change"). After the flush the
  attribute is expired and reads the stored value.
"""

from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

# table → counter columns flushed as "column = column + delta"
ATOMIC_COUNTERS: dict[str, tuple[str, ...]] = {
    "tongtong_sessions": ("sequence",),
    "meeting_bookings": ("sequence",),
    "visits": ("sequence", "results_revision"),
    "committee_meetings": ("sequence",),
}


def lock_row(session: Session, obj: object, *, read: bool = False) -> None:
    """Lock ``obj``'s row until the transaction ends and reload its columns."""
    cls = type(obj)
    session.refresh(obj, with_for_update={"read": True, "of": cls} if read else {"of": cls})


@event.listens_for(Session, "before_flush")
def _atomic_increments(session: Session, _context, _instances) -> None:
    for obj in session.dirty:
        columns = ATOMIC_COUNTERS.get(getattr(obj, "__tablename__", ""))
        if not columns:
            continue
        state = inspect(obj)
        for name in columns:
            history = state.attrs[name].history
            if len(history.added) != 1 or len(history.deleted) != 1:
                continue
            new, old = history.added[0], history.deleted[0]
            if isinstance(new, int) and isinstance(old, int) and new > old:
                setattr(obj, name, getattr(type(obj), name) + (new - old))
