"""The last guard before a Telegram send: no phone numbers, e-mail addresses or requesters' names.

Names are matched whole, as stored, from 2 characters up (a 1-character "name" would match
everywhere). Hangul names are matched only where they do not sit inside a longer Hangul word
on their left, so 이동 (a name) does not block 이동식 or 주민이동; Korean particles and 님/씨 may
follow. Latin names need word boundaries.
"""

from __future__ import annotations

import html
import importlib
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.accounts.models import User, UserRole
from civic_app.web.policy import CITIZEN

# Korean mobile/landline numbers with or without separators, and +82 forms; not inside longer
# digit runs (amounts are written with commas, dates with 4-2-2 groups).
PHONE_RE = re.compile(
    r"(?<![\d])(?:\+82[-. ]?|0)(?:1[016789]|2|[3-6][1-5]|70|50\d?)[-. )]?\d{3,4}[-. ]?\d{4}(?![\d])"
)
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
TAG_RE = re.compile(r"<[^>]*>")
HANGUL = "\uac00-\ud7a3"
# What may follow a Hangul name: nothing Hangul, or an honorific/particle and then a break.
_KO_TAIL = (
    r"(?:님|씨|군|양)?(?:께서|께|의|이|가|은|는|을|를|에게|와|과|도|만|이가|이는|이의)?(?![" + HANGUL + r"])"
)


@dataclass(frozen=True)
class Finding:
    kind: str  # phone | email | name
    sample: str  # masked, safe to show staff


def _mask(value: str) -> str:
    return value[:1] + "*" * max(1, len(value) - 2) + (value[-1] if len(value) > 2 else "")


def requester_names(session: Session) -> set[str]:
    """Stored names of citizens (accounts) and of meeting requesters (walk-ins included)."""
    names = set(
        session.scalars(
            select(User.name).join(UserRole, UserRole.user_id == User.id).where(UserRole.role == CITIZEN)
        )
    )
    try:
        meetings = importlib.import_module("civic_app.meetings.models")
    except ImportError:
        meetings = None
    request_model = getattr(meetings, "MeetingRequest", None)
    if request_model is not None and hasattr(request_model, "requester_name"):
        names.update(session.scalars(select(request_model.requester_name).distinct()))
    return {n.strip() for n in names if n and len(n.strip()) >= 2}


def _name_pattern(name: str) -> re.Pattern[str]:
    escaped = re.escape(name)
    if re.fullmatch(f"[{HANGUL}]+", name):
        return re.compile(f"(?<![{HANGUL}]){escaped}{_KO_TAIL}")
    return re.compile(rf"(?<!\w){escaped}(?!\w)", re.IGNORECASE)


def plain_text(telegram_html: str) -> str:
    """The text a reader sees (tags removed, entities decoded), plus the link targets."""
    hrefs = " ".join(re.findall(r'href="([^"]*)"', telegram_html))
    return html.unescape(TAG_RE.sub("", telegram_html)) + "\n" + html.unescape(hrefs)


def scan(text: str, names: set[str]) -> list[Finding]:
    findings = [Finding("phone", _mask(m.group())) for m in PHONE_RE.finditer(text)]
    findings += [Finding("email", _mask(m.group())) for m in EMAIL_RE.finditer(text)]
    folded = text.casefold()
    found = [name for name in names if name.casefold() in folded and _name_pattern(name).search(text)]
    findings += [Finding("name", _mask(name)) for name in sorted(found)]
    return findings


def check_message(session: Session, telegram_html: str) -> list[Finding]:
    """Findings that forbid sending ``telegram_html``; empty when it may go out."""
    return scan(plain_text(telegram_html), requester_names(session))


def describe(findings: list[Finding]) -> str:
    labels = {"phone": "전화번호", "email": "이메일 주소", "name": "요청자 이름"}
    parts = [f"{labels[f.kind]}({f.sample})" for f in findings]
    return "개인정보 의심: " + ", ".join(parts)
