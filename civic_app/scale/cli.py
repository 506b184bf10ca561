"""``flask seed-scale --dongs N``: bulk data for benchmarks (refused in production)."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import text

from civic_app.extensions import db
from civic_app.scale.seed import SEOUL_DONGS, ScalePlan, seed_scale
from civic_app.timeutil import utcnow


@click.command("seed-scale")
@click.option("--dongs", default=SEOUL_DONGS, show_default=True, type=click.IntRange(1, 5000), help="동 수")
@click.option("--requests", type=click.IntRange(0), help="면담 신청 수 (기본: 동 수에 비례, 426동 = 40,000)")
@click.option("--card-items", type=click.IntRange(0), help="동 관리카드 건의 수 (426동 = 100,000)")
@click.option("--committee-tasks", type=click.IntRange(0), help="정책과제 수 (426동 = 2,000)")
@click.option("--outbox", type=click.IntRange(0), help="발송함 행 수 (426동 = 200,000)")
@click.option("--citizens", type=click.IntRange(0), help="시민 계정 수 (426동 = 20,000)")
@click.option("--years", default=4, show_default=True, type=click.IntRange(1, 12), help="기간 (년)")
@click.option("--seed", default=20260, show_default=True, help="난수 시드 (같은 시드 = 같은 데이터)")
@with_appcontext
def seed_scale_command(dongs: int, years: int, seed: int, **counts) -> None:
    """대규모 시험 데이터를 만듭니다 (Build a large benchmark data set; empty database only)."""
    if current_app.config["CIVIC_ENV"] == "production":
        raise click.ClickException("운영 환경에서는 시험 데이터를 넣을 수 없습니다.")
    from civic_app.demo.cli import ensure_reference_data

    plan = ScalePlan.for_dongs(dongs, years=years, seed=seed, **counts)
    ensure_reference_data(db.session)
    db.session.flush()
    started = time.monotonic()
    click.echo(
        f"동 {plan.dongs:,} · 면담 신청 {plan.requests:,} · 카드 {plan.card_items:,} · "
        f"정책과제 {plan.committee_tasks:,} · 발송함 {plan.outbox:,} · 시민 {plan.citizens:,}"
    )
    with click.progressbar(length=plan.estimated_rows(), label="데이터 생성", show_pos=True) as bar:
        try:
            result = seed_scale(db.session, plan, now=utcnow(), tick=bar.update)
        except ValueError as error:
            db.session.rollback()
            raise click.ClickException(
                "동 데이터가 이미 있습니다. 빈 데이터베이스에서 실행해 주세요 (seed-scale needs an empty database)."
            ) from error
        db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        # Fresh statistics, as autovacuum would have after the rows arrived one by one.
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    elapsed = time.monotonic() - started
    for table, count in result.counts.items():
        click.echo(f"  {table:<32} {count:>9,}")
    if result.skipped:
        click.echo("아직 모델이 없어 건너뜀 (skipped, no models yet): " + ", ".join(result.skipped))
    click.echo(f"완료: {sum(result.counts.values()):,}행, {elapsed:.1f}초")
