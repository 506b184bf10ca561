from __future__ import annotations

import click
from flask.cli import AppGroup

from civic_app.extensions import db
from civic_app.telegram import services
from civic_app.timeutil import utcnow

telegram_cli = AppGroup("telegram", help="텔레그램 채널 (Telegram channel).")


@telegram_cli.command("digest")
def digest() -> None:
    """Queue this week's schedule digest (next 통통데이 sessions, upcoming published visits)."""
    message, created = services.queue_weekly_digest(db.session, now=utcnow())
    db.session.commit()
    if created:
        click.echo(f"주간 일정 요약을 대기열에 넣었습니다 (#{message.id}, {message.status}).")
    else:
        click.echo(f"이번 주 요약은 이미 대기열에 있습니다 (#{message.id}, {message.status}).")
