"""reminder plan

A reminder round worked out what was due in every office, then claimed and sent each message;
a process taking over a round whose sender died worked it all out again first (117 s for a
province of 800 offices). The round now writes its plan once (``reminder_plan``); a claim
takes its row out in the same transaction, and a process taking over sends the rest.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 18:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'reminder_plan',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=80), nullable=False),
        sa.Column('tahun', sa.Integer(), nullable=False),
        sa.Column('triwulan', sa.Integer(), nullable=False),
        sa.Column('telegram_id', sa.BigInteger(), nullable=True),
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
        sa.Column('audience', sa.String(length=16), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('button_text', sa.String(length=64), nullable=True),
        sa.Column('button_data', sa.String(length=64), nullable=True),
        sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'tahun', 'triwulan', 'chat_id', name='uq_reminder_plan_once'),
    )


def downgrade() -> None:
    op.drop_table('reminder_plan')
