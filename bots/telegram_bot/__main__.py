"""``python -m bots.telegram_bot [--once] [--deliver-only]``.

Environment: TELEGRAM_BOT_TOKEN (required), TELEGRAM_CHANNEL_ID (the public channel),
TELEGRAM_API_BASE_URL (python-telegram-bot's ``base_url``; default the public Bot API),
DATABASE_URL, PUBLIC_BASE_URL, and the delivery settings of
``civic_app.telegram.delivery.Settings`` (TELEGRAM_CHANNEL_RATE, TELEGRAM_CLAIM_TIMEOUT …).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

# retry_after as a timedelta (the int form is deprecated in python-telegram-bot 22).
os.environ.setdefault("PTB_TIMEDELTA", "true")

log = logging.getLogger("bots.telegram_bot")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DEFAULT_BASE_URL = "https://api.telegram.org/bot"


def _say(text: str) -> None:
    """Operator messages go to stderr (Korean first, then English)."""
    sys.stderr.write(text + "\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bots.telegram_bot", description="시민소통실 텔레그램 봇")
    parser.add_argument(
        "--once", action="store_true", help="deliver what is due, answer pending messages, exit"
    )
    parser.add_argument(
        "--deliver-only", action="store_true", help="do not poll for commands (extra delivery processes)"
    )
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between delivery passes")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, app: Flask | None = None) -> int:
    """The bot's entry point; returns the exit code. ``app``: an app already built by the caller
    (the tests run the bot in their own process); by default one is built from the environment."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    token = os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        _say(
            "TELEGRAM_BOT_TOKEN이 설정되지 않아 봇을 시작할 수 없습니다. 메시지는 계속 대기열에 쌓입니다.\n"
            "TELEGRAM_BOT_TOKEN is not set: the bot cannot start. The web app keeps queueing messages."
        )
        return 2
    from civic_app.telegram.delivery import Settings

    settings = Settings.from_env()
    if not settings.channel_id:
        _say("TELEGRAM_CHANNEL_ID가 설정되지 않았습니다. / TELEGRAM_CHANNEL_ID is not set.")
        return 2

    if app is None:
        from civic_app import create_app

        app = create_app()
    worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    base_url = os.environ.get("TELEGRAM_API_BASE_URL") or DEFAULT_BASE_URL
    with app.app_context():
        return asyncio.run(_run(args, token, base_url, settings, worker))


async def _run(args: argparse.Namespace, token: str, base_url: str, settings, worker: str) -> int:
    from sqlalchemy.orm import sessionmaker
    from telegram import Bot
    from telegram.error import InvalidToken, TelegramError

    from bots.telegram_bot.runner import FatalBotError, Runner
    from civic_app.extensions import db

    factory = sessionmaker(bind=db.engine, expire_on_commit=False)
    bot = Bot(token, base_url=base_url)
    try:
        await _initialize(bot, settings)
        runner = Runner(bot, factory, settings, worker=worker)
        if args.once:
            if not args.deliver_only:
                try:
                    await runner.poll_once(timeout=0)
                except InvalidToken:
                    raise
                except TelegramError as exc:  # commands wait for the next run; delivery goes on
                    log.warning("getUpdates failed (%s); answering residents next time", exc)
            await runner.deliver_pass()
            sys.stdout.write(runner.stats.line() + "\n")
            return 0
        return await _forever(runner, args)
    except (FatalBotError, InvalidToken) as exc:
        _say(f"봇 토큰이 거부되었습니다 / the bot token was refused: {exc}")
        return 3
    except TelegramError as exc:
        _say(f"Telegram API에 연결할 수 없습니다 / cannot reach the Telegram API: {exc}")
        return 4
    finally:
        await bot.shutdown()


async def _initialize(bot, settings) -> None:
    """getMe, retried with backoff: the API may be briefly unreachable when the bot starts."""
    from telegram.error import NetworkError

    attempt = 0
    while True:
        try:
            await bot.initialize()
            return
        except NetworkError as exc:  # InvalidToken is not a NetworkError: it ends the bot
            attempt += 1
            if attempt > settings.inline_retries:
                raise
            wait = settings.backoff(attempt)
            log.warning("getMe failed (%s); retry in %.2f s", exc, wait)
            await asyncio.sleep(wait)


async def _forever(runner, args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError
    from telegram.error import Conflict, TelegramError

    from bots.telegram_bot.runner import FatalBotError

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("bot %s started", runner.worker)

    fatal: list[str] = []

    async def deliver_loop() -> None:
        failures = 0
        while not stop.is_set():
            try:
                runner.maybe_queue_digest()
                await runner.deliver_pass()
                failures = 0
            except FatalBotError as exc:
                fatal.append(str(exc))
                stop.set()
                return
            except SQLAlchemyError as exc:
                failures += 1
                log.warning("database unavailable (%s); retrying", exc)
                await asyncio.sleep(runner.settings.backoff(failures))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=args.interval)

    async def poll_loop() -> None:
        failures = 0
        while not stop.is_set():
            try:
                await runner.poll_once(timeout=20)
                failures = 0
            except Conflict:
                log.warning("another process is polling this bot; retrying in 30 s")
                await asyncio.sleep(30)
            except TelegramError as exc:
                failures += 1
                wait = runner.settings.backoff(failures)
                log.warning("getUpdates failed (%s); retry in %.1f s", exc, wait)
                await asyncio.sleep(wait)

    tasks = [asyncio.create_task(deliver_loop())]
    if not args.deliver_only:
        tasks.append(asyncio.create_task(poll_loop()))
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    log.info("bot %s stopped: %s", runner.worker, runner.stats.line())
    if fatal:
        _say(f"봇을 멈췄습니다 / the bot stopped: {fatal[0]}")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
