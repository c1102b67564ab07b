"""user status in Indonesian

``app_user.status`` said ``pending`` / ``active`` / ``rejected`` while every other status in the
database is Indonesian (``diajukan``, ``disetujui``, ``aktif``…). The values become
``menunggu`` / ``aktif`` / ``ditolak`` (and ``diblokir`` for a person an admin blocked, which
the downgrade turns back into ``rejected``, the closest old value).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-09 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_app_user = sa.table('app_user', sa.column('status', sa.String(16)))
UP = {'pending': 'menunggu', 'active': 'aktif', 'rejected': 'ditolak'}
DOWN = {'menunggu': 'pending', 'aktif': 'active', 'ditolak': 'rejected', 'diblokir': 'rejected'}


def _rename(mapping: dict[str, str]) -> None:
    bind = op.get_bind()
    for old, new in mapping.items():
        bind.execute(_app_user.update().where(_app_user.c.status == old).values(status=new))


def upgrade() -> None:
    _rename(UP)


def downgrade() -> None:
    _rename(DOWN)
