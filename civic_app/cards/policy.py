"""Who may move a card item along each edge of its state machine: the one place that decides.

The table is keyed by the edge (from state, to state), not by the target alone: moving an item
to 검토중 is routine when it was just received, but moving a *selected* item back to review undoes
the budget and policy offices' joint decision, and reopening a *long-term* item reverses theirs.

A department account acts only on items of its own department: its role grants an edge only when
``item.department_id`` is the account's department. The other roles are city-wide offices.
"""

from __future__ import annotations

from civic_app.cards.models import (
    BUDGET_REFLECTED,
    DONE,
    IN_PROGRESS,
    LONG_TERM,
    NOT_FEASIBLE,
    RECEIVED,
    REFERRED,
    SELECTED,
    STATUSES,
    TRANSITIONS,
    UNDER_REVIEW,
)

BUDGET_OFFICE = "budget_office"
POLICY_OFFICE = "policy_office"
DEPARTMENT = "department"
CIVIC_STAFF = "civic_staff"
ADMIN = "admin"
CARD_ROLES = frozenset({BUDGET_OFFICE, POLICY_OFFICE, DEPARTMENT, CIVIC_STAFF, ADMIN})

_DECIDERS = frozenset({BUDGET_OFFICE, POLICY_OFFICE, ADMIN})

# (from, to) -> the roles that own the move. Every edge of TRANSITIONS is listed (a test checks).
TRANSITION_POLICY: dict[tuple[str, str], frozenset[str]] = {
    # Triage of a new item: every office sharing the card may open the review.
    (RECEIVED, UNDER_REVIEW): CARD_ROLES,
    (RECEIVED, NOT_FEASIBLE): _DECIDERS,
    (RECEIVED, REFERRED): frozenset({CIVIC_STAFF, POLICY_OFFICE, ADMIN}),
    # Decisions of the joint review belong to the budget and policy offices.
    (UNDER_REVIEW, SELECTED): _DECIDERS,
    (UNDER_REVIEW, LONG_TERM): _DECIDERS,
    (UNDER_REVIEW, NOT_FEASIBLE): _DECIDERS,
    (UNDER_REVIEW, REFERRED): frozenset({CIVIC_STAFF, POLICY_OFFICE, ADMIN}),
    # Undoing or changing a selection, and reopening a long-term item, reverse those decisions:
    # only the offices that made them may.
    (SELECTED, UNDER_REVIEW): _DECIDERS,
    (SELECTED, LONG_TERM): _DECIDERS,
    (LONG_TERM, UNDER_REVIEW): _DECIDERS,
    (SELECTED, BUDGET_REFLECTED): frozenset({BUDGET_OFFICE, ADMIN}),
    # Execution is reported by the responsible department.
    (BUDGET_REFLECTED, IN_PROGRESS): frozenset({DEPARTMENT, ADMIN}),
    (IN_PROGRESS, DONE): frozenset({DEPARTMENT, ADMIN}),
}


def _roles(actor) -> frozenset[str]:
    return frozenset() if actor is None else frozenset(actor.role_set)


def owns_department_of(actor, item) -> bool:
    """True when ``actor`` is a department account of the department ``item`` is assigned to."""
    if actor is None or DEPARTMENT not in _roles(actor):
        return False
    dept = getattr(actor, "department_id", None)
    return dept is not None and item.department_id == dept


def granting_roles(actor, item) -> frozenset[str]:
    """The actor's roles that count on ``item``: a department role only on its own items."""
    roles = _roles(actor)
    if DEPARTMENT in roles and not owns_department_of(actor, item):
        roles = roles - {DEPARTMENT}
    return roles


def may_transition(actor, item, target: str) -> bool:
    """May ``actor`` move ``item`` from its current state to ``target``?"""
    allowed = TRANSITION_POLICY.get((item.status, target))
    if allowed is None:
        return False
    return bool(granting_roles(actor, item) & allowed)


def allowed_targets(actor, item) -> list[str]:
    """The next states ``actor`` may choose for ``item``, in the usual status order."""
    nexts = TRANSITIONS.get(item.status, frozenset())
    return [s for s in STATUSES if s in nexts and may_transition(actor, item, s)]
