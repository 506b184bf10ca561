"""Approval policy per message kind: publish automatically or after staff approval."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.telegram.models import TelegramKindSetting

# Kinds without a settings row publish automatically; staff switch a kind to approval on
# the settings page.
DEFAULT_REQUIRES_APPROVAL = False


def needs_approval(session: Session, kind: str) -> bool:
    """Called by ``enqueue_telegram`` in the caller's transaction."""
    value = session.scalar(
        select(TelegramKindSetting.requires_approval).where(TelegramKindSetting.kind == kind)
    )
    return DEFAULT_REQUIRES_APPROVAL if value is None else bool(value)
