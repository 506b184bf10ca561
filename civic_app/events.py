"""Change events: a feature says "this changed", other features decide who hears of it.

The owning feature calls :func:`publish_change` in its service, in the same transaction as
the change (one line next to where it already posts to Telegram or changes the state)::

    publish_change(session, ChangeEvent("card_status", item.id, now, detail=previous))

Listeners are registered by higher-level features at start-up (``add_listener(app, fn)``) and
run at once, in that transaction: whatever they write (outbox rows) commits with the change or
not at all. An event names its subject by kind and id only; a listener reads what it needs
from the owning feature's models, so nothing here knows any feature.

Kinds published today (``detail`` in brackets):

- ``card_status``: a card item's state changed [the previous state]
- ``card_milestone``: a card milestone was recorded (subject: the milestone)
- ``visit_result``: a visit's result was published or corrected
- ``committee_report``: a quarterly report version was published (subject: the version)
- ``request_status``: a 통통데이 request changed and its requester was told [the notice key]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, has_app_context
from sqlalchemy.orm import Session

EXTENSION_KEY = "civic_change_listeners"


@dataclass(frozen=True)
class ChangeEvent:
    kind: str
    subject_id: int
    at: dt.datetime
    # What the owning feature knows that the row no longer shows (a previous state, a key).
    detail: str = ""


Listener = Callable[[Session, ChangeEvent], None]


def add_listener(app, fn: Listener) -> None:
    """Register ``fn(session, event)``; called from a feature's ``init_app`` (idempotent)."""
    listeners: list[Listener] = app.extensions.setdefault(EXTENSION_KEY, [])
    if fn not in listeners:
        listeners.append(fn)


def publish_change(session: Session, event: ChangeEvent) -> None:
    """Tell every listener about ``event``; they flush, never commit."""
    if not has_app_context():
        return
    for fn in list(current_app.extensions.get(EXTENSION_KEY, ())):
        fn(session, event)
