"""The last check before a Telegram send: the app's one privacy guard
(:mod:`civic_app.privacy.guard`) applied to the text a reader sees and to the link targets."""

from __future__ import annotations

import html
import re

from sqlalchemy.orm import Session

from civic_app.privacy import guard
from civic_app.privacy.guard import Finding, scan

__all__ = ["Finding", "check_message", "describe", "plain_text", "requester_names", "scan"]

TAG_RE = re.compile(r"<[^>]*>")


def requester_names(session: Session) -> set[str]:
    """Stored names of citizens (accounts) and of meeting requesters (walk-ins included)."""
    return guard.known_names(session)


def plain_text(telegram_html: str) -> str:
    """The text a reader sees (tags removed, entities decoded), plus the link targets."""
    hrefs = " ".join(re.findall(r'href="([^"]*)"', telegram_html))
    return html.unescape(TAG_RE.sub("", telegram_html)) + "\n" + html.unescape(hrefs)


def check_message(session: Session, telegram_html: str) -> list[Finding]:
    """Findings that forbid sending ``telegram_html``; empty when it may go out."""
    return scan(plain_text(telegram_html), requester_names(session))


LABELS = {"phone": "전화번호", "email": "이메일 주소", "name": "요청자 이름"}


def describe(findings: list[Finding]) -> str:
    """Masked samples for logs and the staff outbox page (stored Korean, as the outbox error)."""
    parts = list(dict.fromkeys(f"{LABELS[f.kind]}({f.sample})" for f in findings))
    return "개인정보 의심: " + ", ".join(parts)
