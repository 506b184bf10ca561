"""Account rules: registration with consent, verification, password reset, staff creation."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civic_app.accounts.models import User, UserRole, new_session_token
from civic_app.accounts.roles import CITIZEN, ROLES
from civic_app.errors import DomainError, NotFound, ValidationFailed
from civic_app.integrity.conflicts import is_unique_violation, savepoint
from civic_app.notify.services import enqueue_email
from civic_app.timeutil import to_seoul

# Argon2id with the library's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4).
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A valid hash to verify against when the account does not exist (constant-ish timing);
    made on first use, not at import (every process start would pay ~0.1 s for it)."""
    return _hasher.hash("not-a-real-password")


PRIVACY_CONSENT_VERSION = "2026-11"
MIN_PASSWORD_LENGTH = 10
PHONE_RE = re.compile(r"^01[016789]-?\d{3,4}-?\d{4}$")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    if user is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_dummy_hash(), password)
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    return email.strip().lower()


def normalise_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 11:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if len(digits) == 10:
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return phone.strip()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            _("비밀번호는 %(n)d자 이상이어야 합니다.", n=MIN_PASSWORD_LENGTH),
            [("password", _("비밀번호는 %(n)d자 이상이어야 합니다.", n=MIN_PASSWORD_LENGTH))],
        )


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def _serializer(secret_key: str, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=salt)


def make_token(secret_key: str, purpose: str, user: User) -> str:
    # Binding the token to the password hash / verification state makes it single-use.
    fingerprint = user.password_hash[-16:] if purpose == "reset" else str(user.email_verified_at)
    return _serializer(secret_key, purpose).dumps({"uid": user.id, "fp": fingerprint})


