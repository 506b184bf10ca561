"""Contended writes through HTTP: many requests for one thing at the same moment (issue 13).

A fresh PostgreSQL database with the demo data, served by gunicorn (4 sync workers). Each
round sends ``--contenders`` POSTs at once (threads released by a barrier, one connection each)
and times every response:

- mayor: staff book the mayor in ONE 통통데이 slot for 50 different requests (1 wins, the
  others are wait-listed and told which slot of that session is still free);
- fallback: staff book ONE deputy-mayor slot for 50 requests (1 wins, the others get the form
  back with the deputy's next free slot named);
- submissions: 50 통통데이 requests submitted by 10 citizens at once (all saved, distinct codes).

It checks the outcome (winners, HTTP 500s, distinct codes) and reports p50/p95/max in ms, and
the median of the same request sent alone (``alone_p50_ms``): with W workers, N requests at
once cannot all finish before about N / W x that time, whatever the locking does.

    .venv/bin/python -m bench.bench_contention [--contenders 50] [--rounds 3] [--workers 4]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import sys
import threading
import time
import uuid

import requests
import sqlalchemy as sa

from bench.run import (
    ROOT,
    Server,
    app_env,
    build_schema,
    create_database,
    drop_database,
    libpq,
    log,
    sign_in,
)

PASSWORD = "civic-demo-2026"
STAFF = "staff@demo.civic.kr"
CITIZENS = 10
SINGLES = 10  # requests timed one at a time, for comparison


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def summary(timings: list[float]) -> dict:
    return {
        "n": len(timings),
        "p50_ms": round(statistics.median(timings), 1) if timings else None,
        "p95_ms": round(percentile(timings, 95), 1) if timings else None,
        "max_ms": round(max(timings), 1) if timings else None,
    }


def prepare(db_url: str, contenders: int, rounds: int) -> dict:
    """Demo data, then per round: ``contenders`` submitted requests, a free 통통데이 slot and a
    free deputy slot; and ``CITIZENS`` citizen accounts for the submission rounds."""
    import subprocess

    env = app_env(db_url)
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "civic_app", "seed-demo"], env=env, cwd=ROOT, check=True
    )
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "CIVIC_ENV", "SECRET_KEY")})
    from civic_app import create_app
    from civic_app.accounts.models import User, UserRole
    from civic_app.accounts.services import hash_password
    from civic_app.dongs.models import Host
    from civic_app.extensions import db
    from civic_app.meetings import schedule
    from civic_app.meetings.models import MeetingBooking, MeetingSlot, TongtongSession
    from civic_app.meetings.submission import submit_request
    from civic_app.timeutil import utcnow

    app = create_app()
    with app.app_context():
        session = db.session
        now = utcnow()
        rule = schedule.ensure_default_rule(session)
        today = now.date()
        schedule.generate(session, rule, today, today + dt.timedelta(days=400), now=now)
        staff = session.scalar(sa.select(User).where(User.email == STAFF))
        pw = hash_password(PASSWORD)
        citizens = []
        for k in range(CITIZENS):
            email = f"bench-citizen{k}@example.com"
            user = User(email=email, name="벤치시민", phone="010-1234-5678", password_hash=pw, created_at=now)
            user.email_verified_at = user.privacy_consent_at = now
            user.privacy_consent_version = "bench"
            user.roles.append(UserRole(role="citizen"))
            session.add(user)
            citizens.append(user)
        session.flush()
        taken = sa.select(MeetingBooking.slot_id).where(MeetingBooking.slot_id.is_not(None))
        free: dict[int, MeetingSlot] = {}  # the first free slot of each future session
        for slot in session.scalars(
            sa.select(MeetingSlot)
            .join(TongtongSession)
            .where(MeetingSlot.start_at > now + dt.timedelta(days=2), MeetingSlot.id.not_in(taken))
            .where(TongtongSession.status == "scheduled", MeetingSlot.active.is_(True))
            .order_by(MeetingSlot.start_at)
        ):
            free.setdefault(slot.session_id, slot)
        sessions = list(free.values())
        deputy = session.scalar(sa.select(Host).where(Host.rank == Host.RANK_DEPUTY, Host.active.is_(True)))
        plan: dict = {"mayor": [], "fallback": [], "citizens": [c.email for c in citizens]}

        def requests_for_round() -> list[int]:
            ids = []
            for k in range(contenders):
                req = submit_request(
                    session,
                    actor=citizens[k % CITIZENS],
                    now=now,
                    topic=f"동시 배정 {k}",
                    category="도로·교통",
                    desired_outcome="벤치",
                    dong_id=None,
                    is_group=False,
                    party_size=1,
                    preferred_session_ids=[],
                    accessibility=None,
                    consent=True,
                    publish_consent=True,
                )
                ids.append(req.id)
            return ids

        # Round ``rounds`` is for the one-at-a-time baseline, round ``rounds + 1`` warms every
        # worker up (first requests of a fresh process load templates and reference data).
        for r in range(rounds + 2):
            slot = sessions[r]  # one session per round
            plan["mayor"].append({"slot": slot.id, "requests": requests_for_round()})
            start = dt.datetime.combine(today + dt.timedelta(days=30 + r), dt.time(6, 7), tzinfo=dt.UTC)
            host_slot = schedule.publish_host_slot(
                session, deputy, start_at=start, minutes=30, location="부시장실", now=now
            )
            schedule.publish_host_slot(  # the deputy's next free slot, named to the losers
                session,
                deputy,
                start_at=start + dt.timedelta(hours=1),
                minutes=30,
                location="부시장실",
                now=now,
            )
            plan["fallback"].append({"slot": host_slot.id, "requests": requests_for_round()})
        plan["staff_id"] = staff.id
        session.commit()
    return plan


def csrf_token(base: str, cookie: str, path: str) -> str:
    page = requests.get(base + path, headers={"Cookie": cookie}, timeout=30)
    match = re.search(r'name="[\w-]*csrf_token"[^>]*value="([^"]+)"', page.text)
    if match is None:
        raise RuntimeError(f"no CSRF token on {path} ({page.status_code})")
    return match.group(1)


def contend(calls: list[tuple[str, dict, str, str]]) -> tuple[list[float], list[requests.Response]]:
    """POST every (url, data, cookie, token) at once; return the times (ms) and responses."""
    barrier = threading.Barrier(len(calls), timeout=120)
    timings: list[float] = [0.0] * len(calls)
    responses: list = [None] * len(calls)

    def run(i: int) -> None:
        url, data, cookie, token = calls[i]
        client = requests.Session()
        client.headers.update({"Cookie": cookie, "X-CSRFToken": token, "User-Agent": "civic-bench"})
        client.get(re.match(r"https?://[^/]+", url).group(0) + "/healthz", timeout=30)  # connect first
        barrier.wait()
        started = time.perf_counter()
        responses[i] = client.post(url, data=data, allow_redirects=False, timeout=120)
        timings[i] = (time.perf_counter() - started) * 1000

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return timings, responses


def alone(calls: list[tuple[str, dict, str, str]]) -> list[float]:
    """The same POSTs one after the other: the cost of one request with nobody competing."""
    timings = []
    for url, data, cookie, token in calls:
        client = requests.Session()
        client.headers.update({"Cookie": cookie, "X-CSRFToken": token, "User-Agent": "civic-bench"})
        started = time.perf_counter()
        client.post(url, data=data, allow_redirects=False, timeout=120)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def run(
    admin_url: str, contenders: int = 50, rounds: int = 3, workers: int = 4, keep_db: bool = False
) -> dict:
    name = f"contention_bench_{uuid.uuid4().hex[:6]}"
    url = create_database(admin_url, name)
    db_url = libpq(url)
    server = None
    try:
        build_schema(db_url)
        log(f"contention: preparing {rounds} rounds of {contenders}")
        plan = prepare(db_url, contenders, rounds)
        server = Server("civic_app:create_app()", app_env(db_url), workers)
        server.wait("/healthz")
        base = server.url
        staff = sign_in(base, STAFF, PASSWORD)
        first = plan["mayor"][0]["requests"][0]
        staff_token = csrf_token(base, staff, f"/staff/tongtong/requests/{first}")
        citizens = [sign_in(base, email, PASSWORD) for email in plan["citizens"]]
        citizen_tokens = [csrf_token(base, c, "/tongtong/requests/new") for c in citizens]
        engine = sa.create_engine(url)
        result: dict = {"contenders": contenders, "rounds": rounds, "workers": workers}
        for kind, prefix in (("mayor", "m"), ("fallback", "f")):
            timings: list[float] = []
            statuses: dict[int, int] = {}
            winners: list[int] = []
            told_free = 0
            baseline: list[float] = []
            for i, rnd in [(-1, plan[kind][-1]), *enumerate(plan[kind][:-1])]:
                data = {f"{prefix}-slot_id": str(rnd["slot"]), f"{prefix}-csrf_token": staff_token}
                if kind == "mayor":
                    data[f"{prefix}-reason_code"] = "mayor_priority"
                else:
                    data |= {
                        f"{prefix}-reason_code": "field_host",
                        f"{prefix}-note": "부시장이 바로 답할 수 있습니다.",
                    }
                calls = [
                    (f"{base}/staff/tongtong/requests/{rid}/decide/{kind}", data, staff, staff_token)
                    for rid in rnd["requests"]
                ]
                if i == -1:  # warm-up, not timed
                    contend(calls)
                    continue
                if i == rounds:  # 1 winner then losers, one at a time
                    baseline = alone(calls[:SINGLES])
                    continue
                took, responses = contend(calls)
                timings += took
                for r in responses:
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    text = r.text
                    if r.status_code == 302:
                        # The mayor's losers are redirected too (wait-listed); the flash says so.
                        jar = dict(c.split("=", 1) for c in staff.split("; ")) | r.cookies.get_dict()
                        text = requests.get(base + r.headers["Location"], cookies=jar, timeout=30).text
                    if "남은 시간" in text or "다음 빈 시간" in text:
                        told_free += 1
                with engine.connect() as conn:
                    winners.append(
                        conn.execute(
                            sa.text("SELECT count(*) FROM meeting_bookings WHERE slot_id = :s"),
                            {"s": rnd["slot"]},
                        ).scalar_one()
                    )
            result[kind] = {
                **summary(timings),
                "alone_p50_ms": round(statistics.median(baseline), 1),
                "statuses": statuses,
                "bookings_per_slot": winners,
                "losers_told_a_free_slot": told_free,
            }
            log(f"contention {kind}: {result[kind]}")
        timings = []
        statuses = {}
        before = 0
        for r in range(-1, rounds + 1):  # round -1 warms up (its requests are counted in ``before``)
            if r == 0:
                with engine.connect() as conn:
                    before = conn.execute(sa.text("SELECT count(*) FROM meeting_requests")).scalar_one()
            calls = [
                (
                    f"{base}/tongtong/requests/new",
                    {
                        "topic": f"동시 신청 {r}-{k}",
                        "category": "도로·교통",
                        "desired_outcome": "벤치",
                        "dong_id": "0",
                        "party_size": "1",
                        "consent": "y",
                        "publish_consent": "y",
                        "csrf_token": citizen_tokens[k % CITIZENS],
                    },
                    citizens[k % CITIZENS],
                    citizen_tokens[k % CITIZENS],
                )
                for k in range(contenders)
            ]
            if r == -1:
                contend(calls)
                continue
            if r == rounds:
                baseline = alone(calls[:SINGLES])
                continue
            took, responses = contend(calls)
            timings += took
            for resp in responses:
                statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
        with engine.connect() as conn:
            saved = conn.execute(sa.text("SELECT count(*) FROM meeting_requests")).scalar_one() - before
            saved -= len(baseline)  # the ones sent alone
            codes = conn.execute(sa.text("SELECT count(DISTINCT code) FROM meeting_requests")).scalar_one()
            total = conn.execute(sa.text("SELECT count(*) FROM meeting_requests")).scalar_one()
        engine.dispose()
        result["submissions"] = {
            **summary(timings),
            "alone_p50_ms": round(statistics.median(baseline), 1),
            "statuses": statuses,
            "saved": saved,
            "distinct_codes": codes == total,
        }
        log(f"contention submissions: {result['submissions']}")
        return result
    finally:
        if server is not None:
            server.stop()
        if not keep_db:
            drop_database(admin_url, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--admin-url", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--contenders", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.admin_url, args.contenders, args.rounds, args.workers, args.keep_db)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
