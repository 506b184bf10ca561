from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from civic_app.api.helpers import PAGE_PARAMS, ApiError, error_response, json_ok, list_schema, paginate
from civic_app.dongs.models import Dong
from civic_app.extensions import csrf, db
from civic_app.registry import get_registry
from civic_app.web.policy import public

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # read-only, cookie-less JSON: nothing to forge


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    return error_response(error.message, error.status, error.param)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    messages = {
        401: _("로그인이 필요합니다."),
        403: _("이 자료를 볼 권한이 없습니다."),
        404: _("요청한 자료를 찾을 수 없습니다."),
        405: _("허용되지 않는 요청 방식입니다."),
        429: _("요청이 너무 많습니다. 잠시 후 다시 시도해 주세요."),
    }
    return error_response(messages.get(error.code, _("요청을 처리할 수 없습니다.")), error.code or 500)


def serialize_dong(row) -> dict:
    dong = row[0]
    return {
        "code": dong.code,
        "name": dong.name,
        "contested_area": dong.contested_area,
        "natural_village": dong.natural_village,
        "outlying_area": dong.outlying_area,
    }


@bp.route("/dongs")
@public
def dongs():
    query = select(Dong).where(Dong.active.is_(True)).order_by(Dong.code)
    return jsonify(paginate(db.session, query, serialize_dong))


@bp.route("/openapi.json")
@public
def openapi():
    reg = get_registry(current_app)
    doc = {
        "openapi": "3.0.3",
        "info": {
            "title": "civic_app 공개 API",
            "version": "1.0.0",
            "description": "시민소통실 공개 데이터 (Open data of the citizen communication office). "
            "개인정보는 포함되지 않습니다.",
        },
        # The configured address, never the Host header: a visitor must not choose the URL
        # that clients of this (cached, shared) document call.
        "servers": [{"url": current_app.config["PUBLIC_BASE_URL"].rstrip("/")}],
        "paths": dict(sorted(reg.openapi_paths.items())),
        "components": {"schemas": dict(sorted(reg.openapi_schemas.items()))},
    }
    return jsonify(doc)


OPENAPI_PATHS = {
    "/api/v1/dongs": {
        "get": {
            "summary": "행정동 목록 (Dongs)",
            "operationId": "listDongs",
            "parameters": PAGE_PARAMS,
            "responses": json_ok("DongList"),
        }
    },
}
OPENAPI_SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {
                    "status": {"type": "integer"},
                    "message": {"type": "string"},
                    "param": {"type": "string"},
                },
            }
        },
    },
    "Dong": {
        "type": "object",
        "required": ["code", "name", "contested_area", "natural_village", "outlying_area"],
        "properties": {
            "code": {"type": "string", "pattern": "^[0-9]{10}$"},
            "name": {"type": "string"},
            "contested_area": {"type": "boolean"},
            "natural_village": {"type": "boolean"},
            "outlying_area": {"type": "boolean"},
        },
    },
    "DongList": list_schema("Dong"),
}


def init_app(app) -> None:
    app.register_blueprint(bp)
    get_registry(app).add_openapi(OPENAPI_PATHS, OPENAPI_SCHEMAS)
