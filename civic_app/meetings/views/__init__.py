"""통통데이 pages: one blueprint (``meetings``), its routes in one module per audience.

- :mod:`.citizen`: the public pages and the citizen's own requests;
- :mod:`.review`: the office's queue, a request's page and the decisions on it, walk-ins;
- :mod:`.sessions`: sessions and their rule, hosts' slots, statistics, the host's briefing;
- :mod:`.department`: department accounts' answers and follow-up actions.

The blueprint lives in :mod:`.common`; ``meetings.init_app`` imports the route modules (which
add their views to it) before registering it. This package imports nothing itself, so the
route modules and ``common`` form no import circle through it.
"""
