"""Card rules. CONTRACT STUB: ``create_item`` keeps this signature (visits and 통통데이 call it)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from civic_app.cards.models import SOURCE_KINDS, CardItem
from civic_app.errors import ValidationFailed


def create_item(
    session: Session,
    *,
    dong_id: int,
    title: str,
    description: str,
    category: str,
    source_kind: str,
    actor_id: int | None,
    now: dt.datetime,
    source_ref: int | None = None,
    location: str | None = None,
    department_id: int | None = None,
    estimated_cost: int | None = None,
) -> CardItem:
    """Add a suggestion to a dong's card in state 접수 (received). Flushes, never commits."""
    if source_kind not in SOURCE_KINDS:
        raise ValidationFailed(f"unknown source kind {source_kind!r}")
    item = CardItem(
        dong_id=dong_id,
        title=title.strip(),
        description=description or "",
        category=category,
        location=location,
        source_kind=source_kind,
        source_ref=source_ref,
        department_id=department_id,
        estimated_cost=estimated_cost,
        status="received",
        created_by_id=actor_id,
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    session.flush()
    return item
