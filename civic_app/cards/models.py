"""Card items. CONTRACT STUB written by the integrator: the card feature extends this model,
keeping these columns and names, because visits and 통통데이 write items through
``civic_app.cards.services.create_item``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic_app.db_types import UTCDateTime
from civic_app.extensions import db

SOURCE_KINDS = ("visit", "meeting", "walk_in", "staff")


class CardItem(db.Model):
    __tablename__ = "card_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    dong_id: Mapped[int] = mapped_column(ForeignKey("dongs.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(40))
    location: Mapped[str | None] = mapped_column(String(200))
    source_kind: Mapped[str] = mapped_column(String(20))
    # The visit id, meeting-request id ... the item came from (see source_kind).
    source_ref: Mapped[int | None] = mapped_column()
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    estimated_cost: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="received", index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    dong = relationship("Dong", lazy="joined")
    department = relationship("Department", lazy="joined")
