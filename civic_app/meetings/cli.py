"""`flask tongtong ...`: generate sessions, carry over, remind overdue follow-ups."""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app
from flask.cli import AppGroup

from civic_app.errors import DomainError
from civic_app.extensions import db
from civic_app.meetings import notices, schedule
from civic_app.timeutil import utcnow

tongtong_cli = AppGroup("tongtong", help="통통데이 회차 (citizen–mayor meeting sessions).")

ACTION_LABELS = {"created": "생성", "moved": "이동", "skipped": "건너뜀", "exists": "유지"}


def _date(_ctx, _param, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("YYYY-MM-DD 형식의 날짜를 입력해 주세요.") from exc


@tongtong_cli.command("generate")
@click.option("--from", "start", required=True, callback=_date, help="시작일 YYYY-MM-DD")
@click.option("--to", "end", required=True, callback=_date, help="종료일 YYYY-MM-DD")
def generate(start: dt.date, end: dt.date) -> None:
    """Materialise the sessions of a date range (idempotent) and say what happened and why."""
    rule = schedule.current_rule(db.session) or schedule.ensure_default_rule(db.session)
    try:
        lines = schedule.generate(db.session, rule, start, end, now=utcnow())
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    for line in lines:
        label = ACTION_LABELS[line.action]
        if line.action == "created":
            click.echo(f"{label} {line.rule_date.isoformat()}")
        elif line.action == "moved":
            click.echo(f"{label} {line.rule_date.isoformat()} → {line.day.isoformat()} ({line.reason})")
        else:
            click.echo(f"{label} {line.rule_date.isoformat()} ({line.reason})")
    counts = {k: sum(1 for x in lines if x.action == k) for k in ACTION_LABELS}
    click.echo(
        f"생성 {counts['created']}건, 이동 {counts['moved']}건, 건너뜀 {counts['skipped']}건, "
        f"기존 유지 {counts['exists']}건"
    )


@tongtong_cli.command("set-rule")
@click.option(
    "--holiday-policy",
    "holiday_policy",
    type=click.Choice(["skip", "shift"]),
    required=True,
    help="공휴일에 걸린 회차: skip (건너뜀) | shift (다음 근무일로 옮김)",
)
def set_rule(holiday_policy: str) -> None:
    """Set the series rule's holiday policy (applies to sessions generated from now on)."""
    rule = schedule.current_rule(db.session) or schedule.ensure_default_rule(db.session)
    schedule.set_holiday_policy(db.session, rule, holiday_policy)
    db.session.commit()
    label = {"skip": "건너뜀", "next": "다음 근무일로 옮김", "previous": "앞 근무일로 옮김"}[
        rule.holiday_policy
    ]
    click.echo(f"공휴일 처리: {label} ({holiday_policy})")


@tongtong_cli.command("remind")
def remind() -> None:
    """Run daily: remind overdue follow-up actions, and e-mail citizens whose meeting is on the
    next working day."""
    now = utcnow()
    items = notices.remind_overdue(
        db.session, now=now, staff_email=current_app.config.get("TONGTONG_STAFF_EMAIL")
    )
    reminded = notices.send_meeting_reminders(db.session, now=now)
    db.session.commit()
    click.echo(f"기한이 지난 후속 조치 {len(items)}건")
    click.echo(f"면담 알림 {len(reminded)}건")
