"""card milestones, photos and author contacts; visit_cycles.max_per_day

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 19:30:00

"""

from alembic import op
import sqlalchemy as sa

import civic_app.db_types


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "card_milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", civic_app.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_card_milestones_actor_id_users")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["card_items.id"], name=op.f("fk_card_milestones_item_id_card_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_milestones")),
    )
    with op.batch_alter_table("card_milestones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_card_milestones_item_id"), ["item_id"], unique=False)

    op.create_table(
        "card_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=True),
        sa.Column("stored_name", sa.String(length=100), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("caption", sa.String(length=200), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", civic_app.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["card_items.id"], name=op.f("fk_card_photos_item_id_card_items")),
        sa.ForeignKeyConstraint(
            ["milestone_id"], ["card_milestones.id"], name=op.f("fk_card_photos_milestone_id_card_milestones")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_card_photos_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_photos")),
    )
    with op.batch_alter_table("card_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_card_photos_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_card_photos_milestone_id"), ["milestone_id"], unique=False)

    op.create_table(
        "card_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("consent_at", civic_app.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", civic_app.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["card_items.id"], name=op.f("fk_card_contacts_item_id_card_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_contacts")),
    )
    with op.batch_alter_table("card_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_card_contacts_item_id"), ["item_id"], unique=False)

    with op.batch_alter_table("visit_cycles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_per_day", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    with op.batch_alter_table("visit_cycles", schema=None) as batch_op:
        batch_op.drop_column("max_per_day")
    with op.batch_alter_table("card_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_contacts_item_id"))
    op.drop_table("card_contacts")
    with op.batch_alter_table("card_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_photos_milestone_id"))
        batch_op.drop_index(batch_op.f("ix_card_photos_item_id"))
    op.drop_table("card_photos")
    with op.batch_alter_table("card_milestones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_milestones_item_id"))
    op.drop_table("card_milestones")
