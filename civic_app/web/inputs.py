"""Input guards every route shares: bounded integers and no NUL characters.

They turn malformed requests into client errors instead of database errors:
``/items/99999999999999999999`` or ``?page=99999999999999999999`` overflows an SQL INTEGER
(500 on PostgreSQL and SQLite) and PostgreSQL refuses text containing NUL (``\\x00``).

- URL path: ``<int:...>`` is limited to 1..2**31-1 (anything else is a 404).
- Query string: ``query_int(name)``; a number outside the range is a 404 (no page or row can
  match it), anything that is not a number is ignored like a missing argument.
- Forms: ``BoundedIntegerField`` and ``coerce=bounded_int`` turn an out-of-range number into a
  Korean form error.
"""

from __future__ import annotations

from flask import Flask, abort, request
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter
from wtforms import IntegerField
from wtforms.validators import NumberRange

SQL_INT_MAX = 2**31 - 1  # PostgreSQL INTEGER, the type of every id column
SQL_BIGINT_MAX = 2**63 - 1
OUT_OF_RANGE = _l("입력한 숫자가 허용 범위를 벗어났습니다.")


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` limited to 1..2**31-1: anything else cannot be a row id, so it is a 404."""

    def __init__(
        self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None, signed: bool = False
    ):
        super().__init__(
            map, fixed_digits=fixed_digits, min=min, max=SQL_INT_MAX if max is None else max, signed=signed
        )


def parse_int(raw: object, *, minimum: int = -SQL_INT_MAX, maximum: int = SQL_INT_MAX) -> int:
    """``int(raw)`` within [minimum, maximum]; ValueError for anything else.

    Only ASCII digits with an optional sign count: ``int()`` would also take "١٢", "1_000" and
    surrounding spaces, none of which a form or a link of this app produces.
    """
    text = str(raw).strip() if raw is not None else ""
    digits = text[1:] if text[:1] in "+-" else text
    if not digits or not digits.isascii() or not digits.isdigit() or len(digits) > 19:
        raise ValueError(raw)
    value = int(text)
    if not minimum <= value <= maximum:
        raise ValueError(raw)
    return value


def bounded_int(raw: object) -> int:
    """WTForms ``coerce`` for id choices (SelectField, RadioField, multi-checkbox): an SQL INTEGER."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        if -SQL_INT_MAX <= raw <= SQL_INT_MAX:
            return raw
        raise ValueError(raw)
    return parse_int(raw)


def query_int(
    name: str, default: int | None = None, *, minimum: int = 1, maximum: int = SQL_INT_MAX
) -> int | None:
    """An integer query argument (``?page=``, ``?dong=``, ``?field=``): missing or not a number →
    ``default``; a number outside [minimum, maximum] → 404."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    try:
        return parse_int(raw, minimum=minimum, maximum=maximum)
    except ValueError:
        digits = raw.lstrip("+-")
        if digits.isascii() and digits.isdigit():
            abort(404)  # a number, but not one a row or a page can have
        return default


class BoundedIntegerField(IntegerField):
    """An IntegerField whose value always fits the database column.

    A field with a two-sided ``NumberRange`` is bounded by it (money fields allow up to 10**13
    won in a BIGINT) and keeps its own message; any other is bounded to an SQL INTEGER and gets a
    Korean error beyond it.
    """

    def _bounded_by_validator(self) -> bool:
        return any(
            isinstance(v, NumberRange)
            and v.min is not None
            and v.max is not None
            and v.min >= -SQL_BIGINT_MAX
            and v.max <= SQL_BIGINT_MAX
            for v in self.validators
        )

    def process_formdata(self, valuelist: list) -> None:
        self._out_of_range = False
        super().process_formdata(valuelist)
        if self.data is None or self._bounded_by_validator():
            return
        if not -SQL_INT_MAX <= self.data <= SQL_INT_MAX:
            self.data = None
            self._out_of_range = True
            raise ValueError(str(OUT_OF_RANGE))

    def post_validate(self, form, validation_stopped: bool) -> None:
        # DataRequired/InputRequired clear earlier errors and would say "enter a number":
        # the number was entered, it is too large.
        if getattr(self, "_out_of_range", False):
            self.errors = [str(OUT_OF_RANGE)]


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
