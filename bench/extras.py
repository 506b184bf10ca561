"""The benchmarks beside the pages: the visit planner (pure, and its CLI on PostgreSQL with
3,500 dongs over two years), booking contention, contended writes over HTTP, and the Telegram
bot on PostgreSQL with its channel rate check (and that check's query on the Seoul outbox)."""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from collections.abc import Callable

from bench.measure import PY, ROOT

PLANNER_DONGS = 3500


def run_all(db_url: str, admin_url: str, log: Callable[[str], None]) -> dict:
    from bench import run as bench_run

    out: dict[str, str] = {}
    log("planner: pure function, 3,500 dongs")
    out["planner (pure)"] = planner_pure()
    log("planner CLI: seed 3,500 dongs, plan two years with --max-per-day")
    out["planner CLI"] = planner_cli(admin_url, bench_run)
    log("booking under contention")
    out["booking"] = _last_json_line([PY, "-m", "bench.bench_booking"], bench_run.app_env(db_url))
    log("contended writes: 50 at once on 4 workers")
    out["contention"] = contention(admin_url, bench_run)
    log("bot on PostgreSQL with its rate check")
    out["bot"] = bot(admin_url, bench_run)
    out["bot rate query (Seoul outbox)"] = rate_query(db_url)
    return out


def planner_pure() -> str:
    from bench import bench_planner

    result = bench_planner.run()
    return (
        f"{result['dongs']:,} dongs, {result['placements']:,} visits placed, "
        f"median {result['median_seconds'] * 1000:.0f} ms (max {result['max_seconds'] * 1000:.0f} ms)"
    )


def planner_cli(admin_url: str, bench_run) -> str:
    name = f"scale_bench_planner_{uuid.uuid4().hex[:6]}"
    url = bench_run.libpq(bench_run.create_database(admin_url, name))
    try:
        bench_run.build_schema(url)
        bench_run.seed(
            url,
            PLANNER_DONGS,
            [
                "--requests",
                "0",
                "--card-items",
                "0",
                "--committee-tasks",
                "10",
                "--outbox",
                "0",
                "--citizens",
                "10",
                "--years",
                "2",
            ],
        )
        command = [PY, "-m", "flask", "--app", "civic_app", "visits", "plan-cycle"]
        command += ["--start", "2028-01-01", "--end", "2029-12-31", "--quotas", "1750,1750"]
        command += ["--max-per-day", "12", "--max-per-week", "50"]
        started = time.monotonic()
        done = subprocess.run(
            command, check=False, env=bench_run.app_env(url), cwd=ROOT, capture_output=True, text=True
        )
        seconds = time.monotonic() - started
        if done.returncode != 0:
            return f"failed: {done.stderr.strip().splitlines()[-1:]}"
        per_year = re.search(r"^연도별: (.*)$", done.stdout, re.MULTILINE)
        return (
            f"flask visits plan-cycle --max-per-day 12 --max-per-week 50, {PLANNER_DONGS:,} dongs, "
            f"2028–2029: {per_year.group(1) if per_year else '?'}; {seconds:.1f} s wall (process start, "
            "planning, writing the visits, printing the table)"
        )
    finally:
        bench_run.drop_database(admin_url, name)


def contention(admin_url: str, bench_run) -> str:
    line = _last_json_line(
        [PY, "-m", "bench.bench_contention", "--admin-url", admin_url], bench_run.app_env("")
    )
    try:
        data = json.loads(line)
    except ValueError:
        return line
    return "; ".join(
        f"{kind}: p50 {data[kind]['p50_ms']} ms, p95 {data[kind]['p95_ms']} ms "
        f"(alone {data[kind]['alone_p50_ms']} ms), statuses {data[kind]['statuses']}"
        for kind in ("mayor", "fallback", "submissions")
    )


def bot(admin_url: str, bench_run) -> str:
    name = f"scale_bench_bot_{uuid.uuid4().hex[:6]}"
    url = bench_run.create_database(admin_url, name)
    try:
        env = bench_run.app_env("", BENCH_BOT_DATABASE_URL=url.render_as_string(hide_password=False))
        code = "import json\nfrom bench import bench_bot\nprint(json.dumps(bench_bot.run(rate_per_minute=600000)))"
        return _last_json_line([PY, "-c", code], env)
    finally:
        bench_run.drop_database(admin_url, name)


def rate_query(db_url: str) -> str:
    """The bot's check before each channel post, on the Seoul outbox (indexed: migration 0013)."""
    code = (
        "import json, statistics, time\n"
        "from civic_app import create_app\n"
        "from civic_app.extensions import db\n"
        "from civic_app.telegram.delivery import Settings, wait_for_rate\n"
        "from civic_app.timeutil import utcnow\n"
        "app = create_app()\n"
        "s = Settings(channel_id='@bench', rate_per_minute=20)\n"
        "with app.app_context():\n"
        "    wait_for_rate(db.session, now=utcnow(), settings=s)\n"
        "    t = []\n"
        "    for _ in range(20):\n"
        "        a = time.perf_counter(); wait_for_rate(db.session, now=utcnow(), settings=s)\n"
        "        t.append((time.perf_counter() - a) * 1000)\n"
        "print(json.dumps({'median_ms': round(statistics.median(t), 2), 'max_ms': round(max(t), 2)}))\n"
    )
    from bench import run as bench_run

    return _last_json_line([PY, "-c", code], bench_run.app_env(db_url))


def _last_json_line(command: list[str], env: dict) -> str:
    done = subprocess.run(command, check=False, env=env, cwd=ROOT, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return f"failed: {done.stderr.strip().splitlines()[-1:]}"
    return lines[-1]


__all__ = ["run_all"]
