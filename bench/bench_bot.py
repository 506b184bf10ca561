"""Telegram bot delivery rate and per-message overhead against the fake Bot API.

Queues ``N`` channel messages in a fresh database (SQLite in a temp dir, or PostgreSQL via
``BENCH_BOT_DATABASE_URL``), delivers them with the bot's real ``Runner`` (claim → render →
privacy guard → sendMessage → record, one commit each side of the call), and compares with a
bare python-telegram-bot ``send_message`` loop over the same HTTP server. The difference per
message is the bot's overhead (database, rendering, guard).

    .venv/bin/python -m bench.bench_bot
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

N_MESSAGES = 300
N_CITIZENS = 2000  # names the privacy guard checks against


def run(n: int = N_MESSAGES, rate_per_minute: float = 0) -> dict:
    """``rate_per_minute`` > 0 turns the channel rate check on (one indexed query before each
    post); a high rate measures its cost without waiting."""
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    from sqlalchemy.orm import sessionmaker
    from telegram import Bot

    from bots.telegram_bot.runner import Runner
    from civic_app import create_app
    from civic_app.accounts.models import User, UserRole
    from civic_app.extensions import db
    from civic_app.notify.services import enqueue_telegram
    from civic_app.telegram.delivery import Settings
    from civic_app.timeutil import utcnow
    from tests.bots.fake_bot_api import TOKEN, FakeBotAPI

    tmp = tempfile.mkdtemp(prefix="bench-bot-")
    url = os.environ.get("BENCH_BOT_DATABASE_URL") or f"sqlite:///{Path(tmp) / 'bot.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PUBLIC_BASE_URL": "https://civic.example.kr"})
    api = FakeBotAPI().start()
    try:
        with app.app_context():
            db.drop_all()
            db.create_all()
            now = utcnow()
            for i in range(N_CITIZENS):
                user = User(email=f"c{i}@example.com", name=f"시민{i:04d}", password_hash="x", created_at=now)
                user.roles.append(UserRole(role="citizen"))
                db.session.add(user)
            for i in range(n):
                enqueue_telegram(
                    db.session,
                    kind="card_done",
                    payload={
                        "title": f"벤치마크 제안 {i} 완료",
                        "summary": "보도블록 정비가 끝났습니다 & 감사합니다.",
                        "url": f"/cards/{i}",
                        "lines": ["분류: 도로·교통", "회계연도: 2027년 본예산"],
                        "dong_name": "중앙동",
                    },
                    dedupe_key=f"bench-{i}",
                    now=now,
                )
            db.session.commit()
            settings = Settings(
                channel_id="@bench", rate_per_minute=rate_per_minute, backoff_base=0.05, backoff_max=0.5
            )
            factory = sessionmaker(bind=db.engine, expire_on_commit=False)

            async def bot_run() -> tuple[float, dict]:
                async with Bot(TOKEN, base_url=api.base_url) as bot:
                    runner = Runner(bot, factory, settings, worker="bench")
                    start = time.perf_counter()
                    await runner.deliver_pass()
                    return time.perf_counter() - start, runner.stats.__dict__.copy()

            async def bare_run() -> float:
                async with Bot(TOKEN, base_url=api.base_url) as bot:
                    start = time.perf_counter()
                    for i in range(n):
                        await bot.send_message(chat_id="@bench", text=f"<b>bare {i}</b>", parse_mode="HTML")
                    return time.perf_counter() - start

            bot_seconds, stats = asyncio.run(bot_run())
            bare_seconds = asyncio.run(bare_run())
            db.drop_all()
            db.engine.dispose()
    finally:
        api.stop()
    per_bot = bot_seconds / n * 1000
    per_bare = bare_seconds / n * 1000
    return {
        "messages": n,
        "database": url.split(":", 1)[0],
        "rate_check": rate_per_minute > 0,
        "sent": stats["sent"],
        "bot_messages_per_second": round(n / bot_seconds, 1),
        "bot_ms_per_message": round(per_bot, 2),
        "bare_ptb_ms_per_message": round(per_bare, 2),
        "overhead_ms_per_message": round(per_bot - per_bare, 2),
        "privacy_names_checked": N_CITIZENS,
    }


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
