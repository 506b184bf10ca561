"""The notification outbox: notices commit with the change that causes them."""


def init_app(app) -> None:
    from . import views

    views.init_app(app)
