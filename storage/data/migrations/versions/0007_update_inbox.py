"""update inbox

``update_inbox`` holds every update from Telegram from the moment it is received until it
is handled, so an update fetched but not handled when the process died is handled after the
restart (at-least-once), and an update id seen twice is handled once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09 09:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('update_inbox',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('update_id')
    )
    with op.batch_alter_table('update_inbox', schema=None) as batch_op:
        batch_op.create_index('ix_update_inbox_status', ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('update_inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_update_inbox_status')
    op.drop_table('update_inbox')
