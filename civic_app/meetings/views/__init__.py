"""통통데이 pages: one blueprint (``meetings``), its routes in one module per audience.

- :mod:`.citizen`: the public pages and the citizen's own requests;
- :mod:`.review`: the office's queue, a request's page and the decisions on it, walk-ins;
- :mod:`.sessions`: sessions and their rule, hosts' slots, statistics, the host's briefing;
- :mod:`.department`: department accounts' answers and follow-up actions.

Importing this package registers every route on :data:`bp`.
"""

from __future__ import annotations

from civic_app.meetings.views import citizen, department, review, sessions
from civic_app.meetings.views.common import bp, home_section

__all__ = ["bp", "citizen", "department", "home_section", "review", "sessions"]
