"""Working days: Korean public holidays, extra closed dates and election blackout ranges."""


def init_app(app) -> None:
    from . import views

    views.init_app(app)
