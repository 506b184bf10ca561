"""satisfaction survey invitations and responses

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 07:45:55.298613

"""
from alembic import op
import sqlalchemy as sa

import civic_app.db_types


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('satisfaction_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process', sa.String(length=20), nullable=False),
    sa.Column('subject_ref', sa.String(length=100), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('recipient_key', sa.String(length=80), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('about', sa.String(length=200), nullable=True),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('created_at', civic_app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', civic_app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', civic_app.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_satisfaction_invitations_department_id_departments')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_satisfaction_invitations_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_satisfaction_invitations')),
    sa.UniqueConstraint('subject_ref', 'recipient_key', name=op.f('uq_satisfaction_invitations_subject_ref_recipient_key'))
    )
    with op.batch_alter_table('satisfaction_invitations', schema=None) as batch_op:
        batch_op.create_index('ix_satisfaction_invitations_created', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_satisfaction_invitations_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_satisfaction_invitations_user_id'), ['user_id'], unique=False)

    op.create_table('satisfaction_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('satisfaction', sa.Integer(), nullable=False),
    sa.Column('reason_clear', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('public_comment', sa.Text(), nullable=True),
    sa.Column('published_at', civic_app.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', civic_app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', civic_app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('reason_clear BETWEEN 1 AND 5', name=op.f('ck_satisfaction_responses_reason_clear_range')),
    sa.CheckConstraint('satisfaction BETWEEN 1 AND 5', name=op.f('ck_satisfaction_responses_satisfaction_range')),
    sa.ForeignKeyConstraint(['invitation_id'], ['satisfaction_invitations.id'], name=op.f('fk_satisfaction_responses_invitation_id_satisfaction_invitations')),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_satisfaction_responses_published_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_satisfaction_responses')),
    sa.UniqueConstraint('invitation_id', name=op.f('uq_satisfaction_responses_invitation_id'))
    )
    with op.batch_alter_table('satisfaction_responses', schema=None) as batch_op:
        batch_op.create_index('ix_satisfaction_responses_answered', ['answered_at'], unique=False)



def downgrade():
    with op.batch_alter_table('satisfaction_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_satisfaction_responses_answered')

    op.drop_table('satisfaction_responses')
    with op.batch_alter_table('satisfaction_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_satisfaction_invitations_user_id'))
        batch_op.drop_index(batch_op.f('ix_satisfaction_invitations_department_id'))
        batch_op.drop_index('ix_satisfaction_invitations_created')

    op.drop_table('satisfaction_invitations')
