"""통통데이 models.

Names other features rely on:

- ``TongtongRule``: the session series rule (one row for the source's rule; ``DEFAULT_RULE``
  holds its values so the migration can insert the same row).
- ``TongtongSession``: one materialised session. Stable ``id``, ``start_at``/``end_at``
  (UTCDateTime), ``status`` (scheduled | cancelled | held), ``moved_from`` (the rule's date
  when a holiday moved it, else NULL), ``sequence`` (raised on each change), ``updated_at``.
  The calendar feed (/calendar/tongtong.ics) is built from these rows.
- ``MeetingSlot``: a bookable place: a 통통데이 session's slot (kind ``tongtong``), a deputy's
  or director's own slot (kind ``host``) or the 직소민원 상담실 (kind ``room``).
- ``MeetingBooking``: one meeting, with ``host_id``, ``start_at``/``end_at`` (copied from the
  slot) and ``slot_id`` UNIQUE: the database refuses a second booking of a slot. A released
  booking keeps its row with ``slot_id`` NULL. Personal host feeds read bookings by host.
- ``MeetingRequest``: a citizen's request (reference code ``TT-2026-0042``) with its
  ``RequestEvent`` timeline and ``FollowUp`` actions (``card_item_id`` links to 동 관리카드).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, Time, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic_app.db_types import UTCDateTime
from civic_app.extensions import db

# --- the source's rule (also inserted by the migration) ---------------------------------------
POLICY_SKIP = "skip"
POLICY_NEXT = "next"
POLICY_PREVIOUS = "previous"
HOLIDAY_POLICIES = (POLICY_SKIP, POLICY_NEXT, POLICY_PREVIOUS)

DEFAULT_RULE: dict = {
    "name": "통통데이",
    "ordinals": "2,4",  # 2nd and 4th
    "weekday": 3,  # Thursday (Monday = 0)
    "start_time": dt.time(14, 0),
    "duration_minutes": 60,
    "slot_count": 3,  # 3 × 20 minutes
    "holiday_policy": POLICY_SKIP,
    "host_id": None,  # the mayor's office: resolved to the rank-1 Host when booking
    "location": "시장실",
    "active": True,
}

# --- sessions ----------------------------------------------------------------------------------
SESSION_SCHEDULED = "scheduled"
SESSION_CANCELLED = "cancelled"
SESSION_HELD = "held"
SESSION_STATUSES = (SESSION_SCHEDULED, SESSION_CANCELLED, SESSION_HELD)

SLOT_TONGTONG = "tongtong"
SLOT_HOST = "host"
SLOT_ROOM = "room"
ROOM_NAME = "직소민원 상담실"

# --- requests ----------------------------------------------------------------------------------
ST_SUBMITTED = "submitted"  # waiting for review
ST_WAITLISTED = "waitlisted"  # approved for the mayor, waiting for a free place
ST_BOOKED = "booked"
ST_HELD = "held"  # the meeting took place; outcome recorded
ST_REFERRED = "referred"  # written answer / referral, waiting for the department's answer
ST_ANSWERED = "answered"
ST_DECLINED = "declined"
ST_WITHDRAWN = "withdrawn"
REQUEST_STATUSES = (
    ST_SUBMITTED,
    ST_WAITLISTED,
    ST_BOOKED,
    ST_HELD,
    ST_REFERRED,
    ST_ANSWERED,
    ST_DECLINED,
    ST_WITHDRAWN,
)
OPEN_STATUSES = (ST_SUBMITTED, ST_WAITLISTED)  # in the queue
ACTIVE_STATUSES = (ST_SUBMITTED, ST_WAITLISTED, ST_BOOKED)  # the citizen may still change it

TRANSITIONS: dict[str, tuple[str, ...]] = {
    ST_SUBMITTED: (ST_WAITLISTED, ST_BOOKED, ST_REFERRED, ST_DECLINED, ST_WITHDRAWN),
    ST_WAITLISTED: (ST_BOOKED, ST_REFERRED, ST_DECLINED, ST_WITHDRAWN, ST_WAITLISTED),
    ST_BOOKED: (ST_HELD, ST_WAITLISTED, ST_BOOKED, ST_WITHDRAWN, ST_REFERRED, ST_DECLINED),
    ST_REFERRED: (ST_ANSWERED,),
    ST_HELD: (ST_HELD,),
    ST_ANSWERED: (),
    ST_DECLINED: (),
    ST_WITHDRAWN: (),
}

ROUTE_MAYOR = "mayor"
ROUTE_DEPUTY = "deputy"
ROUTE_DIRECTOR = "director"
ROUTE_WRITTEN = "written"
ROUTE_REFERRAL = "referral"
ROUTE_DECLINED = "declined"
ROUTES = (ROUTE_MAYOR, ROUTE_DEPUTY, ROUTE_DIRECTOR, ROUTE_WRITTEN, ROUTE_REFERRAL, ROUTE_DECLINED)

# Stored in Korean; shown through gettext (``category_label``), so each is a catalog message.
CATEGORIES = ("도로·교통", "복지", "환경", "도시계획", "안전", "지역경제", "문화·체육", "교육", "기타")
ANSWER_DAYS_DEFAULT = 14


class TongtongRule(db.Model):
    """The series rule: ordinals of a weekday, a start time, duration, slots, holiday policy."""

    __tablename__ = "tongtong_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    ordinals: Mapped[str] = mapped_column(String(20))  # "2,4"
    weekday: Mapped[int] = mapped_column()
    start_time: Mapped[dt.time] = mapped_column(Time)
    duration_minutes: Mapped[int] = mapped_column()
    slot_count: Mapped[int] = mapped_column()
    holiday_policy: Mapped[str] = mapped_column(String(20))
    host_id: Mapped[int | None] = mapped_column(ForeignKey("hosts.id"))
    location: Mapped[str] = mapped_column(String(100), default="시장실")
    active: Mapped[bool] = mapped_column(default=True)

    host = relationship("Host", lazy="joined")

    @property
    def ordinal_list(self) -> tuple[int, ...]:
        return tuple(int(x) for x in self.ordinals.split(",") if x.strip())


class TongtongSession(db.Model):
    __tablename__ = "tongtong_sessions"
    __table_args__ = (UniqueConstraint("rule_id", "rule_date", name="uq_tongtong_session_rule_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("tongtong_rules.id"))
    rule_date: Mapped[dt.date] = mapped_column(Date)  # the date the rule gives
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    end_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=SESSION_SCHEDULED)
    moved_from: Mapped[dt.date | None] = mapped_column(Date)
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    host_id: Mapped[int | None] = mapped_column(ForeignKey("hosts.id"))
    location: Mapped[str] = mapped_column(String(100), default="시장실")
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    host = relationship("Host", lazy="joined")
    slots: Mapped[list[MeetingSlot]] = relationship(
        back_populates="session", order_by="MeetingSlot.start_at", lazy="selectin"
    )

    @property
    def day(self) -> dt.date:
        from civic_app.timeutil import to_seoul

        return to_seoul(self.start_at).date()


class MeetingSlot(db.Model):
    __tablename__ = "meeting_slots"
    __table_args__ = (Index("ix_meeting_slots_start", "start_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("tongtong_sessions.id"), index=True)
    host_id: Mapped[int | None] = mapped_column(ForeignKey("hosts.id"), index=True)
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    location: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    session: Mapped[TongtongSession | None] = relationship(back_populates="slots")
    host = relationship("Host", lazy="joined")
    booking: Mapped[MeetingBooking | None] = relationship(
        back_populates="slot", lazy="selectin", uselist=False
    )


class MeetingBooking(db.Model):
    __tablename__ = "meeting_bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # UNIQUE: one meeting per slot, whatever the application thinks (NULL once released).
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_slots.id"), unique=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("meeting_requests.id"), index=True)
    host_id: Mapped[int | None] = mapped_column(ForeignKey("hosts.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("tongtong_sessions.id"), index=True)
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    location: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(default=True)
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    slot: Mapped[MeetingSlot | None] = relationship(back_populates="booking")
    tongtong_session: Mapped[TongtongSession | None] = relationship()
    host = relationship("Host", lazy="joined")
    request: Mapped[MeetingRequest] = relationship(back_populates="bookings")


class MeetingRequest(db.Model):
    __tablename__ = "meeting_requests"
    # The review queue pages by waiting time; the dong filter and FK lookups use the second.
    __table_args__ = (
        Index("ix_meeting_requests_queue", "queue_since", "id"),
        Index("ix_meeting_requests_dong_id", "dong_id"),
        # The public summaries, newest meeting first (a few hundred rows among all requests).
        Index(
            "ix_meeting_requests_public_summaries",
            "held_at",
            postgresql_where=text("public_summary IS NOT NULL"),
            sqlite_where=text("public_summary IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Personal data (snapshot; walk-ins may have no account). Never on public surfaces.
    requester_name: Mapped[str] = mapped_column(String(100))
    requester_phone: Mapped[str | None] = mapped_column(String(30))
    requester_email: Mapped[str | None] = mapped_column(String(254))
    topic: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    desired_outcome: Mapped[str] = mapped_column(Text)
    dong_id: Mapped[int | None] = mapped_column(ForeignKey("dongs.id"))
    is_group: Mapped[bool] = mapped_column(default=False)
    party_size: Mapped[int] = mapped_column(default=1)
    preferred_session_ids: Mapped[list] = mapped_column(JSON, default=list)
    accessibility: Mapped[str | None] = mapped_column(String(300))
    attachment_name: Mapped[str | None] = mapped_column(String(200))
    attachment_path: Mapped[str | None] = mapped_column(String(300))
    attachment_type: Mapped[str | None] = mapped_column(String(100))
    consent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    consent_version: Mapped[str] = mapped_column(String(20))
    publish_consent: Mapped[bool] = mapped_column(default=False)
    walk_in: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default=ST_SUBMITTED, index=True)
    # Queue position: the time the request joined the queue; kept on carry-over.
    queue_since: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    route: Mapped[str | None] = mapped_column(String(20))
    reason_code: Mapped[str | None] = mapped_column(String(40))
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    answer_due: Mapped[dt.date | None] = mapped_column(Date)
    interim_answer: Mapped[str | None] = mapped_column(Text)
    interim_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answer_text: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attended: Mapped[bool | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(Text)
    public_summary: Mapped[str | None] = mapped_column(Text)
    held_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A booked citizen's request to move to another session: pending until staff decide.
    change_session_id: Mapped[int | None] = mapped_column(ForeignKey("tongtong_sessions.id"))
    change_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The citizen's calendar invitation: one UID per request, this is the SEQUENCE the next
    # invitation (REQUEST or CANCEL) carries (RFC 5546); 0 means none was sent yet.
    ics_sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    dong = relationship("Dong", lazy="joined")
    department = relationship("Department", lazy="joined")
    change_session: Mapped[TongtongSession | None] = relationship(foreign_keys=[change_session_id])
    bookings: Mapped[list[MeetingBooking]] = relationship(
        back_populates="request", order_by="MeetingBooking.id", lazy="selectin"
    )
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", order_by="RequestEvent.id", lazy="selectin"
    )
    followups: Mapped[list[FollowUp]] = relationship(
        back_populates="request", order_by="FollowUp.id", lazy="selectin"
    )

    def can_transition_to(self, status: str) -> bool:
        return status in TRANSITIONS.get(self.status, ())

    def personal_data(self) -> tuple[list[str], list[str], list[str]]:
        """The requester's own names, phone numbers and e-mail addresses, for the privacy guard."""
        return [self.requester_name or ""], [self.requester_phone or ""], [self.requester_email or ""]

    def masked(self, text: str | None) -> str:
        """``text`` with the requester's name (in any spacing), any phone number and any e-mail
        address masked: what a surface that does not log access may show."""
        from civic_app.privacy import guard

        names, phones, emails = self.personal_data()
        return guard.mask(text, names, phones=phones, emails=emails)

    @property
    def safe_topic(self) -> str:
        """The topic for lists that do not log access: the requester's name, phone numbers and
        e-mail addresses in it are masked."""
        return self.masked(self.topic)

    @property
    def safe_summary(self) -> str:
        """The consented public summary as public pages show it (masked again when rendered)."""
        return self.masked(self.public_summary)

    @property
    def active_booking(self) -> MeetingBooking | None:
        for booking in self.bookings:
            if booking.active:
                return booking
        return None


class RequestEvent(db.Model):
    """One step of a request's timeline; ``note`` is what the citizen reads (no personal data)."""

    __tablename__ = "meeting_request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("meeting_requests.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    # How ``note`` (Korean, as stored) was made: rendered in the reader's language on pages
    # (civic_app.meetings.texts.shown); None for notes typed by hand or stored before.
    note_parts: Mapped[list | None] = mapped_column(JSON, nullable=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    request: Mapped[MeetingRequest] = relationship(back_populates="events")


class FollowUp(db.Model):
    __tablename__ = "meeting_followups"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("meeting_requests.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    due_date: Mapped[dt.date] = mapped_column(Date)
    local_budget: Mapped[bool] = mapped_column(default=False)
    card_item_id: Mapped[int | None] = mapped_column(ForeignKey("card_items.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | done
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_note: Mapped[str | None] = mapped_column(Text)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    request: Mapped[MeetingRequest] = relationship(back_populates="followups")
    department = relationship("Department", lazy="joined")

    def is_overdue(self, today: dt.date) -> bool:
        return self.status == "open" and self.due_date < today
