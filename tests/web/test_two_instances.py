"""Two app instances on one PostgreSQL and one Redis, as two machines behind a load balancer
(issue 19): a write through one is seen through the other on the very next request (the page
cache in Redis is keyed by the data version the write bumped), the cache is shared (a page
rendered by one is a hit on the other), and the sign-in limit counts attempts on both.

Each instance is its own gunicorn master on its own port. PostgreSQL (``TEST_DATABASE_URL``)
and Redis (``REDIS_URL``, default ``redis://127.0.0.1:6379/15``) are required: ``.ci/run`` has
both; elsewhere the test is skipped and says why.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests.conftest import TEST_DATABASE_URL, _pg_admin_url

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # one xdist worker: XDIST_GROUPS in tests/conftest.py

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
PASSWORD = "two-instances-password-1"
ADMIN = "admin@two.example.kr"


def _redis_or_skip():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"needs Redis at {REDIS_URL} (set REDIS_URL; .ci/run does): {error}")
    return client


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Instance:
    """One gunicorn master (one worker) serving the app."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                "1",
                "-b",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "civic_app:create_app()",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )

    def wait(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "gunicorn exited"
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        raise AssertionError("gunicorn did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _sign_in(base: str, email: str, password: str) -> requests.Session:
    client = requests.Session()
    token = _csrf(client.get(base + "/login", timeout=10).text)
    response = client.post(
        base + "/login",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.status_code
    return client


def _attempt(base: str, email: str) -> int:
    client = requests.Session()
    token = _csrf(client.get(base + "/login", timeout=10).text)
    return client.post(
        base + "/login",
        data={"email": email, "password": "wrong-password", "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    ).status_code


@pytest.fixture(scope="module")
def instances() -> Iterator[tuple[Instance, Instance]]:
    if not TEST_DATABASE_URL:
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL (.ci/run does)")
    redis_client = _redis_or_skip()
    prefix = f"civic-two-{uuid.uuid4().hex[:8]}:"
    admin = _pg_admin_url(TEST_DATABASE_URL)
    name = f"civic_two_{uuid.uuid4().hex[:8]}"
    admin_engine = sa.create_engine(admin.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    db_url = admin.set(database=name, drivername="postgresql").render_as_string(hide_password=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "TELEGRAM_"))}
    env.update(
        DATABASE_URL=db_url,
        CIVIC_ENV="development",
        SECRET_KEY="two-instances-secret-0123456789abcdef",
        REDIS_URL=REDIS_URL,
        CACHE_KEY_PREFIX=prefix,
        CACHE_PAGES="1",
        SQL_COUNT_HEADER="1",
        LOGIN_RATE_LIMIT_ADDRESS="10000 per minute",
        LOGIN_RATE_LIMIT_ACCOUNT="3 per minute",
        PYTHONPATH=str(ROOT),
    )
    setup = (
        "from civic_app import create_app\n"
        "from civic_app.extensions import db\n"
        "from civic_app.demo.cli import ensure_reference_data\n"
        "from civic_app.accounts.services import create_staff_user\n"
        "from civic_app.timeutil import utcnow\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    db.create_all()\n"
        "    ensure_reference_data(db.session)\n"
        f"    create_staff_user(db.session, email={ADMIN!r}, name='관리자', password={PASSWORD!r},\n"
        "                      roles=['admin'], department_id=None, now=utcnow())\n"
        "    db.session.commit()\n"
    )
    started: list[Instance] = []
    try:
        subprocess.run([sys.executable, "-c", setup], cwd=ROOT, env=env, check=True, timeout=120)
        started = [Instance(env), Instance(env)]
        for instance in started:
            instance.wait()
        yield started[0], started[1]
    finally:
        for instance in started:
            instance.stop()
        for key in redis_client.scan_iter(match=prefix + "*"):
            redis_client.delete(key)
        with admin_engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


def _dongs(base: str) -> tuple[int, int]:
    response = requests.get(base + "/api/v1/dongs", timeout=10)
    assert response.status_code == 200
    return response.json()["total"], int(response.headers["X-SQL-Count"])


def test_a_write_through_one_instance_is_seen_through_the_other_at_once(instances):
    one, two = instances
    before, _sql = _dongs(two.base)  # rendered by the second instance, kept in Redis
    total, sql = _dongs(one.base)
    assert total == before
    assert sql == 1  # the first instance's answer is the second's cached page: the versions only

    admin = _sign_in(one.base, ADMIN, PASSWORD)
    token = _csrf(admin.get(one.base + "/admin/dongs/new", timeout=10).text)
    created = admin.post(
        one.base + "/admin/dongs/new",
        data={"code": "4199059900", "name": "두기계동", "active": "y", "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert created.status_code in (302, 303), created.status_code
    # No expiry to wait for: the write bumped the dongs' version in its own transaction.
    after, sql = _dongs(two.base)
    assert after == before + 1
    assert sql > 1  # a new key: rendered again


def test_the_sign_in_limit_counts_attempts_on_both_instances(instances):
    one, two = instances
    email = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    assert [_attempt(one.base, email) for _ in range(2)] == [400, 400]
    assert _attempt(two.base, email) == 400  # the third attempt, on the other machine
    assert _attempt(one.base, email) == 429  # the limit is 3 a minute across both
    assert _attempt(two.base, email) == 429
