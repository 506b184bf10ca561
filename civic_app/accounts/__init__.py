"""Accounts, roles, registration, sign-in."""


def init_app(app) -> None:  # noqa: ANN001
    from . import views

    views.init_app(app)
