"""시정참여정책위원회: policy tasks, mid-term reviews, quarterly reports, evaluations, meetings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


def init_app(app) -> None:
    from civic_app.committee import admin_views, api, cli, demo, views
    from civic_app.committee.committees import ensure_reference
    from civic_app.registry import NavItem, get_registry
    from civic_app.web.policy import COMMITTEE_MEMBER, DEPARTMENT, SECRETARIAT_ROLES

    app.register_blueprint(admin_views.bp)  # views.bp, with the secretariat's routes added
    app.register_blueprint(api.bp)
    app.cli.add_command(cli.committee_cli)
    reg = get_registry(app)
    tasks, secretariat = (_l("위원회 과제"), "committee.tasks"), (_l("위원회 사무국"), "committee.admin")
    reg.add_feature_nav(50, tasks, secretariat, SECRETARIAT_ROLES)
    reg.add_nav(
        NavItem(
            lambda: str(_l("위원회 과제 보고")),
            "committee.department_entries",
            frozenset({DEPARTMENT}),
            51,
            "staff",
        )
    )
    reg.add_nav(
        NavItem(
            lambda: str(_l("과제 평가")), "committee.evaluate", frozenset({COMMITTEE_MEMBER}), 52, "staff"
        )
    )
    reg.add_reference_loader(20, "committee", ensure_reference)
    reg.add_demo_loader(60, "committee", demo.load_demo)
    reg.add_openapi(api.OPENAPI_PATHS, api.OPENAPI_SCHEMAS)
    reg.add_home_section(50, views.home_section)
