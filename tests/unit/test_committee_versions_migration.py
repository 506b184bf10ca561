"""The report-versions migration gives every quarter published before it its version 1."""

from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa

from civic_app import create_app
from civic_app.extensions import db
from tests import conftest
from tests.unit.test_migrations import _keep_loggers, postgres_url, sqlite_url  # noqa: F401

REVISION = "0008"  # migrations/versions/0008_committee_report_versions.py


def _scalar(sql: str, **params):
    with db.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def _run(url: str) -> None:
    app = create_app(conftest.test_config(url))
    with app.app_context():
        try:
            flask_migrate.upgrade(revision=f"{REVISION}-1")
            with db.engine.begin() as conn:
                x = conn.execute
                x(sa.text("INSERT INTO departments (code, name, active) VALUES ('ROAD', '도로과', true)"))
                x(sa.text("INSERT INTO committees (name) VALUES ('마이그레이션위원회')"))
                cid = x(sa.text("SELECT id FROM committees WHERE name = '마이그레이션위원회'")).scalar()
                x(
                    sa.text(
                        "INSERT INTO committee_subcommittees (committee_id, name, position) VALUES (:c, '분과', 1)"
                    ),
                    {"c": cid},
                )
                sid = x(
                    sa.text("SELECT id FROM committee_subcommittees WHERE committee_id = :c"), {"c": cid}
                ).scalar()
                did = x(sa.text("SELECT id FROM departments WHERE code = 'ROAD'")).scalar()
                for code in ("M-1", "M-2"):
                    x(
                        sa.text(
                            "INSERT INTO committee_tasks (committee_id, code, title, subcommittee_id, origin,"
                            " department_id, status, progress, created_at, updated_at)"
                            " VALUES (:c, :code, :code, :s, 'baseline', :d, 'active', 0, :t, :t)"
                        ),
                        {"c": cid, "code": code, "s": sid, "d": did, "t": "2026-10-01 00:00:00+00:00"},
                    )
                for year_q, status in (((2026, 3), "published"), ((2026, 4), "open")):
                    x(
                        sa.text(
                            "INSERT INTO committee_quarters (committee_id, year, quarter, deadline, status, summary,"
                            " opened_at, published_at) VALUES (:c, :y, :q, '2026-10-20', :st, '총평', :t, :p)"
                        ),
                        {
                            "c": cid,
                            "y": year_q[0],
                            "q": year_q[1],
                            "st": status,
                            "t": "2026-10-01 00:00:00+00:00",
                            "p": "2026-10-25 01:00:00+00:00" if status == "published" else None,
                        },
                    )
                q3 = x(
                    sa.text("SELECT id FROM committee_quarters WHERE committee_id = :c AND quarter = 3"),
                    {"c": cid},
                ).scalar()
                for code, status, pct in (("M-1", "reviewed", 40), ("M-2", "pending", None)):
                    tid = x(
                        sa.text("SELECT id FROM committee_tasks WHERE code = :code"), {"code": code}
                    ).scalar()
                    x(
                        sa.text(
                            "INSERT INTO committee_quarter_entries (quarter_id, task_id, department_id, task_code,"
                            " task_title, field_name, origin, status, progress_text, progress_pct)"
                            " VALUES (:q, :t, :d, :code, :code, '분과', 'baseline', :st, :txt, :pct)"
                        ),
                        {
                            "q": q3,
                            "t": tid,
                            "d": did,
                            "code": code,
                            "st": status,
                            "pct": pct,
                            "txt": "추진" if pct else None,
                        },
                    )
            flask_migrate.upgrade(revision=REVISION)
            from civic_app.committee.models import ReportVersion

            versions = db.session.scalars(sa.select(ReportVersion)).all()
            assert [(v.quarter_id, v.number, v.summary) for v in versions] == [(q3, 1, "총평")]
            rows = versions[0].report_rows()
            assert [(r.task_code, r.status, r.progress_pct, r.department) for r in rows] == [
                ("M-1", "submitted", 40, "도로과"),
                ("M-2", "pending", None, "도로과"),
            ]
            db.session.rollback()
        finally:
            db.session.remove()
            db.engine.dispose()


def test_backfill_on_sqlite(sqlite_url):  # noqa: F811
    _run(sqlite_url)


@pytest.mark.postgres
def test_backfill_on_postgresql(postgres_url):  # noqa: F811
    _run(postgres_url)
