"""meeting request events remember how their note was made (shown in the reader's language)

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-03 08:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('meeting_request_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note_parts', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('meeting_request_events', schema=None) as batch_op:
        batch_op.drop_column('note_parts')
