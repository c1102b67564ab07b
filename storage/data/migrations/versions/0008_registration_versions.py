"""registration versions

A /daftar request is a versioned record (``app_user.request_version``): an admin's button
names the version its message showed, and ``reg_message`` remembers every admin message of a
request so a newer request or a decision can take its buttons away. ``app_user.status_at``
dates the last status change (the cool-down after a rejection).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE (not batch): on SQLite a batch copy would drop app_user, which the
    # foreign keys of pelaporan, realisasi and others refuse.
    op.add_column(
        'app_user', sa.Column('request_version', sa.Integer(), server_default='0', nullable=False)
    )
    op.add_column('app_user', sa.Column('status_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_table('reg_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reg_message', schema=None) as batch_op:
        batch_op.create_index('ix_reg_message_user', ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reg_message', schema=None) as batch_op:
        batch_op.drop_index('ix_reg_message_user')
    op.drop_table('reg_message')
    op.drop_column('app_user', 'status_at')  # SQLite >= 3.35 drops columns in place
    op.drop_column('app_user', 'request_version')
