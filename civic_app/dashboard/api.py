"""Open data: aggregate statistics (/api/v1/stats/...) and CSV downloads of every public set.

The statistics come from ``stats`` (the dashboard reads the same functions). The CSV files of
the other features' sets are produced by calling those features' own JSON endpoints, page by
page, so a CSV always holds exactly what the JSON API says, with the same filters.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from civic_app.api.helpers import (
    DATE_RANGE_PARAMS,
    MAX_PER_PAGE,
    ApiError,
    error_response,
    int_param,
    json_ok,
    whole_set,
)
from civic_app.csvutil import csv_bytes
from civic_app.dashboard import stats
from civic_app.extensions import csrf, db
from civic_app.registry import get_registry
from civic_app.timeutil import today_seoul, utcnow
from civic_app.web.policy import public

bp = Blueprint("dashboard_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # read-only, cookie-less JSON and CSV: nothing to forge

MIN_YEAR, MAX_YEAR = 2000, 2100


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    return error_response(error.message, error.status, error.param)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return error_response(_("요청을 처리할 수 없습니다."), error.code or 500)


# --- parameters -----------------------------------------------------------------------------


def year_param() -> int:
    return int_param("year", today_seoul(utcnow()).year, MIN_YEAR, MAX_YEAR)


def dong_param():
    code = request.args.get("dong") or None
    if code is None:
        return None
    dong = stats.dong_by_code(db.session, code)
    if dong is None:
        # A well-formed code of no dong: the resource asked for does not exist (404, not 400).
        raise ApiError(_("dong 값에 해당하는 행정동이 없습니다: %(c)s", c=code), status=404, param="dong")
    return dong


# --- statistics -----------------------------------------------------------------------------


def _plan_vs_actual() -> dict:
    return stats.plan_vs_actual(db.session, now=utcnow(), dong=dong_param())


def _meeting_requests() -> dict:
    return stats.meeting_requests(db.session, year=year_param(), dong=dong_param())


def _suggestions() -> dict:
    return stats.suggestions(db.session, year=year_param(), dong=dong_param())


def _committee_progress() -> dict:
    return stats.committee_progress(db.session)


# name -> (compute, key of the table's rows, label of the total row's first column)
SECTIONS: dict[str, tuple[Callable[[], dict], str, str]] = {
    "plan-vs-actual": (_plan_vs_actual, "rows", "year"),
    "meeting-requests": (_meeting_requests, "months", "month"),
    "suggestions": (_suggestions, "rows", "dong_code"),
    "committee-progress": (_committee_progress, "rows", "field"),
}


def stats_table(section: str) -> tuple[list[str], list[list]]:
    """The CSV table of a statistics section: its rows and a final 합계 (total) row."""
    compute, key, first = SECTIONS[section]
    data = compute()
    rows = data[key]
    header = list(rows[0]) if rows else [first, *data["total"]]
    # Section-wide figures (median wait, met in person) go in extra columns of the total row.
    extras = [
        k
        for k, v in data.items()
        if k not in (key, "total", "year", "dong") and not isinstance(v, (dict, list))
    ]
    body = [[row.get(h) for h in header] + [None] * len(extras) for row in rows]
    total = data["total"]
    body.append([total.get(h, "합계" if h == first else None) for h in header] + [data[k] for k in extras])
    return header + extras, body


@bp.route("/stats/<any('plan-vs-actual', 'meeting-requests', suggestions, 'committee-progress'):section>")
@public
def stats_json(section: str):
    compute, _key, _first = SECTIONS[section]
    return jsonify(compute())


@bp.route("/stats/<any('plan-vs-actual', 'meeting-requests', suggestions, 'committee-progress'):section>.csv")
@public
def stats_csv(section: str):
    header, body = stats_table(section)
    return csv_response(f"stats-{section}.csv", header, body)


# --- CSV of the other features' sets --------------------------------------------------------

# CSV name -> (JSON endpoint, key of the list in its answer, paginated?, OpenAPI item schema)
CSV_SETS: dict[str, tuple[str, str, bool, str]] = {
    "dongs": ("api.dongs", "items", True, "Dong"),
    "visits": ("visits_api.list_visits", "items", True, "Visit"),
    "tongtong-days": ("meetings_api.tongtong_days", "items", False, "TongtongDay"),
    "committee-tasks": ("committee_api.tasks", "items", True, "CommitteeTask"),
    "committee-summary": ("committee_api.summary", "rows", False, "CommitteeSummaryRow"),
}


def collect(endpoint: str, key: str, paginated: bool) -> tuple[list[dict], dict]:
    """Every item the JSON endpoint answers for this request's filters, all pages."""
    view = current_app.view_functions.get(endpoint)
    if view is None:
        raise ApiError(_("요청한 자료를 찾을 수 없습니다."), status=404)
    args = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}
    path = url_for(endpoint)
    items: list[dict] = []
    page = 1
    while True:
        query = {**args, "page": page, "per_page": MAX_PER_PAGE} if paginated else args
        with current_app.test_request_context(path, query_string=query), whole_set():
            response = current_app.make_response(view())
        if response.status_code != 200:
            raise ApiError(response.get_json()["error"]["message"], status=response.status_code)
        body = response.get_json()
        items += body[key]
        if not paginated or not body[key] or len(items) >= body["total"]:
            return items, body
        page += 1


