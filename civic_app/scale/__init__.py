"""Large-data tooling: ``flask seed-scale`` builds a Seoul-sized data set for benchmarks."""

from __future__ import annotations


def init_app(app) -> None:
    from civic_app.scale.cli import seed_scale_command

    app.cli.add_command(seed_scale_command)
