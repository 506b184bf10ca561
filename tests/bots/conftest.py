"""Fixtures for the bot tests: the fake Bot API server, and two ways to run the bot against it.

- ``run_bot`` (the default) runs ``python -m bots.telegram_bot --once [args]`` inside the test
  process: the same ``main()`` (arguments, settings from the environment, the token and channel
  checks, getMe, getUpdates, the delivery pass, the stats line, the exit code), real HTTP to the
  fake API on 127.0.0.1 and the real test database, with the bot's environment applied for the
  call and its stdout, stderr and log lines captured as the process would print them. It saves
  starting a Python process that imports the app and python-telegram-bot and builds the app
  (1.5-3 s a run): the bot's app is built once per test process and reused.
- ``run_bot_process`` starts the real process, for tests whose subject is the process itself:
  the command line end to end, exit codes, signals, a crash and the restart after it. Tests that
  need a process running beside them (kill it, stop it, run two at once) start it with
  ``subprocess.Popen(bot_command(...), env=bot_env(...))``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
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
def run_bot_process(database_url, fake_api, session):
    """Run ``python -m bots.telegram_bot --once [args]`` as a real process against the fake API.

    Use it when the process is what the test is about: the command line end to end (the
    module's import-time setup included), a restart after a killed process. Everything else
    uses ``run_bot``, which runs the same code in the test process, seconds faster."""

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


@pytest.fixture
def run_bot(database_url, fake_api, session, bot_apps):
    """Run the bot as ``python -m bots.telegram_bot --once [args]`` would, in this process.

    ``bots.telegram_bot.__main__.main`` runs with ``bot_env(..., **extra)`` as the environment
    (applied for the call only), on a thread of its own (so ``timeout`` still holds), against
    the fake API over HTTP and the test database. What the process would print is returned:
    stdout (the stats line), stderr (the operator messages and the log lines, at INFO, in the
    process's format) and the exit code; an exception the process would die of is a traceback
    on stderr and exit code 1. The bot commits on its own connections: the test's session is
    committed before the run and expired after it, as for the process.

    Use ``run_bot_process`` instead when the process itself is the subject (see there)."""

    def run(*args: str, timeout: float = 120, **extra: str) -> BotRun:
        session.commit()
        env = bot_env(database_url, fake_api, **extra)
        # What importing bots.telegram_bot.__main__ does in a new process (here it is imported once).
        env.setdefault("PTB_TIMEDELTA", "true")
        result = _run_in_process(["--once", *args], env, bot_apps, extra=extra, timeout=timeout)
        session.expire_all()
        return result

    return run


# --- the bot in the test process ---------------------------------------------------------------


def _app_key(env: dict[str, str]) -> tuple:
    """What the bot's app is built from: the environment apart from the TELEGRAM_* settings,
    which the bot reads from the environment on each run (nothing in the app reads the three
    that ``load_config`` copies into its config; they are refreshed on reuse all the same)."""
    return tuple(sorted((k, v) for k, v in env.items() if not k.startswith("TELEGRAM_")))


class BotApps:
    """The app ``run_bot`` hands to ``main()``: built like the process builds it
    (``create_app()`` from the bot's environment) once per test process (xdist worker) and
    reused while that environment is the same; a run given other settings than TELEGRAM_* ones
    gets an app of its own, built for that run and closed after it. After every run the
    reused app is left as a new process would find it: no pooled database connection (nothing
    kept open, no lock held), no per-process cache filled by the run."""

    def __init__(self) -> None:
        self.app = None
        self.key: tuple | None = None

    def get(self, env: dict[str, str], *, shared: bool):
        """The app for a run whose environment ``env`` is applied now (``shared``: the reused
        app may serve it)."""
        from civic_app import create_app
        from civic_app.config import load_config

        key = _app_key(env)
        if shared and self.app is not None and key == self.key:
            config = load_config()
            self.app.config.update({k: v for k, v in config.items() if k.startswith("TELEGRAM_")})
            return self.app
        app = create_app()
        if shared:
            if self.app is not None:
                release(self.app)
            self.app, self.key = app, key
        return app

    def drop(self) -> None:
        """Reuse no app built so far (a run did not end: its thread still uses the app)."""
        self.app, self.key = None, None

    def close(self) -> None:
        if self.app is not None:
            release(self.app)
            self.app, self.key = None, None


def release(app) -> None:
    """Close what a run of the bot left open in ``app`` and forget what it cached, as the end of
    the process would: the engine's pooled connections, this thread's connection of the
    data-versions reader (PostgreSQL), the reference data cache."""
    from civic_app.extensions import db

    with app.app_context():
        db.engine.dispose()
    reader = app.extensions.get("civic_version_reader")
    conn = getattr(getattr(reader, "local", None), "conn", None)
    if conn is not None:
        conn.close()
        reader.local.conn = None
    app.extensions.pop("civic_refdata", None)


@pytest.fixture(scope="session")
def bot_apps() -> Iterator[BotApps]:
    apps = BotApps()
    yield apps
    apps.close()


@contextlib.contextmanager
def environ(env: dict[str, str]) -> Iterator[None]:
    """``os.environ`` is ``env`` inside the block, exactly as it was again after it."""
    saved = dict(os.environ)
    try:
        _replace_environ(env)
        yield
    finally:
        _replace_environ(saved)


def _replace_environ(env: dict[str, str]) -> None:
    for key in set(os.environ) - set(env):
        del os.environ[key]
    os.environ.update(env)


class ThreadStream(io.TextIOBase):
    """``sys.stdout`` or ``sys.stderr`` during an in-process run: what the bot's thread writes is
    captured; the other threads of the test process (the fake API's server) write where they did."""

    def __init__(self, thread: threading.Thread, capture: io.StringIO, other) -> None:
        super().__init__()
        self.thread, self.capture, self.other = thread, capture, other

    def _target(self):
        return self.capture if threading.current_thread() is self.thread else self.other

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()


@contextlib.contextmanager
def bot_logging(thread: threading.Thread, stream: io.StringIO, log_format: str) -> Iterator[None]:
    """The root logger as ``main()``'s ``logging.basicConfig`` sets it up in a process: INFO,
    one handler writing ``log_format`` lines to (here) ``stream``, for what the bot's ``thread``
    logs. With a handler on the root logger, ``basicConfig`` in ``main()`` and ``create_app()``
    does nothing; ``main()`` still puts httpx and httpcore at WARNING itself. Levels and handlers
    are restored afterwards."""
    root = logging.getLogger()
    touched = [root, logging.getLogger("httpx"), logging.getLogger("httpcore")]
    levels = [logger.level for logger in touched]
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(log_format))
    handler.addFilter(lambda record: record.thread == thread.ident)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
        for logger, level in zip(touched, levels, strict=True):
            logger.setLevel(level)


def _exit_code(exc: SystemExit, stderr) -> int:
    """The exit status ``sys.exit(code)`` gives a process."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    stderr.write(f"{exc.code}\n")
    return 1


def _run_in_process(
    argv: list[str], env: dict[str, str], apps: BotApps, *, extra: dict[str, str], timeout: float
) -> BotRun:
    """``sys.exit(main(argv))`` of ``python -m bots.telegram_bot`` with ``env``, in this process,
    on a thread of its own."""
    out, err = io.StringIO(), io.StringIO()
    outcome: dict = {}
    shared = all(k.startswith("TELEGRAM_") for k in extra)  # other settings may change the app

    def target() -> None:
        app = None
        try:
            app = apps.get(env, shared=shared)
            outcome["code"] = bot_main.main(argv, app=app)
        except SystemExit as exc:
            outcome["code"] = _exit_code(exc, sys.stderr)
        except Exception:  # noqa: BLE001 - the process would die of it: a traceback, exit status 1
            traceback.print_exc()
            outcome["code"] = 1
        finally:
            if app is not None:
                release(app)  # on this thread, which opened its connections

    thread = threading.Thread(target=target, name="bot --once", daemon=True)
    with environ(env):
        # Imported here the first time: its import-time os.environ.setdefault lands in ``env``.
        from bots.telegram_bot import __main__ as bot_main

        with (
            bot_logging(thread, err, bot_main.LOG_FORMAT),
            contextlib.redirect_stdout(ThreadStream(thread, out, sys.stdout)),
            contextlib.redirect_stderr(ThreadStream(thread, err, sys.stderr)),
        ):
            thread.start()
            thread.join(timeout)
            if thread.is_alive():
                apps.drop()
                raise subprocess.TimeoutExpired(
                    bot_command(*argv), timeout, output=out.getvalue(), stderr=err.getvalue()
                )
    return BotRun(outcome["code"], out.getvalue(), err.getvalue())
