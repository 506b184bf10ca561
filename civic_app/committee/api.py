"""Public JSON API of the committee: the summary table and the task list (public fields)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import or_, select
from werkzeug.exceptions import HTTPException

from civic_app.api.helpers import (
    PAGE_PARAMS,
    ApiError,
    choice_param,
    error_response,
    json_ok,
    list_schema,
    paginate,
)
from civic_app.committee import queries
from civic_app.committee.models import ORIGINS, TASK_STATUSES, Committee, SubCommittee
from civic_app.dongs.models import Department
from civic_app.extensions import csrf, db
from civic_app.web.policy import public

bp = Blueprint("committee_api", __name__, url_prefix="/api/v1/committee")
csrf.exempt(bp)  # read-only, cookie-less JSON


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    return error_response(error.message, error.status, error.param)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return error_response(_("요청을 처리할 수 없습니다."), error.code or 500)


def _committee() -> Committee:
    from civic_app.committee.models import DEFAULT_COMMITTEE

    name = request.args.get("committee") or DEFAULT_COMMITTEE
    committee = db.session.scalar(select(Committee).where(Committee.name == name))
    if committee is None:
        raise ApiError(_("위원회를 찾을 수 없습니다."), status=404, param="committee")
    return committee


def serialize_task(row) -> dict:
    task = row[0]
    return {
        "code": task.code,
        "title": task.title,
        "field": task.subcommittee.name,
        "origin": task.origin,
        "status": task.status,
        "department": task.department.name if task.department else None,
        "start_year": task.start_year,
        "progress": task.progress,
        "url": f"/committee/tasks/{task.code}",
    }


@bp.route("/summary")
@public
def summary():
    return jsonify(queries.summary(db.session, _committee()))


@bp.route("/tasks")
@public
def tasks():
    committee = _committee()
    field_name = request.args.get("field")
    filters = queries.TaskFilters(
        origin=choice_param("origin", ORIGINS),
        status=choice_param("status", TASK_STATUSES),
    )
    if field_name:
        sub = db.session.scalar(
            select(SubCommittee).where(
                SubCommittee.committee_id == committee.id, SubCommittee.name == field_name
            )
        )
        if sub is None:
            raise ApiError(_("분야 값이 이 위원회의 분과가 아닙니다."), param="field")
        filters.field = sub.id
    department = request.args.get("department")
    if department:
        dept = db.session.scalar(
            select(Department).where(or_(Department.name == department, Department.code == department))
        )
        if dept is None:
            raise ApiError(_("부서를 찾을 수 없습니다 (부서 이름 또는 코드)."), param="department")
        filters.department = dept.id
    return jsonify(paginate(db.session, queries.task_query(committee, filters), serialize_task))


COMMITTEE_PARAM = {"name": "committee", "in": "query", "schema": {"type": "string"}}
_COUNT = {"type": "integer", "minimum": 0}
OPENAPI_PATHS = {
    "/api/v1/committee/summary": {
        "get": {
            "summary": "위원회 분야별 과제 현황 (Committee tasks by field)",
            "operationId": "committeeSummary",
            "parameters": [COMMITTEE_PARAM],
            "responses": {
                **json_ok("CommitteeSummary"),
                "404": {
                    "description": "Unknown committee",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
            },
        }
    },
    "/api/v1/committee/tasks": {
        "get": {
            "summary": "위원회 과제 목록 (Committee policy tasks)",
            "operationId": "listCommitteeTasks",
            "parameters": [
                COMMITTEE_PARAM,
                {"name": "field", "in": "query", "schema": {"type": "string"}},
                {"name": "origin", "in": "query", "schema": {"type": "string", "enum": list(ORIGINS)}},
                {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(TASK_STATUSES)}},
                {
                    "name": "department",
                    "in": "query",
                    "description": "부서 이름 또는 코드 (department name or code)",
                    "schema": {"type": "string"},
                },
                *PAGE_PARAMS,
            ],
            "responses": {
                **json_ok("CommitteeTaskList"),
                "404": {
                    "description": "Unknown committee",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
            },
        }
    },
}
_ROW_PROPS = dict.fromkeys(("baseline", "maintained", "concluded", "replaced", "new"), _COUNT)
OPENAPI_SCHEMAS = {
    "CommitteeSummaryRow": {
        "type": "object",
        "required": ["field", *_ROW_PROPS],
        "properties": {"field": {"type": "string"}, **_ROW_PROPS},
    },
    "CommitteeSummary": {
        "type": "object",
        "required": ["rows", "total"],
        "properties": {
            "rows": {"type": "array", "items": {"$ref": "#/components/schemas/CommitteeSummaryRow"}},
            "total": {"type": "object", "required": list(_ROW_PROPS), "properties": _ROW_PROPS},
        },
    },
    "CommitteeTask": {
        "type": "object",
        "required": [
            "code",
            "title",
            "field",
            "origin",
            "status",
            "department",
            "start_year",
            "progress",
            "url",
        ],
        "properties": {
            "code": {"type": "string"},
            "title": {"type": "string"},
            "field": {"type": "string"},
            "origin": {"type": "string", "enum": list(ORIGINS)},
            "status": {"type": "string", "enum": list(TASK_STATUSES)},
            "department": {"type": "string", "nullable": True},
            "start_year": {"type": "integer", "nullable": True},
            "progress": {"type": "integer", "minimum": 0, "maximum": 100},
            "url": {"type": "string"},
        },
    },
    "CommitteeTaskList": list_schema("CommitteeTask"),
}
