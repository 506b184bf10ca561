"""follows (구독) and the entries waiting for the weekly digest

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 07:47:49

"""

from alembic import op
import sqlalchemy as sa

import civic_app.db_types


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "follows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_kind", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("chat_pk", sa.Integer(), nullable=True),
        sa.Column("frequency", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("created_at", civic_app.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", civic_app.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", civic_app.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirm_sent_at", civic_app.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_digest_at", civic_app.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["chat_pk"],
            ["telegram_chats.id"],
            name=op.f("fk_follows_chat_pk_telegram_chats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_follows_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follows")),
        sa.UniqueConstraint(
            "target_kind", "target_id", "address", name=op.f("uq_follows_target_kind_target_id_address")
        ),
    )
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follows_address"), ["address"], unique=False)
        batch_op.create_index(batch_op.f("ix_follows_chat_pk"), ["chat_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_follows_user_id"), ["user_id"], unique=False)

    op.create_table(
        "follow_digest_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("follow_id", sa.Integer(), nullable=False),
        sa.Column("event_ref", sa.String(length=150), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("created_at", civic_app.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["follow_id"],
            ["follows.id"],
            name=op.f("fk_follow_digest_entries_follow_id_follows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_digest_entries")),
        sa.UniqueConstraint(
            "follow_id", "event_ref", name=op.f("uq_follow_digest_entries_follow_id_event_ref")
        ),
    )
    with op.batch_alter_table("follow_digest_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_digest_entries_follow_id"), ["follow_id"], unique=False)


def downgrade():
    with op.batch_alter_table("follow_digest_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_digest_entries_follow_id"))

    op.drop_table("follow_digest_entries")
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follows_user_id"))
        batch_op.drop_index(batch_op.f("ix_follows_chat_pk"))
        batch_op.drop_index(batch_op.f("ix_follows_address"))

    op.drop_table("follows")
