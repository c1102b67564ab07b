"""kabupaten: several offices in one deployment

``perangkat_daerah`` gets a short name (``singkatan``, unique when set) and other spellings
(``aliases``); ``app_user`` gets the office the person belongs to (``opd_id``; None for the
kabupaten roles pemantau and admin_kabupaten). A database with exactly one office binds
every existing user to it, so a one-office deployment works as before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE (not batch): a batch copy would drop tables other foreign keys need.
    op.add_column('perangkat_daerah', sa.Column('singkatan', sa.String(length=40), nullable=True))
    op.add_column(
        'perangkat_daerah', sa.Column('aliases', sa.Text(), server_default='', nullable=False)
    )
    op.create_index(
        'uq_perangkat_daerah_singkatan', 'perangkat_daerah', ['singkatan'], unique=True
    )
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a column with its reference in place; Alembic would want a batch copy.
        op.execute(
            'ALTER TABLE app_user ADD COLUMN opd_id INTEGER REFERENCES perangkat_daerah (id)'
        )
    else:
        op.add_column('app_user', sa.Column('opd_id', sa.Integer(), nullable=True))
        op.create_foreign_key(
            'fk_app_user_opd_id', 'app_user', 'perangkat_daerah', ['opd_id'], ['id']
        )
    op.create_index('ix_app_user_opd_id', 'app_user', ['opd_id'], unique=False)
    # One office: everybody already known belongs to it.
    op.execute(
        "UPDATE app_user SET opd_id = (SELECT MIN(id) FROM perangkat_daerah) "
        "WHERE (SELECT COUNT(*) FROM perangkat_daerah) = 1"
    )


def downgrade() -> None:
    op.drop_index('ix_app_user_opd_id', table_name='app_user')
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint('fk_app_user_opd_id', 'app_user', type_='foreignkey')
    op.drop_column('app_user', 'opd_id')  # SQLite >= 3.35 drops columns in place
    op.drop_index('uq_perangkat_daerah_singkatan', table_name='perangkat_daerah')
    op.drop_column('perangkat_daerah', 'aliases')
    op.drop_column('perangkat_daerah', 'singkatan')
