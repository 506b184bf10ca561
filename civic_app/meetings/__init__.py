"""통통데이: citizen–mayor meeting sessions, requests, review and follow-up."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


def init_app(app) -> None:
    from civic_app.meetings import api, cli, demo, queries, schedule, texts
    from civic_app.meetings.base import OFFICE_ROLES
    from civic_app.meetings.views import citizen, department, review, sessions  # noqa: F401 (routes)
    from civic_app.meetings.views import common as views
    from civic_app.registry import NavItem, get_registry
    from civic_app.web.policy import DEPARTMENT, HOST

    app.register_blueprint(views.bp)
    app.add_template_filter(texts.event_note, "event_note")
    app.add_template_filter(texts.category_label, "tt_category")
    app.register_blueprint(api.bp)
    app.cli.add_command(cli.tongtong_cli)
    reg = get_registry(app)
    reg.add_nav(NavItem(lambda: str(_l("통통데이")), "meetings.public_index", None, 30, "main"))
    reg.add_nav(NavItem(lambda: str(_l("내 면담 신청")), "meetings.my_requests", frozenset(), 35, "main"))
    reg.add_nav(
        NavItem(
            lambda: str(_l("면담 신청 검토")),
            "meetings.review_queue",
            OFFICE_ROLES,
            30,
            "staff",
        )
    )
    reg.add_nav(
        NavItem(lambda: str(_l("내 면담 일정")), "meetings.host_schedule", frozenset({HOST}), 31, "staff")
    )
    reg.add_nav(
        NavItem(
            lambda: str(_l("통통데이 부서 업무")),
            "meetings.department_queue",
            frozenset({DEPARTMENT}),
            32,
            "staff",
        )
    )
    reg.add_reference_loader(10, "tongtong_rule", schedule.ensure_default_rule)
    reg.add_blocked_days("tongtong", queries.tongtong_days, lambda: str(_l("통통데이")))
    reg.add_demo_loader(50, "tongtong", demo.load_demo)
    reg.add_openapi(api.OPENAPI_PATHS, api.OPENAPI_SCHEMAS)
    reg.add_home_section(30, views.home_section)
    from civic_app.accounts.rights import register_rights_hooks
    from civic_app.meetings import rights

    register_rights_hooks("tongtong_requests", export=rights.export, erase=rights.erase)
    from civic_app.meetings import retention
    from civic_app.privacy.services import register_purger

    register_purger("meetings", retention.purge_requests)
    reg.add_name_source("tongtong_requesters", queries.requester_names)
    app.extensions["closure_guard"] = schedule.ClosureGuard
