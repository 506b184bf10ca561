"""``make bench``: civic_app on PostgreSQL under gunicorn, against a minimal Flask baseline.

Steps: create a fresh PostgreSQL database, build the schema, ``flask seed-scale`` it, start
gunicorn (2 sync workers) on it and on ``bench.baseline_app``, sign in as staff, then drive
each page with wrk from 127.0.0.1 (several short runs, median) and its baseline twin (a
precomputed page of the same byte size). It also counts SQL statements per request (the
``X-SQL-Count`` header) on the big database and on a tiny one, to show they do not grow with
the data, and runs the planner, booking-contention, contended-writes (``bench.bench_contention``:
50 concurrent HTTP bookings of one slot and submissions on 4 workers) and bot benchmarks.

    .venv/bin/python -m bench.run                  # Seoul scale (426 dongs), ~10 minutes
    .venv/bin/python -m bench.run --dongs 40 --quick
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
LUA = Path(__file__).with_name("wrk_report.lua")
USER_AGENT = "civic-bench"
STAFF_LOGIN = ("staff@demo.civic.kr", "civic_staff")
BUDGET_LOGIN = ("budget@demo.civic.kr", "budget_office")

# Goals from the issue.
MIN_RATIO = 0.5
MAX_SQL = 10


@dataclass
class Page:
    label: str
    path: str  # may contain {dong_code}
    login: tuple[str, str] | None = None
    results: list[dict] = field(default_factory=list)
    baseline: list[dict] = field(default_factory=list)
    sql: int | None = None
    sql_small: int | None = None
    size: int = 0
    status: int = 0
    goal: bool = True  # False: a calibration row (the app's floor), not one of the pages


PAGES = [
    Page("/healthz (app floor)", "/healthz", goal=False),
    Page("public home", "/"),
    Page("public dong page", "/visits/dongs/{dong_code}"),
    Page("card scoreboard", "/cards/"),
    Page("staff review queue", "/staff/tongtong/requests", STAFF_LOGIN),
    Page("budget-office queue", "/staff/cards/queue/budget", BUDGET_LOGIN),
    Page("/api/v1/visits", "/api/v1/visits"),
    Page("/calendar/tongtong.ics", "/calendar/tongtong.ics"),
]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def libpq(url: sa.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


# --- database -------------------------------------------------------------------------------------
def create_database(admin_url: str, name: str) -> sa.URL:
    base = sa.make_url(admin_url).set(drivername="postgresql+psycopg")
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name)


def drop_database(admin_url: str, name: str) -> None:
    base = sa.make_url(admin_url).set(drivername="postgresql+psycopg")
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def app_env(db_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": db_url,
            "CIVIC_ENV": "development",
            "SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
            "SQL_COUNT_HEADER": "1",
            "PYTHONPATH": str(ROOT),
            "LOGIN_RATE_LIMIT_ADDRESS": "1000 per minute",
            "LOGIN_RATE_LIMIT_ACCOUNT": "1000 per minute",
        }
    )
    env.update(extra)
    return env


def build_schema(db_url: str) -> None:
    """``db.create_all()`` (migrations may lag behind the models while features land)."""
    code = (
        "from civic_app import create_app\n"
        "from civic_app.extensions import db\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    db.create_all()\n"
    )
    subprocess.run([PY, "-c", code], env=app_env(db_url), cwd=ROOT, check=True)


def seed(db_url: str, dongs: int, extra: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(
        [PY, "-m", "flask", "--app", "civic_app", "seed-scale", "--dongs", str(dongs), *extra],
        env=app_env(db_url),
        cwd=ROOT,
        check=True,
    )
    return time.monotonic() - started


# --- servers --------------------------------------------------------------------------------------
class Server:
    def __init__(self, app: str, env: dict[str, str], workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                PY,
                "-m",
                "gunicorn",
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
                app,
            ],
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )

    def wait(self, path: str = "/", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}")
            with contextlib.suppress(requests.RequestException):
                requests.get(self.url + path, timeout=2)
                return
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def sign_in(base: str, email: str, password: str) -> str:
    """Log in through the real form; returns the Cookie header value."""
    client = requests.Session()
    client.headers["User-Agent"] = USER_AGENT
    form = client.get(base + "/login", timeout=10)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text)
    data = {"email": email, "password": password}
    if match:
        data["csrf_token"] = match.group(1)
    response = client.post(base + "/login", data=data, allow_redirects=False, timeout=10)
    if response.status_code not in (302, 303):
        raise RuntimeError(f"sign-in as {email} failed: {response.status_code}")
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def probe(url: str, cookie: str | None) -> tuple[int, int, int | None]:
    headers = {"User-Agent": USER_AGENT}
    if cookie:
        headers["Cookie"] = cookie
    response = requests.get(url, headers=headers, allow_redirects=False, timeout=60)
    count = response.headers.get("X-SQL-Count")
    return response.status_code, len(response.content), int(count) if count is not None else None


def wrk(url: str, *, seconds: int, connections: int, threads: int, cookie: str | None) -> dict:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA)]
    cmd += ["-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("BENCH_JSON "))
    return json.loads(line[len("BENCH_JSON ") :])


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- small database: SQL counts must not grow with the data -----------------------------------------
def sql_counts_small(pages: list[Page], admin_url: str) -> None:
    """Count statements per page on a 10-dong database with the Flask test client."""
    name = f"scale_bench_small_{uuid.uuid4().hex[:6]}"
    url = create_database(admin_url, name)
    try:
        build_schema(libpq(url))
        seed(libpq(url), 10, [])
        code = (
            "import json, sys\n"
            "from civic_app import create_app\n"
            "from civic_app.extensions import db\n"
            "app = create_app({'SQL_COUNT_HEADER': True, 'WTF_CSRF_ENABLED': False})\n"
            "from sqlalchemy import select\n"
            "from civic_app.dongs.models import Dong\n"
            "out = {}\n"
            "with app.app_context():\n"
            "    code = db.session.scalar(select(Dong.code).order_by(Dong.id))\n"
            "for path, email in json.loads(sys.argv[1]):\n"
            "    c = app.test_client()\n"
            "    c.environ_base['HTTP_USER_AGENT'] = 'civic-bench'\n"
            "    if email:\n"
            "        c.post('/login', data={'email': email, 'password': 'civic-demo-2026'})\n"
            "    r = c.get(path.replace('{dong_code}', code))\n"
            "    out[path] = [r.status_code, r.headers.get('X-SQL-Count')]\n"
            "print('SMALL_JSON', json.dumps(out))\n"
        )
        arg = json.dumps([[p.path, p.login[0] if p.login else None] for p in pages])
        result = subprocess.run(
            [PY, "-c", code, arg],
            env=app_env(libpq(url)),
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        line = next(line for line in result.stdout.splitlines() if line.startswith("SMALL_JSON "))
        data = json.loads(line[len("SMALL_JSON ") :])
        for page in pages:
            status, count = data.get(page.path, [0, None])
            page.sql_small = int(count) if status == 200 and count is not None else None
    finally:
        drop_database(admin_url, name)


# --- other benchmarks -------------------------------------------------------------------------------
def run_planner() -> str:
    try:
        from bench import bench_planner
    except ImportError as error:
        return f"not available ({error})"
    result = bench_planner.run()
    return json.dumps(result, ensure_ascii=False, default=str)


def run_bot() -> str:
    try:
        from bench import bench_bot
    except ImportError as error:
        return f"not available ({error})"
    result = bench_bot.run()
    return json.dumps(result, ensure_ascii=False, default=str)


def run_booking(db_url: str) -> str:
    result = subprocess.run(
        [PY, "-m", "bench.bench_booking"],
        check=False,
        env=app_env(db_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    return lines[-1] if lines else f"failed: {result.stderr.strip().splitlines()[-1:]}"


def run_contention(admin_url: str) -> str:
    """50 concurrent HTTP bookings of one slot (mayor, deputy) and submissions, 4 workers."""
    result = subprocess.run(
        [PY, "-m", "bench.bench_contention", "--admin-url", admin_url],
        check=False,
        env=app_env(""),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return f"failed: {result.stderr.strip().splitlines()[-1:]}"
    data = json.loads(lines[-1])
    return "; ".join(
        f"{kind}: p50 {data[kind]['p50_ms']} ms, p95 {data[kind]['p95_ms']} ms "
        f"(alone {data[kind]['alone_p50_ms']} ms), statuses {data[kind]['statuses']}"
        for kind in ("mayor", "fallback", "submissions")
    )


# --- main -------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dongs", type=int, default=426)
    parser.add_argument(
        "--admin-url", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--runs", type=int, default=3, help="wrk runs per page (median)")
    parser.add_argument("--seconds", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="1 run of 2 s per page")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--db-url", help="use this already seeded database instead of creating one")
    parser.add_argument("--pages", help="comma-separated labels to run (default: all)")
    parser.add_argument("--skip-extras", action="store_true", help="no planner/booking/bot benchmarks")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--no-profile", action="store_true", help="do not profile pages that miss a goal")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.seconds = 1, 2
    if not shutil.which("wrk"):
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    pages = [p for p in PAGES if not args.pages or p.label in args.pages.split(",")]
    name = f"scale_bench_{os.getpid()}"
    created = args.db_url is None
    servers: list[Server] = []
    try:
        if created:
            log(f"creating database {name}")
            url = create_database(args.admin_url, name)
            db_url = libpq(url)
            build_schema(db_url)
            log(f"seed-scale --dongs {args.dongs}")
            took = seed(db_url, args.dongs, [])
            log(f"seeded in {took:.0f} s")
        else:
            db_url = args.db_url
        engine = sa.create_engine(sa.make_url(db_url).set(drivername="postgresql+psycopg"))
        with engine.connect() as conn:
            dong_code = conn.execute(sa.text("SELECT code FROM dongs ORDER BY id LIMIT 1")).scalar_one()
            sizes = {
                t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in (
                    "dongs",
                    "card_items",
                    "meeting_requests",
                    "committee_tasks",
                    "outbox_messages",
                    "visits",
                )
                if sa.inspect(conn).has_table(t)
            }
        engine.dispose()
        log("rows: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))

        app_server = Server("civic_app:create_app()", app_env(db_url), args.workers)
        servers.append(app_server)
        base_server = Server("bench.baseline_app:create_app()", app_env(db_url), args.workers)
        servers.append(base_server)
        app_server.wait("/healthz")
        base_server.wait("/100")
        cookies: dict = {}
        for page in pages:
            if page.login and page.login not in cookies:
                try:
                    cookies[page.login] = sign_in(app_server.url, page.login[0], "civic-demo-2026")
                except (RuntimeError, requests.RequestException) as error:
                    log(f"{error}; pages of {page.login[0]} are measured signed out")
                    cookies[page.login] = None

        for page in pages:
            path = page.path.format(dong_code=urllib.parse.quote(dong_code))
            cookie = cookies.get(page.login) if page.login else None
            probe(app_server.url + path, cookie)  # the first request of a worker warms caches
            page.status, page.size, page.sql = probe(app_server.url + path, cookie)
            if page.status != 200:
                log(f"{page.label}: {path} answers {page.status}; skipped")
                continue
            probe(base_server.url + f"/{page.size}", None)
            for run in range(args.runs):
                page.results.append(
                    wrk(
                        app_server.url + path,
                        seconds=args.seconds,
                        connections=args.connections,
                        threads=args.threads,
                        cookie=cookie,
                    )
                )
                page.baseline.append(
                    wrk(
                        base_server.url + f"/{page.size}",
                        seconds=args.seconds,
                        connections=args.connections,
                        threads=args.threads,
                        cookie=None,
                    )
                )
                log(
                    f"{page.label} run {run + 1}: {page.results[-1]['rps']:.0f} req/s vs baseline {page.baseline[-1]['rps']:.0f}"
                )
        for server in servers:
            server.stop()
        servers.clear()

        log("SQL counts on a 10-dong database (constant in data size?)")
        sql_counts_small(pages, args.admin_url)

        extras = {}
        if not args.skip_extras:
            log("planner (3,500 dongs)")
            extras["planner"] = run_planner()
            log("booking under contention")
            extras["booking"] = run_booking(db_url)
            log("contended writes: 50 at once on 4 workers")
            extras["contention"] = run_contention(args.admin_url)
            log("bot delivery rate")
            extras["bot"] = run_bot()
        report(pages, extras, args, sizes)
        if not args.no_profile:
            for page in pages:
                if missed(page):
                    print()
                    print(f"== profile: {page.label} ==", flush=True)
                    command = [PY, "-m", "bench.profile_page", page.path.format(dong_code=dong_code)]
                    if page.login:
                        command += ["--login", page.login[0]]
                    done = subprocess.run(
                        command, check=False, env=app_env(db_url), cwd=ROOT, capture_output=True, text=True
                    )
                    print(done.stdout or done.stderr[-2000:], flush=True)
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "pages": [
                            {
                                "label": p.label,
                                "path": p.path,
                                "status": p.status,
                                "bytes": p.size,
                                "sql": p.sql,
                                "sql_small": p.sql_small,
                                "runs": p.results,
                                "baseline_runs": p.baseline,
                            }
                            for p in pages
                        ],
                        "extras": extras,
                        "rows": sizes,
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
        return 0
    finally:
        for server in servers:
            server.stop()
        if created and not args.keep_db:
            drop_database(args.admin_url, name)


def ratio_of(page: Page) -> float:
    base = median([r["rps"] for r in page.baseline])
    return median([r["rps"] for r in page.results]) / base if base else float("nan")


def missed(page: Page) -> bool:
    if not page.goal:
        return False
    if not page.results:
        return page.status != 0
    too_many = page.sql is not None and (
        page.sql > MAX_SQL or (page.sql_small is not None and page.sql > page.sql_small)
    )
    return ratio_of(page) < MIN_RATIO or too_many


def report(pages: list[Page], extras: dict, args, sizes: dict) -> None:
    cpu = os.cpu_count()
    print()
    print(
        f"civic_app benchmark — {platform.processor() or platform.machine()}, {cpu} CPU cores, "
        f"gunicorn {args.workers} sync workers, wrk -t{args.threads} -c{args.connections}, "
        f"{args.runs} × {args.seconds} s per page (median)"
    )
    print("data: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
    header = f"{'page':<24} {'bytes':>8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'SQL':>4} {'SQL small':>9} {'base r/s':>9} {'ratio':>6}  goals"
    print(header)
    print("-" * len(header))
    for page in pages:
        if not page.results:
            print(f"{page.label:<24} status {page.status}: not measured")
            continue
        rps = median([r["rps"] for r in page.results])
        p50 = median([r["p50_ms"] for r in page.results])
        p95 = median([r["p95_ms"] for r in page.results])
        base = median([r["rps"] for r in page.baseline])
        ratio = rps / base if base else float("nan")
        errors = sum(r["non2xx"] + r["timeouts"] for r in page.results)
        goals = []
        if not page.goal:
            goals.append("calibration")
        elif ratio >= MIN_RATIO:
            goals.append("ok")
        else:
            goals.append(f"MISS ratio<{MIN_RATIO}")
        if page.sql is not None and page.goal:
            goals.append("sql ok" if page.sql <= MAX_SQL else f"MISS sql>{MAX_SQL}")
            if page.sql_small is not None and page.sql > page.sql_small:
                goals.append("MISS sql grows")
        if errors:
            goals.append(f"{errors} errors")
        print(
            f"{page.label:<24} {page.size:>8,} {rps:>8.0f} {p50:>8.1f} {p95:>8.1f} {page.sql if page.sql is not None else '-':>4} "
            f"{page.sql_small if page.sql_small is not None else '-':>9} {base:>9.0f} {ratio:>6.2f}  {', '.join(goals)}"
        )
    for key, value in extras.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    raise SystemExit(main())
