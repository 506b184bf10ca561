"""The Alembic history builds exactly the schema the models declare, and unwinds completely.

Runs on a fresh SQLite file and, when ``TEST_DATABASE_URL`` is set, on a fresh PostgreSQL
database created (and dropped) by the test. Nothing here names a table or a revision, so the
test stays valid when the integrator regenerates the history as features land.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from civic_app import create_app
from civic_app.extensions import db
from tests import conftest


@pytest.fixture(autouse=True)
def _keep_loggers() -> Iterator[None]:
    """Alembic's env.py calls logging.config.fileConfig, which disables existing loggers."""
    yield
    for logger in logging.root.manager.loggerDict.values():
        if isinstance(logger, logging.Logger):
            logger.disabled = False


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'migrations.sqlite3'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    base = conftest._pg_admin_url(conftest.TEST_DATABASE_URL)
    name = f"civic_mig_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _schema_drift(app) -> list:
    migrate_args = app.extensions["migrate"].configure_args
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"compare_type": migrate_args.get("compare_type", True), "compare_server_default": False},
        )
        return compare_metadata(context, db.metadata)


def _tables(app) -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def _upgrade_compare_downgrade(url: str) -> None:
    app = create_app(conftest.test_config(url))
    with app.app_context():
        try:
            assert _tables(app) == set(), "the database must start empty"
            flask_migrate.upgrade()
            assert _tables(app), "the migrations created no table"
            drift = _schema_drift(app)
            assert drift == [], "models and migrations differ; run `flask db migrate`:\n" + "\n".join(
                map(str, drift)
            )
            flask_migrate.downgrade(revision="base")
            assert _tables(app) <= {"alembic_version"}
            with db.engine.connect() as conn:
                assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 0
        finally:
            db.session.remove()
            db.engine.dispose()


def test_migrations_match_models_on_sqlite(sqlite_url):
    _upgrade_compare_downgrade(sqlite_url)


@pytest.mark.postgres
def test_migrations_match_models_on_postgresql(postgres_url):
    _upgrade_compare_downgrade(postgres_url)
