"""만족도 조사 (satisfaction index, issue 17): after a 통통데이 meeting or written answer, a
completed 동 관리카드 item or an answered online suggestion, the citizen concerned gets a
two-question survey by e-mail (signed link, 30 days, one answer, no sign-in). The dashboard and
/api/v1/stats/satisfaction show the index by process, department and quarter."""

from __future__ import annotations


def init_app(app) -> None:
    from flask_babel import lazy_gettext as _l

    from civic_app.accounts.rights import register_rights_hooks
    from civic_app.privacy.services import register_purger
    from civic_app.registry import NavItem, get_registry
    from civic_app.satisfaction import api, demo, services, views
    from civic_app.web.policy import ADMIN, CIVIC_STAFF

    app.register_blueprint(views.bp)
    app.register_blueprint(views.staff)
    app.register_blueprint(api.bp)
    reg = get_registry(app)
    reg.add_nav(
        NavItem(
            lambda: str(_l("만족도 조사")),
            "satisfaction_staff.index",
            frozenset({CIVIC_STAFF, ADMIN}),
            70,
            "staff",
        )
    )
    reg.add_demo_loader(90, "satisfaction", demo.load_demo)
    reg.add_openapi(api.OPENAPI_PATHS, api.OPENAPI_SCHEMAS)
    reg.add_dashboard_section(50, views.dashboard_section)
    register_purger("satisfaction_invitations", services.purge_invitations)
    register_rights_hooks("satisfaction", export=services.export_for_user, erase=services.erase_for_user)
