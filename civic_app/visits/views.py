"""Public visit pages; the staff pages are in ``staff_views``."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from civic_app.dongs.models import Dong
from civic_app.extensions import db
from civic_app.timeutil import utcnow
from civic_app.visits import queries
from civic_app.visits.labels import all_labels
from civic_app.visits.planner import describe_reason
from civic_app.visits.results import suggestions_for
from civic_app.web.policy import CIVIC_OFFICE_ROLES, public

bp = Blueprint("visits", __name__, url_prefix="/visits")


def view_context(**extra) -> dict:
    return {**all_labels(), "describe_reason": describe_reason, **extra}


# --- public -------------------------------------------------------------------------------


def _int_arg(name: str, low: int, high: int) -> int | None:
    try:
        value = int(request.args.get(name) or "")
    except ValueError:
        return None
    return value if low <= value <= high else None


def _list_page(query, page: int):
    """One page of ``query``; a page past the end shows the last one."""
    found = db.paginate(query, page=page, per_page=queries.LIST_PER_PAGE, error_out=False)
    if found.page > found.pages > 0:
        found = db.paginate(query, page=found.pages, per_page=queries.LIST_PER_PAGE, error_out=False)
    return found


@bp.route("")
@public
def schedule():
    """Upcoming visits first, then every public visit, newest first: searched by dong (name or
    행정동코드), filtered by year and status, 20 a page (a phone gets a short page)."""
    status = request.args.get("status") or None
    filters = {
        "q": (request.args.get("q") or "").strip()[:40],
        "year": _int_arg("year", 2000, 2100),
        "status": status if status in queries.PUBLIC_LIST_STATUSES else None,
    }
    page = _list_page(queries.public_list(**filters), _int_arg("page", 1, 100000) or 1)
    filtered = any(filters.values())
    upcoming = [] if filtered or page.page > 1 else queries.upcoming_public(db.session, utcnow(), limit=5)
    return render_template(
        "visits/schedule.html",
        **view_context(
            upcoming=upcoming,
            page=page,
            filtered=filtered,
            years=queries.public_years(db.session),
            list_statuses=queries.PUBLIC_LIST_STATUSES,
            **filters,
        ),
    )


@bp.route("/<int:visit_id>")
@public
def detail(visit_id: int):
    visit = queries.public_visit(db.session, visit_id)
    if visit is None:
        abort(404)
    items = suggestions_for(db.session, [visit.id])
    return render_template("visits/detail.html", **view_context(visit=visit, items=items))


@bp.route("/dongs")
@public
def dongs():
    rows = db.session.scalars(select(Dong).where(Dong.active.is_(True)).order_by(Dong.name)).all()
    return render_template("visits/dongs.html", **view_context(dongs=rows))


@bp.route("/dongs/<code>")
@public
def dong_page(code: str):
    dong = db.session.scalar(select(Dong).where(Dong.code == code))
    if dong is None:
        abort(404)
    now = utcnow()
    visits = queries.dong_visits(db.session, dong)
    held = [v for v in visits if v.status in queries.DONE]
    upcoming = [v for v in visits if v.status in queries.UPCOMING and v.end_at >= now]
    return render_template(
        "visits/dong.html",
        **view_context(
            dong=dong,
            visits=visits,
            last_visit=held[0] if held else None,
            next_visit=upcoming[-1] if upcoming else None,
            items=queries.dong_card_items(db.session, dong),
        ),
    )


@bp.route("/plan-vs-actual")
@public
def plan_vs_actual():
    return render_template(
        "visits/plan_vs_actual.html", **view_context(rows=queries.plan_vs_actual(db.session))
    )


def home_section() -> dict:
    return {
        "template": "visits/_home.html",
        "visits": queries.upcoming_public(db.session, utcnow(), limit=5, brief=True),
        **all_labels(),
    }


def init_app(app) -> None:
    from civic_app.registry import get_registry
    from civic_app.visits.staff_views import staff

    app.register_blueprint(bp)
    app.register_blueprint(staff)
    reg = get_registry(app)
    reg.add_feature_nav(
        20, (_l("동 방문"), "visits.schedule"), (_l("동 방문 계획"), "visits_staff.index"), CIVIC_OFFICE_ROLES
    )
    reg.add_home_section(20, home_section)
