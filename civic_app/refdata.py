"""Slow-changing reference data (dongs, departments, closed dates) and a few costly derived
numbers (the card review queues' counts), kept per process and keyed by their feature's data
version (:mod:`civic_app.dataversions`).

A page that needs the 426 dongs for a drop-down reads one small row of versions instead of
building 426 ORM objects; a write to the dongs (in any process) changes the version, so the
next request everywhere loads the new list. Values are immutable tuples of small frozen
records, never ORM objects: nothing a request does to them can leak into another request.

Outside a request or an app context (CLI, the bot) the loaders run uncached.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import current_app, has_app_context
from sqlalchemy import select

from civic_app import dataversions
from civic_app.extensions import db

T = TypeVar("T")
MAX_ENTRIES = 500
_lock = threading.Lock()


@dataclass(frozen=True)
class DongRef:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class DepartmentRef:
    id: int
    code: str
    name: str
    field: str | None
    active: bool


def cached(name: str, group: str, load: Callable[[], T]) -> T:
    """``load()`` once per data version of ``group`` in this process (for this app)."""
    if not has_app_context() or dataversions.wrote_uncommitted(group):
        return load()  # a script, or a transaction that changed this data and must see it
    version = dataversions.current().get(group, 0)  # read before the data: never older than its key
    store: dict = current_app.extensions.setdefault("civic_refdata", {})
    key = (name, version)
    hit = store.get(key)
    if hit is not None:
        return hit
    value = load()
    if not dataversions.wrote_uncommitted(group):
        with _lock:
            for old in [k for k in store if k[0] == name]:
                del store[old]
            if len(store) >= MAX_ENTRIES:
                store.clear()
            store[key] = value
    return value


def for_session(session) -> bool:
    """Whether ``session`` is the app's own session in an app context, where these caches
    apply (a script or the bot passing its own session reads the database directly)."""
    return has_app_context() and (session is db.session or session is db.session())


def dongs() -> tuple[DongRef, ...]:
    """Active dongs by name."""
    from civic_app.dongs.models import Dong

    def load() -> tuple[DongRef, ...]:
        rows = db.session.execute(
            select(Dong.id, Dong.code, Dong.name).where(Dong.active.is_(True)).order_by(Dong.name, Dong.id)
        )
        return tuple(DongRef(*row) for row in rows)

    return cached("dongs", "dongs", load)


def departments(active_only: bool = True) -> tuple[DepartmentRef, ...]:
    """Departments by name (active ones only by default)."""
    from civic_app.dongs.models import Department

    def load() -> tuple[DepartmentRef, ...]:
        rows = db.session.execute(
            select(
                Department.id, Department.code, Department.name, Department.field, Department.active
            ).order_by(Department.name, Department.id)
        )
        return tuple(DepartmentRef(*row) for row in rows)

    every = cached("departments", "dongs", load)
    return tuple(d for d in every if d.active) if active_only else every


@dataclass(frozen=True)
class ClosedDays:
    closed: tuple[tuple[dt.date, str], ...]  # admin closed dates
    blackouts: tuple[tuple[dt.date, dt.date, str], ...]


def closed_days() -> ClosedDays:
    """Every admin closed date and blackout range (a few per year)."""
    from civic_app.workdays.models import BlackoutRange, ClosedDate

    def load() -> ClosedDays:
        closed = db.session.execute(select(ClosedDate.day, ClosedDate.reason).order_by(ClosedDate.day))
        blackouts = db.session.execute(
            select(BlackoutRange.start_day, BlackoutRange.end_day, BlackoutRange.reason).order_by(
                BlackoutRange.start_day
            )
        )
        return ClosedDays(tuple(tuple(r) for r in closed), tuple(tuple(r) for r in blackouts))

    return cached("closed_days", "workdays", load)
