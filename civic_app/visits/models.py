"""Dong visits and themed field tours.

Design: a themed field tour (민생현장 탐방의 날) is the same ``Visit`` model with
``kind = "tour"``; it carries a theme group and theme and one or more ``TourSite`` rows (a site
may belong to a dong). Regular rotation visits (``kind = "regular"``) belong to a ``VisitCycle``
and to exactly one dong. One model keeps the public schedule, the API and the calendar feeds
simple: every mayoral field appointment is a ``Visit`` with a stable id, ``start_at``/``end_at``,
``status``, ``published``, ``updated_at`` and a ``sequence`` raised on every change of
date, time, status or publication.

Suggestions raised on a visit live in the dong's 동 관리카드 (``civic_app.cards``) as
``CardItem(source_kind="visit", source_ref=visit.id)``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column, Date, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic_app.db_types import UTCDateTime
from civic_app.extensions import db

KIND_REGULAR = "regular"
KIND_TOUR = "tour"
KINDS = (KIND_REGULAR, KIND_TOUR)

PLANNED = "planned"
CONFIRMED = "confirmed"
HELD = "held"
RESULTS_PUBLISHED = "results_published"
POSTPONED = "postponed"
CANCELLED = "cancelled"
STATUSES = (PLANNED, CONFIRMED, HELD, RESULTS_PUBLISHED, POSTPONED, CANCELLED)
# Visits in these states no longer hold their dong's slot in the cycle.
FREED = (POSTPONED, CANCELLED)

TRANSITIONS: dict[str, tuple[str, ...]] = {
    PLANNED: (CONFIRMED, HELD, POSTPONED, CANCELLED),
    CONFIRMED: (HELD, POSTPONED, CANCELLED),
    HELD: (RESULTS_PUBLISHED,),
    RESULTS_PUBLISHED: (),
    POSTPONED: (PLANNED,),
    CANCELLED: (),
}

AGENDA_ITEMS = ("dialogue", "issues", "staff", "field")
PARTICIPANT_GROUPS = ("monitors", "reporters", "council", "leaders")
THEME_GROUPS = ("issue", "season", "field")
CARD_CATEGORIES = ("도로·교통", "안전", "환경", "복지", "문화·체육", "기타")

visit_departments = Table(
    "visit_departments",
    db.metadata,
    Column("visit_id", Integer, ForeignKey("visits.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", Integer, ForeignKey("departments.id"), primary_key=True),
)


class VisitCycle(db.Model):
    """A rotation window: every active dong gets exactly one regular visit in it."""

    __tablename__ = "visit_cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    start_day: Mapped[dt.date] = mapped_column(Date)
    end_day: Mapped[dt.date] = mapped_column(Date)
    # [[year, quota], ...] in calendar-year order.
    quotas: Mapped[list] = mapped_column(JSON)
    max_per_week: Mapped[int] = mapped_column(default=3)
    # Regular visits a day may hold (a large city on a 2-year cycle needs more than one).
    max_per_day: Mapped[int] = mapped_column(default=1, server_default="1")
    # {"contested_area": 3, "natural_village": 2, "outlying_area": 2}; None: planner defaults.
    priority_weights: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    visits: Mapped[list[Visit]] = relationship(back_populates="cycle", order_by="Visit.start_at")

    @property
    def quota_map(self) -> dict[int, int]:
        return {int(y): int(q) for y, q in self.quotas}


class Visit(db.Model):
    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default=KIND_REGULAR, index=True)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("visit_cycles.id"), index=True)
    dong_id: Mapped[int | None] = mapped_column(ForeignKey("dongs.id"), index=True)
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    end_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=PLANNED, index=True)
    status_reason: Mapped[str | None] = mapped_column(String(300))
    published: Mapped[bool] = mapped_column(default=False, index=True)
    locked: Mapped[bool] = mapped_column(default=False)
    moved_manually: Mapped[bool] = mapped_column(default=False)
    plan_reason: Mapped[str | None] = mapped_column(String(200))
    theme_group: Mapped[str | None] = mapped_column(String(20))
    theme: Mapped[str | None] = mapped_column(String(200))
    agenda: Mapped[list] = mapped_column(JSON, default=list)
    residents_count: Mapped[int | None] = mapped_column()
    participant_groups: Mapped[list] = mapped_column(JSON, default=list)
    other_participants: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)  # internal, staff only
    result_summary: Mapped[str | None] = mapped_column(Text)  # public
    results_revision: Mapped[int] = mapped_column(default=0)
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    cycle: Mapped[VisitCycle | None] = relationship(back_populates="visits")
    dong = relationship("Dong", lazy="joined")
    departments = relationship(
        "Department", secondary=visit_departments, lazy="selectin", order_by="Department.name"
    )
    sites: Mapped[list[TourSite]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", lazy="selectin", order_by="TourSite.position"
    )

    def can_transition_to(self, status: str) -> bool:
        return status in TRANSITIONS.get(self.status, ())

    @property
    def local_day(self) -> dt.date:
        from civic_app.timeutil import to_seoul

        return to_seoul(self.start_at).date()

    @property
    def keeps_slot(self) -> bool:
        return self.status not in FREED


class TourSite(db.Model):
    """A stop of a themed field tour; it may belong to a dong."""

    __tablename__ = "visit_tour_sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200))
    dong_id: Mapped[int | None] = mapped_column(ForeignKey("dongs.id"))

    visit: Mapped[Visit] = relationship(back_populates="sites")
    dong = relationship("Dong", lazy="joined")


class MayorUnavailable(db.Model):
    """A day the mayor cannot visit (overseas trip, council session ...); the planner avoids it."""

    __tablename__ = "visit_mayor_unavailable"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, unique=True)
    reason: Mapped[str] = mapped_column(String(200))
