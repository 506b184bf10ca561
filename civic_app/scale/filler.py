"""A generic bulk row writer that reads the models at run time.

Features keep adding columns while the data set is being built; the seeder names only the
columns whose values matter for the pages (status, dates, foreign keys) and this module fills
every other NOT NULL column without a default from its SQL type. Ids are assigned here (one
``max(id)`` read per table) so child rows can refer to parents without a round trip, and the
PostgreSQL sequences are moved past them at the end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy.orm import Session

BATCH = 2000

Row = dict


def _generic_value(col: sa.Column, ident: int, now: dt.datetime):
    """A plausible value for a NOT NULL column the seeder did not name."""
    kind = col.type
    try:
        py = kind.python_type
    except NotImplementedError:
        py = None
    if isinstance(kind, sa.JSON):
        return []
    if py is bool:
        return False
    if py is int:
        return 0
    if py is dt.datetime:
        return now
    if py is dt.date:
        return now.date()
    if py is dt.time:
        return dt.time(14, 0)
    if py is str:
        length = getattr(kind, "length", None) or 200
        return f"{col.name[: max(1, length - 12)]}-{ident}"[:length]
    if py is float:
        return 0.0
    return None


class Filler:
    """Writes rows in batches of :data:`BATCH` with one executemany per batch."""

    def __init__(self, session: Session, now: dt.datetime, tick: Callable[[int], None] | None = None) -> None:
        self.session = session
        self.now = now
        self.tick = tick or (lambda _n: None)
        self._next: dict[str, int] = {}
        self.touched: list[sa.Table] = []
        self.counts: dict[str, int] = {}

    def next_id(self, table: sa.Table) -> int:
        if table.name not in self._next:
            current = self.session.scalar(sa.select(sa.func.max(table.c.id))) or 0
            self._next[table.name] = current + 1
        return self._next[table.name]

    def _completer(self, table: sa.Table, sample: Row) -> Callable[[Row, int], Row]:
        missing = [
            c
            for c in table.columns
            if c.name not in sample
            and not c.nullable
            and c.default is None
            and c.server_default is None
            and not (c.primary_key and c.autoincrement is not False and c.name == "id")
        ]
        fk_missing = [c for c in missing if c.foreign_keys]
        if fk_missing:
            names = ", ".join(c.name for c in fk_missing)
            raise RuntimeError(f"seed-scale: {table.name} has required foreign keys not filled: {names}")

        def complete(row: Row, ident: int) -> Row:
            for col in missing:
                row[col.name] = _generic_value(col, ident, self.now)
            return row

        return complete

    def insert(self, model_or_table, count: int, make: Callable[[int, int], Row | None]) -> list[int]:
        """Insert ``count`` rows built by ``make(index, id)``; returns their ids.

        ``make`` may return None to skip an index (the id is then not used).
        """
        table: sa.Table = getattr(model_or_table, "__table__", model_or_table)
        has_id = "id" in table.c
        start = self.next_id(table) if has_id else 0
        ids: list[int] = []
        complete = None
        batch: list[Row] = []
        ident = start
        for index in range(count):
            row = make(index, ident)
            if row is None:
                self.tick(1)
                continue
            row_id = ident
            if has_id:
                row["id"] = ident
                ids.append(ident)
                ident += 1
            if complete is None:
                complete = self._completer(table, row)
            batch.append(complete(row, row_id))
            if len(batch) >= BATCH:
                self._flush(table, batch)
                batch = []
        if batch:
            self._flush(table, batch)
        if has_id:
            self._next[table.name] = ident
        if table not in self.touched:
            self.touched.append(table)
        self.counts[table.name] = self.counts.get(table.name, 0) + len(ids if has_id else range(count))
        return ids

    def _flush(self, table: sa.Table, rows: list[Row]) -> None:
        self.session.execute(table.insert(), rows)
        self.tick(len(rows))

    def fix_sequences(self) -> None:
        """Move PostgreSQL id sequences past the ids written here."""
        bind = self.session.get_bind()
        if bind.dialect.name != "postgresql":
            return
        for table in self.touched:
            if "id" not in table.c:
                continue
            self.session.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608 - table names come from the models
                    f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"
                )
            )


def chunks(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
