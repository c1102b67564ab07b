"""evidence (bukti dukung)

``bukti`` holds the metadata of every photo or document attached to a sub kegiatan in a
draft; the bytes are kept content-addressed (SHA-256) in the data folder.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bukti',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('tahun', sa.Integer(), nullable=False),
    sa.Column('triwulan', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('mime', sa.String(length=80), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('file_id', sa.String(length=255), nullable=False),
    sa.Column('file_unique_id', sa.String(length=128), nullable=False),
    sa.Column('media_group_id', sa.String(length=64), nullable=False),
    sa.Column('caption', sa.Text(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('exif_time', sa.String(length=32), nullable=False),
    sa.Column('gps_lat', sa.Float(), nullable=True),
    sa.Column('gps_lon', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['draft_id'], ['draft.id'], ),
    sa.ForeignKeyConstraint(['node_id'], ['node.id'], ),
    sa.ForeignKeyConstraint(['uploaded_by'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bukti', schema=None) as batch_op:
        batch_op.create_index('ix_bukti_draft', ['draft_id'], unique=False)
        batch_op.create_index('ix_bukti_node_period', ['node_id', 'tahun', 'triwulan'], unique=False)
        batch_op.create_index('ix_bukti_sha256', ['sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bukti', schema=None) as batch_op:
        batch_op.drop_index('ix_bukti_sha256')
        batch_op.drop_index('ix_bukti_node_period')
        batch_op.drop_index('ix_bukti_draft')
    op.drop_table('bukti')
