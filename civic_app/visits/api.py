"""GET /api/v1/visits: published visits and tours (no personal data)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, jsonify
from sqlalchemy import select

from civic_app.api.helpers import (
    DATE_RANGE_PARAMS,
    PAGE_PARAMS,
    ApiError,
    date_range_params,
    error_response,
    json_ok,
    list_schema,
    paginate,
)
from civic_app.extensions import csrf, db
from civic_app.registry import get_registry
from civic_app.timeutil import SEOUL, iso_seoul
from civic_app.visits.models import CANCELLED, Visit
from civic_app.web.policy import public

bp = Blueprint("visits_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # read-only, cookie-less JSON


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    return error_response(error.message, error.status, error.param)


def serialize(row) -> dict:
    visit: Visit = row[0]
    return {
        "id": visit.id,
        "start": iso_seoul(visit.start_at),
        "end": iso_seoul(visit.end_at),
        "dong_code": visit.dong.code if visit.dong else None,
        "dong_name": visit.dong.name if visit.dong else None,
        "kind": visit.kind,
        "status": visit.status,
        "cycle": visit.cycle.name if visit.cycle else None,
        "theme": visit.theme,
        "url": f"/visits/{visit.id}",
    }


@bp.route("/visits")
@public
def list_visits():
    start, end = date_range_params()
    query = select(Visit).where(Visit.published.is_(True), Visit.status != CANCELLED)
    if start:
        query = query.where(Visit.start_at >= dt.datetime.combine(start, dt.time(0), tzinfo=SEOUL))
    if end:
        query = query.where(
            Visit.start_at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=SEOUL)
        )
    query = query.order_by(Visit.start_at, Visit.id)
    from sqlalchemy.orm import joinedload, lazyload

    # The answer never reads a visit's departments or tour sites (eager for other pages).
    query = query.options(joinedload(Visit.cycle), lazyload(Visit.departments), lazyload(Visit.sites))
    return jsonify(paginate(db.session, query, serialize))


OPENAPI_PATHS = {
    "/api/v1/visits": {
        "get": {
            "summary": "공개된 동 방문·민생현장 탐방 일정 (Published dong visits and field tours)",
            "operationId": "listVisits",
            "parameters": [*DATE_RANGE_PARAMS, *PAGE_PARAMS],
            "responses": json_ok("VisitList"),
        }
    }
}
OPENAPI_SCHEMAS = {
    "Visit": {
        "type": "object",
        "required": [
            "id",
            "start",
            "end",
            "dong_code",
            "dong_name",
            "kind",
            "status",
            "cycle",
            "theme",
            "url",
        ],
        "properties": {
            "id": {"type": "integer"},
            "start": {
                "type": "string",
                "format": "date-time",
                "description": "ISO 8601, Asia/Seoul (+09:00)",
                "pattern": "\\+09:00$",
            },
            "end": {"type": "string", "format": "date-time", "pattern": "\\+09:00$"},
            "dong_code": {"type": "string", "pattern": "^[0-9]{10}$", "nullable": True},
            "dong_name": {"type": "string", "nullable": True},
            "kind": {"type": "string", "enum": ["regular", "tour"]},
            "status": {
                "type": "string",
                "enum": ["planned", "confirmed", "held", "results_published", "postponed"],
            },
            "cycle": {"type": "string", "nullable": True},
            "theme": {"type": "string", "nullable": True},
            "url": {"type": "string"},
        },
    },
    "VisitList": list_schema("Visit"),
}


def init_app(app) -> None:
    app.register_blueprint(bp)
    get_registry(app).add_openapi(OPENAPI_PATHS, OPENAPI_SCHEMAS)
