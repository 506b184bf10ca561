"""Input guards every route shares: bounded integer URL arguments and no NUL characters.

Both turn malformed requests into client errors instead of database errors:
``/items/99999999999999999999`` overflows an SQL INTEGER (500 on PostgreSQL and SQLite) and
PostgreSQL refuses text containing NUL (``\\x00``), whatever the form or query parameter.
"""

from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

SQL_INT_MAX = 2**31 - 1  # PostgreSQL INTEGER, the type of every id column


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` limited to 1..2**31-1: anything else cannot be a row id, so it is a 404."""

    def __init__(
        self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None, signed: bool = False
    ):
        super().__init__(
            map, fixed_digits=fixed_digits, min=min, max=SQL_INT_MAX if max is None else max, signed=signed
        )


def reject_nul() -> None:
    if "\x00" in request.path:  # /visits/dongs/%00: no row can have that key
        abort(404)
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400)


def init_app(app: Flask) -> None:
    """Call before blueprints are registered (the converter applies to rules added later)."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.before_request(reject_nul)
