from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic_app.db_types import UTCDateTime
from civic_app.extensions import db


class Dong(db.Model):
    """A 행정동 with its 10-digit code and the priority flags the visit planner reads."""

    __tablename__ = "dongs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    contested_area: Mapped[bool] = mapped_column(default=False)
    natural_village: Mapped[bool] = mapped_column(default=False)
    outlying_area: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_priority(self) -> bool:
        return self.contested_area or self.natural_village or self.outlying_area


class Department(db.Model):
    """A city department (예산법무과, 도로과, ...)."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # Field keywords used to route fallback meetings and card items (e.g. "도로·교통").
    field: Mapped[str | None] = mapped_column(String(50))
    active: Mapped[bool] = mapped_column(default=True)


class Host(db.Model):
    """Who hosts citizen meetings: the mayor (rank 1), the deputy mayor (2), directors (3)."""

    __tablename__ = "hosts"

    RANK_MAYOR = 1
    RANK_DEPUTY = 2
    RANK_DIRECTOR = 3

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))  # 시장, 부시장, 안전건설국장 ...
    person_name: Mapped[str | None] = mapped_column(String(100))
    rank: Mapped[int] = mapped_column(default=3)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    field: Mapped[str | None] = mapped_column(String(50))
    active: Mapped[bool] = mapped_column(default=True)

    department = relationship("Department", lazy="joined")
