from __future__ import annotations

import click
from flask.cli import AppGroup

from civic_app.extensions import db
from civic_app.follow import services
from civic_app.timeutil import utcnow

follow_cli = AppGroup("follow", help="구독 (Follows: the weekly digest).")


@follow_cli.command("digest")
def digest() -> None:
    """Queue the weekly digest of every weekly follower with waiting notices (run it weekly;
    an address digested less than six days ago waits for its next week)."""
    counts = services.send_digests(db.session, now=utcnow())
    db.session.commit()
    click.echo(
        f"주간 요약 {counts['sent']}건 (소식 {counts['entries']}건), 다음 주로 미룸 {counts['waiting']}건"
    )
