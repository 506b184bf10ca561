"""Authorisation declared per route.

Every view function carries a policy: ``@public``, ``@signed_in`` or ``@roles_required(...)``.
A ``before_request`` hook enforces it, so the decorator order does not matter, and endpoints
without a declaration are refused (deny by default). ``tests/web/test_route_policy.py`` walks
``app.url_map`` and checks each endpoint against its declaration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, abort, current_app, request
from flask_login import current_user

from civic_app.accounts.roles import (
    ADMIN,
    BUDGET_OFFICE,
    CITIZEN,
    CIVIC_OFFICE_ROLES,
    CIVIC_STAFF,
    COMMITTEE_MEMBER,
    COMMITTEE_SECRETARIAT,
    DEPARTMENT,
    HOST,
    POLICY_OFFICE,
    ROLES,
    SECRETARIAT_ROLES,
    STAFF_ROLES,
)

# Role constants live in accounts (one definition); re-exported here for route declarations.
__all__ = [
    "ADMIN",
    "BUDGET_OFFICE",
    "CITIZEN",
    "CIVIC_OFFICE_ROLES",
    "CIVIC_STAFF",
    "COMMITTEE_MEMBER",
    "COMMITTEE_SECRETARIAT",
    "DEPARTMENT",
    "HOST",
    "POLICY_OFFICE",
    "ROLES",
    "SECRETARIAT_ROLES",
    "STAFF_ROLES",
    "Policy",
    "current_roles",
    "enforce_policy",
    "has_role",
    "policy_for_endpoint",
    "public",
    "roles_required",
    "signed_in",
]


@dataclass(frozen=True)
class Policy:
    kind: str  # "public" | "signed_in" | "roles"
    roles: frozenset[str] = frozenset()

    def allows(self, user_roles: frozenset[str] | None) -> bool:
        """``user_roles`` is None for anonymous users."""
        if self.kind == "public":
            return True
        if user_roles is None:
            return False
        if self.kind == "signed_in":
            return True
        return bool(self.roles & user_roles)


def _attach(policy: Policy) -> Callable:
    def decorator(fn: Callable) -> Callable:
        fn._route_policy = policy  # type: ignore[attr-defined]
        return fn

    return decorator


def public(fn: Callable) -> Callable:
    """Anyone, signed in or not."""
    return _attach(Policy("public"))(fn)


def signed_in(fn: Callable) -> Callable:
    """Any signed-in account, whatever its roles."""
    return _attach(Policy("signed_in"))(fn)


def roles_required(*roles: str) -> Callable:
    """Signed-in users holding at least one of ``roles``."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"unknown roles: {unknown}")
    return _attach(Policy("roles", frozenset(roles)))


def policy_for_endpoint(app: Flask, endpoint: str) -> Policy | None:
    view = app.view_functions.get(endpoint)
    if view is None:
        return None
    policy = getattr(view, "_route_policy", None)
    if policy is None:
        # Class-based views and wrapped functions keep the policy on the wrapped object.
        policy = getattr(getattr(view, "view_class", None), "_route_policy", None)
    if policy is None and endpoint == "static":
        policy = Policy("public")
    return policy


def current_roles() -> frozenset[str] | None:
    if not current_user.is_authenticated:
        return None
    return current_user.role_set


def enforce_policy() -> None:
    """before_request hook: deny by default, 401→login for anonymous, 403 otherwise."""
    if request.endpoint is None:
        return  # 404 / 405 handled by Flask
    policy = policy_for_endpoint(current_app, request.endpoint)
    if policy is None:
        current_app.logger.error("endpoint %s has no route policy", request.endpoint)
        abort(403)
    if policy.kind == "public":
        return  # no user to load (static files and public pages of signed-in visitors)
    roles = current_roles()
    if policy.allows(roles):
        return
    if roles is None:
        abort(401)
    abort(403)


def has_role(*roles: str) -> bool:
    user_roles = current_roles()
    return bool(user_roles and set(roles) & user_roles)
