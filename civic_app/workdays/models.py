from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from civic_app.extensions import db


class ClosedDate(db.Model):
    """An admin-managed closed day the holidays package does not know (e.g. 임시공휴일)."""

    __tablename__ = "closed_dates"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, unique=True)
    reason: Mapped[str] = mapped_column(String(200))


class BlackoutRange(db.Model):
    """A range with no public events (공직선거법 restrictions before an election)."""

    __tablename__ = "blackout_ranges"
    __table_args__ = (CheckConstraint("start_day <= end_day", name="ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    start_day: Mapped[dt.date] = mapped_column(Date)
    end_day: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200))
