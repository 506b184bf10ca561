"""Card items, their history, the three-party reviews and the budget envelope.

The contract columns of ``CardItem`` (written by the integrator) stay as they are: visits and
통통데이 write items through ``civic_app.cards.items.create_item``.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from civic_app.db_types import UTCDateTime
from civic_app.extensions import db

SOURCE_KINDS = ("visit", "meeting", "walk_in", "staff", "citizen")
SOURCE_LABELS = {
    "visit": _l("동 방문"),
    "meeting": _l("통통데이"),
    "walk_in": _l("방문 접수"),
    "staff": _l("직원 입력"),
    "citizen": _l("시민 온라인 제안"),
}

RECEIVED = "received"
UNDER_REVIEW = "under_review"
SELECTED = "selected"
BUDGET_REFLECTED = "budget_reflected"
IN_PROGRESS = "in_progress"
DONE = "done"
LONG_TERM = "long_term"
NOT_FEASIBLE = "not_feasible"
REFERRED = "referred"
MERGED = "merged"  # a duplicate folded into another item (merged_into_id)

STATUSES = (
    RECEIVED,
    UNDER_REVIEW,
    SELECTED,
    BUDGET_REFLECTED,
    IN_PROGRESS,
    DONE,
    LONG_TERM,
    NOT_FEASIBLE,
    REFERRED,
    MERGED,
)
STATUS_LABELS = {
    RECEIVED: _l("접수"),
    UNDER_REVIEW: _l("검토중"),
    SELECTED: _l("선정"),
    BUDGET_REFLECTED: _l("예산반영"),
    IN_PROGRESS: _l("집행중"),
    DONE: _l("완료"),
    LONG_TERM: _l("장기검토"),
    NOT_FEASIBLE: _l("불가"),
    REFERRED: _l("이송"),
    MERGED: _l("병합"),
}
# The state machine: what each state may become (merging is its own operation).
TRANSITIONS: dict[str, frozenset[str]] = {
    RECEIVED: frozenset({UNDER_REVIEW, NOT_FEASIBLE, REFERRED}),
    UNDER_REVIEW: frozenset({SELECTED, LONG_TERM, NOT_FEASIBLE, REFERRED}),
    SELECTED: frozenset({BUDGET_REFLECTED, UNDER_REVIEW, LONG_TERM}),
    BUDGET_REFLECTED: frozenset({IN_PROGRESS}),
    IN_PROGRESS: frozenset({DONE}),
    LONG_TERM: frozenset({UNDER_REVIEW}),
    DONE: frozenset(),
    NOT_FEASIBLE: frozenset(),
    REFERRED: frozenset(),
    MERGED: frozenset(),
}
# States whose items still wait for a decision (merge, split, carry-over apply to them).
OPEN_STATUSES = (RECEIVED, UNDER_REVIEW, SELECTED, LONG_TERM)
REVIEWABLE_STATUSES = (RECEIVED, UNDER_REVIEW)

BUDGET_KINDS = ("main", "supplementary")
BUDGET_KIND_LABELS = {"main": _l("본예산"), "supplementary": _l("추경")}

PARTY_BUDGET = "budget"
PARTY_POLICY = "policy"
PARTY_DEPARTMENT = "department"
PARTIES = (PARTY_BUDGET, PARTY_POLICY, PARTY_DEPARTMENT)
PARTY_LABELS = {
    PARTY_BUDGET: _l("예산법무과"),
    PARTY_POLICY: _l("정책담당관"),
    PARTY_DEPARTMENT: _l("담당 부서"),
}
CRITERIA = ("feasibility", "legality", "urgency", "safety", "beneficiaries")
CRITERION_LABELS = {
    "feasibility": _l("실현 가능성"),
    "legality": _l("적법성"),
    "urgency": _l("시급성"),
    "safety": _l("안전"),
    "beneficiaries": _l("수혜 범위"),
}
RECOMMENDATIONS = ("select", "long_term", "not_feasible", "refer")
RECOMMENDATION_LABELS = {
    "select": _l("선정 권고"),
    "long_term": _l("장기검토 권고"),
    "not_feasible": _l("불가 권고"),
    "refer": _l("이송 권고"),
}
DEFAULT_CATEGORIES = ("도로·교통", "안전", "환경", "복지", "문화·체육", "기타")


class CardItem(db.Model):
    __tablename__ = "card_items"
    __table_args__ = (
        Index("ix_card_items_dong_status", "dong_id", "status"),
        # Review queues: oldest first (city-wide) and per department.
        Index("ix_card_items_created", "created_at", "id"),
        Index("ix_card_items_department_created", "department_id", "created_at", "id"),
    )

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

    # --- added by the card feature ---------------------------------------------------
    # Optimistic locking: every UPDATE checks and bumps it; forms carry the value they saw.
    version: Mapped[int] = mapped_column(default=1)
    # The fiscal year the item is queued for; carry-over moves it to the next one.
    target_year: Mapped[int | None] = mapped_column(index=True)
    status_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The public reason of the last decision (shown on public pages and in the API).
    decision_reason: Mapped[str | None] = mapped_column(Text)
    rank: Mapped[int | None] = mapped_column()
    fiscal_year: Mapped[int | None] = mapped_column()
    budget_kind: Mapped[str | None] = mapped_column(String(20))
    budget_amount: Mapped[int | None] = mapped_column(BigInteger)
    budget_line: Mapped[str | None] = mapped_column(String(200))
    referred_to: Mapped[str | None] = mapped_column(String(200))
    # Weighted review score 0..100, recomputed whenever a review or the weights change.
    review_score: Mapped[float | None] = mapped_column(Float)
    priority_override: Mapped[float | None] = mapped_column(Float)
    override_reason: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("card_items.id"))
    split_from_id: Mapped[int | None] = mapped_column(ForeignKey("card_items.id"))

    dong = relationship("Dong", lazy="joined")
    department = relationship("Department", lazy="joined")
    reviews: Mapped[list[CardReview]] = relationship(back_populates="item", order_by="CardReview.party")
    events: Mapped[list[CardEvent]] = relationship(back_populates="item", order_by="CardEvent.id")
    milestones: Mapped[list[CardMilestone]] = relationship(
        order_by="(CardMilestone.day, CardMilestone.id)", viewonly=True, lazy="select"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative API

    def can_transition_to(self, target: str) -> bool:
        return target in TRANSITIONS.get(self.status, frozenset())

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))

    @property
    def budget_kind_label(self) -> str:
        return str(BUDGET_KIND_LABELS.get(self.budget_kind or "", ""))

    @property
    def anchor(self) -> str:
        return f"item-{self.id}"


class CardEvent(db.Model):
    """One line of an item's history: who did what, when and why."""

    __tablename__ = "card_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("card_items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # status | review | merge | split | carry_over | ...
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    # Public events appear on the public card page; the others only for staff.
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    item: Mapped[CardItem] = relationship(back_populates="events")
    actor = relationship("User")

    @property
    def from_label(self) -> str:
        return str(STATUS_LABELS.get(self.from_status or "", ""))

    @property
    def to_label(self) -> str:
        return str(STATUS_LABELS.get(self.to_status or "", ""))


