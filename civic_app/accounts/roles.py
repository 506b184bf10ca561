"""The roles an account can hold: the one definition every feature imports.

Stored in ``user_roles.role`` as these strings. ``web/policy.py`` declares routes with them;
services check them on the acting user. A feature never spells a role as a literal string
and never keeps its own copy of a role set: add a named set here instead.
"""

from __future__ import annotations

CITIZEN = "citizen"
CIVIC_STAFF = "civic_staff"  # 소통민원팀: the civic office that runs the platform
BUDGET_OFFICE = "budget_office"
POLICY_OFFICE = "policy_office"
DEPARTMENT = "department"
HOST = "host"  # the mayor, deputy mayors and directors who meet citizens
COMMITTEE_SECRETARIAT = "committee_secretariat"
COMMITTEE_MEMBER = "committee_member"
ADMIN = "admin"

ROLES: tuple[str, ...] = (
    CITIZEN,
    CIVIC_STAFF,
    BUDGET_OFFICE,
    POLICY_OFFICE,
    DEPARTMENT,
    HOST,
    COMMITTEE_SECRETARIAT,
    COMMITTEE_MEMBER,
    ADMIN,
)

# City hall staff of any kind: everyone but citizens and the appointed committee members.
STAFF_ROLES: frozenset[str] = frozenset(ROLES) - {CITIZEN, COMMITTEE_MEMBER}
# The civic office itself: review queues, the Telegram approval queue, the dev mailbox.
CIVIC_OFFICE_ROLES: frozenset[str] = frozenset({CIVIC_STAFF, ADMIN})
# The committee secretariat (and admins): committee set-up, reports and evaluations.
SECRETARIAT_ROLES: frozenset[str] = frozenset({COMMITTEE_SECRETARIAT, ADMIN})
# Accounts that are citizens' own (self-service rights, retention purge); staff and appointed
# members are managed by administrators.
CITIZEN_ROLES: frozenset[str] = frozenset({CITIZEN})
