"""Fixtures for the bot tests: the fake Bot API server and a way to run the real bot process."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.bots.fake_bot_api import TOKEN, FakeBotAPI

ROOT = Path(__file__).resolve().parents[2]
CHANNEL = "@civic_test_channel"


@pytest.fixture
def fake_api():
    api = FakeBotAPI().start()
    try:
        yield api
    finally:
        api.stop()


@dataclass
class BotRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def unknown_outcomes(self) -> int:
        return self.stderr.count("UNKNOWN_OUTCOME")


def bot_env(database_url: str, api: FakeBotAPI | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "PYTEST"))}
    env.update(
        DATABASE_URL=database_url,
        CIVIC_ENV="development",
        PUBLIC_BASE_URL="http://civic.test",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_CHANNEL_ID=CHANNEL,
        TELEGRAM_CHANNEL_RATE="0",
        TELEGRAM_BACKOFF_BASE="0.05",
        TELEGRAM_BACKOFF_MAX="0.5",
        TELEGRAM_READ_TIMEOUT="2",
    )
    if api is not None:
        env["TELEGRAM_API_BASE_URL"] = api.base_url
    env.update(extra)
    return env


def bot_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bots.telegram_bot", *args]


@pytest.fixture
def run_bot(database_url, fake_api, session):
    """Run ``python -m bots.telegram_bot --once`` as a real process against the fake API."""

    def run(*args: str, timeout: float = 120, **extra: str) -> BotRun:
        session.commit()
        done = subprocess.run(
            bot_command("--once", *args),
            cwd=ROOT,
            env=bot_env(database_url, fake_api, **extra),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        session.expire_all()
        return BotRun(done.returncode, done.stdout, done.stderr)

    return run
