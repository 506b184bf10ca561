"""Public pages: home, health check."""


def init_app(app) -> None:
    from . import views

    views.init_app(app)
