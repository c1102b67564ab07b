"""several processes on one PostgreSQL

``update_inbox.order_key``: whose updates must be handled in order and one at a time (the
sender, else the chat); with several processes the one holding that key's lock handles them.
``send_budget``: the outgoing message budget every process of a bot shares (one row per limit).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('send_budget',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('tat', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    with op.batch_alter_table('update_inbox', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('order_key', sa.BigInteger(), server_default='0', nullable=False)
        )
        batch_op.create_index(
            'ix_update_inbox_order', ['bot_id', 'status', 'order_key', 'update_id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('update_inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_update_inbox_order')
        batch_op.drop_column('order_key')
    op.drop_table('send_budget')
