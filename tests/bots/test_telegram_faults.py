"""Fault tests: the bot against a misbehaving fake Bot API (in the test process through
``run_bot``; a real process where one is killed, or must run beside the test).

Afterwards every outbox message is delivered exactly once, except the documented
unknown-outcome window (a send Telegram accepted whose success was never recorded), which
the bot logs as UNKNOWN_OUTCOME; duplicates never exceed those logged repeats.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import os
import signal
import subprocess
import time

import pytest
from sqlalchemy import select

from civic_app.notify import worker as outbox
from civic_app.notify.models import OutboxMessage
from civic_app.telegram import delivery
from tests.bots.conftest import CHANNEL, ROOT, bot_command, bot_env
from tests.factories import NOW
from tests.factories_telegram import queue

pytestmark = pytest.mark.slow


def _queue_many(n: int, kind: str = "card_done") -> list[str]:
    return [queue(kind).payload["title"] for _i in range(n)]


def _post_counts(api, titles: list[str]) -> dict[str, int]:
    counts: collections.Counter[str] = collections.Counter()
    for post in api.channel_posts(CHANNEL):
        for title in titles:
            if f"{title}</b>" in post.text:
                counts[title] += 1
    return {t: counts[t] for t in titles}


def _statuses(session) -> collections.Counter[str]:
    session.expire_all()
    return collections.Counter(session.scalars(select(OutboxMessage.status)))


class FakeClock:
    """The runner's clock and sleep: sleeping moves the clock on at once and is recorded."""

    def __init__(self, start: dt.datetime) -> None:
        self.at = start
        self.slept: list[float] = []

    def now(self) -> dt.datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.at += dt.timedelta(seconds=seconds)


def _deliver_in_process(database_url, api, clock: FakeClock, **extra: str):
    """One delivery pass of the bot's runner against the fake API, on a controllable clock."""
    import asyncio

    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker
    from telegram import Bot

    from bots.telegram_bot.runner import Runner

    env = bot_env(database_url, api, **extra)
    settings = delivery.Settings.from_env(env)
    engine = create_engine(database_url)

    async def run():
        async with Bot(env["TELEGRAM_BOT_TOKEN"], base_url=env["TELEGRAM_API_BASE_URL"]) as bot:
            runner = Runner(
                bot, sessionmaker(engine), settings, worker="t", now_fn=clock.now, sleep=clock.sleep
            )
            return await runner.deliver_pass()

    try:
        return asyncio.run(run())
    finally:
        engine.dispose()


def _age_claims(session, *, seconds: float) -> None:
    """Move every claim back in time, as if ``seconds`` had passed since it was taken."""
    session.expire_all()
    for row in session.scalars(select(OutboxMessage).where(OutboxMessage.claimed_at.is_not(None))):
        row.claimed_at -= dt.timedelta(seconds=seconds)
    session.commit()


