"""``flask privacy purge`` and ``flask backup sqlite``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.engine import make_url

from civic_app.extensions import db
from civic_app.privacy import services
from civic_app.timeutil import to_seoul, utcnow

privacy_cli = AppGroup("privacy", help="개인정보 보유기간 관리 (Personal-data retention).")
backup_cli = AppGroup("backup", help="백업 (Backups).")

LABELS = {
    "users": "시민 계정",
    "email_outbox": "발송 끝난 이메일",
    "meetings": "면담 신청",
}


@privacy_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="바꾸지 않고 대상 건수만 보여 줍니다 (show, change nothing).")
def purge(dry_run: bool) -> None:
    """Anonymise personal data older than PRIVACY_RETENTION_DAYS (보유기간이 지난 개인정보 파기)."""
    days = int(current_app.config["PRIVACY_RETENTION_DAYS"])
    report = services.run_purge(db.session, now=utcnow(), retention_days=days, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    cutoff = to_seoul(report.cutoff).strftime("%Y-%m-%d %H:%M")
    mode = "미리보기 (dry run): 아무것도 바꾸지 않았습니다." if dry_run else "파기를 마쳤습니다."
    click.echo(f"보유기간 {days}일, 기준 시각 {cutoff} 이전 — {mode}")
    for name, count in report.counts.items():
        verb = "대상" if dry_run else "익명화"
        click.echo(f"  {LABELS.get(name, name)} ({name}): {count}건 {verb}")
    click.echo(f"합계: {report.total}건")


def sqlite_path(uri: str) -> Path:
    url = make_url(uri)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise click.ClickException("SQLite 파일 데이터베이스에서만 쓸 수 있습니다 (PostgreSQL: pg_dump).")
    return Path(url.database)


def backup_sqlite_file(source: Path, out: Path) -> None:
    """Consistent online copy through SQLite's backup API (safe while the app writes)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(out)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


@backup_cli.command("sqlite")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="이미 있는 파일을 덮어씁니다 (overwrite).")
def backup_sqlite(out: Path, force: bool) -> None:
    """Copy the SQLite database to OUT with the backup API (SQLite 온라인 백업)."""
    source = sqlite_path(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if out.exists():
        if not force:
            raise click.ClickException(f"파일이 이미 있습니다: {out} (--force)")
        out.unlink()
    backup_sqlite_file(source, out)
    click.echo(f"백업했습니다: {source} → {out}")