def read_token(session: Session, secret_key: str, purpose: str, token: str, max_age: int) -> User:
    try:
        data = _serializer(secret_key, purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise DomainError(_("링크의 유효기간이 지났습니다. 다시 요청해 주세요.")) from exc
    except BadSignature as exc:
        raise DomainError(_("링크가 올바르지 않습니다.")) from exc
    user = session.get(User, data.get("uid"))
    expected = None
    if user is not None:
        expected = user.password_hash[-16:] if purpose == "reset" else str(user.email_verified_at)
    if user is None or data.get("fp") != expected:
        raise DomainError(_("이미 사용했거나 올바르지 않은 링크입니다."))
    return user


def register_citizen(
    session: Session,
    *,
    name: str,
    email: str,
    phone: str,
    password: str,
    privacy_consent: bool,
    optional_consent: bool,
    now: dt.datetime,
    secret_key: str,
    base_url: str,
    locale: str | None = None,
) -> User | None:
    """Create a citizen account and queue the verification e-mail in the same transaction.

    An address that already has an account gets no second one and no error (that would tell
    anyone which addresses are registered): its owner is told by e-mail and ``None`` is returned;
    the caller answers exactly as for a new account.
    """
    errors: list[tuple[str, str]] = []
    if not privacy_consent:
        errors.append(("privacy_consent", _("개인정보 수집·이용에 동의해야 가입할 수 있습니다.")))
    if not PHONE_RE.match(phone.strip()):
        errors.append(("phone", _("휴대전화 번호 형식이 올바르지 않습니다. 예: 010-1234-5678")))
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.append(("password", _("비밀번호는 %(n)d자 이상이어야 합니다.", n=MIN_PASSWORD_LENGTH)))
    if errors:
        raise ValidationFailed(_("입력 내용을 확인해 주세요."), errors)
    existing = find_user_by_email(session, email)
    if existing is not None:
        hash_password(password)  # the same work as a new account: the timing tells nothing either
        registration_attempt_on_existing(session, existing, now=now, base_url=base_url)
        return None
    user = User(
        email=normalise_email(email),
        name=name.strip(),
        phone=normalise_phone(phone),
        password_hash=hash_password(password),
        privacy_consent_at=now,
        privacy_consent_version=PRIVACY_CONSENT_VERSION,
        optional_consent_at=now if optional_consent else None,
        created_at=now,
        locale=locale,
    )
    user.roles.append(UserRole(role=CITIZEN))
    try:
        with savepoint(session):
            session.add(user)
            session.flush()
    except IntegrityError as error:
        if not is_unique_violation(error, "users", "email"):
            raise
        # A registration with this e-mail committed between the check above and this INSERT:
        # answer exactly as for an e-mail that was already there (the same, ordinary path).
        return register_citizen(
            session,
            name=name,
            email=email,
            phone=phone,
            password=password,
            privacy_consent=privacy_consent,
            optional_consent=optional_consent,
            now=now,
            secret_key=secret_key,
            base_url=base_url,
            locale=locale,
        )
    queue_verification_email(session, user, now=now, secret_key=secret_key, base_url=base_url)
    return user


def registration_attempt_on_existing(
    session: Session, user: User, *, now: dt.datetime, base_url: str
) -> None:
    """Tell the owner of ``user`` that someone tried to register with the address (at most one
    mail a day, so the form cannot be used to flood a mailbox)."""
    if user.anonymized_at is not None:
        return
    enqueue_email(
        session,
        to=user.email,
        subject=_("[시민소통실] 이 주소로 가입 시도가 있었습니다"),
        body=_(
            "%(name)s님, 누군가 이 이메일 주소로 시민소통실에 가입하려고 했습니다. 이 주소로는 "
            "이미 계정이 있어 새 계정을 만들지 않았습니다.\n\n본인이 시도했다면 로그인하거나, "
            "비밀번호가 기억나지 않으면 아래에서 재설정해 주세요:\n%(link)s\n\n본인이 아니라면 "
            "이 메일을 무시하셔도 됩니다.",
            name=user.name,
            link=f"{base_url}/account/forgot",
        ),
        kind="account.register_existing",
        dedupe_key=f"register-existing:{user.id}:{to_seoul(now).date().isoformat()}",
        now=now,
    )


def queue_verification_email(
    session: Session, user: User, *, now: dt.datetime, secret_key: str, base_url: str
) -> None:
    token = make_token(secret_key, "verify", user)
    link = f"{base_url}/account/verify/{token}"
    enqueue_email(
        session,
        to=user.email,
        subject=_("[시민소통실] 이메일 주소를 확인해 주세요"),
        body=_(
            "%(name)s님, 가입해 주셔서 감사합니다.\n\n아래 링크를 눌러 이메일 주소를 "
            "확인해 주세요 (3일 동안 유효):\n%(link)s\n\n본인이 가입하지 않았다면 이 메일을 "
            "무시하세요.",
            name=user.name,
            link=link,
        ),
        kind="account.verify",
        dedupe_key=f"verify:{user.id}:{now.timestamp()}",
        now=now,
    )


def verify_email(session: Session, user: User, *, now: dt.datetime) -> None:
    if user.email_verified_at is None:
        user.email_verified_at = now
        session.flush()


def request_password_reset(
    session: Session, email: str, *, now: dt.datetime, secret_key: str, base_url: str
) -> None:
    """Queue a reset mail when the account exists; say nothing either way (no enumeration)."""
    user = find_user_by_email(session, email)
    if user is None or not user.is_active:
        return
    token = make_token(secret_key, "reset", user)
    enqueue_email(
        session,
        to=user.email,
        subject=_("[시민소통실] 비밀번호 재설정 안내"),
        body=_(
            "%(name)s님, 비밀번호 재설정을 요청하셨습니다.\n\n아래 링크에서 새 비밀번호를 "
            "정해 주세요 (1시간 동안 유효):\n%(link)s\n\n요청하지 않았다면 이 메일을 무시하세요.",
            name=user.name,
            link=f"{base_url}/account/reset/{token}",
        ),
        kind="account.reset",
        dedupe_key=f"reset:{user.id}:{now.timestamp()}",
        now=now,
    )


def set_password(session: Session, user: User, password: str) -> None:
    """Change the password and end every other session."""
    check_password_strength(password)
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()
    session.flush()


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not verify_password(user, current):
        raise ValidationFailed(
            _("현재 비밀번호가 맞지 않습니다."),
            [("current_password", _("현재 비밀번호가 맞지 않습니다."))],
        )
    set_password(session, user, new)


def end_all_sessions(session: Session, user: User) -> None:
    user.session_token = new_session_token()
    session.flush()


def create_staff_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    roles: list[str],
    now: dt.datetime,
    department_id: int | None = None,
    phone: str | None = None,
) -> User:
    """Create an account for office staff (verified at once: an admin vouches for it)."""
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        raise ValidationFailed(
            _("알 수 없는 역할입니다: %(roles)s", roles=", ".join(bad) or "-"),
            [("roles", _("알 수 없는 역할입니다: %(roles)s", roles=", ".join(bad) or "-"))],
        )
    if find_user_by_email(session, email) is not None:
        raise ValidationFailed(_("이미 가입된 이메일입니다."), [("email", _("이미 가입된 이메일입니다."))])
    check_password_strength(password)
    user = User(
        email=normalise_email(email),
        name=name.strip(),
        phone=phone,
        password_hash=hash_password(password),
        created_at=now,
        email_verified_at=now,
        department_id=department_id,
    )
    for role in dict.fromkeys(roles):
        user.roles.append(UserRole(role=role))
    session.add(user)
    session.flush()
    return user


def set_roles(session: Session, user: User, roles: list[str]) -> None:
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise ValidationFailed(_("알 수 없는 역할입니다: %(roles)s", roles=", ".join(bad)))
    wanted = list(dict.fromkeys(roles))
    # Keep the rows of roles that stay: replacing them would INSERT before DELETE and trip
    # the (user_id, role) unique constraint.
    user.roles = [r for r in user.roles if r.role in wanted] + [
        UserRole(role=r) for r in wanted if r not in user.role_set
    ]
    session.flush()


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("사용자를 찾을 수 없습니다."))
    return user


def count_users(session: Session) -> int:
    return session.scalar(select(func.count(User.id))) or 0
