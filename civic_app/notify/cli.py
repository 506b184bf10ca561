from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from civic_app.extensions import db
from civic_app.notify import mailer
from civic_app.timeutil import utcnow

mail_cli = AppGroup("mail", help="메일 발송 (Deliver the e-mail outbox).")


@mail_cli.command("send")
@click.option("--once", is_flag=True, help="Deliver what is due and exit.")
@click.option("--interval", default=5.0, show_default=True)
def send(once: bool, interval: float) -> None:
    """Deliver queued e-mail over SMTP (SMTP_HOST/SMTP_PORT)."""
    config = current_app.config
    if once:
        counts = mailer.deliver_once(db.session, config, now_fn=utcnow)
        click.echo(f"보냄 {counts['sent']}, 재시도 {counts['retry']}, 실패 {counts['failed']}")
        return
    click.echo(f"메일 발송기를 시작합니다 ({config['SMTP_HOST']}:{config['SMTP_PORT']}).")
    mailer.run_forever(lambda: db.session, config, now_fn=utcnow, interval=interval)
