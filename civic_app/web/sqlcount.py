"""``X-SQL-Count``: SQL statements run for a request, for the benchmark (off by default).

Enabled with the config key or environment variable ``SQL_COUNT_HEADER=1``. Pages must cost a
fixed number of statements whatever the data size; ``make bench`` reads this header.
"""

from __future__ import annotations

import os

from flask import Flask, Response, g, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine

HEADER = "X-SQL-Count"
_listening = False


def _count(*_args, **_kwargs) -> None:
    if has_request_context():
        g._sql_count = g.get("_sql_count", 0) + 1


def count_one() -> None:
    """Count a statement run outside SQLAlchemy (the data-versions read)."""
    _count()


def _add_header(response: Response) -> Response:
    response.headers[HEADER] = str(g.get("_sql_count", 0))
    return response


def enabled(app: Flask) -> bool:
    value = app.config.get("SQL_COUNT_HEADER", os.environ.get("SQL_COUNT_HEADER", ""))
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def init_app(app: Flask) -> None:
    global _listening  # noqa: PLW0603 - one process-wide listener for every engine
    if not enabled(app):
        return
    if not _listening:
        event.listen(Engine, "before_cursor_execute", _count)
        _listening = True
    app.after_request(_add_header)
