"""Public JSON API: GET /api/v1/tongtong-days (no personal data)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, jsonify
from flask_babel import gettext as _

from civic_app.api.helpers import DATE_RANGE_PARAMS, ApiError, date_range_params, error_response, json_ok
from civic_app.extensions import csrf, db
from civic_app.meetings import queries
from civic_app.timeutil import SEOUL, iso_seoul, today_seoul, utcnow
from civic_app.web.policy import public

bp = Blueprint("meetings_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # read-only, cookie-less JSON

MAX_RANGE_DAYS = 3700


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    return error_response(error.message, error.status, error.param)


def serialize(row: queries.SessionRow) -> dict:
    s = row.session
    return {
        "id": s.id,
        "date": s.day.isoformat(),
        "start": iso_seoul(s.start_at),
        "end": iso_seoul(s.end_at),
        "status": s.status,
        "moved_from": s.moved_from.isoformat() if s.moved_from else None,
        "cancel_reason": s.cancel_reason,
        "slots": row.slots,
        "free_slots": row.free,
    }


@bp.route("/tongtong-days")
@public
def tongtong_days():
    start, end = date_range_params()
    today = today_seoul(utcnow())
    start = start or dt.date(today.year, 1, 1)
    end = end or dt.date(start.year, 12, 31)
    if end < start:
        raise ApiError(_("to 값은 from 값과 같거나 뒤여야 합니다."), param="to")
    if (end - start).days > MAX_RANGE_DAYS:
        raise ApiError(_("조회 기간은 10년 이내여야 합니다."), param="to")
    lo = dt.datetime.combine(start, dt.time(0), tzinfo=SEOUL)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=SEOUL)
    rows = queries.sessions_between(db.session, lo, hi)
    return jsonify({"items": [serialize(r) for r in rows], "total": len(rows)})


OPENAPI_PATHS = {
    "/api/v1/tongtong-days": {
        "get": {
            "summary": "통통데이 회차 (Citizen–mayor meeting sessions)",
            "description": "2·4째 목요일 14:00 회차. 공휴일로 옮긴 회차는 moved_from에 원래 날짜가 있습니다. "
            "개인정보는 포함되지 않습니다.",
            "operationId": "listTongtongDays",
            "parameters": DATE_RANGE_PARAMS,
            "responses": json_ok("TongtongDayList"),
        }
    }
}
OPENAPI_SCHEMAS = {
    "TongtongDay": {
        "type": "object",
        "required": ["id", "date", "start", "end", "status", "moved_from", "slots", "free_slots"],
        "properties": {
            "id": {"type": "integer"},
            "date": {"type": "string", "format": "date"},
            "start": {"type": "string", "format": "date-time", "example": "2026-12-10T14:00:00+09:00"},
            "end": {"type": "string", "format": "date-time", "example": "2026-12-10T15:00:00+09:00"},
            "status": {"type": "string", "enum": ["scheduled", "cancelled", "held"]},
            "moved_from": {"type": "string", "format": "date", "nullable": True},
            "cancel_reason": {"type": "string", "nullable": True},
            "slots": {"type": "integer", "minimum": 0},
            "free_slots": {"type": "integer", "minimum": 0},
        },
    },
    "TongtongDayList": {
        "type": "object",
        "required": ["items", "total"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/TongtongDay"}},
            "total": {"type": "integer", "minimum": 0},
        },
    },
}
