"""Several gunicorn workers and two bot processes on one PostgreSQL database, with SIGKILLs.

What must hold when real processes race and die (docs/operations.md says how to run it):
- concurrent 통통데이 bookings never double-book a slot, and a booked request always has its
  booking and its timeline entry (no half-written record, even when a worker is SIGKILLed);
- concurrent reviews of one card item never lose an update: one wins, the others are told
  "someone changed this, reload" (Conflict);
- login rate limits hold across worker processes (shared Redis storage);
- two bot processes deliver the outbox once; SIGKILL one mid-batch and nothing is lost.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests.conftest import TEST_DATABASE_URL, _pg_admin_url

# One xdist worker runs the whole module: it shares one cluster of processes.
pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # one xdist worker: XDIST_GROUPS in tests/conftest.py

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "civic-demo-2026"  # the demo staff accounts seed-scale creates
STAFF = "staff@demo.civic.kr"
BUDGET = "budget@demo.civic.kr"
WORKERS = 3
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
CONFLICT_TEXT = "다른 사람이 먼저 수정했습니다"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "TELEGRAM_"))}
    env.update(
        DATABASE_URL=db_url,
        CIVIC_ENV="development",
        SECRET_KEY="multiprocess-test-secret-0123456789abcdef",
        REDIS_URL=REDIS_URL,
        LOGIN_RATE_LIMIT_ADDRESS="10000 per minute",
        LOGIN_RATE_LIMIT_ACCOUNT="5 per minute",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            out += [int(p) for p in (task / "children").read_text().split()]
    return out


class Cluster:
    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.engine = sa.create_engine(sa.make_url(db_url).set(drivername="postgresql+psycopg"))
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.gunicorn: subprocess.Popen | None = None

    def start(self) -> None:
        self.gunicorn = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                str(WORKERS),
                "-b",
                f"127.0.0.1:{self.port}",
                "--graceful-timeout",
                "2",
                "--log-level",
                "warning",
                "civic_app:create_app()",
            ],
            cwd=ROOT,
            env=_env(self.db_url),
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.gunicorn.poll() is None, "gunicorn exited"
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.3)
        while len(self.workers()) < WORKERS and time.monotonic() < deadline:
            time.sleep(0.2)

    def workers(self) -> list[int]:
        return _children(self.gunicorn.pid) if self.gunicorn else []

    def stop(self) -> None:
        if self.gunicorn and self.gunicorn.poll() is None:
            os.killpg(self.gunicorn.pid, signal.SIGTERM)
            try:
                self.gunicorn.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.gunicorn.pid, signal.SIGKILL)
                self.gunicorn.wait()
        self.engine.dispose()

    def session(self, email: str) -> requests.Session:
        client = requests.Session()
        page = client.get(self.base + "/login", timeout=10)
        response = client.post(
            self.base + "/login",
            data={"email": email, "password": PASSWORD, "csrf_token": _csrf(page.text)},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, (email, response.status_code)
        return client

    def scalar(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def rows(self, sql: str, **params) -> list:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken":\s*"([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture(scope="module")
def cluster():
    admin = _pg_admin_url(TEST_DATABASE_URL)
    name = f"scale_mp_{uuid.uuid4().hex[:8]}"
    admin_engine = sa.create_engine(admin.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    db_url = admin.set(database=name, drivername="postgresql").render_as_string(hide_password=False)
    created = Cluster(db_url)
    try:
        schema = "from civic_app import create_app\nfrom civic_app.extensions import db\napp = create_app()\nwith app.app_context():\n    db.create_all()\n"
        subprocess.run([sys.executable, "-c", schema], cwd=ROOT, env=_env(db_url), check=True, timeout=120)
        seed = ["--dongs", "6", "--requests", "120", "--card-items", "40", "--committee-tasks", "5"]
        seed += ["--outbox", "0", "--citizens", "20", "--years", "2"]
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "civic_app", "seed-scale", *seed],
            cwd=ROOT,
            env=_env(db_url),
            check=True,
            timeout=300,
            capture_output=True,
        )
        created.start()
        yield created
    finally:
        created.stop()
        with admin_engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


def _booking_invariants(cluster: Cluster) -> None:
    """No slot twice, and every booked request has exactly its booking and its timeline entry."""
    dup = cluster.rows(
        "SELECT slot_id FROM meeting_bookings WHERE slot_id IS NOT NULL GROUP BY slot_id HAVING count(*) > 1"
    )
    assert dup == []
    booked_without = cluster.rows(
        "SELECT r.id FROM meeting_requests r WHERE r.status = 'booked' AND "
        "(SELECT count(*) FROM meeting_bookings b WHERE b.request_id = r.id AND b.active) <> 1"
    )
    assert booked_without == []
    orphan = cluster.rows(
        "SELECT b.id FROM meeting_bookings b JOIN meeting_requests r ON r.id = b.request_id "
        "WHERE b.active AND b.slot_id IS NOT NULL AND r.status NOT IN ('booked', 'held')"
    )
    assert orphan == []
    no_event = cluster.rows(
        "SELECT r.id FROM meeting_requests r WHERE r.status = 'booked' AND NOT EXISTS "
        "(SELECT 1 FROM meeting_request_events e WHERE e.request_id = r.id AND e.kind = 'booked')"
    )
    assert no_event == []
    # The confirmation e-mail commits with the booking: no booking without its outbox row.
    no_notice = cluster.rows(
        "SELECT b.id FROM meeting_bookings b JOIN meeting_requests r ON r.id = b.request_id "
        "WHERE b.active AND r.status = 'booked' AND r.requester_email IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM outbox_messages o WHERE o.dedupe_key = 'tongtong-' || r.id || '-booked-' || b.id)"
    )
    assert no_notice == []


def _new_submitted(cluster: Cluster, count: int) -> list[int]:
    """Copies of a seeded request, back in the queue (state ``submitted``, no decision)."""
    table = sa.Table("meeting_requests", sa.MetaData(), autoload_with=cluster.engine)
    with cluster.engine.begin() as conn:
        template = conn.execute(sa.select(table).limit(1)).mappings().one()
        now = dt.datetime.now(dt.UTC)
        ids = []
        for _ in range(count):
            row = {k: v for k, v in template.items() if k != "id"}
            row.update(
                code=f"MP-{uuid.uuid4().hex[:12]}",
                status="submitted",
                route=None,
                decided_at=None,
                decided_by_id=None,
                preferred_session_ids=[],
                queue_since=now,
                created_at=now,
                updated_at=now,
            )
            row = {k: v for k, v in row.items() if k in table.c}
            ids.append(conn.execute(table.insert().values(**row).returning(table.c.id)).scalar_one())
    return ids


def _quick_mayor(cluster: Cluster, client: requests.Session, token: str, request_id: int) -> int:
    try:
        response = client.post(
            f"{cluster.base}/staff/tongtong/requests/{request_id}/quick-mayor",
            data={"csrf_token": token},
            allow_redirects=False,
            timeout=30,
        )
    except requests.RequestException:
        return 0  # the worker died under us: the transaction rolled back or committed, never half
    return response.status_code


def test_concurrent_bookings_never_double_book(cluster):
    future_slots = cluster.scalar(
        "SELECT count(*) FROM meeting_slots s WHERE s.start_at > now() + interval '1 day' AND s.active "
        "AND s.session_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM meeting_bookings b WHERE b.slot_id = s.id)"
    )
    assert future_slots > 0
    pending = _new_submitted(cluster, future_slots + 6)  # more requests than places
    clients = [cluster.session(STAFF) for _ in range(4)]
    tokens = [_csrf(c.get(cluster.base + "/staff/tongtong/requests", timeout=30).text) for c in clients]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(
                lambda k: _quick_mayor(cluster, clients[k % 4], tokens[k % 4], pending[k]),
                range(len(pending)),
            )
        )
    assert all(s in (200, 302, 303) for s in statuses), collections.Counter(statuses)
    booked = cluster.scalar(
        "SELECT count(*) FROM meeting_bookings WHERE slot_id IS NOT NULL AND start_at > now() + interval '1 day'"
    )
    assert 0 < booked <= future_slots
    waiting = cluster.scalar(
        "SELECT count(*) FROM meeting_requests WHERE id = ANY(:ids) AND status = 'waitlisted'", ids=pending
    )
    assert waiting >= len(pending) - future_slots
    _booking_invariants(cluster)


def _review(cluster: Cluster, client: requests.Session, token: str, item_id: int) -> str:
    prefix = f"r{item_id}-"
    data = {"csrf_token": token, prefix + "party": "budget", prefix + "version": "0"}
    data.update({prefix + c: "4" for c in ("feasibility", "legality", "urgency", "safety", "beneficiaries")})
    data[prefix + "recommendation"] = "select"
    data[prefix + "comment"] = f"동시 검토 {uuid.uuid4().hex[:6]}"
    response = client.post(
        f"{cluster.base}/staff/cards/items/{item_id}/review",
        data=data,
        headers={"HX-Request": "true"},
        timeout=30,
    )
    if CONFLICT_TEXT in response.text:
        return "conflict"
    return "ok" if response.status_code == 200 else f"status {response.status_code}"


def test_concurrent_reviews_of_one_card_item_never_lose_an_update(cluster):
    clients = [cluster.session(BUDGET) for _ in range(3)]
    tokens = [_csrf(c.get(cluster.base + "/staff/cards/queue/budget", timeout=30).text) for c in clients]
    items = [
        r[0]
        for r in cluster.rows(
            "SELECT id FROM card_items WHERE status IN ('received', 'under_review') AND NOT EXISTS "
            "(SELECT 1 FROM card_reviews v WHERE v.item_id = card_items.id AND v.party = 'budget') ORDER BY id LIMIT 6"
        )
    ]
    assert len(items) == 6
    outcomes = []
    for item_id in items:
        with ThreadPoolExecutor(max_workers=3) as pool:
            results = list(
                pool.map(lambda k, i=item_id: _review(cluster, clients[k], tokens[k], i), range(3))
            )
        outcomes.append(results)
        reviews = cluster.scalar(
            "SELECT count(*) FROM card_reviews WHERE item_id = :i AND party = 'budget'", i=item_id
        )
        assert reviews == 1, (item_id, results)
    flat = [r for results in outcomes for r in results]
    assert flat.count("ok") == len(items), outcomes
    assert flat.count("conflict") == 2 * len(items), outcomes


def test_login_rate_limit_holds_across_workers(cluster):
    email = f"rate-{uuid.uuid4().hex[:8]}@example.com"
    codes = []
    for _ in range(12):
        with requests.Session() as client:  # a new connection each time: any worker may answer
            page = client.get(cluster.base + "/login", timeout=10)
            response = client.post(
                cluster.base + "/login",
                data={"email": email, "password": "wrong-password-x", "csrf_token": _csrf(page.text)},
                headers={"Connection": "close"},
                timeout=10,
            )
            codes.append(response.status_code)
    assert codes.count(429) == 7, codes
    assert all(c in (400, 200) for c in codes[:5]), codes


def test_sigkill_a_worker_during_bookings_leaves_no_half_written_record(cluster):
    before = set(cluster.workers())
    assert len(before) == WORKERS
    pending = _new_submitted(cluster, 40)
    client = cluster.session(STAFF)
    token = _csrf(client.get(cluster.base + "/staff/tongtong/requests", timeout=30).text)
    stop = threading.Event()

    def killer() -> None:
        time.sleep(0.3)
        victims = cluster.workers()
        if victims:
            os.kill(victims[0], signal.SIGKILL)
        stop.set()

    thread = threading.Thread(target=killer)
    thread.start()
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda rid: _quick_mayor(cluster, client, token, rid), pending))
    thread.join()
    assert stop.is_set()
    # gunicorn replaces the dead worker; the app keeps answering.
    deadline = time.monotonic() + 30
    while (
        len(cluster.workers()) < WORKERS or set(cluster.workers()) == before
    ) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert set(cluster.workers()) != before
    assert requests.get(cluster.base + "/healthz", timeout=10).status_code == 200
    assert statuses  # the load really ran
    _booking_invariants(cluster)


def test_two_bots_deliver_the_outbox_once_even_when_one_is_sigkilled(cluster):
    from tests.bots.conftest import CHANNEL, bot_command, bot_env
    from tests.bots.fake_bot_api import FakeBotAPI

    n = 120
    now = dt.datetime.now(dt.UTC)
    titles = [f"다중 프로세스 {i:04d} <b>&amp;</b>" for i in range(n)]
    with cluster.engine.begin() as conn:
        for i, title in enumerate(titles):
            conn.execute(
                sa.text(
                    "INSERT INTO outbox_messages (channel, recipient, kind, payload, dedupe_key, status, attempts, "
                    "next_attempt_at, created_at, updated_at) VALUES ('telegram', NULL, 'card_done', "
                    "CAST(:payload AS JSON), :key, 'queued', 0, :now, :now, :now)"
                ),
                {
                    "payload": json.dumps(
                        {"title": title, "summary": "", "url": f"/cards/{i}"}, ensure_ascii=False
                    ),
                    "key": f"mp-{uuid.uuid4().hex}-{i}",
                    "now": now,
                },
            )
    api = FakeBotAPI().start()
    api.delay_all = 0.02
    env = bot_env(cluster.db_url, api, TELEGRAM_CLAIM_TIMEOUT="1")
    bots = [
        subprocess.Popen(
            bot_command("--deliver-only"), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 60
        while len(api.calls("sendMessage")) < n // 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(bots[0].pid, signal.SIGKILL)
        bots[0].wait(timeout=10)
        assert bots[0].returncode == -signal.SIGKILL
        bots.append(
            subprocess.Popen(
                bot_command("--deliver-only"),
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            left = cluster.scalar(
                "SELECT count(*) FROM outbox_messages WHERE channel = 'telegram' AND status <> 'sent'"
            )
            if left == 0:
                break
            time.sleep(0.3)
        statuses = dict(cluster.rows("SELECT status, count(*) FROM outbox_messages GROUP BY status"))
        assert statuses.get("sent", 0) >= n, statuses
        posted = collections.Counter(
            m.group() for p in api.channel_posts(CHANNEL) if (m := re.search(r"다중 프로세스 \d{4}", p.text))
        )
        assert len(posted) == n, f"lost: {n - len(posted)}"
        duplicates = sum(c - 1 for c in posted.values())
        assert duplicates <= 1, posted.most_common(3)  # at most the one in flight at the kill
        # Payloads come back escaped in the Telegram HTML.
        assert any("&lt;b&gt;&amp;amp;&lt;/b&gt;" in p.text for p in api.channel_posts(CHANNEL))
    finally:
        for proc in bots:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        api.stop()
