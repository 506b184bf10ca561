"""Plain factory functions. They flush, never commit; tests commit when a client must see data."""

from __future__ import annotations

import datetime as dt
import functools
import itertools

from civic_app.accounts.models import User, UserRole
from civic_app.dongs.models import Department, Dong, Host
from civic_app.extensions import db

PASSWORD = "correct-horse-battery"
NOW = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)  # 2026-11-20 10:00 Asia/Seoul
_seq = itertools.count(1)


@functools.cache
def _password_hash() -> str:
    """An Argon2id hash of PASSWORD with argon2-cffi's CHEAPEST profile (its profile for tests).
    Verification reads the cost from the hash, so each sign-in through the real form in a test
    costs microseconds instead of ~0.2 s of CPU; the production cost (hash_password, RFC 9106
    low-memory) is what registration and the account tests store and check."""
    from argon2 import PasswordHasher, profiles

    return PasswordHasher.from_parameters(profiles.CHEAPEST).hash(PASSWORD)


def make_user(
    *roles: str,
    email: str | None = None,
    name: str = "홍길동",
    phone: str | None = "010-1234-5678",
    department: Department | None = None,
    verified: bool = True,
    **kw,
) -> User:
    n = next(_seq)
    user = User(
        email=email or f"user{n}@example.com",
        name=name,
        phone=phone,
        password_hash=_password_hash(),
        created_at=NOW,
        email_verified_at=NOW if verified else None,
        privacy_consent_at=NOW,
        privacy_consent_version="2026-11",
        department_id=department.id if department else None,
        **kw,
    )
    for role in roles or ("citizen",):
        user.roles.append(UserRole(role=role))
    db.session.add(user)
    db.session.flush()
    return user


def make_dong(name: str | None = None, code: str | None = None, **flags) -> Dong:
    n = next(_seq)
    dong = Dong(
        code=code or f"41990{n:05d}", name=name or f"테스트{n}동", active=True, updated_at=NOW, **flags
    )
    db.session.add(dong)
    db.session.flush()
    return dong


def make_department(name: str | None = None, code: str | None = None, field: str | None = None) -> Department:
    n = next(_seq)
    dept = Department(code=code or f"D{n}", name=name or f"테스트{n}과", field=field, active=True)
    db.session.add(dept)
    db.session.flush()
    return dept


def make_host(title: str = "부시장", rank: int = 2, **kw) -> Host:
    host = Host(title=title, rank=rank, active=True, **kw)
    db.session.add(host)
    db.session.flush()
    return host


def login(client, user: User, password: str = PASSWORD):
    """Sign in through the real login form."""
    db.session.commit()
    return client.post("/login", data={"email": user.email, "password": password}, follow_redirects=False)
