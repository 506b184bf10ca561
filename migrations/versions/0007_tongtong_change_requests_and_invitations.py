"""tongtong: pending session change requests and the citizen invitation's SEQUENCE

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 19:40:00

"""

import sqlalchemy as sa
from alembic import op

import civic_app.db_types

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("meeting_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change_session_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("change_requested_at", civic_app.db_types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("ics_sequence", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_foreign_key(
            "fk_meeting_requests_change_session_id_tongtong_sessions",
            "tongtong_sessions",
            ["change_session_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("meeting_requests", schema=None) as batch_op:
        batch_op.drop_constraint(
            "fk_meeting_requests_change_session_id_tongtong_sessions", type_="foreignkey"
        )
        batch_op.drop_column("ics_sequence")
        batch_op.drop_column("change_requested_at")
        batch_op.drop_column("change_session_id")
