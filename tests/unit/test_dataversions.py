"""Every write bumps its feature's data version in its own transaction (issue 19).

The caches trust these versions: a write that did not bump would leave a stale page on every
process; a bump that outlived a rolled-back write would only cost a render.
"""

from __future__ import annotations

import sqlalchemy as sa

from civic_app import dataversions
from civic_app.dataversions import GROUPS, TABLE
from civic_app.dongs.models import Dong
from civic_app.extensions import db
from tests.factories import make_dong, make_user


def _versions() -> dict[str, int]:
    with db.engine.connect() as conn:
        return dict(conn.execute(sa.select(TABLE.c.name, TABLE.c.version)).tuples().all())


def test_statements_name_the_features_they_write(app):
    assert GROUPS.written("SELECT * FROM dongs") == frozenset()
    assert GROUPS.written("SELECT id FROM card_items FOR UPDATE") == frozenset()
    assert GROUPS.written("INSERT INTO dongs (code, name) VALUES (?, ?)") == {"dongs"}
    assert GROUPS.written('UPDATE "card_items" SET status=%(status)s WHERE card_items.id = %(id)s') == {
        "cards"
    }
    assert GROUPS.written("DELETE FROM meeting_requests WHERE id = ?") == {"meetings"}
    assert GROUPS.written("TRUNCATE dongs, card_items RESTART IDENTITY CASCADE") == {"dongs", "cards"}
    assert GROUPS.written(
        "INSERT INTO visits (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET id = excluded.id"
    ) == {"visits"}
    assert GROUPS.written("INSERT INTO visit_departments (visit_id, department_id) VALUES (?, ?)") == {
        "visits"
    }
    # Writes no cached page reads, and a sign-in's bookkeeping, bump nothing.
    assert GROUPS.written("INSERT INTO audit_log (action) VALUES (?)") == frozenset()
    assert GROUPS.written("UPDATE outbox_messages SET status=? WHERE id = ?") == frozenset()
    assert GROUPS.written("UPDATE users SET last_login_at=? WHERE users.id = ?") == frozenset()
    assert GROUPS.written("UPDATE users SET name=?, last_login_at=? WHERE users.id = ?") == {"accounts"}


def test_a_commit_bumps_the_features_it_wrote_and_only_those(session):
    make_dong()
    session.commit()
    before = _versions()
    make_user("citizen")
    session.commit()
    after = _versions()
    assert after["accounts"] != before.get("accounts")
    assert after["dongs"] == before["dongs"]


def test_a_rollback_bumps_nothing_and_a_core_statement_bumps_too(session):
    make_dong()
    session.commit()
    before = _versions()["dongs"]
    make_dong()
    session.rollback()
    assert _versions()["dongs"] == before
    session.execute(sa.update(Dong).values(contested_area=True))  # a bulk statement, no ORM object
    session.commit()
    assert _versions()["dongs"] != before
    with db.engine.begin() as conn:  # a plain connection, outside the ORM session
        middle = _versions()["dongs"]
        conn.execute(sa.text("UPDATE dongs SET outlying_area = :v"), {"v": True})
    assert _versions()["dongs"] != middle


def test_versions_are_read_once_per_request_and_renewed_by_a_commit(app, session):
    make_dong()
    session.commit()
    with app.test_request_context("/"):
        first = dataversions.current()
        assert dataversions.current() is first
        make_dong()
        assert dataversions.wrote_uncommitted()  # what this request reads now is not cacheable
        session.commit()
        assert not dataversions.wrote_uncommitted()
        assert dataversions.current()["dongs"] != first["dongs"]


def test_cache_clear_gives_every_feature_a_new_version(app, runner):
    make_dong()
    db.session.commit()
    before = _versions()
    result = runner.invoke(args=["cache", "clear"])
    assert result.exit_code == 0, result.output
    after = _versions()
    assert set(after) >= set(GROUPS.names())
    assert after["dongs"] != before["dongs"]
