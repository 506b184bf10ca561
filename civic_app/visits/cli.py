from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup

from civic_app.errors import DomainError
from civic_app.extensions import db
from civic_app.timeutil import to_seoul, utcnow

visits_cli = AppGroup("visits", help="동 방문 (Dong visits).")


def _date(_ctx, param, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"YYYY-MM-DD 형식의 날짜를 입력해 주세요: {value}", param=param) from exc


@visits_cli.command("plan-cycle")
@click.option("--start", required=True, callback=_date, help="시작일 YYYY-MM-DD")
@click.option("--end", required=True, callback=_date, help="종료일 YYYY-MM-DD")
@click.option("--quotas", required=True, help="연도별 방문 수, 연도 순서대로 (예: 19,20)")
@click.option("--max-per-week", default=3, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--max-per-day", default=1, show_default=True, type=click.IntRange(1, 20), help="하루 최대 방문 수"
)
@click.option("--name", default=None, help="주기 이름")
@click.option(
    "--weights", default="3,2,2", show_default=True, help="우선순위 가중치: 쟁점민원,자연부락,외곽지역"
)
@click.option("--publish", is_flag=True, help="계획을 바로 공개합니다.")
def plan_cycle_command(
    *,
    start: dt.date,
    end: dt.date,
    quotas: str,
    max_per_week: int,
    max_per_day: int,
    name: str | None,
    weights: str,
    publish: bool,
) -> None:
    """Create a visit cycle and its plan; print it as a table."""
    from civic_app.visits.cycles import create_cycle, parse_quotas, parse_weights
    from civic_app.visits.planner import describe_reason

    try:
        cycle = create_cycle(
            db.session,
            start=start,
            end=end,
            quotas=parse_quotas(quotas),
            actor_id=None,
            now=utcnow(),
            max_per_week=max_per_week,
            max_per_day=max_per_day,
            name=name,
            publish=publish,
            weights=parse_weights(weights),
        )
    except DomainError as error:
        db.session.rollback()
        click.echo(f"오류: {error.message}", err=True)
        raise SystemExit(1) from error
    db.session.commit()
    visits = sorted(cycle.visits, key=lambda v: (v.start_at, v.id))
    click.echo(f"{cycle.name} (#{cycle.id}) — {len(visits)}건{' · 공개' if publish else ' · 초안'}")
    click.echo(f"{'날짜':<12} {'행정동코드':<11} {'동':<8} 사유")
    for v in visits:
        day = to_seoul(v.start_at).date().isoformat()
        click.echo(f"{day:<12} {v.dong.code:<11} {v.dong.name:<8} {describe_reason(v.plan_reason)}")
    per_year: dict[int, int] = {}
    for v in visits:
        per_year[v.local_day.year] = per_year.get(v.local_day.year, 0) + 1
    click.echo("연도별: " + ", ".join(f"{y}년 {n}건" for y, n in sorted(per_year.items())))
