"""The card transition policy: every edge of the state machine × every role, and the
own-department rule (issue 12, finding 4)."""

from __future__ import annotations

import pytest

from civic_app.cards import policy, transitions
from civic_app.cards.models import MERGED, STATUSES, TRANSITIONS, CardItem
from civic_app.errors import NotAllowed
from civic_app.extensions import db
from tests.factories_cards import NOW, Cast, make_item, move_to, review_all

EDGES = [(a, b) for a in STATUSES for b in STATUSES if b in TRANSITIONS[a] and b != MERGED]
# Actor kinds: each card role, plus a department account of another department and a citizen.
ACTORS = ("budget", "policy", "staff", "admin", "own_dept", "other_dept", "citizen")
ROLE_OF = {
    "budget": policy.BUDGET_OFFICE,
    "policy": policy.POLICY_OFFICE,
    "staff": policy.CIVIC_STAFF,
    "admin": policy.ADMIN,
    "own_dept": policy.DEPARTMENT,
    "other_dept": policy.DEPARTMENT,
    "citizen": "citizen",
}
# What the city decided, written out independently of the table it checks.
EXPECTED_ALLOWED = {
    ("received", "under_review"): {"budget", "policy", "staff", "admin", "own_dept"},
    ("received", "not_feasible"): {"budget", "policy", "admin"},
    ("received", "referred"): {"staff", "policy", "admin"},
    ("under_review", "selected"): {"budget", "policy", "admin"},
    ("under_review", "long_term"): {"budget", "policy", "admin"},
    ("under_review", "not_feasible"): {"budget", "policy", "admin"},
    ("under_review", "referred"): {"staff", "policy", "admin"},
    ("selected", "budget_reflected"): {"budget", "admin"},
    ("selected", "under_review"): {"budget", "policy", "admin"},
    ("selected", "long_term"): {"budget", "policy", "admin"},
    ("budget_reflected", "in_progress"): {"own_dept", "admin"},
    ("in_progress", "done"): {"own_dept", "admin"},
    ("long_term", "under_review"): {"budget", "policy", "admin"},
}


@pytest.fixture
def cast(session):
    return Cast()


def _actor(cast: Cast, kind: str):
    return {
        "budget": cast.budget,
        "policy": cast.policy,
        "staff": cast.staff,
        "admin": cast.admin,
        "own_dept": cast.dept_user,
        "other_dept": cast.other_dept_user,
        "citizen": cast.citizen,
    }[kind]


def _item_at(cast: Cast, status: str) -> CardItem:
    item = make_item(cast)  # assigned to cast.dept (도로과)
    review_all(cast, item)
    item.status = status  # the edge's start; how it got there is not what this test checks
    if status == "selected":
        item.rank = 1
    db.session.flush()
    return item


def test_the_table_lists_every_edge_of_the_state_machine_and_nothing_else():
    assert set(policy.TRANSITION_POLICY) == set(EDGES)
    assert set(EXPECTED_ALLOWED) == set(EDGES)


@pytest.mark.parametrize("kind", ACTORS)
@pytest.mark.parametrize(("start", "target"), EDGES, ids=[f"{a}->{b}" for a, b in EDGES])
def test_every_transition_by_every_role(cast, start, target, kind):
    item = _item_at(cast, start)
    actor = _actor(cast, kind)
    allowed = kind in EXPECTED_ALLOWED[(start, target)]
    assert policy.may_transition(actor, item, target) is allowed
    assert (target in policy.allowed_targets(actor, item)) is allowed
    kwargs = {
        "reason": "결정 사유",
        "referred_to": "경기도",
        "fiscal_year": 2027,
        "budget_kind": "main",
        "amount": 25_000_000,
        "budget_line": "도로관리 > 보안등",
    }
    if allowed:
        move_to(item, target, actor=actor, now=NOW, **kwargs)
        assert item.status == target
    else:
        rank = item.rank
        with pytest.raises(NotAllowed):
            move_to(item, target, actor=actor, now=NOW, **kwargs)
        assert (item.status, item.rank) == (start, rank)


def test_a_department_cannot_undo_another_offices_decision(cast):
    """The reported attack: 도로과 moved another department's selected item back to review
    (clearing its rank) and reopened a long-term item."""
    selected = _item_at(cast, "selected")
    long_term = _item_at(cast, "long_term")
    for actor in (cast.other_dept_user, cast.dept_user):
        with pytest.raises(NotAllowed):
            transitions.move(db.session, selected, "under_review", actor=actor, now=NOW, reason="x")
        with pytest.raises(NotAllowed):
            transitions.move(db.session, long_term, "under_review", actor=actor, now=NOW, reason="x")
    assert (selected.status, selected.rank, long_term.status) == ("selected", 1, "long_term")


def test_a_department_does_not_triage_another_departments_item(cast):
    item = make_item(cast)
    with pytest.raises(NotAllowed):
        transitions.move(db.session, item, "under_review", actor=cast.other_dept_user, now=NOW)
    transitions.move(db.session, item, "under_review", actor=cast.dept_user, now=NOW)
    assert item.status == "under_review"


def test_over_http_another_department_gets_403_and_no_button(client, cast):
    from tests.factories import login

    item = _item_at(cast, "selected")
    db.session.commit()
    login(client, cast.other_dept_user)
    page = client.get(f"/staff/cards/items/{item.id}").get_data(as_text=True)
    assert "t-under_review-target" not in page
    response = client.post(
        f"/staff/cards/items/{item.id}/transition",
        data={
            "target": "under_review",
            "t-under_review-target": "under_review",
            "t-under_review-version": str(item.version),
            "t-under_review-reason": "다시 검토",
        },
    )
    assert response.status_code == 403
    db.session.refresh(item)
    assert (item.status, item.rank) == ("selected", 1)


def test_the_deciding_office_sees_the_button(client, cast):
    from tests.factories import login

    item = _item_at(cast, "selected")
    db.session.commit()
    login(client, cast.policy)
    page = client.get(f"/staff/cards/items/{item.id}").get_data(as_text=True)
    assert "t-under_review-target" in page
