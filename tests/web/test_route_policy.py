"""Every endpoint declares who may use it, and the declaration is what the app enforces.

The test is generic: it walks ``app.url_map`` as it is when the suite runs, so routes that
features add later are checked without editing this file. URL parameters get dummy values
(ints 1, strings 'x', every value of an ``any(...)`` converter); a 404 for a dummy id is fine,
but an anonymous visitor must be sent to the login page (or get 401 from the JSON API), a role
outside the declaration must get 403, and a role inside it must get neither.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from werkzeug.routing import Rule
from werkzeug.routing.converters import (
    AnyConverter,
    FloatConverter,
    IntegerConverter,
    PathConverter,
    UUIDConverter,
)

from civic_app.web.policy import DEPARTMENT, ROLES, policy_for_endpoint
from tests.factories import login, make_department, make_user

# Dummy values by parameter name, for string parameters whose name says what they hold.
NAME_HINTS = {
    "code": "4199051000",
    "date": "2026-11-20",
    "day": "2026-11-20",
    "year": "2026",
    "month": "11",
    "token": "x",
}


def _dummy(name: str, converter) -> list[str]:
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)
    if isinstance(converter, IntegerConverter):
        if name == "year":
            return ["2026"]
        if name == "month":
            return ["11"]
        return ["1"]
    if isinstance(converter, FloatConverter):
        return ["1.0"]
    if isinstance(converter, UUIDConverter):
        return ["00000000-0000-4000-8000-000000000001"]
    if isinstance(converter, PathConverter):
        return ["x"]
    for hint, value in NAME_HINTS.items():
        if name == hint or name.endswith("_" + hint):
            return [value]
    return ["x"]


def _urls(app, rule: Rule) -> Iterator[str]:
    """Every URL of ``rule`` with dummy values (one per value of each ``any`` converter)."""
    names = sorted(rule.arguments - set(rule.defaults or {}))
    choices = [_dummy(name, rule._converters[name]) for name in names]
    adapter = app.url_map.bind("localhost")
    for combo in itertools.product(*choices):
        values = dict(zip(names, combo, strict=True))
        yield adapter.build(rule.endpoint, values, method="GET" if "GET" in rule.methods else None)


def _rules(app, method: str) -> list[Rule]:
    return [
        r
        for r in sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
        if method in r.methods and r.endpoint != "static"
    ]


def _is_api(url: str) -> bool:
    return url.startswith("/api/")


def _role_users() -> dict[str, object]:
    dept = make_department()
    users = {}
    for role in ROLES:
        users[role] = make_user(
            role,
            email=f"policy-{role}@example.com",
            department=dept if role == DEPARTMENT else None,
        )
    return users


def test_every_endpoint_declares_a_policy(app):
    missing = sorted(
        rule.endpoint for rule in app.url_map.iter_rules() if policy_for_endpoint(app, rule.endpoint) is None
    )
    assert not missing, f"endpoints without @public/@signed_in/@roles_required: {missing}"


def test_undeclared_endpoint_is_refused():
    """Deny by default: a view without a declaration answers 403 even to an admin."""
    from civic_app import create_app
    from tests.conftest import test_config

    other = create_app(test_config("sqlite://"))

    @other.route("/__undeclared")
    def undeclared():
        return "secret"

    with other.app_context():
        response = other.test_client().get("/__undeclared")
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)


def test_anonymous_gets_login_or_401(app, client, session):
    problems = []
    checked = 0
    for rule in _rules(app, "GET"):
        policy = policy_for_endpoint(app, rule.endpoint)
        for url in _urls(app, rule):
            response = client.get(url)
            checked += 1
            status = response.status_code
            if status >= 500:
                problems.append(f"{url}: {status} (server error)")
            elif policy.kind == "public":
                if status in (401, 403):
                    problems.append(f"{url}: public but {status}")
            elif _is_api(url):
                if status != 401:
                    problems.append(f"{url}: anonymous API request gave {status}, expected 401")
            elif status != 302 or "/login" not in response.headers.get("Location", ""):
                problems.append(f"{url}: anonymous gave {status}, expected a redirect to /login")
    assert checked > 10
    assert not problems, "\n".join(problems)


def test_anonymous_state_changes_are_refused(app, client, session):
    """POST/PUT/PATCH/DELETE endpoints that need a sign-in refuse anonymous visitors (401)."""
    problems = []
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for rule in _rules(app, method):
            policy = policy_for_endpoint(app, rule.endpoint)
            if policy.kind == "public":
                continue
            for url in _urls(app, rule):
                status = client.open(url, method=method).status_code
                if status != 401:
                    problems.append(f"{method} {url}: anonymous gave {status}, expected 401")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_policy_declares(app, session, role):
    users = _role_users()
    session.commit()
    client = app.test_client()
    assert login(client, users[role]).status_code == 302
    user_roles = frozenset({role})
    problems = []
    checked = 0
    for rule in _rules(app, "GET"):
        if rule.endpoint == "accounts.logout":
            continue
        policy = policy_for_endpoint(app, rule.endpoint)
        allowed = policy.allows(user_roles)
        for url in _urls(app, rule):
            response = client.get(url)
            checked += 1
            status = response.status_code
            if status >= 500:
                problems.append(f"{url}: {status} (server error)")
            elif allowed and status in (401, 403):
                problems.append(f"{url}: {role} is allowed ({policy}) but got {status}")
            elif allowed and status == 302 and "/login" in response.headers.get("Location", ""):
                problems.append(f"{url}: {role} is allowed but was sent to the login page")
            elif not allowed and status != 403:
                problems.append(f"{url}: {role} is not allowed ({policy}) but got {status}")
    # Non-GET endpoints: a role outside the declaration is refused before the view runs.
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for rule in _rules(app, method):
            policy = policy_for_endpoint(app, rule.endpoint)
            if policy.allows(user_roles):
                continue
            for url in _urls(app, rule):
                status = client.open(url, method=method).status_code
                if status != 403:
                    problems.append(f"{method} {url}: {role} is not allowed but got {status}")
    assert checked > 10
    assert not problems, "\n".join(problems)
