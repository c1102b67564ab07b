"""answer pages

The later pages of a long answer ("Selengkapnya") were kept in the process's memory: a press
taken by another process of a cluster, or after a restart, found nothing. They are kept in
``answer_pages`` now, for 30 days.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'answer_pages',
        sa.Column('token', sa.String(length=16), nullable=False),
        sa.Column('owner', sa.BigInteger(), nullable=False),
        sa.Column('pages', sa.Text(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('token'),
    )
    op.create_index('ix_answer_pages_created', 'answer_pages', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_answer_pages_created', table_name='answer_pages')
    op.drop_table('answer_pages')
