"""No page grows with the data (issue 19): every GET route costs the same number of SQL
statements at 10 dongs and at 426 dongs, and never more than 12.

Two cities are seeded once for the module with the scale seeder (realistic rows in every table
a page reads: card reviews, committee reports, holidays …): 10 dongs at Seoul's proportions, and
426 dongs at a tenth of Seoul's volume per dong (the statement count of a page does not depend
on how many rows a table holds beyond a page, and the module stays quick). Each route is asked
once in each city, signed in as a demo account its policy lets in, with ids of real rows.
Statements are counted by the ``X-SQL-Count`` header (civic_app/web/sqlcount.py) on the second
request (the reference-data caches warm, as they are in a running process); the page cache is
off, so this is the cost of a page cache miss.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from werkzeug.routing.converters import AnyConverter

from civic_app import create_app
from civic_app.extensions import db
from civic_app.web.policy import policy_for_endpoint
from tests import conftest

pytestmark = [pytest.mark.slow]  # one xdist worker: XDIST_GROUPS in tests/conftest.py

MAX_STATEMENTS = 12
PASSWORD = "civic-demo-2026"  # the demo accounts the scale seeder creates
ACCOUNTS = {  # role → demo account; the first role of a route's policy found here signs in
    "civic_staff": "staff@demo.civic.kr",
    "budget_office": "budget@demo.civic.kr",
    "policy_office": "policy@demo.civic.kr",
    "department": "road@demo.civic.kr",
    "host": "mayor@demo.civic.kr",
    "committee_secretariat": "secretariat@demo.civic.kr",
    "committee_member": "member@demo.civic.kr",
    "citizen": "citizen@demo.civic.kr",
    "admin": "admin@demo.civic.kr",
}
SKIPPED = {"static"}


def _routes() -> list[tuple[str, str]]:
    app = create_app(conftest.test_config("sqlite://"))
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint not in SKIPPED:
            found.append((rule.endpoint, rule.rule))
    return sorted(found, key=lambda item: item[1])


ROUTES = _routes()


# --- the two cities --------------------------------------------------------------------------------
@dataclass
class City:
    name: str
    app: object
    clients: dict

    def client(self, email: str | None):
        if email not in self.clients:
            client = self.app.test_client()
            if email:
                response = client.post("/login", data={"email": email, "password": PASSWORD})
                assert response.status_code == 302, (self.name, email, response.status_code)
                client.get("/account")  # shows (and clears) the sign-in message
            self.clients[email] = client
        return self.clients[email]

    def scalar(self, sql, **params):
        """The value of an SQL query, or of a callable run in the app context (signed tokens)."""
        with self.app.app_context():
            if callable(sql):
                return sql()
            return db.session.execute(sa.text(sql), params).scalar()


def _database(tmp_path_factory, label: str) -> Iterator[str]:
    if not conftest.TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp(label) / 'city.sqlite3'}"
        return
    base = conftest._pg_admin_url(conftest.TEST_DATABASE_URL)
    name = f"civic_sc_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _city(url: str, label: str, dongs: int, **counts) -> City:
    from civic_app.demo.cli import ensure_reference_data
    from civic_app.scale.seed import ScalePlan, seed_scale
    from civic_app.timeutil import utcnow

    app = create_app(conftest.test_config(url, SQL_COUNT_HEADER=True, CACHE_PAGES=False))
    conftest.no_fsync(app)
    with app.app_context():
        db.create_all()
        ensure_reference_data(db.session)
        db.session.flush()
        seed_scale(db.session, ScalePlan.for_dongs(dongs, **counts), now=utcnow(), tick=lambda _n: None)
        db.session.commit()
        db.session.remove()
    return City(label, app, {})


@pytest.fixture(scope="module")
def cities(tmp_path_factory) -> Iterator[tuple[City, City]]:
    small_db = _database(tmp_path_factory, "small")
    big_db = _database(tmp_path_factory, "big")
    small = _city(next(small_db), "10 dongs", 10)
    # A tenth of Seoul's volume per dong: every list is still longer than a page.
    big = _city(
        next(big_db),
        "426 dongs",
        426,
        requests=4000,
        card_items=10000,
        outbox=20000,
        citizens=2000,
        committee_tasks=200,
    )
    try:
        yield small, big
    finally:
        for city in (small, big):
            with city.app.app_context():
                db.session.remove()
                db.engine.dispose()
        for gen in (small_db, big_db):
            next(gen, None)


# --- real ids for the routes' arguments ------------------------------------------------------------
def _follow_token(kind: str) -> Callable[[], str]:
    """A signed follow link (not a row): made in the app context from the first follow of ``kind``."""

    def make() -> str | None:
        from civic_app.follow import services
        from civic_app.follow.models import ACTIVE, PENDING, Follow

        status = PENDING if kind == "confirm" else ACTIVE
        follow = db.session.scalar(
            sa.select(Follow).where(Follow.status == status).order_by(Follow.id).limit(1)
        )
        if follow is None:
            return None
        return services.confirm_token(follow) if kind == "confirm" else services.unsubscribe_token([follow])

    return make


def _survey_token() -> str | None:
    """The signed link of the first open satisfaction survey invitation."""
    from civic_app.satisfaction.models import SurveyInvitation
    from civic_app.satisfaction.services import make_token

    invitation = db.session.scalar(
        sa.select(SurveyInvitation)
        .where(SurveyInvitation.answered_at.is_(None))
        .order_by(SurveyInvitation.id)
        .limit(1)
    )
    return None if invitation is None else make_token(invitation)


ROAD = "(SELECT id FROM departments WHERE code = 'ROAD')"
CITIZEN = "(SELECT id FROM users WHERE email = 'citizen@demo.civic.kr')"
# SQL for a real id, or a callable run in the app context for a signed value (a token).
QUERIES: dict[tuple[str, str], str | Callable[[], object]] = {
    ("dongs", "item_id"): "SELECT min(id) FROM dongs",
    ("departments", "item_id"): "SELECT min(id) FROM departments",
    ("hosts", "item_id"): "SELECT min(id) FROM hosts",
    ("accounts.admin_user_edit", "user_id"): "SELECT id FROM users WHERE email = 'citizen@demo.civic.kr'",
    ("tongtong", "event_id"): "SELECT min(id) FROM tongtong_sessions",
    ("visit", "event_id"): "SELECT min(id) FROM visits WHERE published",
    ("committee", "event_id"): "SELECT min(id) FROM committee_meetings",
    ("calendar.personal_feed", "token"): "SELECT 'scale-feed-' || min(id) FROM calendar_feed_tokens",
    ("cards.dong_card", "dong_code"): "SELECT code FROM dongs ORDER BY id LIMIT 1",
    ("cards.public_item", "dong_code"): "SELECT code FROM dongs ORDER BY id LIMIT 1",
    (
        "cards.public_item",
        "item_id",
    ): "SELECT min(id) FROM card_items WHERE dong_id = (SELECT min(id) FROM dongs)",
    ("cards.item_link", "item_id"): "SELECT min(id) FROM card_items",
    ("cards.photo", "photo_id"): "SELECT min(id) FROM card_photos",
    ("cards_staff.item", "item_id"): "SELECT min(id) FROM card_items WHERE status = 'under_review'",
    ("cards_staff.edit_item", "item_id"): "SELECT min(id) FROM card_items WHERE status = 'under_review'",
    ("cards_staff.review_form", "item_id"): "SELECT min(id) FROM card_items WHERE status = 'under_review'",
    ("cards_staff.staff_photo", "photo_id"): "SELECT min(id) FROM card_photos",
    ("committee.admin_round", "round_id"): "SELECT max(id) FROM committee_evaluation_rounds",
    ("committee.admin_meeting", "meeting_id"): "SELECT min(id) FROM committee_meetings",
    ("committee.admin_member", "member_id"): "SELECT min(id) FROM committee_members",
    ("committee.admin_quarter", "quarter_id"): "SELECT max(id) FROM committee_quarters",
    ("committee.admin_publish", "quarter_id"): "SELECT max(id) FROM committee_quarters",
    ("committee.admin_review", "review_id"): "SELECT min(id) FROM committee_midterm_reviews",
    ("committee.admin_task", "code"): "SELECT min(code) FROM committee_tasks",
    ("committee.task", "code"): "SELECT min(code) FROM committee_tasks",
    ("committee.entry", "entry_id"): (
        "SELECT min(e.id) FROM committee_quarter_entries e JOIN committee_quarters q ON q.id = e.quarter_id "
        f"WHERE q.status = 'open' AND e.department_id = {ROAD}"
    ),
    ("committee.meeting_detail", "meeting_id"): "SELECT min(id) FROM committee_meetings",
    ("committee.report", "quarter_id"): "SELECT min(id) FROM committee_quarters WHERE status = 'published'",
    (
        "committee.report_version",
        "quarter_id",
    ): "SELECT min(id) FROM committee_quarters WHERE status = 'published'",
    ("committee.report_version", "number"): "SELECT 1",
    (
        "meetings.department_request",
        "request_id",
    ): f"SELECT min(id) FROM meeting_requests WHERE department_id = {ROAD}",
    ("meetings.briefing", "booking_id"): "SELECT min(id) FROM meeting_bookings",
    (
        "meetings.review_detail",
        "request_id",
    ): "SELECT min(id) FROM meeting_requests WHERE status = 'submitted'",
    ("meetings.attachment", "request_id"): "SELECT min(id) FROM meeting_requests WHERE status = 'submitted'",
    ("meetings.request_status", "code"): "SELECT min(code) FROM meeting_requests",
    ("meetings.withdraw", "code"): "SELECT min(code) FROM meeting_requests WHERE status = 'submitted'",
    ("meetings.summary", "request_id"): (
        "SELECT min(id) FROM meeting_requests WHERE publish_consent AND public_summary IS NOT NULL"
    ),
    ("telegram.message", "message_id"): "SELECT min(id) FROM outbox_messages WHERE recipient IS NULL",
    ("visits.detail", "visit_id"): "SELECT min(id) FROM visits WHERE published",
    ("visits.dong_page", "code"): "SELECT code FROM dongs ORDER BY id LIMIT 1",
    ("visits_staff.visit", "visit_id"): "SELECT min(id) FROM visits",
    ("visits_staff.cycle", "cycle_id"): "SELECT min(id) FROM visit_cycles",
    ("cards_suggest.own_photo", "photo_id"): (
        "SELECT min(p.id) FROM card_photos p JOIN card_suggestions s ON s.item_id = p.item_id "
        f"WHERE p.milestone_id IS NULL AND s.author_id = {CITIZEN} AND p.uploaded_by_id = {CITIZEN}"
    ),
    ("cards_suggest_staff.answer", "item_id"): (
        "SELECT min(i.id) FROM card_items i JOIN card_answer_duties d ON d.item_id = i.id "
        f"WHERE i.department_id = {ROAD} AND d.answered_at IS NULL"
    ),
    ("follow.confirm", "token"): _follow_token("confirm"),
    ("follow.unsubscribe", "token"): _follow_token("unsubscribe"),
    ("follow.one_click", "token"): _follow_token("unsubscribe"),
    ("satisfaction.survey", "token"): _survey_token,
}


def _token(city: City, purpose: str) -> str:
    from civic_app.accounts.models import User
    from civic_app.accounts.services import make_token

    with city.app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "citizen@demo.civic.kr"))
        return make_token(city.app.config["SECRET_KEY"], purpose, user)


SPECIAL: dict[str, Callable[[City], str]] = {
    "accounts.reset_password": lambda city: _token(city, "reset"),
    "accounts.verify": lambda city: _token(city, "verify"),
}


def _urls(city: City, endpoint: str, rule: str) -> list[str]:
    """Every URL of a rule: one per value of an ``any(...)`` part, real ids for the rest."""
    app = city.app
    rule_obj = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == rule)
    choices: list[dict] = [{}]
    for name in sorted(rule_obj.arguments):
        converter = rule_obj._converters[name]
        if isinstance(converter, AnyConverter):
            choices = [{**c, name: item} for c in choices for item in sorted(converter.items)]
    urls = []
    for values in choices:
        for name in sorted(rule_obj.arguments - set(values)):
            if endpoint in SPECIAL:
                values[name] = SPECIAL[endpoint](city)
                continue
            key = next((k for k in ((v, name) for v in values.values()) if k in QUERIES), (endpoint, name))
            assert key in QUERIES, f"no real value for <{name}> of {endpoint}: add it to QUERIES"
            value = city.scalar(QUERIES[key])
            assert value is not None, f"{city.name}: no row for <{name}> of {endpoint} ({QUERIES[key]!r})"
            values[name] = value
        with app.test_request_context():
            from flask import url_for

            urls.append(url_for(endpoint, **values))
    return urls


def _account(endpoint: str, app) -> str | None:
    policy = policy_for_endpoint(app, endpoint)
    assert policy is not None, f"{endpoint} has no route policy"
    if policy.kind == "public":
        return None
    if policy.kind == "signed_in":
        return ACCOUNTS["citizen"]
    return next(email for role, email in ACCOUNTS.items() if role in policy.roles)


def _count(city: City, endpoint: str, rule: str) -> list[tuple[str, int, int]]:
    client = city.client(_account(endpoint, city.app))
    out = []
    for url in _urls(city, endpoint, rule):
        client.get(url)  # the first request fills this process's reference-data caches
        response = client.get(url)
        assert response.status_code < 500, f"{city.name}: {url} answered {response.status_code}"
        out.append((url, response.status_code, int(response.headers["X-SQL-Count"])))
    return out


@pytest.mark.parametrize(("endpoint", "rule"), ROUTES, ids=[f"{e} {r}" for e, r in ROUTES])
def test_statements_do_not_grow_with_the_data(cities, endpoint, rule):
    small, big = cities
    few = _count(small, endpoint, rule)
    many = _count(big, endpoint, rule)
    for (url, status, count), (big_url, big_status, big_count) in zip(few, many, strict=True):
        assert status == big_status, f"{url}: {status} at 10 dongs, {big_status} at 426 ({big_url})"
        assert count == big_count, f"{url}: {count} statements at 10 dongs, {big_count} at 426"
        assert count <= MAX_STATEMENTS, f"{url}: {count} statements (at most {MAX_STATEMENTS})"
