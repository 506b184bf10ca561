"""A citizen's rights under 개인정보보호법 that the consent text promises: to receive their data
(열람·전송) and to withdraw from the service (회원 탈퇴) with their personal data destroyed.

Accounts know only the account; every feature holding a citizen's data plugs in through
``register_rights_hooks(name, export=..., erase=...)`` from its ``init_app``:

- ``export(session, user) -> JSON-able``: the feature's records about ``user``, unmasked (it is
  their own data);
- ``erase(session, user, *, now, **context) -> list[Path] | None``: withdraw what is still in
  progress (telling staff), destroy personal fields, keep the public record anonymised; return
  files to delete once the transaction has committed. Runs before the account row itself is
  anonymised, in the same transaction. ``context`` carries settings the view passes on
  (``staff_email``, ``upload_dir``); a hook takes the keys it needs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from civic_app.accounts.models import User
from civic_app.accounts.roles import CITIZEN_ROLES
from civic_app.accounts.services import verify_password
from civic_app.audit.services import record
from civic_app.errors import NotAllowed, ValidationFailed
from civic_app.timeutil import iso_seoul

EXPORT_ACTION = "account.export"
DELETE_ACTION = "account.delete"
EXPORT_FORMAT = "civic_app.personal-data/1"
SELF_SERVICE_ROLES = CITIZEN_ROLES


@dataclass(frozen=True)
class RightsHooks:
    export: Callable[[Session, User], object] | None = None
    erase: Callable[..., None] | None = None


_hooks: dict[str, RightsHooks] = {}


def register_rights_hooks(
    name: str,
    *,
    export: Callable[[Session, User], object] | None = None,
    erase: Callable[..., None] | None = None,
) -> None:
    """Add (or replace) a feature's export and erase functions."""
    _hooks[name] = RightsHooks(export=export, erase=erase)


def registered_hooks() -> dict[str, RightsHooks]:
    return dict(_hooks)


def _iso(value: dt.datetime | None) -> str | None:
    return iso_seoul(value) if value is not None else None


def can_self_delete(user: User) -> bool:
    """Citizens withdraw themselves; staff, hosts and members are managed by an admin."""
    return bool(user.role_set) and user.role_set <= SELF_SERVICE_ROLES


def export_user_data(session: Session, user: User, *, now: dt.datetime, ip: str | None = None) -> dict:
    """Everything the app holds about ``user``, as one JSON document; the download is logged."""
    data: dict = {
        "format": EXPORT_FORMAT,
        "exported_at": iso_seoul(now),
        "account": {
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "phone": user.phone,
            "roles": sorted(user.role_set),
            "locale": user.locale,
            "created_at": _iso(user.created_at),
            "email_verified_at": _iso(user.email_verified_at),
            "last_login_at": _iso(user.last_login_at),
            "privacy_consent_at": _iso(user.privacy_consent_at),
            "privacy_consent_version": user.privacy_consent_version,
            "optional_consent_at": _iso(user.optional_consent_at),
        },
    }
    for name, hooks in sorted(_hooks.items()):
        if hooks.export is not None:
            data[name] = hooks.export(session, user)
    record(
        session,
        actor_id=user.id,
        action=EXPORT_ACTION,
        target_type="user",
        target_id=user.id,
        detail={"sections": sorted(k for k in data if k not in ("format", "exported_at"))},
        now=now,
        ip=ip,
    )
    return data


def delete_account(
    session: Session,
    user: User,
    *,
    password: str,
    confirmed: bool,
    now: dt.datetime,
    ip: str | None = None,
    **context: object,
) -> list[Path]:
    """회원 탈퇴: withdraw what is in progress, destroy personal data now, keep the public record
    anonymised. Needs the password again and an explicit confirmation. Returns the files the
    caller deletes after its commit."""
    if not can_self_delete(user):
        raise NotAllowed(_("직원·위원 계정은 스스로 탈퇴할 수 없습니다. 관리자에게 요청해 주세요."))
    errors = []
    if not confirmed:
        errors.append(("confirm", _("탈퇴하면 되돌릴 수 없다는 안내를 확인해 주세요.")))
    if not verify_password(user, password or ""):
        errors.append(("password", _("비밀번호가 맞지 않습니다.")))
    if errors:
        raise ValidationFailed(errors[0][1], errors)
    user_id, email = user.id, user.email
    files: list[Path] = []
    for _name, hooks in sorted(_hooks.items()):
        if hooks.erase is not None:
            files += hooks.erase(session, user, now=now, **context) or []
    _erase_mail(session, email, now=now)
    from civic_app.privacy.services import anonymise_user

    anonymise_user(user, now=now)
    record(
        session,
        actor_id=user_id,
        action=DELETE_ACTION,
        target_type="user",
        target_id=user_id,
        detail={"hooks": sorted(n for n, h in _hooks.items() if h.erase is not None)},
        now=now,
        ip=ip,
    )
    session.flush()
    return files


def _erase_mail(session: Session, email: str, *, now: dt.datetime) -> None:
    """E-mails to the address (sent or not) carry it and often the name: destroy both."""
    from civic_app.notify.worker import erase_mail_to

    erase_mail_to(session, email, now=now, placeholder="anonymized@invalid.invalid")
