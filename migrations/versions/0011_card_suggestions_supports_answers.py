"""online citizen suggestions (issue 17): authors, 공감, answer deadlines, answers, agenda entries

Card items keep their origin in ``source_kind`` (visit, meeting, walk_in, staff); online
suggestions are the new value ``citizen``, so existing rows need no change.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 07:45:00

"""

from alembic import op
import sqlalchemy as sa

import civic_app.db_types


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('card_answer_duties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('triggered_at', civic_app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('supports_at_trigger', sa.Integer(), nullable=False),
    sa.Column('first_due_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('answered_at', civic_app.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['card_items.id'], name=op.f('fk_card_answer_duties_item_id_card_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_answer_duties')),
    sa.UniqueConstraint('item_id', name=op.f('uq_card_answer_duties_item_id'))
    )
    with op.batch_alter_table('card_answer_duties', schema=None) as batch_op:
        batch_op.create_index('ix_card_answer_duties_open_due', ['answered_at', 'due_on'], unique=False)

    op.create_table('card_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('next_due_on', sa.Date(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', civic_app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_card_answers_actor_id_users')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_card_answers_department_id_departments')),
    sa.ForeignKeyConstraint(['item_id'], ['card_items.id'], name=op.f('fk_card_answers_item_id_card_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_answers'))
    )
    with op.batch_alter_table('card_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_answers_item_id'), ['item_id'], unique=False)

    op.create_table('card_suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('consent_at', civic_app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('consent_version', sa.String(length=20), nullable=False),
    sa.Column('created_at', civic_app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_card_suggestions_author_id_users')),
    sa.ForeignKeyConstraint(['item_id'], ['card_items.id'], name=op.f('fk_card_suggestions_item_id_card_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_suggestions')),
    sa.UniqueConstraint('item_id', name=op.f('uq_card_suggestions_item_id'))
    )
    with op.batch_alter_table('card_suggestions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_suggestions_author_id'), ['author_id'], unique=False)

    op.create_table('card_supports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', civic_app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['card_items.id'], name=op.f('fk_card_supports_item_id_card_items')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_card_supports_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_supports')),
    sa.UniqueConstraint('item_id', 'user_id', name=op.f('uq_card_supports_item_id_user_id'))
    )
    with op.batch_alter_table('card_supports', schema=None) as batch_op:
        batch_op.create_index('ix_card_supports_item_created', ['item_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_supports_user_id'), ['user_id'], unique=False)

    op.create_table('card_agenda_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('reached_at', civic_app.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('supports_at_trigger', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['card_items.id'], name=op.f('fk_card_agenda_entries_item_id_card_items')),
    sa.ForeignKeyConstraint(['session_id'], ['tongtong_sessions.id'], name=op.f('fk_card_agenda_entries_session_id_tongtong_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_agenda_entries')),
    sa.UniqueConstraint('item_id', name=op.f('uq_card_agenda_entries_item_id'))
    )


def downgrade():
    op.drop_table('card_agenda_entries')
    with op.batch_alter_table('card_supports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_supports_user_id'))
        batch_op.drop_index('ix_card_supports_item_created')

    op.drop_table('card_supports')
    with op.batch_alter_table('card_suggestions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_suggestions_author_id'))

    op.drop_table('card_suggestions')
    with op.batch_alter_table('card_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_answers_item_id'))

    op.drop_table('card_answers')
    with op.batch_alter_table('card_answer_duties', schema=None) as batch_op:
        batch_op.drop_index('ix_card_answer_duties_open_due')

    op.drop_table('card_answer_duties')
