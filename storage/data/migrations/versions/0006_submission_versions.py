"""submission versions

``pelaporan.version`` counts the submissions of a bidang-quarter: an approval or return names
the version its approver was shown, and a submission the version its draft began from
(``draft.based_on``), so neither can act on numbers nobody saw. ``verif_message`` remembers
every message with approve/return buttons, so their buttons can be taken away once the
report moves on. Existing submitted reports start at version 1, and active drafts are based
on their quarter's current version (they were begun from it).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_pelaporan = sa.table(
    'pelaporan',
    sa.column('bidang_id', sa.Integer()),
    sa.column('tahun', sa.Integer()),
    sa.column('triwulan', sa.Integer()),
    sa.column('status', sa.String(16)),
    sa.column('version', sa.Integer()),
)
_draft = sa.table(
    'draft',
    sa.column('bidang_id', sa.Integer()),
    sa.column('tahun', sa.Integer()),
    sa.column('triwulan', sa.Integer()),
    sa.column('status', sa.String(16)),
    sa.column('based_on', sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table('pelaporan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('based_on', sa.Integer(), server_default='0', nullable=False))
    op.create_table('verif_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pelaporan_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['pelaporan_id'], ['pelaporan.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('verif_message', schema=None) as batch_op:
        batch_op.create_index('ix_verif_message_pelaporan', ['pelaporan_id'], unique=False)
    bind = op.get_bind()
    bind.execute(
        _pelaporan.update().where(_pelaporan.c.status != 'draft').values(version=1)
    )
    current = (
        sa.select(_pelaporan.c.version)
        .where(
            _pelaporan.c.bidang_id == _draft.c.bidang_id,
            _pelaporan.c.tahun == _draft.c.tahun,
            _pelaporan.c.triwulan == _draft.c.triwulan,
        )
        .scalar_subquery()
    )
    bind.execute(
        _draft.update()
        .where(_draft.c.status == 'aktif')
        .values(based_on=sa.func.coalesce(current, 0))
    )


def downgrade() -> None:
    with op.batch_alter_table('verif_message', schema=None) as batch_op:
        batch_op.drop_index('ix_verif_message_pelaporan')
    op.drop_table('verif_message')
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.drop_column('based_on')
    with op.batch_alter_table('pelaporan', schema=None) as batch_op:
        batch_op.drop_column('version')
