"""Servers, load and CPU accounting for ``bench.run``.

A :class:`Server` is one gunicorn master (sync workers) in its own session; its workers' CPU
time (user + system, from ``/proc``) is read before and after a wrk run, so CPU per request is
the application's own cost, not the load generator's. PostgreSQL backends serving the bench
database are accounted the same way (same machine).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
LUA = Path(__file__).with_name("wrk_report.lua")
USER_AGENT = "civic-bench"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                out += [int(p) for p in (task / "children").read_text().split()]
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / TICKS


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

    def wait(self, path: str = "/", timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}")
            with contextlib.suppress(requests.RequestException):
                requests.get(self.url + path, timeout=2)
                return
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not start")

    def workers(self) -> list[int]:
        return _children(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class Backends:
    """The PostgreSQL server processes connected to one database (for their CPU time)."""

    def __init__(self, db_url: str) -> None:
        self.engine = sa.create_engine(sa.make_url(db_url).set(drivername="postgresql+psycopg"))
        self.database = sa.make_url(db_url).database

    def pids(self) -> list[int]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"
                    ),
                    {"d": self.database},
                ).scalars()
            )

    def close(self) -> None:
        self.engine.dispose()


@dataclass
class Run:
    rps: float
    p50_ms: float
    p95_ms: float
    requests: int
    errors: int
    cpu_ms: float  # application (or baseline) CPU per request
    pg_ms: float  # PostgreSQL backends' CPU per request


def wrk(
    server: Server,
    path: str,
    *,
    seconds: int,
    connections: int,
    threads: int,
    cookie: str | None,
    backends: Backends | None = None,
) -> Run:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA)]
    cmd += ["-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    workers = server.workers()
    pg = backends.pids() if backends else []
    before, pg_before = cpu_seconds(workers), cpu_seconds(pg)
    out = subprocess.run([*cmd, server.url + path], capture_output=True, text=True, check=True).stdout
    after, pg_after = cpu_seconds(workers), cpu_seconds(pg)
    line = next(line for line in out.splitlines() if line.startswith("BENCH_JSON "))
    data = json.loads(line[len("BENCH_JSON ") :])
    count = max(1, data["requests"])
    return Run(
        rps=data["rps"],
        p50_ms=data["p50_ms"],
        p95_ms=data["p95_ms"],
        requests=data["requests"],
        errors=data["non2xx"] + data["timeouts"],
        cpu_ms=(after - before) * 1000 / count,
        pg_ms=(pg_after - pg_before) * 1000 / count,
    )


def sequential_ms(url: str, cookie: str | None, n: int = 15) -> float:
    """Median wall time of ``n`` requests one after the other (no queueing)."""
    import statistics

    headers = {"User-Agent": USER_AGENT, **({"Cookie": cookie} if cookie else {})}
    timings = []
    session = requests.Session()
    session.get(url, headers=headers, timeout=60)
    for _ in range(n):
        started = time.perf_counter()
        session.get(url, headers=headers, timeout=60)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)
