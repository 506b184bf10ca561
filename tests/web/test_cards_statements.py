"""Each card page costs the same number of SQL statements with 10 items as with 10,000."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from sqlalchemy import event, insert

from civic_app.cards import budget
from civic_app.cards.models import CRITERIA, CardEvent, CardItem, CardReview
from civic_app.extensions import db
from tests.factories import NOW, login
from tests.factories_cards import Cast

CYCLE = (
    "received",
    "under_review",
    "selected",
    "budget_reflected",
    "in_progress",
    "done",
    "long_term",
    "not_feasible",
    "referred",
    "under_review",
)


def add_items(cast: Cast, start: int, count: int) -> None:
    """Bulk insert ``count`` items in every state, with reviews and public events."""
    items = []
    for n in range(start, start + count):
        status = CYCLE[n % len(CYCLE)]
        at = NOW - dt.timedelta(days=n % 40, minutes=n)
        reflected = status in ("budget_reflected", "in_progress", "done")
        items.append(
            {
                "id": n + 1,
                "dong_id": cast.dong.id,
                "title": f"제안 {n}",
                "description": "",
                "category": "안전",
                "source_kind": "visit",
                "department_id": cast.dept.id,
                "estimated_cost": 1_000_000 * (n % 50 + 1),
                "status": status,
                "created_at": at,
                "updated_at": at,
                "status_changed_at": at,
                "version": 1,
                "target_year": 2027,
                "rank": n + 1 if status == "selected" else None,
                "fiscal_year": 2027 if reflected else None,
                "budget_kind": "main" if reflected else None,
                "budget_amount": 1_000_000 if reflected else None,
                "budget_line": "안전관리" if reflected else None,
                "review_score": float(n % 100) if status != "received" else None,
            }
        )
    db.session.execute(insert(CardItem), items)
    reviews = [
        {
            "item_id": row["id"],
            "party": "policy",
            "reviewer_id": cast.policy.id,
            **dict.fromkeys(CRITERIA, 3),
            "cost_estimate": 2_000_000,
            "recommendation": "select",
            "comment": "",
            "version": 1,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for row in items
        if row["status"] != "received"
    ]
    db.session.execute(insert(CardReview), reviews)
    events = [
        {
            "item_id": row["id"],
            "kind": "created",
            "to_status": "received",
            "public": True,
            "actor_id": cast.staff.id,
            "at": row["created_at"],
        }
        for row in items
    ]
    db.session.execute(insert(CardEvent), events)
    db.session.commit()


@contextlib.contextmanager
def count_statements():
    seen: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)


def measure(app, cast: Cast) -> dict[str, int]:
    pages = {
        "public card": (None, f"/cards/{cast.dong.code}"),
        "public card, one state": (None, f"/cards/{cast.dong.code}?status=done"),
        "scoreboard": (None, "/cards/"),
        "api": (None, f"/api/v1/cards/items?dong={cast.dong.code}&status=selected"),
        "api all": (None, "/api/v1/cards/items"),
        "csv": (None, "/api/v1/cards/items.csv?status=done"),
        "budget queue": (cast.budget, "/staff/cards/queue/budget"),
        "policy queue": (cast.policy, "/staff/cards/queue/policy"),
        "department queue": (cast.dept_user, "/staff/cards/queue/department"),
        "ranked queue": (cast.budget, "/staff/cards/"),
        "ranked queue per dong": (cast.policy, f"/staff/cards/?dong={cast.dong.code}"),
        "budget view": (cast.budget, "/staff/cards/budget?year=2027"),
    }
    counts = {}
    current = object()  # log out first: the previous round ended signed in
    for name, (user, url) in pages.items():
        if user is not current:
            client = app.test_client()  # a fresh cookie jar: signed out
            if user is not None:
                login(client, user)
            current = user
        client.get(url)  # warm this process's version-keyed caches (reference data, queue counts)
        with count_statements() as seen:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(seen)
    return counts


@pytest.mark.slow
def test_pages_cost_the_same_statements_with_10_and_10000_items(client, session):
    cast = Cast()
    budget.set_envelope(db.session, fiscal_year=2027, amount=50_000_000, actor=cast.budget, now=NOW)
    db.session.commit()
    add_items(cast, 0, 10)
    small = measure(client.application, cast)
    add_items(cast, 10, 9_990)
    large = measure(client.application, cast)
    assert large == small
    assert all(n > 0 for n in small.values())
