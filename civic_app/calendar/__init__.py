"""iCalendar feeds, personal feed addresses and per-event downloads (issue 8)."""


def init_app(app) -> None:
    from civic_app.calendar import views

    app.register_blueprint(views.bp)
    app.add_template_global(views.webcal_url, "calendar_webcal_url")
    app.add_template_global(views.FEED_FOR_KIND, "calendar_feed_for_kind")
