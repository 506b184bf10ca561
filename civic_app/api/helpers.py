"""Shared API plumbing: pagination, parameter parsing, JSON errors."""

from __future__ import annotations

import datetime as dt

from flask import g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

MAX_PER_PAGE = 500
DEFAULT_PER_PAGE = 50


class ApiError(Exception):
    def __init__(self, message: str, status: int = 400, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.param = param


def error_response(message: str, status: int, param: str | None = None):
    body = {"error": {"status": status, "message": message}}
    if param:
        body["error"]["param"] = param
    return jsonify(body), status


def int_param(name: str, default: int, minimum: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(_("%(p)s 값은 정수여야 합니다.", p=name), param=name) from exc
    if value < minimum or value > maximum:
        raise ApiError(
            _("%(p)s 값은 %(a)d 이상 %(b)d 이하여야 합니다.", p=name, a=minimum, b=maximum), param=name
        )
    return value


def date_param(name: str, default: dt.date | None = None) -> dt.date | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise ApiError(_("%(p)s 값은 YYYY-MM-DD 형식의 날짜여야 합니다.", p=name), param=name) from exc
    if not (1900 <= value.year <= 2200):
        raise ApiError(_("%(p)s 값의 연도는 1900~2200 사이여야 합니다.", p=name), param=name)
    return value


def choice_param(name: str, choices: tuple[str, ...] | list[str]) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise ApiError(
            _("%(p)s 값은 다음 중 하나여야 합니다: %(c)s", p=name, c=", ".join(choices)), param=name
        )
    return raw


def date_range_params() -> tuple[dt.date | None, dt.date | None]:
    start = date_param("from")
    end = date_param("to")
    if start and end and end < start:
        raise ApiError(_("to 값은 from 값과 같거나 뒤여야 합니다."), param="to")
    return start, end


def paginate(session: Session, query: Select, serialize) -> dict:
    """Run ``query`` for the requested page: ``{"items", "total", "page", "per_page"}``.

    A CSV download of the whole set (:func:`whole_set`) gets every row in one statement: its
    cost must not grow page by page with the data."""
    if g.get("_api_whole_set"):
        items = [serialize(row) for row in session.execute(query)]
        return {"items": items, "total": len(items), "page": 1, "per_page": max(1, len(items))}
    page = int_param("page", 1, 1, 1_000_000)
    per_page = int_param("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.execute(query.limit(per_page).offset((page - 1) * per_page))
    items = [serialize(row) for row in rows]
    return {"items": items, "total": total, "page": page, "per_page": per_page}


class whole_set:  # noqa: N801 - a context manager used like a function
    """Within it, :func:`paginate` answers every row at once (the CSV downloads)."""

    def __enter__(self) -> None:
        g._api_whole_set = True

    def __exit__(self, *_exc) -> None:
        g.pop("_api_whole_set", None)


# Reusable OpenAPI fragments for features that extend the document.
PAGE_PARAMS = [
    {
        "name": "page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 1000000, "default": 1},
    },
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
    },
]
# Dates are accepted for the years 1900-2200; the pattern says so to API clients.
DATE_PATTERN = r"^(19[0-9]{2}|2[01][0-9]{2}|2200)-[0-9]{2}-[0-9]{2}$"
DATE_RANGE_PARAMS = [
    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date", "pattern": DATE_PATTERN}},
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date", "pattern": DATE_PATTERN}},
]


def list_schema(item_ref: str) -> dict:
    return {
        "type": "object",
        "required": ["items", "total", "page", "per_page"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item_ref}"}},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
        },
    }


def json_ok(schema_ref: str, description: str = "OK") -> dict:
    return {
        "200": {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
        },
        "400": {
            "description": "Bad parameter",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        },
    }
