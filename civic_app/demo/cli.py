from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from civic_app.extensions import db
from civic_app.registry import get_registry
from civic_app.timeutil import utcnow


def ensure_reference_data(session) -> list[str]:
    """Run every feature's idempotent reference-data loader (what a fresh database holds)."""
    done = []
    for _order, name, fn in get_registry(current_app).reference_loaders:
        fn(session)
        done.append(name)
    return done


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only when the database holds no dongs yet.")
@with_appcontext
def seed_demo(if_empty: bool) -> None:
    """Load the demo city (idempotent; refused in production)."""
    from civic_app.dongs.models import Dong

    if current_app.config["CIVIC_ENV"] == "production":
        raise click.ClickException("운영 환경에서는 데모 데이터를 넣을 수 없습니다.")
    if if_empty and (db.session.scalar(select(func.count(Dong.id))) or 0) > 0:
        click.echo("데이터가 이미 있어 데모 데이터를 건너뜁니다.")
        return
    ensure_reference_data(db.session)
    ctx: dict = {"now": utcnow(), "echo": click.echo}
    for _order, name, fn in get_registry(current_app).demo_loaders:
        fn(db.session, ctx)
        db.session.commit()
        click.echo(f"  - {name}")
    click.echo("데모 데이터를 준비했습니다.")


reference_cli = AppGroup("reference", help="기준 데이터 (Reference data).")


@reference_cli.command("ensure")
def ensure() -> None:
    """Insert the reference data a fresh database must hold (idempotent)."""
    names = ensure_reference_data(db.session)
    db.session.commit()
    click.echo("기준 데이터: " + ", ".join(names))
