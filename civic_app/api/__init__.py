"""The public JSON API (/api/v1) and its OpenAPI document."""


def init_app(app) -> None:
    from . import views

    views.init_app(app)
