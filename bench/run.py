"""``make bench``: civic_app on PostgreSQL under gunicorn, against a bare Flask page of the same size.

Steps: a fresh PostgreSQL database, ``flask seed-scale`` (Seoul: 426 dongs, card reviews
included), ``VACUUM ANALYZE`` (what autovacuum would have done); three gunicorn masters with 2
sync workers each: the app with its page cache (Redis when ``REDIS_URL`` is set or reachable at
the default, else each process's memory), the app with ``CACHE_PAGES=0``, and
``bench.baseline_app``. Each page is driven by wrk in **pairs**: the app, then at once the
baseline page of the same byte size; the ratio of each pair's throughputs is taken and the table
shows the median of those ratios with their spread (min–max), so load from other processes on the
machine hits both halves of a pair alike. CPU per request is the gunicorn workers' user+system
time (and PostgreSQL's backends', for the bench database) over the run, from ``/proc``.

SQL per request is read from the ``X-SQL-Count`` header on a cache miss (the cache-off server),
on the Seoul database and on a 10-dong one (it must not grow with the data). Then the planner CLI
(3,500 dongs over 2 years), booking contention, contended writes, and the Telegram bot on
PostgreSQL with its rate check. Pages that miss a goal are profiled with the cache off.

    .venv/bin/python -m bench.run                          # Seoul scale, ~15 minutes
    .venv/bin/python -m bench.run --quick --skip-extras    # a first look, ~4 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field

import requests
import sqlalchemy as sa

from bench import extras
from bench.measure import PY, ROOT, USER_AGENT, Backends, Run, Server, sequential_ms, wrk

__all__ = ["ROOT", "Server", "app_env", "build_schema", "create_database", "drop_database", "libpq", "log"]
STAFF_LOGIN = ("staff@demo.civic.kr", "civic_staff")
BUDGET_LOGIN = ("budget@demo.civic.kr", "budget_office")
ADMIN_LOGIN = ("admin@demo.civic.kr", "admin")
PASSWORD = "civic-demo-2026"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"

# Goals from issue 19.
PUBLIC_GOAL = 0.5  # public pages and open data, cache on
STAFF_GOAL = 0.2  # the two signed-in staff queues, cache on
CACHE_OFF_GOAL = 0.1  # every key page, cache off
FLOOR_GOAL_MS = 1.0  # CPU of a signed-in request that does nothing, over the baseline's
MAX_SQL = 12
SLOW_GOAL_MS = 50  # /tongtong, /tongtong/stats, /dashboard, /admin/users at Seoul scale


@dataclass
class Page:
    label: str
    path: str  # may contain {dong_code}
    login: tuple[str, str] | None = None
    goal: float | None = PUBLIC_GOAL  # cache-on ratio goal; None: a calibration row
    on: list[Run] = field(default_factory=list)
    off: list[Run] = field(default_factory=list)
    base_on: list[Run] = field(default_factory=list)
    base_off: list[Run] = field(default_factory=list)
    sql: int | None = None
    sql_small: int | None = None
    size: int = 0
    status: int = 0


PAGES = [
    Page("floor: /healthz anonymous", "/healthz", goal=None),
    Page("floor: /healthz signed in", "/healthz", STAFF_LOGIN, goal=None),
    Page("public home", "/"),
    Page("public dong page", "/visits/dongs/{dong_code}"),
    Page("card scoreboard", "/cards/"),
    Page("/api/v1/visits", "/api/v1/visits"),
    Page("/calendar/tongtong.ics", "/calendar/tongtong.ics"),
    Page("staff 통통데이 queue", "/staff/tongtong/requests", STAFF_LOGIN, goal=STAFF_GOAL),
    Page("budget-office queue", "/staff/cards/queue/budget", BUDGET_LOGIN, goal=STAFF_GOAL),
]
SLOW_PAGES = [
    ("/tongtong", None),
    ("/tongtong/stats", None),
    ("/dashboard", None),
    ("/admin/users", ADMIN_LOGIN),
]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


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


def vacuum(db_url: str) -> None:
    engine = sa.create_engine(
        sa.make_url(db_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
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
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def redis_url() -> str | None:
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001 - no Redis: the cache-on server uses each process's memory
        return None
    return url


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
    client.get(base + "/account", timeout=10)  # the sign-in message is shown (and cleared) here
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def probe(url: str, cookie: str | None) -> tuple[int, int, int | None]:
    headers = {"User-Agent": USER_AGENT, **({"Cookie": cookie} if cookie else {})}
    response = requests.get(url, headers=headers, allow_redirects=False, timeout=60)
    count = response.headers.get("X-SQL-Count")
    return response.status_code, len(response.content), int(count) if count is not None else None


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- small database: SQL counts must not grow with the data -----------------------------------------
def sql_counts_small(pages: list[Page], admin_url: str) -> None:
    """Count statements per page (cache off) on a 10-dong database with the Flask test client."""
    name = f"scale_bench_small_{uuid.uuid4().hex[:6]}"
    url = create_database(admin_url, name)
    try:
        build_schema(libpq(url))
        seed(libpq(url), 10, [])
        code = (
            "import json, sys\n"
            "from civic_app import create_app\n"
            "from civic_app.extensions import db\n"
            "app = create_app({'SQL_COUNT_HEADER': True, 'WTF_CSRF_ENABLED': False, 'CACHE_PAGES': False})\n"
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
            "        c.get('/account')\n"
            "    c.get(path.replace('{dong_code}', code))\n"
            "    r = c.get(path.replace('{dong_code}', code))\n"
            "    out[path + str(bool(email))] = [r.status_code, r.headers.get('X-SQL-Count')]\n"
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
            status, count = data.get(page.path + str(bool(page.login)), [0, None])
            page.sql_small = int(count) if status == 200 and count is not None else None
    finally:
        drop_database(admin_url, name)


# --- main -------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dongs", type=int, default=426)
    parser.add_argument(
        "--admin-url", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--pairs", type=int, default=5, help="paired runs per page (median of the ratios)")
    parser.add_argument("--seconds", type=int, default=3, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="3 pairs of 2 s per page")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--db-url", help="use this already seeded database instead of creating one")
    parser.add_argument("--pages", help="comma-separated labels to run (default: all)")
    parser.add_argument("--skip-extras", action="store_true", help="no planner/booking/contention/bot")
    parser.add_argument("--json", type=argparse.FileType("w"), help="also write the results here")
    parser.add_argument("--no-profile", action="store_true", help="do not profile pages that miss a goal")
    args = parser.parse_args(argv)
    if args.quick:
        args.pairs, args.seconds = 3, 2
    if not shutil.which("wrk"):
        print("wrk is needed: apt-get install wrk (make bench installs it)", file=sys.stderr)
        return 2
    pages = [p for p in PAGES if not args.pages or p.label in args.pages.split(",")]
    name = f"scale_bench_{os.getpid()}"
    created = args.db_url is None
    servers: list[Server] = []
    backends = None
    shared, prefix = None, ""
    try:
        if created:
            log(f"creating database {name}; seed-scale --dongs {args.dongs}")
            db_url = libpq(create_database(args.admin_url, name))
            build_schema(db_url)
            log(f"seeded in {seed(db_url, args.dongs, []):.0f} s; VACUUM ANALYZE")
            vacuum(db_url)
        else:
            db_url = args.db_url
        sizes, dong_code = data_sizes(db_url)
        log("rows: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
        shared, prefix = redis_url(), f"bench-{uuid.uuid4().hex[:8]}:"
        cache_env = {"REDIS_URL": shared, "CACHE_KEY_PREFIX": prefix} if shared else {}
        app_on = Server("civic_app:create_app()", app_env(db_url, CACHE_PAGES="1", **cache_env), args.workers)
        app_off = Server(
            "civic_app:create_app()", app_env(db_url, CACHE_PAGES="0", **cache_env), args.workers
        )
        base = Server("bench.baseline_app:create_app()", app_env(db_url), args.workers)
        servers += [app_on, app_off, base]
        for server in (app_on, app_off):
            server.wait("/healthz")
        base.wait("/100")
        backends = Backends(db_url)
        cookies = {}
        for page in pages:
            if page.login and page.login not in cookies:
                cookies[page.login] = (
                    sign_in(app_on.url, page.login[0], PASSWORD),
                    sign_in(app_off.url, page.login[0], PASSWORD),
                )
        load = {"seconds": args.seconds, "connections": args.connections, "threads": args.threads}
        for page in pages:
            path = page.path.format(dong_code=urllib.parse.quote(dong_code))
            cookie_on, cookie_off = cookies.get(page.login, (None, None))
            probe(app_off.url + path, cookie_off)  # each worker's first request fills its caches
            page.status, page.size, page.sql = probe(app_off.url + path, cookie_off)  # a miss
            if page.status != 200:
                log(f"{page.label}: {path} answers {page.status}; skipped")
                continue
            probe(base.url + f"/{page.size}", None)
            for pair in range(args.pairs):
                page.on.append(wrk(app_on, path, cookie=cookie_on, backends=backends, **load))
                page.base_on.append(wrk(base, f"/{page.size}", cookie=None, **load))
                page.off.append(wrk(app_off, path, cookie=cookie_off, backends=backends, **load))
                page.base_off.append(wrk(base, f"/{page.size}", cookie=None, **load))
                log(
                    f"{page.label} pair {pair + 1}: cache on {page.on[-1].rps:.0f} r/s "
                    f"(baseline {page.base_on[-1].rps:.0f}), off {page.off[-1].rps:.0f} r/s "
                    f"(baseline {page.base_off[-1].rps:.0f})"
                )
        slow = []
        for path, login in SLOW_PAGES:
            cookie = sign_in(app_off.url, login[0], PASSWORD) if login else None
            slow.append(
                (path, sequential_ms(app_off.url + path, cookie), probe(app_off.url + path, cookie)[2])
            )
        for server in servers:
            server.stop()
        servers.clear()
        log("SQL counts on a 10-dong database (constant in data size?)")
        sql_counts_small(pages, args.admin_url)
        more = {} if args.skip_extras else extras.run_all(db_url, args.admin_url, log)
        report(pages, slow, more, args, sizes, shared)
        if not args.no_profile:
            for page in pages:
                if missed(page):
                    print(f"\n== profile (cache off): {page.label} ==", flush=True)
                    command = [PY, "-m", "bench.profile_page", page.path.format(dong_code=dong_code)]
                    if page.login:
                        command += ["--login", page.login[0]]
                    done = subprocess.run(
                        command, check=False, env=app_env(db_url), cwd=ROOT, capture_output=True, text=True
                    )
                    print(done.stdout or done.stderr[-2000:], flush=True)
        if args.json:
            json.dump(as_json(pages, slow, more, sizes), args.json, ensure_ascii=False, indent=2)
        return 0
    finally:
        for server in servers:
            server.stop()
        if backends:
            backends.close()
        if shared:  # the cache entries of this run
            import redis

            client = redis.Redis.from_url(shared)
            for key in client.scan_iter(match=prefix + "*", count=1000):
                client.delete(key)
        if created and not args.keep_db:
            drop_database(args.admin_url, name)


def data_sizes(db_url: str) -> tuple[dict[str, int], str]:
    engine = sa.create_engine(sa.make_url(db_url).set(drivername="postgresql+psycopg"))
    with engine.connect() as conn:
        dong_code = conn.execute(sa.text("SELECT code FROM dongs ORDER BY id LIMIT 1")).scalar_one()
        tables = (
            "dongs",
            "card_items",
            "card_reviews",
            "meeting_requests",
            "committee_tasks",
            "outbox_messages",
        )
        sizes = {
            t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in tables
            if sa.inspect(conn).has_table(t)
        }
    engine.dispose()
    return sizes, dong_code


def ratios(runs: list[Run], baseline: list[Run]) -> list[float]:
    return [r.rps / b.rps for r, b in zip(runs, baseline, strict=True) if b.rps]


def missed(page: Page) -> bool:
    if page.goal is None or not page.on:
        return False
    too_many = page.sql is not None and (
        page.sql > MAX_SQL or (page.sql_small is not None and page.sql > page.sql_small)
    )
    return (
        median(ratios(page.on, page.base_on)) < page.goal
        or median(ratios(page.off, page.base_off)) < CACHE_OFF_GOAL
        or too_many
    )


def _cell(runs: list[Run], base: list[Run]) -> str:
    values = ratios(runs, base)
    if not values:
        return "-"
    return f"{median(values):.2f} [{min(values):.2f}–{max(values):.2f}]"


def report(pages: list[Page], slow: list, more: dict, args, sizes: dict, shared: str | None) -> None:
    print()
    print(
        f"civic_app benchmark — {time.strftime('%Y-%m-%d %H:%M %Z')}, {platform.machine()}, "
        f"{os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f} at the end; gunicorn "
        f"{args.workers} sync workers; wrk -t{args.threads} -c{args.connections}; {args.pairs} pairs × "
        f"{args.seconds} s per page and column; page cache in {'Redis' if shared else 'process memory'}"
    )
    print("data: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
    print("ratio = the page's req/s ÷ the same-size bare Flask page's, per pair: median [min–max]")
    header = (
        f"{'page':<28} {'bytes':>8} {'cache on':>18} {'p50/p95 ms':>12} {'cache off':>18} {'p50/p95 ms':>12} "
        f"{'CPU ms/req':>11} {'PG ms':>6} {'SQL miss':>9}  goals"
    )
    print(header)
    print("-" * len(header))
    base_cpu = median([r.cpu_ms for p in pages for r in p.base_off])
    for page in pages:
        if not page.on:
            print(f"{page.label:<28} status {page.status}: not measured")
            continue
        on50, on95 = median([r.p50_ms for r in page.on]), median([r.p95_ms for r in page.on])
        off50, off95 = median([r.p50_ms for r in page.off]), median([r.p95_ms for r in page.off])
        cpu, pg = median([r.cpu_ms for r in page.off]), median([r.pg_ms for r in page.off])
        sql = f"{page.sql}/{page.sql_small if page.sql_small is not None else '-'}"
        goals = []
        if page.goal is None:
            goals.append(f"floor: +{cpu - base_cpu:.2f} ms CPU over the baseline")
            if page.login:
                goals.append("ok" if cpu - base_cpu <= FLOOR_GOAL_MS else f"MISS >{FLOOR_GOAL_MS} ms")
        else:
            on_ratio = median(ratios(page.on, page.base_on))
            off_ratio = median(ratios(page.off, page.base_off))
            goals.append("on ok" if on_ratio >= page.goal else f"MISS on<{page.goal}")
            goals.append("off ok" if off_ratio >= CACHE_OFF_GOAL else f"MISS off<{CACHE_OFF_GOAL}")
            if page.sql is not None and (
                page.sql > MAX_SQL or (page.sql_small and page.sql > page.sql_small)
            ):
                goals.append("MISS sql")
        errors = sum(r.errors for r in page.on + page.off)
        if errors:
            goals.append(f"{errors} errors")
        print(
            f"{page.label:<28} {page.size:>8,} {_cell(page.on, page.base_on):>18} {on50:>5.1f}/{on95:<6.1f} "
            f"{_cell(page.off, page.base_off):>18} {off50:>5.1f}/{off95:<6.1f} {cpu:>11.2f} {pg:>6.2f} {sql:>9}  "
            + ", ".join(goals)
        )
    print(f"baseline: {base_cpu:.2f} ms CPU per request (bare Flask page)")
    print()
    print(f"single requests, cache off (median of 15 in a row; goal under {SLOW_GOAL_MS} ms):")
    for path, ms, sql in slow:
        print(f"  {path:<18} {ms:7.1f} ms  SQL {sql}  {'ok' if ms < SLOW_GOAL_MS else 'MISS'}")
    for key, value in more.items():
        print(f"{key}: {value}")


def as_json(pages: list[Page], slow: list, more: dict, sizes: dict) -> dict:
    def runs(items: list[Run]) -> list[dict]:
        return [r.__dict__ for r in items]

    return {
        "pages": [
            {
                "label": p.label,
                "path": p.path,
                "bytes": p.size,
                "sql": p.sql,
                "sql_small": p.sql_small,
                "on": runs(p.on),
                "off": runs(p.off),
                "baseline_on": runs(p.base_on),
                "baseline_off": runs(p.base_off),
            }
            for p in pages
        ],
        "single_requests_ms": {path: ms for path, ms, _sql in slow},
        "extras": more,
        "rows": sizes,
    }


if __name__ == "__main__":
    raise SystemExit(main())
