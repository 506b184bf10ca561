"""Telegram HTML for outbox messages, from one Jinja template per kind.

Templates live in ``templates/telegram/messages/<kind>.html`` and are rendered with Flask's
autoescaping environment: every value from a payload is escaped, and the only markup is what
the templates write (``<b>``, ``<i>``, ``<a href>``), all tags Telegram accepts. A message is at
most 4096 characters; a longer one loses trailing lines, then summary text, and says that the
full text is on the public page, which is always linked.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale
from jinja2 import TemplateNotFound

MAX_LENGTH = 4096
TITLE_MAX = 300
# Kinds other features queue, and the bot's own ones.
KINDS: tuple[str, ...] = (
    "visit_result",
    "tongtong_summary",
    "card_budget_reflected",
    "card_done",
    "committee_quarterly_report",
    "weekly_digest",
)


@dataclass(frozen=True)
class Rendered:
    text: str
    truncated: bool


def public_url(path: str | None, base_url: str | None = None) -> str:
    """PUBLIC_BASE_URL + the payload's path; anything but a plain path falls back to the home page."""
    base = (base_url if base_url is not None else current_app.config.get("PUBLIC_BASE_URL", "")).rstrip("/")
    path = (path or "/").strip()
    if not path.startswith("/") or path.startswith("//"):
        path = "/"
    return base + path


def parse_date(value) -> dt.date | dt.datetime | None:
    """Payload dates arrive as ISO strings; anything else is shown as written."""
    if isinstance(value, dt.date | dt.datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        if "T" in value or " " in value.strip():
            parsed = dt.datetime.fromisoformat(value.strip())
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def _as_lines(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [line for line in value.splitlines() if line.strip()]
    return [str(v) for v in value if str(v).strip()]


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: max(0, length - 1)].rstrip() + "…"


_BLANKS = re.compile(r"\n{3,}")


def _tidy(html: str) -> str:
    lines = [line.strip() for line in html.strip().splitlines()]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def render_message(
    kind: str,
    payload: dict,
    *,
    locale: str = "ko",
    private: bool = False,
    base_url: str | None = None,
) -> Rendered:
    """Render one message; the result is valid Telegram HTML of at most 4096 characters."""
    title = _clip(str(payload.get("title") or ""), TITLE_MAX)
    summary = str(payload.get("summary") or "")
    lines = _as_lines(payload.get("lines"))
    url = public_url(payload.get("url"), base_url)
    template = f"telegram/messages/{kind}.html"
    try:
        current_app.jinja_env.get_template(template)
    except TemplateNotFound:
        template = "telegram/messages/generic.html"

    def build(n_lines: int, summary_len: int | None, truncated: bool) -> str:
        shown_summary = summary if summary_len is None else _clip(summary, summary_len)
        with force_locale(locale):
            html = current_app.jinja_env.get_template(template).render(
                kind=kind,
                p=payload,
                title=title,
                summary=shown_summary,
                lines=lines[:n_lines],
                url=url,
                private=private,
                truncated=truncated,
                parse_date=parse_date,
            )
        return _tidy(html)

    text = build(len(lines), None, False)
    if len(text) <= MAX_LENGTH:
        return Rendered(text, False)
    # Keep as many lines as fit, then as much of the summary as fits.
    fits_lines = _largest(len(lines), lambda k: len(build(k, None, True)) <= MAX_LENGTH)
    if fits_lines is not None:
        return Rendered(build(fits_lines, None, True), True)
    fits_summary = _largest(len(summary), lambda n: len(build(0, n, True)) <= MAX_LENGTH)
    return Rendered(build(0, fits_summary or 0, True), True)


def _largest(upper: int, ok: Callable[[int], bool]) -> int | None:
    """The largest k in [0, upper] with ok(k) (ok is monotone), or None."""
    if not ok(0):
        return None
    lo, hi = 0, upper
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo
