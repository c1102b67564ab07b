"""rencana penarikan (early warning)

The office's cumulative spending plan per sub kegiatan and quarter (``rencana_penarikan``),
one row per revision quarter like pagu revisions; ``user_pref.digest_muted`` lets the kepala
switch the weekly early-warning digest off.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rencana_penarikan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('triwulan', sa.Integer(), nullable=False),
    sa.Column('tw1', sa.BigInteger(), nullable=True),
    sa.Column('tw2', sa.BigInteger(), nullable=True),
    sa.Column('tw3', sa.BigInteger(), nullable=True),
    sa.Column('tw4', sa.BigInteger(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['node_id'], ['node.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('node_id', 'triwulan', name='uq_rencana_penarikan_node_tw')
    )
    with op.batch_alter_table('rencana_penarikan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rencana_penarikan_node_id'), ['node_id'], unique=False)
    # Plain ALTER TABLE (not batch), as in 0008: other tables' foreign keys name user_pref's
    # neighbours, and a batch copy is not needed to add a column.
    op.add_column(
        'user_pref',
        sa.Column('digest_muted', sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column('user_pref', 'digest_muted')
    with op.batch_alter_table('rencana_penarikan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rencana_penarikan_node_id'))
    op.drop_table('rencana_penarikan')
