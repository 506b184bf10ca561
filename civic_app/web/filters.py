"""Template filters: masking of personal data (from the privacy guard) and Korean-style dates."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask_babel import get_locale, gettext
from jinja2 import pass_context
from markupsafe import Markup

from civic_app.privacy import guard
from civic_app.privacy.guard import mask_email, mask_name, mask_phone
from civic_app.timeutil import to_seoul

WEEKDAYS_KO = "월화수목금토일"
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def mask_text(text: str | None) -> str:
    """Masks phone numbers and e-mail addresses embedded in free text (the privacy guard's
    masker; names need the caller's list of known names: ``civic_app.privacy.guard.mask``)."""
    return guard.mask(text)


def _is_english() -> bool:
    locale = get_locale()
    return bool(locale and locale.language == "en")


def format_date(value: dt.date | dt.datetime | None, english: bool | None = None) -> str:
    """2025년 10월 9일 (목) — or Thu, 9 Oct 2025 in English."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = to_seoul(value).date()
    english = _is_english() if english is None else english
    if english:
        return f"{WEEKDAYS_EN[value.weekday()]}, {value.day} {MONTHS_EN[value.month - 1]} {value.year}"
    return f"{value.year}년 {value.month}월 {value.day}일 ({WEEKDAYS_KO[value.weekday()]})"


def format_datetime(value: dt.datetime | None, english: bool | None = None) -> str:
    """2025년 10월 9일 (목) 14:00 in Asia/Seoul."""
    if value is None:
        return ""
    local = to_seoul(value)
    return f"{format_date(local.date(), english)} {local:%H:%M}"


def format_won(value: int | None, english: bool | None = None) -> str:
    """An amount the Korean way when that is exact (45,000,000 → "4,500만 원", 1,477,330,000 →
    "14억 7,733만 원"); otherwise every digit ("1,234,567원"). English: KRW with separators."""
    if value is None:
        return ""
    if _is_english() if english is None else english:
        return f"KRW {value:,}"
    if abs(int(value)) >= 10_000 and int(value) % 10_000 == 0:
        return korean_won(value)
    return f"{value:,}원"


def korean_won(value: int | None) -> str:
    """1477333333 → "14억 7,733만 원": 조·억·만 units, the way budgets are read aloud. Below
    만원 is dropped once the amount reaches 만원 (the exact figure goes in a tooltip)."""
    if value is None:
        return ""
    sign = "-" if value < 0 else ""
    amount = abs(int(value))
    if amount < 10_000:
        return f"{sign}{amount:,}원"
    jo, rest = divmod(amount, 10**12)
    eok, rest = divmod(rest, 10**8)
    man = rest // 10**4
    parts = [f"{n:,}{unit}" for n, unit in ((jo, "조"), (eok, "억"), (man, "만")) if n]
    return sign + " ".join(parts) + " 원"


def format_won_short(value: int | None, english: bool | None = None) -> str:
    """The compact amount for tables: Korean units, or KRW with thousands separators."""
    if value is None:
        return ""
    if _is_english() if english is None else english:
        return f"KRW {value:,}"
    return korean_won(value)


def category_label(value: str | None) -> str:
    """A category stored by its Korean name, in the reader's language when the catalogs know it
    (the standard categories); a category staff added later shows as named."""
    return gettext(value) if value else ""


def nl2br(value: str | None) -> Markup:
    from markupsafe import escape

    if not value:
        return Markup("")
    return Markup("<br>").join(escape(line) for line in value.splitlines())


def _in_render_locale(fn):
    """The filter reads the render's language from the template context (``current_locale``,
    set once per render) instead of asking Flask-Babel on every row."""

    @pass_context
    def filtered(context, value):
        locale = context.get("current_locale")
        english = (locale == "en") if locale else None
        return fn(value, english)

    return filtered


def init_app(app: Flask) -> None:
    app.add_template_filter(mask_name)
    app.add_template_filter(mask_phone)
    app.add_template_filter(mask_email)
    app.add_template_filter(mask_text)
    app.add_template_filter(_in_render_locale(format_date), "kdate")
    app.add_template_filter(_in_render_locale(format_datetime), "kdatetime")
    app.add_template_filter(_in_render_locale(format_won), "won")
    app.add_template_filter(_in_render_locale(format_won_short), "won_kr")
    app.add_template_filter(nl2br)
    app.add_template_filter(category_label, "category")
