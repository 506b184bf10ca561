"""The public dashboard (/dashboard), aggregate statistics and open-data CSV (issue 8)."""


def init_app(app) -> None:
    from flask_babel import lazy_gettext as _l

    from civic_app.dashboard import api, views
    from civic_app.registry import NavItem, get_registry

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    reg = get_registry(app)
    reg.add_nav(NavItem(lambda: str(_l("소통 현황")), "dashboard.index", None, 60, "main"))
    reg.add_openapi(api.OPENAPI_PATHS, api.OPENAPI_SCHEMAS)
    reg.add_home_section(60, views.home_section)
