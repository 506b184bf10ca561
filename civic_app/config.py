"""Settings from the environment. The production profile refuses unsafe defaults."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_SECRET_KEY = "dev-insecure-secret-key-change-me"  # noqa: S105 - refused in production
INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the app refuses to start."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError as exc:
        raise ConfigError(f"not an integer: {value!r}") from exc


def _normalise_db_url(url: str) -> str:
    # psycopg 3 is the driver; accept the common postgres:// spellings.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def load_config(env: dict[str, str] | None = None) -> dict:
    """Build the Flask config mapping from environment variables."""
    env = dict(os.environ if env is None else env)
    civic_env = env.get("CIVIC_ENV", "development").strip().lower()
    if civic_env not in {"development", "production"}:
        raise ConfigError("CIVIC_ENV must be 'development' or 'production'")
    production = civic_env == "production"
    default_db = f"sqlite:///{INSTANCE_DIR / 'civic_app.sqlite3'}"
    cfg: dict = {
        "CIVIC_ENV": civic_env,
        "SECRET_KEY": env.get("SECRET_KEY") or DEFAULT_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": _normalise_db_url(env.get("DATABASE_URL") or default_db),
        # No ping before each checkout (a round trip per request): connections are recycled
        # before PostgreSQL or a proxy drops idle ones, and a connection found dead mid-request
        # invalidates the pool (the request answers 503 "try again"; the next one reconnects).
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": False,
            "pool_recycle": _int(env.get("DB_POOL_RECYCLE_SECONDS"), 1800),
        },
        "ALLOW_SQLITE_IN_PRODUCTION": _bool(env.get("ALLOW_SQLITE_IN_PRODUCTION")),
        # Shared by every process and machine: rendered pages, login limits. Required in production.
        "REDIS_URL": env.get("REDIS_URL") or None,
        # Rendered pages are cached, keyed by the data version every write bumps (0: off, for
        # measurement and debugging).
        "CACHE_PAGES": _bool(env.get("CACHE_PAGES"), True),
        # How long a rendered page may live in the cache whatever the data (time passing: an
        # upcoming session becoming past). Writes invalidate at once, whatever this is.
        "PAGE_CACHE_MAX_AGE": _int(env.get("PAGE_CACHE_MAX_AGE"), 300),
        "CACHE_KEY_PREFIX": env.get("CACHE_KEY_PREFIX") or "civic:",
        # Uploaded files (see civic_app/storage.py): the instance folder by default; with several
        # machines, one volume shared by all of them.
        "ATTACHMENTS_DIR": env.get("ATTACHMENTS_DIR") or None,
        # How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host (see the
        # README). 0: the headers are ignored and the client address is the TCP peer.
        "TRUSTED_PROXY_COUNT": _int(env.get("TRUSTED_PROXY_COUNT"), 0),
        "PUBLIC_BASE_URL": (env.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "SMTP_HOST": env.get("SMTP_HOST") or "127.0.0.1",
        "SMTP_PORT": _int(env.get("SMTP_PORT"), 25),
        "SMTP_USER": env.get("SMTP_USER") or None,
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD") or None,
        "SMTP_STARTTLS": _bool(env.get("SMTP_STARTTLS")),
        "MAIL_FROM": env.get("MAIL_FROM") or "시민소통실 <no-reply@civic.example.kr>",
        # The office mailbox copied on 통통데이 reminders (departments get theirs at their accounts).
        "TONGTONG_STAFF_EMAIL": env.get("TONGTONG_STAFF_EMAIL") or None,
        "TELEGRAM_BOT_TOKEN": env.get("TELEGRAM_BOT_TOKEN") or None,
        "TELEGRAM_CHANNEL_ID": env.get("TELEGRAM_CHANNEL_ID") or None,
        "TELEGRAM_API_BASE_URL": env.get("TELEGRAM_API_BASE_URL") or "https://api.telegram.org/bot",
        "PRIVACY_RETENTION_DAYS": _int(env.get("PRIVACY_RETENTION_DAYS"), 3 * 365),
        # Online suggestions (issue 17): N 공감 within the window oblige the responsible department
        # to answer publicly within the answer period; the agenda count puts the item on the next
        # 통통데이's agenda.
        "SUGGEST_ANSWER_THRESHOLD": _int(env.get("SUGGEST_ANSWER_THRESHOLD"), 30),
        "SUGGEST_AGENDA_THRESHOLD": _int(env.get("SUGGEST_AGENDA_THRESHOLD"), 100),
        "SUGGEST_WINDOW_DAYS": _int(env.get("SUGGEST_WINDOW_DAYS"), 30),
        "SUGGEST_ANSWER_DAYS": _int(env.get("SUGGEST_ANSWER_DAYS"), 30),
        "BABEL_DEFAULT_LOCALE": "ko",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Seoul",
        "LANGUAGES": ("ko", "en"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        # The session cookie is written only when its content changed, never on every request.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
        "RATELIMIT_STORAGE_URI": env.get("REDIS_URL") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # When Redis is unreachable, keep limiting per process instead of failing every login.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_ENABLED": True,
        "LOGIN_RATE_LIMIT_ADDRESS": env.get("LOGIN_RATE_LIMIT_ADDRESS") or "20 per minute",
        "LOGIN_RATE_LIMIT_ACCOUNT": env.get("LOGIN_RATE_LIMIT_ACCOUNT") or "5 per minute",
        "PASSWORD_RESET_MAX_AGE": 3600,
        "EMAIL_VERIFY_MAX_AGE": 3 * 24 * 3600,
        "DEV_MAILBOX": not production,
        "TESTING": False,
    }
    return cfg


def check_production(cfg: dict) -> None:
    """Refuse to run production with a missing/default secret or on SQLite unless allowed."""
    count = cfg.get("TRUSTED_PROXY_COUNT", 0)
    if not isinstance(count, int) or not 0 <= count <= 10:
        raise ConfigError("TRUSTED_PROXY_COUNT must be an integer from 0 to 10")
    if cfg.get("CIVIC_ENV") != "production":
        return
    secret = cfg.get("SECRET_KEY")
    if not secret or secret == DEFAULT_SECRET_KEY or len(secret) < 16:
        raise ConfigError("production needs SECRET_KEY set to a long random value")
    if not cfg.get("REDIS_URL"):
        raise ConfigError(
            "production needs REDIS_URL (redis://host:6379/0): the page cache and the login limits "
            "are shared by every process and machine through it"
        )
    uri = cfg.get("SQLALCHEMY_DATABASE_URI", "")
    if uri.startswith("sqlite") and not cfg.get("ALLOW_SQLITE_IN_PRODUCTION"):
        raise ConfigError(
            "production refuses SQLite; set DATABASE_URL to PostgreSQL or ALLOW_SQLITE_IN_PRODUCTION=1"
        )
