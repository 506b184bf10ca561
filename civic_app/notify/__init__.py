"""The notification outbox: notices commit with the change that causes them."""


def init_app(app) -> None:  # noqa: ANN001
    from . import views

    views.init_app(app)
