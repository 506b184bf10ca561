"""The dong registry and the city's reference data (departments, hosts)."""


def init_app(app) -> None:  # noqa: ANN001
    from . import views

    views.init_app(app)
