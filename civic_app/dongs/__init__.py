"""The dong registry and the city's reference data (departments, hosts)."""


def init_app(app) -> None:
    from . import cli, views

    views.init_app(app)
    app.cli.add_command(cli.departments_cli)