def _wait_until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def _popen(database_url, api, *args, **extra) -> subprocess.Popen:
    return subprocess.Popen(
        bot_command("--once", *args),
        cwd=ROOT,
        env=bot_env(database_url, api, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_api_down_for_a_while_mid_batch(app, session, database_url, fake_api):
    titles = _queue_many(12)
    session.commit()
    fake_api.delay_all = 0.05
    proc = _popen(database_url, fake_api, TELEGRAM_INLINE_RETRIES="40")
    _wait_until(lambda: len(fake_api.accepted("sendMessage")) >= 3)
    fake_api.down_for(2.0)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "network error" in err  # it did retry through the outage
    counts = _post_counts(fake_api, titles)
    assert all(c >= 1 for c in counts.values()), counts
    assert sum(c - 1 for c in counts.values()) <= err.count("UNKNOWN_OUTCOME")
    assert _statuses(session) == {"sent": 12}


def test_api_down_at_start_is_waited_for(app, session, fake_api, run_bot):
    titles = _queue_many(2)
    fake_api.down_for(1.0)
    result = run_bot(TELEGRAM_INLINE_RETRIES="40")
    assert result.returncode == 0, result.stderr
    assert _post_counts(fake_api, titles) == dict.fromkeys(titles, 1)


def test_server_errors_are_retried_with_backoff(app, session, fake_api, run_bot):
    titles = _queue_many(2)
    fake_api.fail("sendMessage", 500, count=3)
    result = run_bot(TELEGRAM_BACKOFF_BASE="0.2", TELEGRAM_BACKOFF_MAX="0.4")
    assert result.returncode == 0, result.stderr
    assert _post_counts(fake_api, titles) == dict.fromkeys(titles, 1)
    calls = fake_api.calls("sendMessage")
    gaps = [b.at - a.at for a, b in itertools.pairwise(calls[:4])]
    assert gaps[0] >= 0.18  # 0.2 s, then 0.4 s, then capped at 0.4 s
    assert gaps[1] >= 0.38
    assert 0.38 <= gaps[2] < 1.5


def test_network_failures_beyond_the_inline_retries_release_the_row(app, session, fake_api, run_bot):
    row = queue("card_done")
    fake_api.fail("sendMessage", 502, count=10)
    result = run_bot(TELEGRAM_INLINE_RETRIES="2")
    assert result.returncode == 0
    assert "retried=1" in result.stdout
    session.expire_all()
    assert row.status == "queued"
    assert row.attempts == 1
    assert row.next_attempt_at > NOW
    assert "네트워크 오류" in row.last_error
    assert len(fake_api.calls("sendMessage")) == 3


def test_429_storm_waits_exactly_as_asked(app, session, fake_api, database_url, monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # as bots/telegram_bot sets it
    titles = _queue_many(3)
    session.commit()
    fake_api.fail("sendMessage", 429, count=4, retry_after=1)
    clock = FakeClock(NOW)
    stats = _deliver_in_process(database_url, fake_api, clock)
    assert _post_counts(fake_api, titles) == dict.fromkeys(titles, 1)
    calls = fake_api.calls("sendMessage")
    assert [c.status for c in calls[:5]] == [429, 429, 429, 429, 200]
    assert clock.slept == [1.0, 1.0, 1.0, 1.0]  # as asked (1 s), not a growing backoff
    assert (stats.sent, stats.retried, stats.failed) == (3, 0, 0)
    assert _statuses(session) == {"sent": 3}


def test_a_long_flood_wait_puts_the_row_back_until_then(app, session, fake_api, run_bot):
    row = queue("card_done")
    fake_api.fail("sendMessage", 429, count=1, retry_after=600)
    started = dt.datetime.now(dt.UTC)
    result = run_bot()
    assert result.returncode == 0, result.stderr
    session.expire_all()
    assert row.status == "queued"
    assert row.attempts == 0  # flood control is not a failure of the message
    wait = (row.next_attempt_at - started).total_seconds()
    assert 595 <= wait <= 700
    assert len(fake_api.calls("sendMessage")) == 1


def test_bad_request_fails_at_once_and_staff_see_why(app, session, fake_api, run_bot):
    bad = queue("card_done")
    good = queue("card_done")
    fake_api.fail("sendMessage", 400, count=1, description="Bad Request: chat not found")
    result = run_bot()
    assert "failed=1" in result.stdout
    assert len(fake_api.calls("sendMessage")) == 2  # no retry of the bad one
    session.expire_all()
    assert bad.status == "failed"
    assert "BadRequest" in bad.last_error
    assert "chat not found" in bad.last_error.lower()
    assert good.status == "sent"


def test_forbidden_fails_at_once(app, session, fake_api, run_bot):
    row = queue("card_done")
    fake_api.fail("sendMessage", 403, count=1)
    run_bot()
    session.expire_all()
    assert row.status == "failed"
    assert "Forbidden" in row.last_error
    assert len(fake_api.calls("sendMessage")) == 1


def test_a_timed_out_send_is_the_documented_unknown_outcome(app, session, fake_api, run_bot):
    titles = _queue_many(2)
    fake_api.slow(2.5, count=1)  # accepted at once, answered after the bot's 1 s read timeout
    result = run_bot(TELEGRAM_READ_TIMEOUT="1")
    assert result.returncode == 0, result.stderr
    counts = _post_counts(fake_api, titles)
    assert counts[titles[0]] == 2  # Telegram got it twice: there is no idempotency key
    assert counts[titles[1]] == 1
    assert result.unknown_outcomes == 1
    assert "unknown_outcome=1" in result.stdout
    assert _statuses(session) == {"sent": 2}


def test_sigkill_mid_batch_then_reclaim_delivers_everything_once(
    app, session, database_url, fake_api, run_bot_process
):
    titles = _queue_many(25)
    session.commit()
    fake_api.delay_all = 0.3  # the API accepts, then answers slowly: a kill lands mid-call
    proc = _popen(database_url, fake_api, TELEGRAM_CLAIM_TIMEOUT="1")
    # The fifth call has reached the API, which answers it 0.3 s later: kill while it is in flight.
    _wait_until(lambda: len(fake_api.calls("sendMessage")) >= 5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    statuses = _statuses(session)
    assert statuses["sending"] == 1  # exactly the message in flight
    assert statuses["sent"] >= 4

    fake_api.delay_all = 0.0
    _age_claims(session, seconds=2)  # the dead claim is now older than the 1 s claim timeout
    result = run_bot_process(TELEGRAM_CLAIM_TIMEOUT="1")  # a new process, as after a crash
    assert result.returncode == 0, result.stderr
    counts = _post_counts(fake_api, titles)
    assert all(c >= 1 for c in counts.values()), counts
    duplicates = sum(c - 1 for c in counts.values())
    assert duplicates <= result.unknown_outcomes <= 1
    assert _statuses(session) == {"sent": 25}


def test_channel_rate_is_respected(app, session, fake_api, database_url, monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # as bots/telegram_bot sets it
    _queue_many(4)
    session.commit()
    clock = FakeClock(NOW)
    stats = _deliver_in_process(database_url, fake_api, clock, TELEGRAM_CHANNEL_RATE="120")  # 1 per 0.5 s
    assert stats.sent == 4
    assert len(fake_api.accepted("sendMessage")) == 4
    assert clock.slept == [0.5, 0.5, 0.5]  # nothing to wait for before the first post
    session.expire_all()
    sent = sorted(session.scalars(select(OutboxMessage.sent_at)))
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(sent)] == [0.5, 0.5, 0.5]


def test_default_rate_is_20_per_minute():
    settings = delivery.Settings.from_env({})
    assert settings.rate_per_minute == 20
    assert settings.backoff(1) == 1.0
    assert settings.backoff(3) == 4.0
    assert settings.backoff(30) == settings.backoff_max


# --- claiming ---------------------------------------------------------------------------------


def test_a_fresh_claim_is_not_taken_but_a_stale_one_is(app, session):
    row = queue("card_done")
    session.commit()

    def claim(at: dt.datetime, worker: str):
        return outbox.claim_next(session, channel="telegram", now=at, worker=worker, claim_timeout=60)

    first = claim(NOW, "a")
    assert first.id == row.id
    assert not first.reclaimed
    assert claim(NOW + dt.timedelta(seconds=30), "b") is None
    again = claim(NOW + dt.timedelta(seconds=61), "b")
    assert again.id == row.id
    assert again.reclaimed
    assert again.previous_worker == "a"


def test_retry_after_may_be_int_or_timedelta(monkeypatch):
    from telegram.error import RetryAfter

    from bots.telegram_bot.runner import retry_after_seconds

    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    assert retry_after_seconds(RetryAfter(dt.timedelta(seconds=3))) == 3.0
    assert retry_after_seconds(RetryAfter(7)) == 7.0

    class OldStyle:  # python-telegram-bot < 22.2 handed out plain ints
        retry_after = 5

    assert retry_after_seconds(OldStyle()) == 5.0


def test_a_bad_request_is_not_retried_as_a_network_error(app, session, database_url):
    """``BadRequest`` subclasses ``NetworkError``: the runner must fail the row at once (and
    show staff why), not back off and retry it as a network failure."""
    import asyncio

    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker
    from telegram.error import BadRequest, NetworkError

    from bots.telegram_bot.runner import Runner

    assert issubclass(BadRequest, NetworkError)
    row = queue("card_done")
    session.commit()

    class RefusingBot:
        calls = 0

        async def send_message(self, **kwargs):
            RefusingBot.calls += 1
            raise BadRequest("Chat not found")

    slept: list[float] = []

    async def no_sleep(seconds: float) -> None:
        slept.append(seconds)

    engine = create_engine(database_url)
    settings = delivery.Settings.from_env({"TELEGRAM_CHANNEL_ID": CHANNEL, "TELEGRAM_CHANNEL_RATE": "0"})
    runner = Runner(RefusingBot(), sessionmaker(engine), settings, worker="t", sleep=no_sleep)
    try:
        stats = asyncio.run(runner.deliver_pass())
    finally:
        engine.dispose()
    assert RefusingBot.calls == 1
    assert slept == []
    assert (stats.failed, stats.retried, stats.unknown_outcome) == (1, 0, 0)
    session.expire_all()
    assert row.status == "failed"
    assert "BadRequest" in row.last_error