class CardReview(db.Model):
    """One party's review of an item. Scores 1-5; ``comment`` is internal, never public."""

    __tablename__ = "card_reviews"
    __table_args__ = (UniqueConstraint("item_id", "party"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("card_items.id"), index=True)
    party: Mapped[str] = mapped_column(String(20))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    feasibility: Mapped[int] = mapped_column()
    legality: Mapped[int] = mapped_column()
    urgency: Mapped[int] = mapped_column()
    safety: Mapped[int] = mapped_column()
    beneficiaries: Mapped[int] = mapped_column()
    cost_estimate: Mapped[int | None] = mapped_column(BigInteger)
    recommendation: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    item: Mapped[CardItem] = relationship(back_populates="reviews")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative API

    @property
    def party_label(self) -> str:
        return str(PARTY_LABELS[self.party])

    @property
    def recommendation_label(self) -> str:
        return str(RECOMMENDATION_LABELS.get(self.recommendation, self.recommendation))


class CardComment(db.Model):
    """Internal comment between the offices. Never shown on public pages, feeds or the API."""

    __tablename__ = "card_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("card_items.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    author = relationship("User")


class CardCategory(db.Model):
    """Configurable item categories (도로·교통, 안전 ...)."""

    __tablename__ = "card_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class CardSettings(db.Model):
    """Priority weights and the review deadline, set by the budget office (one row, id 1)."""

    __tablename__ = "card_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    weight_feasibility: Mapped[float] = mapped_column(Float, default=1.0)
    weight_legality: Mapped[float] = mapped_column(Float, default=1.0)
    weight_urgency: Mapped[float] = mapped_column(Float, default=1.5)
    weight_safety: Mapped[float] = mapped_column(Float, default=1.5)
    weight_beneficiaries: Mapped[float] = mapped_column(Float, default=1.0)
    # Points added per priority flag of the dong (쟁점민원 지역, 자연부락, 소외·외곽지역).
    dong_flag_bonus: Mapped[float] = mapped_column(Float, default=5.0)
    review_deadline_days: Mapped[int] = mapped_column(default=14)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def weights(self) -> dict[str, float]:
        return {c: getattr(self, f"weight_{c}") for c in CRITERIA}


class BudgetEnvelope(db.Model):
    """The money a fiscal year can give to card items."""

    __tablename__ = "card_budget_envelopes"

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# Execution milestones between 예산반영 and 완료 (dated, optional photo, public).
MILESTONE_KINDS = ("design", "contract", "start", "progress", "complete", "other")
MILESTONE_LABELS = {
    "design": _l("설계"),
    "contract": _l("계약"),
    "start": _l("착공"),
    "progress": _l("공정 점검"),
    "complete": _l("준공"),
    "other": _l("기타"),
}
MILESTONE_KO = {
    "design": "설계",
    "contract": "계약",
    "start": "착공",
    "progress": "공정 점검",
    "complete": "준공",
    "other": "기타",
}
# Milestones are recorded once the money is there.
MILESTONE_STATUSES = (BUDGET_REFLECTED, IN_PROGRESS, DONE)
# Status changes the suggestion's author is told about (e-mail through the outbox).
AUTHOR_NOTICE_STATUSES = (SELECTED, BUDGET_REFLECTED, DONE, NOT_FEASIBLE)


class CardPhoto(db.Model):
    """A photo of an item: the site as suggested (staff only) or of a milestone (public)."""

    __tablename__ = "card_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("card_items.id"), index=True)
    # Set for a milestone's photo: those are public; the others stay with the staff.
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("card_milestones.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(40))
    caption: Mapped[str | None] = mapped_column(String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    @property
    def public(self) -> bool:
        return self.milestone_id is not None


class CardMilestone(db.Model):
    """A dated step of an item's execution (설계, 착공, 준공 ...), shown to the public."""

    __tablename__ = "card_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("card_items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    day: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(500))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    photos: Mapped[list[CardPhoto]] = relationship(
        primaryjoin="CardPhoto.milestone_id == CardMilestone.id", order_by="CardPhoto.id", viewonly=True
    )

    @property
    def label(self) -> str:
        return str(MILESTONE_LABELS.get(self.kind, self.kind))


class CardContact(db.Model):
    """The e-mail address of the resident who raised a suggestion (given with consent on a
    visit or at the counter), used only to tell them what became of it. 통통데이 requesters are
    reached through their request instead. Personal data: never public, purged on retention."""

    __tablename__ = "card_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("card_items.id"), index=True)
    contact_email: Mapped[str] = mapped_column(String(254))
    consent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# --- issue 17: citizen suggestions online, 공감 and the answers they earn -------------------------
# A citizen's suggestion is an ordinary CardItem (source_kind "citizen", state 접수); the rows
# below hold what only online suggestions have. Thresholds are settings (SUGGEST_* in config).

ANSWER_INTERIM = "interim"
ANSWER_FINAL = "final"
ANSWER_KINDS = (ANSWER_INTERIM, ANSWER_FINAL)
ANSWER_LABELS = {ANSWER_INTERIM: _l("중간 답변"), ANSWER_FINAL: _l("최종 답변")}


class CardSuggestion(db.Model):
    """Who wrote a citizen's online suggestion and what they consented to. The author is never
    shown on a public surface; the link lets them follow it and receive the answer."""

    __tablename__ = "card_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("card_items.id"), unique=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    consent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    consent_version: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    item: Mapped[CardItem] = relationship(lazy="joined")


class CardSupport(db.Model):
    """One citizen's 공감 for an item: one per account (the unique constraint decides races).
    A merge moves the duplicate's rows to the surviving item, keeping their dates."""

    __tablename__ = "card_supports"
    __table_args__ = (
        UniqueConstraint("item_id", "user_id"),
        # The threshold counts the 공감 of the last N days of one item.
        Index("ix_card_supports_item_created", "item_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("card_items.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# How many 공감 an item has (deferred: loaded only where a query asks for it with undefer()).
CardItem.support_count = column_property(
    select(func.count(CardSupport.id))
    .where(CardSupport.item_id == CardItem.id)
    .correlate_except(CardSupport)
    .scalar_subquery(),
    deferred=True,
)


class CardAnswerDuty(db.Model):
    """The responsible department owes a public answer by ``due_on`` because the item reached
    the 공감 threshold. An interim answer moves ``due_on`` (at most the answer period ahead);
    the final answer closes the duty. Past ``due_on`` without either, the item is overdue."""

    __tablename__ = "card_answer_duties"
    __table_args__ = (Index("ix_card_answer_duties_open_due", "answered_at", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("card_items.id"), unique=True)
    triggered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    supports_at_trigger: Mapped[int] = mapped_column()
    first_due_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    item: Mapped[CardItem] = relationship(lazy="joined")

    def overdue_days(self, today: dt.date) -> int:
        """Days past the deadline without an answer (0 when answered or not yet due)."""
        if self.answered_at is not None or today <= self.due_on:
            return 0
        return (today - self.due_on).days


class CardAnswer(db.Model):
    """A department's public answer to a supported suggestion: interim (with the date of the
    next answer) or final. Public text, checked by the privacy guard when saved."""

    __tablename__ = "card_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("card_items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)
    next_due_on: Mapped[dt.date | None] = mapped_column(Date)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    department = relationship("Department", lazy="joined")

    @property
    def kind_label(self) -> str:
        return str(ANSWER_LABELS.get(self.kind, self.kind))


class CardAgendaEntry(db.Model):
    """The item reached the agenda threshold: it goes on the next 통통데이 (the session that was
    next when it did; a cancelled one gives way to the next scheduled session when shown)."""

    __tablename__ = "card_agenda_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("card_items.id"), unique=True)
    reached_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    supports_at_trigger: Mapped[int] = mapped_column()
    session_id: Mapped[int | None] = mapped_column(ForeignKey("tongtong_sessions.id"))

    item: Mapped[CardItem] = relationship(lazy="joined")
