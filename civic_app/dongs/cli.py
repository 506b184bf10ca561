from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from civic_app.dongs.services import import_departments, import_dongs
from civic_app.errors import ValidationFailed
from civic_app.extensions import db
from civic_app.timeutil import utcnow

dongs_cli = AppGroup("dongs", help="행정동 관리 (Manage dongs).")


@dongs_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    """Import FILE.csv (code,name,contested_area,natural_village,outlying_area)."""
    try:
        result = import_dongs(db.session, file, now=utcnow())
    except ValidationFailed as error:
        db.session.rollback()
        click.echo(error.message, err=True)
        for line, message in error.errors:
            click.echo(f"  {line}행: {message}", err=True)
        raise SystemExit(1) from error
    db.session.commit()
    click.echo(f"가져오기 완료: 새로 {result['created']}개, 갱신 {result['updated']}개")


departments_cli = AppGroup("departments", help="부서 기준정보 (Manage departments).")


@departments_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_departments_command(file: Path) -> None:
    """Import FILE.csv (code,name): every line valid, or nothing changes."""
    try:
        result = import_departments(db.session, file)
    except ValidationFailed as error:
        db.session.rollback()
        click.echo(error.message, err=True)
        for line, message in error.errors:
            click.echo(f"  {line}행: {message}", err=True)
        raise SystemExit(1) from error
    db.session.commit()
    click.echo(f"가져오기 완료: 새로 {result['created']}개, 갱신 {result['updated']}개")
