"""The public JSON API (/api/v1) and its OpenAPI document."""


def init_app(app) -> None:  # noqa: ANN001
    from . import views

    views.init_app(app)
