"""The allocation counters: one row per (scope, key), e.g. ("meeting_request_code", "2027")."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from civic_app.extensions import db


class AllocationCounter(db.Model):
    """The last number handed out in a scope. Updated in the allocating transaction, so the
    row lock serialises allocators and a rollback gives the number back."""

    __tablename__ = "allocation_counters"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
