"""Minimal rows for calendar and dashboard tests: sessions, visits, committee meetings.

They write the other features' models directly (flush, never commit), the way those features'
services leave them: ``sequence`` raised and ``updated_at`` set on every change.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from civic_app.extensions import db
from tests.factories import NOW


def tongtong_rule():
    from civic_app.meetings.models import DEFAULT_RULE, TongtongRule

    rule = db.session.scalar(select(TongtongRule).limit(1))
    if rule is None:
        rule = TongtongRule(**DEFAULT_RULE)
        db.session.add(rule)
        db.session.flush()
    return rule


def make_session(start: dt.datetime, *, status: str = "scheduled", now: dt.datetime = NOW, **kw):
    from civic_app.meetings.models import TongtongSession

    rule = tongtong_rule()
    row = TongtongSession(
        rule_id=rule.id,
        rule_date=kw.pop("rule_date", start.date()),
        start_at=start,
        end_at=start + dt.timedelta(hours=1),
        status=status,
        location="시장실",
        sequence=0,
        created_at=now,
        updated_at=now,
        **kw,
    )
    db.session.add(row)
    db.session.flush()
    return row


def make_visit(dong, start: dt.datetime, *, status: str = "confirmed", published: bool = True, **kw):
    from civic_app.visits.models import Visit

    row = Visit(
        kind=kw.pop("kind", "regular"),
        dong_id=dong.id if dong is not None else None,
        start_at=start,
        end_at=start + dt.timedelta(hours=2),
        status=status,
        published=published,
        sequence=0,
        created_at=kw.pop("created_at", NOW),
        updated_at=kw.pop("updated_at", NOW),
        **kw,
    )
    db.session.add(row)
    db.session.flush()
    return row


def committee():
    from civic_app.committee.models import Committee

    row = db.session.scalar(select(Committee).limit(1))
    if row is None:
        row = Committee(name="시정참여정책위원회")
        db.session.add(row)
        db.session.flush()
    return row


def make_committee_meeting(start: dt.datetime, *, title: str = "2026년 하반기 정기회의", **kw):
    from civic_app.committee.models import CommitteeMeeting

    row = CommitteeMeeting(
        committee_id=committee().id,
        title=title,
        start_at=start,
        end_at=start + dt.timedelta(hours=2),
        location=kw.pop("location", "시청 대회의실"),
        status=kw.pop("status", "scheduled"),
        sequence=0,
        created_at=NOW,
        updated_at=NOW,
        **kw,
    )
    db.session.add(row)
    db.session.flush()
    return row


def touch(row, now: dt.datetime, **changes):
    """Change ``row`` the way a service does: new values, SEQUENCE + 1, updated_at = now."""
    for key, value in changes.items():
        setattr(row, key, value)
    row.sequence = (row.sequence or 0) + 1
    row.updated_at = now
    db.session.flush()
    return row


def seed_demo(app, now: dt.datetime | None = None) -> None:
    """Run every feature's reference and demo loaders through the registry, as
    `flask seed-demo` does (committing after each loader)."""
    from civic_app.demo.cli import ensure_reference_data
    from civic_app.registry import get_registry
    from civic_app.timeutil import utcnow

    ensure_reference_data(db.session)
    db.session.commit()
    ctx = {"now": now or utcnow(), "echo": lambda *args, **kwargs: None}
    for _order, _name, fn in get_registry(app).demo_loaders:
        fn(db.session, ctx)
        db.session.commit()


class TableParser:
    """Cell texts of every <table id=...> of an HTML page, row by row (stdlib only)."""

    def __init__(self, html: str) -> None:
        from html.parser import HTMLParser

        tables: dict[str, list[list[str]]] = {}
        state: dict = {"table": None, "row": None, "cell": None}

        class _Parser(HTMLParser):
            def handle_starttag(self, tag, attrs):
                attrs = dict(attrs)
                if tag == "table" and attrs.get("id"):
                    state["table"] = attrs["id"]
                    tables[state["table"]] = []
                elif tag == "tr" and state["table"]:
                    state["row"] = []
                elif tag in ("td", "th") and state["row"] is not None:
                    state["cell"] = []

            def handle_endtag(self, tag):
                if tag in ("td", "th") and state["cell"] is not None:
                    state["row"].append(" ".join("".join(state["cell"]).split()))
                    state["cell"] = None
                elif tag == "tr" and state["row"] is not None:
                    tables[state["table"]].append(state["row"])
                    state["row"] = None
                elif tag == "table":
                    state["table"] = None

            def handle_data(self, data):
                if state["cell"] is not None:
                    state["cell"].append(data)

        _Parser().feed(html)
        self.tables = tables
