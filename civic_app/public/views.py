from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text

from civic_app.extensions import db
from civic_app.web.policy import public

bp = Blueprint("public", __name__)


@bp.route("/")
@public
def home():
    from flask import current_app

    from civic_app.registry import get_registry

    sections = [fn() for _, fn in sorted(get_registry(current_app).home_sections, key=lambda t: t[0])]
    return render_template("public/home.html", sections=sections)


@bp.route("/healthz")
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        db.session.rollback()
        return jsonify({"status": "error", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": "ok"})


def init_app(app) -> None:
    app.register_blueprint(bp)
