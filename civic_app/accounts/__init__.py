"""Accounts, roles, registration, sign-in."""


def init_app(app) -> None:
    from . import views

    views.init_app(app)
