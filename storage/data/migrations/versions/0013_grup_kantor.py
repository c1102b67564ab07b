"""office groups: one per office, and one for the kabupaten

``grup_kantor`` replaces the single ``setting`` ``grup_kantor_chat_id`` that every office
shared (any office's admin could take it over, and every office's digest went to it). A group
belongs to one office (``owner`` ``opd:<id>``) or to the kabupaten (``kabupaten``, the
pemantau's notices); each of them has at most one group.

The old setting moves to the office it served: the only office of a one-office database;
with several offices, the office of the admin who last registered it (its audit entry);
otherwise the kabupaten.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_SETTING = 'grup_kantor_chat_id'


def upgrade() -> None:
    op.create_table('grup_kantor',
    sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('opd_id', sa.Integer(), nullable=True),
    sa.Column('owner', sa.String(length=24), nullable=False),
    sa.Column('set_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('set_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['opd_id'], ['perangkat_daerah.id'], ),
    sa.PrimaryKeyConstraint('chat_id'),
    sa.UniqueConstraint('owner', name='uq_grup_kantor_owner')
    )
    with op.batch_alter_table('grup_kantor', schema=None) as batch_op:
        batch_op.create_index('ix_grup_kantor_opd_id', ['opd_id'], unique=False)
    _move_setting()


def _move_setting() -> None:
    conn = op.get_bind()
    value = conn.execute(
        sa.text('SELECT value FROM setting WHERE key = :k'), {'k': OLD_SETTING}
    ).scalar()
    conn.execute(sa.text('DELETE FROM setting WHERE key = :k'), {'k': OLD_SETTING})
    text = (value or '').strip()
    if not text.lstrip('-').isdecimal():
        return
    offices = conn.execute(sa.text('SELECT id FROM perangkat_daerah ORDER BY id')).scalars().all()
    opd_id = offices[0] if len(offices) == 1 else None
    if opd_id is None and offices:
        # Who registered it last: their office is the one the group served.
        actor = conn.execute(
            sa.text(
                'SELECT actor FROM audit_log WHERE entity = :e AND field = :f AND new = :v '
                'ORDER BY id DESC'
            ),
            {'e': 'setting', 'f': OLD_SETTING, 'v': text},
        ).first()
        if actor is not None and str(actor[0]).startswith('user:'):
            tgid = str(actor[0])[5:]
            if tgid.isdecimal():
                opd_id = conn.execute(
                    sa.text('SELECT opd_id FROM app_user WHERE telegram_id = :t'),
                    {'t': int(tgid)},
                ).scalar()
    conn.execute(
        sa.text(
            'INSERT INTO grup_kantor (chat_id, opd_id, owner, set_by, set_at) '
            'VALUES (:c, :o, :w, :b, CURRENT_TIMESTAMP)'
        ),
        {
            'c': int(text),
            'o': opd_id,
            'w': f'opd:{opd_id}' if opd_id is not None else 'kabupaten',
            'b': 'migrasi',
        },
    )


def downgrade() -> None:
    conn = op.get_bind()
    row = conn.execute(
        sa.text('SELECT chat_id FROM grup_kantor ORDER BY opd_id IS NULL, opd_id')
    ).first()
    if row is not None:
        conn.execute(
            sa.text('INSERT INTO setting (key, value) VALUES (:k, :v)'),
            {'k': OLD_SETTING, 'v': str(row[0])},
        )
    with op.batch_alter_table('grup_kantor', schema=None) as batch_op:
        batch_op.drop_index('ix_grup_kantor_opd_id')
    op.drop_table('grup_kantor')
