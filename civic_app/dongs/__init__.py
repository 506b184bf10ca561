"""The dong registry and the city's reference data (departments, hosts)."""


def init_app(app) -> None:
    from . import views

    views.init_app(app)
