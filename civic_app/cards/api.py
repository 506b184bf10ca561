"""Public JSON and CSV of card items: public fields only (no comments, reviews or people)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import undefer
from werkzeug.exceptions import HTTPException

from civic_app.api.helpers import PAGE_PARAMS, ApiError, choice_param, error_response, list_schema, paginate
from civic_app.cards.models import MERGED, MILESTONE_KINDS, SOURCE_KINDS, STATUSES, CardItem
from civic_app.cards.queries import api_query
from civic_app.csvutil import csv_bytes
from civic_app.dongs.models import Dong
from civic_app.extensions import csrf, db
from civic_app.timeutil import iso_seoul
from civic_app.web.filters import mask_text
from civic_app.web.policy import public

bp = Blueprint("cards_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # read-only, cookie-less: nothing to forge

PUBLIC_STATUSES = tuple(s for s in STATUSES if s != MERGED)
FIELDS = (
    "id",
    "dong_code",
    "dong_name",
    "title",
    "category",
    "status",
    "fiscal_year",
    "budget_kind",
    "budget_amount",
    "created_at",
    "status_changed_at",
    "updated_at",
    "decision_reason",
    "source",
    "supports",
)


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    return error_response(error.message, error.status, error.param)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return error_response(_("요청을 처리할 수 없습니다."), error.code or 500)


def serialize(item: CardItem, *, milestones: bool = True) -> dict:
    row = {
        "id": item.id,
        "dong_code": item.dong.code,
        "dong_name": item.dong.name,
        "title": item.title,
        "category": item.category,
        "status": item.status,
        "fiscal_year": item.fiscal_year,
        "budget_kind": item.budget_kind,
        "budget_amount": item.budget_amount,
        "created_at": iso_seoul(item.created_at),
        "status_changed_at": iso_seoul(item.status_changed_at) if item.status_changed_at else None,
        "updated_at": iso_seoul(item.updated_at),
        "decision_reason": item.decision_reason,
        # issue 17: where the item came from (visit, meeting, walk_in, staff, citizen) and its 공감
        "source": item.source_kind,
        "supports": item.support_count or 0,
    }
    if milestones:
        row["milestones"] = [
            {
                "kind": m.kind,
                "date": m.day.isoformat(),
                "note": mask_text(m.note) if m.note else None,
                "photos": [f"/cards/photos/{p.id}" for p in m.photos],
            }
            for m in item.milestones
        ]
    return row


def _filters(*, milestones: bool = True):
    code = request.args.get("dong") or None
    dong = None
    if code is not None:
        dong = db.session.scalar(select(Dong).where(Dong.code == code))
        if dong is None:
            raise ApiError(_("dong 값에 해당하는 행정동이 없습니다: %(c)s", c=code), param="dong")
    status = choice_param("status", PUBLIC_STATUSES)
    return api_query(dong=dong, status=status, milestones=milestones).options(undefer(CardItem.support_count))


@bp.route("/cards/items")
@public
def items():
    return jsonify(paginate(db.session, _filters(), lambda row: serialize(row[0])))


@bp.route("/cards/items.csv")
@public
def items_csv():
    query = _filters(milestones=False)
    # the CSV keeps its columns; milestones are in the JSON only
    rows = (serialize(item, milestones=False) for item in db.session.scalars(query))
    rows = ([row[f] for f in FIELDS] for row in rows)
    return Response(
        csv_bytes(FIELDS, rows),
        mimetype="text/csv",
        headers={
            "Content-Disposition": "attachment; filename=card-items.csv",
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


FILTER_PARAMS = [
    {
        "name": "dong",
        "in": "query",
        "description": "행정동코드 (10자리)",
        "schema": {"type": "string", "pattern": "^[0-9]{10}$"},
    },
    {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(PUBLIC_STATUSES)}},
]
ERROR_400 = {
    "description": "Bad parameter",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
OPENAPI_PATHS = {
    "/api/v1/cards/items": {
        "get": {
            "summary": "동 관리카드 항목 (Dong card items)",
            "operationId": "listCardItems",
            "parameters": FILTER_PARAMS + PAGE_PARAMS,
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/CardItemList"}}
                    },
                },
                "400": ERROR_400,
            },
        }
    },
    "/api/v1/cards/items.csv": {
        "get": {
            "summary": "동 관리카드 항목 CSV (UTF-8, BOM)",
            "operationId": "exportCardItemsCsv",
            "parameters": FILTER_PARAMS,
            "responses": {
                "200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
                "400": ERROR_400,
            },
        }
    },
}
_nullable_int = {"type": "integer", "nullable": True}
_nullable_str = {"type": "string", "nullable": True}
OPENAPI_SCHEMAS = {
    "CardItem": {
        "type": "object",
        "required": [*FIELDS, "milestones"],
        "properties": {
            "id": {"type": "integer"},
            "dong_code": {"type": "string", "pattern": "^[0-9]{10}$"},
            "dong_name": {"type": "string"},
            "title": {"type": "string"},
            "category": {"type": "string"},
            "status": {"type": "string", "enum": list(STATUSES)},
            "fiscal_year": _nullable_int,
            "budget_kind": {"type": "string", "nullable": True, "enum": ["main", "supplementary", None]},
            "budget_amount": _nullable_int,
            "created_at": {"type": "string", "format": "date-time"},
            "status_changed_at": {"type": "string", "format": "date-time", "nullable": True},
            "updated_at": {"type": "string", "format": "date-time"},
            "decision_reason": _nullable_str,
            "source": {
                "type": "string",
                "enum": list(SOURCE_KINDS),
                "description": "접수 경로: 동 방문, 통통데이, 방문 접수, 직원 입력, 시민 온라인 제안",
            },
            "supports": {"type": "integer", "minimum": 0, "description": "시민 공감 수"},
            "milestones": {
                "type": "array",
                "description": "집행 단계 (설계·계약·착공·공정 점검·준공·기타), 날짜순",
                "items": {"$ref": "#/components/schemas/CardMilestone"},
            },
        },
    },
    "CardMilestone": {
        "type": "object",
        "required": ["kind", "date", "note", "photos"],
        "properties": {
            "kind": {"type": "string", "enum": list(MILESTONE_KINDS)},
            "date": {"type": "string", "format": "date"},
            "note": _nullable_str,
            "photos": {"type": "array", "items": {"type": "string"}},
        },
    },
    "CardItemList": list_schema("CardItem"),
}
