"""Dong visits: the rotation planner, visits and themed field tours (민생현장 탐방)."""


def init_app(app) -> None:
    from civic_app.visits import api, demo, views
    from civic_app.visits.cli import visits_cli

    views.init_app(app)
    api.init_app(app)
    demo.init_app(app)
    app.cli.add_command(visits_cli)
