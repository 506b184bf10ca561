"""동 관리카드: each dong's card of suggestions, the shared budget queue."""

from __future__ import annotations


def init_app(app) -> None:
    from flask_babel import lazy_gettext as _l

    # The route modules add their views to the two blueprints of ``views``.
    from civic_app.cards import (  # noqa: F401
        api,
        budget_views,
        demo,
        item_views,
        notices,
        public_views,
        queue_views,
        settings,
        views,
    )
    from civic_app.registry import get_registry
    from civic_app.web.policy import ADMIN, BUDGET_OFFICE, CIVIC_STAFF, DEPARTMENT, POLICY_OFFICE

    app.register_blueprint(views.bp)
    app.register_blueprint(views.staff)
    app.register_blueprint(api.bp)
    reg = get_registry(app)
    reviewers = {BUDGET_OFFICE, POLICY_OFFICE, DEPARTMENT, CIVIC_STAFF, ADMIN}
    reg.add_feature_nav(
        40, (_l("동 관리카드"), "cards.scoreboard"), (_l("관리카드 검토"), "cards_staff.index"), reviewers
    )
    reg.add_reference_loader(40, "cards", settings.ensure_reference)
    reg.add_demo_loader(40, "cards", demo.load_demo)
    reg.add_home_section(40, views.home_section)
    reg.add_openapi(api.OPENAPI_PATHS, api.OPENAPI_SCHEMAS)
    from civic_app.privacy.services import register_purger

    register_purger("card_contacts", notices.purge_contacts)
    from civic_app.cards import suggest_views  # issue 17: online suggestions with 공감

    suggest_views.init_app(app)
