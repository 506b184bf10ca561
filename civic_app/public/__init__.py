"""Public pages: home, health check."""


def init_app(app) -> None:  # noqa: ANN001
    from . import views

    views.init_app(app)
