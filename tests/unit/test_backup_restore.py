"""A backup restored into a fresh database holds every record (SQLite and PostgreSQL).

The procedure tested here is the one in docs/operations.md.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from civic_app import create_app
from civic_app.cards.items import create_item
from civic_app.extensions import db
from civic_app.notify.services import enqueue_email, enqueue_telegram
from tests import conftest
from tests.factories import NOW, make_department, make_dong, make_user


def _make_records(session) -> None:
    dept = make_department("도로과", field="도로·교통")
    for n in range(3):
        dong = make_dong(f"백업{n}동", contested_area=n == 0)
        create_item(
            session,
            dong_id=dong.id,
            title=f"보도블록 정비 {n} <script>alert(1)</script> 😀",
            description="민원\n여러 줄",
            category="road",
            source_kind="visit",
            actor_id=None,
            now=NOW + dt.timedelta(minutes=n),
            department_id=dept.id,
            estimated_cost=10**12 + n,
        )
    make_user("citizen", email="citizen@example.com", name="홍길동")
    make_user("civic_staff", "admin", email="staff@example.com", name="김직원")
    enqueue_telegram(
        session,
        kind="visit.published",
        payload={"title": "방문", "summary": "요약", "url": "/visits/1", "lines": ["가", "나"]},
        dedupe_key="tg-1",
        now=NOW,
    )
    enqueue_email(
        session, to="citizen@example.com", subject="안내", body="본문", kind="k", dedupe_key="m-1", now=NOW
    )
    session.commit()


def _snapshot(engine: sa.Engine) -> dict[str, list[tuple]]:
    """Every row of every table of the schema, ordered by primary key."""
    out = {}
    with engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [tuple(row) for row in conn.execute(sa.select(table).order_by(*order))]
    return out


def test_sqlite_backup_api_restore_finds_every_record(tmp_path):
    from civic_app.privacy.cli import backup_sqlite_file

    source = tmp_path / "live.sqlite3"
    app = create_app(conftest.test_config(f"sqlite:///{source}"))
    with app.app_context():
        db.create_all()
        conftest._load_reference(app)
        _make_records(db.session)
        before = _snapshot(db.engine)

        backup = tmp_path / "backup.sqlite3"
        result = app.test_cli_runner().invoke(args=["backup", "sqlite", str(backup)])
        assert result.exit_code == 0, result.output
        # The command refuses to overwrite an existing backup by accident.
        again = app.test_cli_runner().invoke(args=["backup", "sqlite", str(backup)])
        assert again.exit_code != 0
        assert "--force" in again.output
        db.session.remove()
        db.engine.dispose()

    # Restore: the backup API in the other direction, into a fresh file.
    restored = tmp_path / "restored.sqlite3"
    backup_sqlite_file(backup, restored)
    engine = sa.create_engine(f"sqlite:///{restored}")
    after = _snapshot(engine)
    engine.dispose()
    assert after == before
    assert len(after["card_items"]) == 3
    assert len(after["outbox_messages"]) >= 2
    assert {row[1] for row in after["users"]} >= {"citizen@example.com", "staff@example.com"}


@pytest.mark.postgres
def test_postgres_pg_dump_restore_finds_every_record(app, session, tmp_path, is_postgres):
    assert is_postgres
    assert shutil.which("pg_dump"), "pg_dump must be installed (postgresql-client)"
    _make_records(session)
    before = _snapshot(db.engine)

    url = db.engine.url
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    dump = tmp_path / "civic.dump"
    subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), libpq], check=True, timeout=120)

    fresh = f"scale_restore_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{fresh}"'))
    try:
        target = url.set(database=fresh)
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                "-d",
                target.set(drivername="postgresql").render_as_string(hide_password=False),
                str(dump),
            ],
            check=True,
            timeout=120,
        )
        engine = sa.create_engine(target)
        after = _snapshot(engine)
        # Sequences come back too: the next insert does not collide with a restored id.
        with engine.begin() as conn:
            next_id = conn.execute(sa.text("SELECT nextval('card_items_id_seq')")).scalar_one()
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)'))
        admin.dispose()
    assert after == before
    assert len(after["card_items"]) == 3
    assert next_id > max(row[0] for row in after["card_items"])
    assert make_url(str(url)).database != fresh
