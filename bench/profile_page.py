"""Where a page spends its time: SQL statements with their durations and a pyinstrument profile.

    DATABASE_URL=postgresql://... .venv/bin/python -m bench.profile_page /cards/ [--login EMAIL]

Runs in-process with the Flask test client (no network, no gunicorn), so the figures are the
application's own cost per request on this database.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sqlalchemy import event
from sqlalchemy.engine import Engine

PASSWORD = "civic-demo-2026"  # the demo staff accounts seed-scale creates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--login")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--top", type=int, default=8, help="slowest statements to show")
    args = parser.parse_args(argv)

    from pyinstrument import Profiler

    from civic_app import create_app

    app = create_app({"WTF_CSRF_ENABLED": False, "CACHE_PAGES": False})  # profile the render
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = "civic-bench"
    if args.login:
        client.post("/login", data={"email": args.login, "password": PASSWORD})
    timings: dict[str, list[float]] = {}
    started: list[float] = []

    def before(conn, cursor, statement, params, context, executemany):
        started.append(time.perf_counter())

    def after(conn, cursor, statement, params, context, executemany):
        key = " ".join(statement.split())[:160]
        timings.setdefault(key, []).append((time.perf_counter() - started.pop()) * 1000)

    for _ in range(2):  # warm caches (templates, catalogs, prepared plans)
        client.get(args.path)
    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    walls = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        response = client.get(args.path)
        walls.append((time.perf_counter() - t) * 1000)
    event.remove(Engine, "before_cursor_execute", before)
    event.remove(Engine, "after_cursor_execute", after)
    sql_ms = sum(sum(v) for v in timings.values()) / args.repeat
    per_request = sum(len(v) for v in timings.values()) / args.repeat
    print(
        f"{args.path}: status {response.status_code}, {len(response.data):,} bytes, "
        f"median {statistics.median(walls):.1f} ms/request in-process, "
        f"{per_request:.0f} SQL statements taking {sql_ms:.1f} ms"
    )
    print("slowest statements (median ms, calls per request):")
    ranked = sorted(timings.items(), key=lambda kv: -statistics.median(kv[1]))
    for statement, values in ranked[: args.top]:
        print(f"  {statistics.median(values):7.2f} ms ×{len(values) / args.repeat:.0f}  {statement}")
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(3):
        client.get(args.path)
    profiler.stop()
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    lines = [line for line in text.splitlines() if "civic_app" in line or "templates/" in line]
    print("profile (civic_app frames, 3 requests, seconds):")
    for line in lines[:25]:
        print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
