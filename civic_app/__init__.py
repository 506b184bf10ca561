"""civic_app: the web platform of a city hall's 시민소통실 (citizen communication office)."""

from __future__ import annotations

import hmac
import importlib
import importlib.util
import logging
from pathlib import Path

from flask import Flask, has_request_context, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from civic_app.config import check_production, load_config
from civic_app.extensions import babel, csrf, db, limiter, login_manager, migrate
from civic_app.features import FEATURES

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Application factory: config → extensions → features → error pages → CLI."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.update(load_config())
    if config:
        app.config.update(config)
        if config.get("REDIS_URL") and "RATELIMIT_STORAGE_URI" not in config:
            app.config["RATELIMIT_STORAGE_URI"] = config["REDIS_URL"]  # login limits shared too
    check_production(app.config)
    _trust_proxies(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO)

    _init_extensions(app)
    from civic_app import storage

    storage.init_app(app)
    _init_features(app)
    from civic_app.web import pagecache

    pagecache.init_app(app)  # after the features: it wraps their public views
    _init_errors(app)
    _init_cli(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind N trusted reverse proxies, take the client address, scheme and host from the
    last N X-Forwarded-* entries (Werkzeug's ProxyFix); the login limiter and the audit log then
    see each client, not the proxy. With 0 the headers are ignored: a client could forge them."""
    count = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if count > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def _translation_dirs() -> str:
    dirs = [str(ROOT / "translations")]
    for feature in FEATURES:
        path = ROOT / "civic_app" / feature / "translations"
        if path.is_dir():
            dirs.append(str(path))
    return ";".join(dirs)


def _init_extensions(app: Flask) -> None:
    import civic_app.models  # noqa: F401 - register every model with the metadata
    from civic_app.web import assets, filters, inputs, security, sqlcount
    from civic_app.web.i18n import select_locale
    from civic_app.web.policy import enforce_policy

    app.before_request(_reset_request_state)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
            "connect_args": {"timeout": 30},
        }
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _sqlite_pragmas(app)
    from civic_app import dataversions

    dataversions.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", _translation_dirs())
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "Asia/Seoul")
    # Flask-Babel caches loaded catalogs on the global Babel's Domain, across apps; a new app
    # may list other catalog directories, so it starts from an empty cache.
    if "domain_instance" in vars(babel):
        babel.domain_instance.cache.clear()
    from civic_app.web import i18n

    i18n.init_app(app)  # template gettext without a context lookup per string
    csrf.init_app(app)
    _init_limiter(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        from sqlalchemy import select
        from sqlalchemy.orm import joinedload

        from civic_app.accounts.models import User

        ident, _sep, token = user_id.partition(":")
        if not ident.isdigit() or not token:
            return None
        # One statement: the user, their roles and their department (joined eager loads).
        user = (
            db.session.execute(
                select(User)
                .options(joinedload(User.roles), joinedload(User.department))
                .where(User.id == int(ident))
            )
            .unique()
            .scalar_one_or_none()
        )
        if user is None or not hmac.compare_digest(user.session_token, token) or not user.is_active:
            return None
        return user

    app.before_request(enforce_policy)
    security.init_app(app)
    assets.init_app(app)
    inputs.init_app(app)
    sqlcount.init_app(app)
    filters.init_app(app)

    @app.context_processor
    def inject_globals() -> dict:
        from flask_babel import get_locale

        from civic_app.registry import NavLink, get_registry
        from civic_app.web.policy import current_roles

        roles = current_roles()

        links: dict[str, list[NavLink]] = {}

        def nav_links(group: str) -> list[NavLink]:
            """The menu ``group`` (main | staff) this user may see, each link built and labelled
            once per page: the menus are drawn twice (desktop row, phone panel) and read again
            by the breadcrumbs."""
            if group not in links:
                path = request.path if has_request_context() else None
                found = []
                for item in get_registry(app).nav:
                    if item.group != group:
                        continue
                    if item.roles is None or (roles is not None and (not item.roles or item.roles & roles)):
                        href = url_for(item.endpoint, **dict(item.values))
                        found.append(NavLink(item.label(), href, href == path))
                links[group] = found
            return links[group]

        return {
            "nav_links": nav_links,
            "current_locale": str(get_locale() or "ko"),
            "htmx_js": "js/htmx-2.0.8.min.js",
        }


def _reset_request_state() -> None:
    """Flask-Login and Flask-Babel cache the user and the locale on ``g``, which belongs to the
    app context. A caller holding one app context across several requests (the test suite,
    scripts) would otherwise see the previous request's user and language."""
    from flask import g

    g.pop("_login_user", None)
    g.pop("_flask_babel", None)
    g.pop("csrf_token", None)  # Flask-WTF's token of the previous request's session
    g.pop("_data_versions", None)


def _limits_disabled() -> bool:
    """Skip the limiter when this app disables it, and for safe methods: every limit in the
    app guards a POST (sign-in, registration, mail), and checking none on each page view
    saves a measurable part of the per-request cost."""
    from flask import current_app

    if request.method in ("GET", "HEAD", "OPTIONS"):
        return True
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def _init_limiter(app: Flask) -> None:
    """Flask-Limiter keeps ``enabled`` and its storage on the one global Limiter, so the last
    app initialised would switch limiting on or off for every other app in the process (the
    test suite builds several). The limiter is therefore always initialised as enabled, and a
    request filter reads this app's RATELIMIT_ENABLED at request time."""
    wanted = bool(app.config.get("RATELIMIT_ENABLED", True))
    app.config["RATELIMIT_ENABLED"] = True
    limiter.init_app(app)
    app.config["RATELIMIT_ENABLED"] = wanted
    if _limits_disabled not in limiter._request_filters:
        limiter.request_filter(_limits_disabled)


def _sqlite_pragmas(app: Flask) -> None:
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()


def _init_features(app: Flask) -> None:
    for feature in FEATURES:
        name = f"civic_app.{feature}"
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        init = getattr(module, "init_app", None)
        if init is not None:
            init(app)


def _init_errors(app: Flask) -> None:
    messages = {
        400: lambda: _("요청이 올바르지 않습니다."),
        401: lambda: _("로그인이 필요합니다."),
        403: lambda: _("이 페이지를 볼 권한이 없습니다."),
        404: lambda: _("페이지를 찾을 수 없습니다."),
        405: lambda: _("허용되지 않는 요청 방식입니다."),
        409: lambda: _(
            "다른 사람이 먼저 바꾸었거나 이미 처리된 요청입니다. 새로 고친 뒤 다시 확인해 주세요."
        ),
        413: lambda: _("올린 파일이 너무 큽니다."),
        429: lambda: _("요청이 너무 많습니다. 잠시 후 다시 시도해 주세요."),
        500: lambda: _("일시적인 오류가 발생했습니다. 잠시 후 다시 시도해 주세요."),
    }

    def render_error(code: int, message: str | None = None):
        text = message or messages.get(code, messages[500])()
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return jsonify({"error": {"status": code, "message": text}}), code
        try:
            return render_template("errors/error.html", code=code, message=text), code
        except Exception:  # the page needs the database (user, nav); keep this one plain
            app.logger.exception("error page failed")
            db.session.rollback()
            body = f'<!doctype html><html lang="ko"><meta charset="utf-8"><title>{code}</title><h1>{code}</h1><p>{escape(text)}</p></html>'
            return body, code, {"Content-Type": "text/html; charset=utf-8"}

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        db.session.rollback()
        return render_error(
            400, _("보안 토큰이 없거나 만료되었습니다. 페이지를 새로 고친 뒤 다시 시도해 주세요.")
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code == 401 and not request.path.startswith("/api/"):
            from flask import redirect, url_for

            if request.method == "GET":
                return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        code = error.code or 500
        return render_error(code if code in messages else 400 if code < 500 else 500)

    @app.errorhandler(Exception)
    def unhandled(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        app.logger.exception("unhandled error")
        db.session.rollback()
        return render_error(500)

    from civic_app.errors import DomainError

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return render_error(error.status_code, error.message)

    from sqlalchemy.exc import DBAPIError

    from civic_app.integrity.conflicts import conflict_for

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError):
        """A unique-constraint race or a lock failure is an answer (409, retry), not a 500."""
        db.session.rollback()
        if error.connection_invalidated:
            # The server or a proxy dropped the connection (no pre-ping before each request):
            # the pool has been refreshed, and the next request gets a new connection.
            app.logger.warning("database connection lost: %s", str(error.orig).splitlines()[0])
            response = app.make_response(render_error(500))
            response.status_code = 503
            response.headers["Retry-After"] = "1"
            return response
        conflict = conflict_for(error)
        if conflict is None:
            app.logger.exception("unhandled database error")
            return render_error(500)
        app.logger.warning("concurrent write refused: %s", str(error.orig).splitlines()[0])
        return render_error(conflict.status_code, conflict.message)


def _init_cli(app: Flask) -> None:
    from civic_app.accounts.cli import users_cli
    from civic_app.dongs.cli import dongs_cli
    from civic_app.notify.cli import mail_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(dongs_cli)
    app.cli.add_command(mail_cli)
    from civic_app.web.pagecache import cache_cli

    app.cli.add_command(cache_cli)
