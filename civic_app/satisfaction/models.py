"""만족도 조사: survey invitations (who was asked about what) and their answers.

An invitation is sent once per subject and person (``subject_ref`` + ``recipient_key``); the
link in its e-mail carries a signed token naming the invitation. The invitation holds the
personal data (the address it went to, what it was about) and loses it at the retention
period; the answer holds only the scores and the comment, so the index outlives the purge.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic_app.db_types import UTCDateTime
from civic_app.extensions import db

PROCESS_TONGTONG = "tongtong"  # a 통통데이 meeting held, or a written answer to a request
PROCESS_CARD = "card"  # a 동 관리카드 item completed
PROCESS_SUGGESTION = "suggestion"  # a department's answer to an online citizen suggestion
PROCESSES = (PROCESS_TONGTONG, PROCESS_CARD, PROCESS_SUGGESTION)
PROCESS_LABELS = {
    PROCESS_TONGTONG: _l("통통데이"),
    PROCESS_CARD: _l("동 관리카드"),
    PROCESS_SUGGESTION: _l("온라인 제안"),
}
SURVEY_DAYS = 30  # how long a survey link stays valid
SCORES = (1, 2, 3, 4, 5)
MAX_COMMENT = 1000


class SurveyInvitation(db.Model):
    __tablename__ = "satisfaction_invitations"
    __table_args__ = (
        # One invitation per subject and person, whatever the number of triggers or clicks.
        UniqueConstraint("subject_ref", "recipient_key"),
        Index("ix_satisfaction_invitations_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process: Mapped[str] = mapped_column(String(20))
    # What the survey is about, as the outbox names it: "meeting:12", "card:7", "suggestion:3".
    subject_ref: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # "user:<id>" or "email:<sha256 of the address>": the person, without the address itself.
    recipient_key: Mapped[str] = mapped_column(String(80))
    # Personal data, destroyed at the retention period (see ``services.purge_invitations``).
    email: Mapped[str | None] = mapped_column(String(254))
    about: Mapped[str | None] = mapped_column(String(200))
    # Random part of the token: a token is only good for the invitation it was made for.
    nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    department = relationship("Department", lazy="joined")
    response: Mapped[SurveyResponse | None] = relationship(back_populates="invitation", uselist=False)

    @property
    def process_label(self) -> str:
        return str(PROCESS_LABELS.get(self.process, self.process))


class SurveyResponse(db.Model):
    __tablename__ = "satisfaction_responses"
    __table_args__ = (
        CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_range"),
        CheckConstraint("reason_clear BETWEEN 1 AND 5", name="reason_clear_range"),
        Index("ix_satisfaction_responses_answered", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # UNIQUE: a second answer to the same invitation is refused by the database too.
    invitation_id: Mapped[int] = mapped_column(ForeignKey("satisfaction_invitations.id"), unique=True)
    satisfaction: Mapped[int] = mapped_column()  # 1 (very unsatisfied) .. 5 (very satisfied)
    reason_clear: Mapped[int] = mapped_column()  # "was the reason clear": 1 .. 5
    comment: Mapped[str | None] = mapped_column(Text)  # the citizen's words: staff only
    # Staff choose which comments the dashboard shows; the shown text is masked when published.
    published: Mapped[bool] = mapped_column(default=False)
    public_comment: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    invitation: Mapped[SurveyInvitation] = relationship(back_populates="response", lazy="joined")
