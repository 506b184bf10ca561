"""allocation counters: collision-free, gap-free reference codes and ranks

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-02 19:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "allocation_counters",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key"),
    )


def downgrade():
    op.drop_table("allocation_counters")