def _cell(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def csv_response(filename: str, header: list[str], rows: list[list]) -> Response:
    body = csv_bytes(header, ([_cell(v) for v in row] for row in rows))
    response = Response(body, mimetype="text/csv")
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def columns(schema: str, items: list[dict]) -> list[str]:
    """The columns in the order the OpenAPI schema lists them (JSON objects are unordered)."""
    documented = list(get_registry(current_app).openapi_schemas.get(schema, {}).get("properties", {}))
    present = list(items[0]) if items else documented
    return [c for c in documented if c in present] + sorted(c for c in present if c not in documented)


def set_table(name: str) -> tuple[list[str], list[list]]:
    endpoint, key, paginated, schema = CSV_SETS[name]
    items, body = collect(endpoint, key, paginated)
    header = columns(schema, items)
    rows = [[item.get(h) for h in header] for item in items]
    if name == "committee-summary" and header:
        rows.append([body["total"].get(h, "합계" if h == "field" else None) for h in header])
    return header, rows


def _set_csv(name: str):
    header, rows = set_table(name)
    return csv_response(f"{name}.csv", header, rows)


@bp.route("/dongs.csv")
@public
def dongs_csv():
    return _set_csv("dongs")


@bp.route("/visits.csv")
@public
def visits_csv():
    return _set_csv("visits")


@bp.route("/tongtong-days.csv")
@public
def tongtong_days_csv():
    return _set_csv("tongtong-days")


@bp.route("/committee/tasks.csv")
@public
def committee_tasks_csv():
    return _set_csv("committee-tasks")


@bp.route("/committee/summary.csv")
@public
def committee_summary_csv():
    return _set_csv("committee-summary")


# --- OpenAPI ---------------------------------------------------------------------------------

ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
CSV_RESPONSES = {
    "200": {
        "description": "CSV (UTF-8 with BOM)",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    },
    "400": {"description": "Bad parameter", **ERROR},
}
YEAR_PARAM = {
    "name": "year",
    "in": "query",
    "description": "연도 (기본: 올해)",
    "schema": {"type": "integer", "minimum": MIN_YEAR, "maximum": MAX_YEAR},
}
DONG_PARAM = {
    "name": "dong",
    "in": "query",
    "description": "행정동코드 (10자리)",
    "schema": {"type": "string", "pattern": "^[0-9]{10}$"},
}
COMMITTEE_PARAMS = [
    {"name": "committee", "in": "query", "schema": {"type": "string"}},
]
_COUNT = {"type": "integer", "minimum": 0}
_NULL_COUNT = {"type": "integer", "minimum": 0, "nullable": True}
_PERCENT = {"type": "number", "minimum": 0, "maximum": 100, "nullable": True}
_DONG_CODE = {"type": "string", "pattern": "^[0-9]{10}$", "nullable": True}

STATS_DOC = {
    "plan-vs-actual": (
        "연도별 계획 대비 실적: 통통데이·동 방문 (Plan vs actual per year)",
        "statsPlanVsActual",
        [DONG_PARAM],
        "StatsPlanVsActual",
    ),
    "meeting-requests": (
        "월별 면담 신청과 처리 방식, 대기일수 중앙값 (Meeting requests per month)",
        "statsMeetingRequests",
        [YEAR_PARAM, DONG_PARAM],
        "StatsMeetingRequests",
    ),
    "suggestions": (
        "동별 건의사항과 처리 결과 (Suggestions per dong and outcomes)",
        "statsSuggestions",
        [YEAR_PARAM, DONG_PARAM],
        "StatsSuggestions",
    ),
    "committee-progress": (
        "위원회 분야별 과제 진행 (Committee task progress by field)",
        "statsCommitteeProgress",
        [],
        "StatsCommitteeProgress",
    ),
}


def _object(props: dict) -> dict:
    return {"type": "object", "required": list(props), "properties": props, "additionalProperties": False}


_PVA_ROW = {
    "year": {"type": "integer"},
    "tongtong_plan": _NULL_COUNT,
    "tongtong_held": _NULL_COUNT,
    "tongtong_cancelled": _NULL_COUNT,
    "visits_plan": _COUNT,
    "visits_scheduled": _COUNT,
    "visits_held": _COUNT,
    "tours_held": _COUNT,
}
_PVA_TOTAL = {
    k: _PVA_ROW[k] for k in ("tongtong_plan", "tongtong_held", "visits_plan", "visits_held", "tours_held")
}
_MONTH_COUNTS = {"requests": _COUNT, **dict.fromkeys(stats.ROUTE_KEYS, _COUNT), "undecided": _COUNT}
_SUGGESTION_COUNTS = {"total": _COUNT, **dict.fromkeys(stats.OUTCOME_KEYS, _COUNT)}
_TASK_COUNTS = {
    "total": _COUNT,
    **dict.fromkeys(stats.TASK_STATUS_KEYS, _COUNT),
    "average_progress": _PERCENT,
}

OPENAPI_SCHEMAS = {
    "StatsPlanVsActual": _object(
        {
            "dong": _DONG_CODE,
            "rows": {"type": "array", "items": _object(_PVA_ROW)},
            "total": _object(_PVA_TOTAL),
        }
    ),
    "StatsMeetingRequests": _object(
        {
            "year": {"type": "integer"},
            "dong": _DONG_CODE,
            "months": {
                "type": "array",
                "items": _object(
                    {"month": {"type": "integer", "minimum": 1, "maximum": 12}, **_MONTH_COUNTS}
                ),
            },
            "total": _object(_MONTH_COUNTS),
            "met_in_person": _COUNT,
            "median_wait_days": {"type": "number", "nullable": True},
        }
    ),
    "StatsSuggestions": _object(
        {
            "year": {"type": "integer"},
            "dong": _DONG_CODE,
            "rows": {
                "type": "array",
                "items": _object(
                    {"dong_code": {"type": "string"}, "dong_name": {"type": "string"}, **_SUGGESTION_COUNTS}
                ),
            },
            "total": _object(_SUGGESTION_COUNTS),
        }
    ),
    "StatsCommitteeProgress": _object(
        {
            "rows": {"type": "array", "items": _object({"field": {"type": "string"}, **_TASK_COUNTS})},
            "total": _object(_TASK_COUNTS),
        }
    ),
}

OPENAPI_PATHS: dict = {}
for _section, (_summary, _op, _params, _schema) in STATS_DOC.items():
    OPENAPI_PATHS[f"/api/v1/stats/{_section}"] = {
        "get": {
            "summary": _summary,
            "description": "집계 통계입니다. 개인정보는 포함되지 않습니다.",
            "operationId": _op,
            "tags": ["stats"],
            "parameters": _params,
            "responses": {
                **json_ok(_schema),
                **({"404": {"description": "Unknown dong", **ERROR}} if DONG_PARAM in _params else {}),
            },
        }
    }
    OPENAPI_PATHS[f"/api/v1/stats/{_section}.csv"] = {
        "get": {
            "summary": f"{_summary} — CSV",
            "operationId": f"{_op}Csv",
            "tags": ["stats", "csv"],
            "parameters": _params,
            "responses": {
                **CSV_RESPONSES,
                **({"404": {"description": "Unknown dong", **ERROR}} if DONG_PARAM in _params else {}),
            },
        }
    }

_CSV_DOC = {
    "/api/v1/dongs.csv": ("행정동 목록 CSV (Dongs)", "dongsCsv", []),
    "/api/v1/visits.csv": ("공개된 동 방문·탐방 일정 CSV (Visits)", "visitsCsv", DATE_RANGE_PARAMS),
    "/api/v1/tongtong-days.csv": ("통통데이 회차 CSV (Sessions)", "tongtongDaysCsv", DATE_RANGE_PARAMS),
    "/api/v1/committee/tasks.csv": (
        "위원회 과제 목록 CSV (Committee tasks)",
        "committeeTasksCsv",
        [
            *COMMITTEE_PARAMS,
            {"name": "field", "in": "query", "schema": {"type": "string"}},
            {
                "name": "origin",
                "in": "query",
                "schema": {"type": "string", "enum": ["baseline", "new", "advisory"]},
            },
            {
                "name": "status",
                "in": "query",
                "schema": {
                    "type": "string",
                    "enum": ["proposed", "active", "concluded", "replaced", "dropped"],
                },
            },
        ],
    ),
    "/api/v1/committee/summary.csv": (
        "위원회 분야별 과제 현황 CSV (Committee summary)",
        "committeeSummaryCsv",
        COMMITTEE_PARAMS,
    ),
}
for _path, (_summary, _op, _params) in _CSV_DOC.items():
    OPENAPI_PATHS[_path] = {
        "get": {
            "summary": _summary,
            "description": "같은 이름의 JSON API와 같은 자료, 같은 필터입니다. UTF-8 (BOM 포함).",
            "operationId": _op,
            "tags": ["csv"],
            "parameters": _params,
            "responses": {**CSV_RESPONSES, "404": {"description": "Unknown committee", **ERROR}},
        }
    }
