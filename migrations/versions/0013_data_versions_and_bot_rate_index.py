"""data versions (cache keys every write bumps); indexes of the bot's rate check and of the public
통통데이 summaries

Revision ID: 0013
Revises: 0014
Create Date: 2026-12-03 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0014"
branch_labels = None
depends_on = None

CHANNEL_POSTS = "channel = 'telegram' AND recipient IS NULL"
WITH_SUMMARY = "public_summary IS NOT NULL"


def upgrade():
    op.create_table(
        "data_versions",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_data_versions")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_channel_posts_sent",
            ["sent_at"],
            unique=False,
            postgresql_where=sa.text(CHANNEL_POSTS),
            sqlite_where=sa.text(CHANNEL_POSTS),
        )
    with op.batch_alter_table("meeting_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_meeting_requests_public_summaries",
            ["held_at"],
            unique=False,
            postgresql_where=sa.text(WITH_SUMMARY),
            sqlite_where=sa.text(WITH_SUMMARY),
        )


def downgrade():
    with op.batch_alter_table("meeting_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_requests_public_summaries")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_channel_posts_sent")
    op.drop_table("data_versions")
