"""`flask seed-demo`: a demo city so a newcomer sees every feature at work."""


def init_app(app) -> None:
    from civic_app.demo import cli, core
    from civic_app.registry import get_registry

    app.cli.add_command(cli.seed_demo)
    app.cli.add_command(cli.reference_cli)
    get_registry(app).add_demo_loader(10, "core", core.load_core)
