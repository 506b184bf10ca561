"""`flask committee ...`: task import and reminders."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from civic_app.committee.reports import due_reminders
from civic_app.committee.tasks import import_tasks
from civic_app.errors import DomainError, ValidationFailed
from civic_app.extensions import db
from civic_app.timeutil import utcnow

committee_cli = AppGroup("committee", help="위원회 과제 관리 (Committee task tracking).")


@committee_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--committee", "committee_name", default=None, help="위원회 이름 (기본: 시정참여정책위원회)")
def import_command(file: Path, committee_name: str | None) -> None:
    """Import FILE.csv (code,title,field,origin,status,replaced_by,department)."""
    try:
        result = import_tasks(db.session, file, now=utcnow(), committee_name=committee_name)
    except DomainError as error:
        db.session.rollback()
        click.echo(error.message, err=True)
        if isinstance(error, ValidationFailed):
            for line, message in error.errors:
                click.echo(f"  {line}행: {message}", err=True)
        raise SystemExit(1) from error
    db.session.commit()
    click.echo(f"가져오기 완료: 새로 {result['created']}개, 갱신 {result['updated']}개")


@committee_cli.command("remind")
@click.option("--days", default=3, show_default=True, help="마감 며칠 전부터 알릴지")
def remind_command(days: int) -> None:
    """E-mail departments whose quarterly report is due soon (run daily)."""
    sent = due_reminders(db.session, now=utcnow(), days_before=days)
    db.session.commit()
    click.echo(f"알림 {sent}건을 보냈습니다.")
