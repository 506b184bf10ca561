"""Open data: the satisfaction index (/api/v1/stats/satisfaction) and its CSV.

Named like the other statistics (``/api/v1/stats/<section>`` and ``<section>.csv``); the CSV
holds the three breakdowns one under the other and a final 합계 (total) row.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from civic_app.api.helpers import json_ok
from civic_app.csvutil import csv_bytes
from civic_app.extensions import csrf, db
from civic_app.satisfaction import queries
from civic_app.satisfaction.models import PROCESSES
from civic_app.web.policy import public

bp = Blueprint("satisfaction_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # read-only, cookie-less JSON and CSV: nothing to forge

CSV_HEADER = ["breakdown", "key", "department_code", "responses", "mean", "reason_clear_mean"]


def index_json() -> dict:
    data = queries.satisfaction_index(db.session)
    return {k: data[k] for k in ("by_process", "by_department", "by_quarter")}


def csv_rows(data: dict) -> list[list]:
    rows: list[list] = []
    for row in data["by_process"]:
        rows.append(
            ["process", row["process"], None, row["responses"], row["mean"], row["reason_clear_mean"]]
        )
    for row in data["by_department"]:
        rows.append(
            [
                "department",
                row["department"],
                row["department_code"],
                row["responses"],
                row["mean"],
                row["reason_clear_mean"],
            ]
        )
    for row in data["by_quarter"]:
        rows.append(
            ["quarter", row["quarter"], None, row["responses"], row["mean"], row["reason_clear_mean"]]
        )
    total = data["total"]
    rows.append(["total", "합계", None, total["responses"], total["mean"], total["reason_clear_mean"]])
    return rows


@bp.route("/stats/satisfaction")
@public
def stats_satisfaction():
    return jsonify(index_json())


@bp.route("/stats/satisfaction.csv")
@public
def stats_satisfaction_csv():
    data = queries.satisfaction_index(db.session)
    response = Response(csv_bytes(CSV_HEADER, csv_rows(data)), mimetype="text/csv")
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="stats-satisfaction.csv"'
    return response


# --- OpenAPI ---------------------------------------------------------------------------------------

_COUNT = {"type": "integer", "minimum": 0}
_MEAN = {"type": "number", "minimum": 1, "maximum": 5, "nullable": True}
_FIGURES = {"responses": _COUNT, "mean": _MEAN, "reason_clear_mean": _MEAN}


def _object(props: dict, description: str | None = None) -> dict:
    schema = {"type": "object", "required": list(props), "properties": props, "additionalProperties": False}
    if description:
        schema["description"] = description
    return schema


OPENAPI_SCHEMAS = {
    "StatsSatisfaction": _object(
        {
            "by_process": {
                "type": "array",
                "items": _object({"process": {"type": "string", "enum": list(PROCESSES)}, **_FIGURES}),
            },
            "by_department": {
                "type": "array",
                "items": _object(
                    {
                        "department": {"type": "string", "nullable": True},
                        "department_code": {"type": "string", "nullable": True},
                        **_FIGURES,
                    },
                    "department null: answers about a subject without a department "
                    "(the mayor's or deputy mayor's meetings)",
                ),
            },
            "by_quarter": {
                "type": "array",
                "items": _object({"quarter": {"type": "string", "pattern": "^[0-9]{4}-Q[1-4]$"}, **_FIGURES}),
            },
        },
        "mean: average satisfaction (1-5); reason_clear_mean: average of 'was the reason clear' "
        "(1-5); both null for a row without answers. Quarters in Asia/Seoul time.",
    ),
}
_SUMMARY = "만족도 지수: 처리 방식별·부서별·분기별 응답 수와 평균 (Satisfaction index)"
OPENAPI_PATHS = {
    "/api/v1/stats/satisfaction": {
        "get": {
            "summary": _SUMMARY,
            "description": "통통데이 면담·서면 답변, 동 관리카드 완료, 온라인 제안 답변 뒤의 만족도 조사 "
            "집계입니다. 개인정보와 의견 원문은 포함되지 않습니다.",
            "operationId": "statsSatisfaction",
            "tags": ["stats"],
            "parameters": [],
            "responses": json_ok("StatsSatisfaction"),
        }
    },
    "/api/v1/stats/satisfaction.csv": {
        "get": {
            "summary": f"{_SUMMARY} — CSV",
            "description": "breakdown 열: process, department, quarter, total. UTF-8 (BOM 포함).",
            "operationId": "statsSatisfactionCsv",
            "tags": ["stats", "csv"],
            "parameters": [],
            "responses": {
                "200": {
                    "description": "CSV (UTF-8 with BOM)",
                    "content": {"text/csv": {"schema": {"type": "string"}}},
                },
                "400": {
                    "description": "Bad parameter",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
            },
        }
    },
}
