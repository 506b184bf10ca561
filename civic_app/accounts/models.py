from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic_app.db_types import UTCDateTime
from civic_app.extensions import db


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(db.Model):
    """An account. Citizens register themselves; staff accounts are created by an admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(30))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Rotated on logout and password change: every other session stops matching.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    email_verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    privacy_consent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    privacy_consent_version: Mapped[str | None] = mapped_column(String(20))
    optional_consent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    anonymized_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    department = relationship("Department", lazy="joined")

    # --- Flask-Login protocol -------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active and self.anonymized_at is None

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # The token makes old cookies useless once rotated; nothing personal is in it.
        return f"{self.id}:{self.session_token}"

    # --- roles ------------------------------------------------------------------------
    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r.role for r in self.roles)

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set & set(roles))

    @property
    def is_staff(self) -> bool:
        from civic_app.accounts.roles import STAFF_ROLES

        return bool(self.role_set & STAFF_ROLES)


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(40))

    user: Mapped[User] = relationship(back_populates="roles")
