"""committee report versions: published quarterly reports are frozen versions (정정 = a new one)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 19:30:00

Existing published quarters get their version 1 from their entries, as they were published.
"""

from alembic import op
import sqlalchemy as sa

import civic_app.db_types


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "committee_report_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quarter_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("published_at", civic_app.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_committee_report_versions_published_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["quarter_id"],
            ["committee_quarters.id"],
            name=op.f("fk_committee_report_versions_quarter_id_committee_quarters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committee_report_versions")),
        sa.UniqueConstraint("quarter_id", "number", name=op.f("uq_committee_report_versions_quarter_id_number")),
    )
    with op.batch_alter_table("committee_report_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_committee_report_versions_quarter_id"), ["quarter_id"], unique=False
        )
    _backfill()


def _backfill() -> None:
    """Version 1 of every quarter already published, from its entries (the frozen report)."""
    bind = op.get_bind()
    quarters = sa.table(
        "committee_quarters",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("summary", sa.Text),
        sa.column("published_at", civic_app.db_types.UTCDateTime(timezone=True)),
    )
    entries = sa.table(
        "committee_quarter_entries",
        sa.column("id", sa.Integer),
        sa.column("quarter_id", sa.Integer),
        sa.column("task_id", sa.Integer),
        sa.column("department_id", sa.Integer),
        sa.column("task_code", sa.String),
        sa.column("task_title", sa.String),
        sa.column("field_name", sa.String),
        sa.column("origin", sa.String),
        sa.column("status", sa.String),
        sa.column("progress_text", sa.Text),
        sa.column("progress_pct", sa.Integer),
        sa.column("previous_pct", sa.Integer),
        sa.column("issues", sa.Text),
        sa.column("next_steps", sa.Text),
    )
    departments = sa.table("departments", sa.column("id", sa.Integer), sa.column("name", sa.String))
    versions = sa.table(
        "committee_report_versions",
        sa.column("quarter_id", sa.Integer),
        sa.column("number", sa.Integer),
        sa.column("published_at", civic_app.db_types.UTCDateTime(timezone=True)),
        sa.column("summary", sa.Text),
        sa.column("rows", sa.JSON),
    )
    published = bind.execute(
        sa.select(quarters.c.id, quarters.c.summary, quarters.c.published_at).where(
            quarters.c.status == "published", quarters.c.published_at.is_not(None)
        )
    ).all()
    for quarter_id, summary, published_at in published:
        rows = []
        for e in bind.execute(
            sa.select(entries, departments.c.name.label("department"))
            .join(departments, departments.c.id == entries.c.department_id)
            .where(entries.c.quarter_id == quarter_id)
            .order_by(entries.c.task_code)
        ).mappings():
            reported = e["status"] != "pending"
            rows.append(
                {
                    "entry_id": e["id"],
                    "task_id": e["task_id"],
                    "task_code": e["task_code"],
                    "task_title": e["task_title"],
                    "field_name": e["field_name"],
                    "origin": e["origin"],
                    "department": e["department"],
                    "status": "submitted" if reported else "pending",
                    "progress_text": e["progress_text"] if reported else None,
                    "progress_pct": e["progress_pct"] if reported else None,
                    "previous_pct": e["previous_pct"],
                    "issues": e["issues"] if reported else None,
                    "next_steps": e["next_steps"] if reported else None,
                    "late": False,
                }
            )
        bind.execute(
            versions.insert().values(
                quarter_id=quarter_id, number=1, published_at=published_at, summary=summary, rows=rows
            )
        )


def downgrade():
    with op.batch_alter_table("committee_report_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_committee_report_versions_quarter_id"))
    op.drop_table("committee_report_versions")
