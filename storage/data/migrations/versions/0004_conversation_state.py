"""conversation state

Adds ``chat_state``: where each person stands in a multi-step conversation (registration,
/lapor, the reason for returning a report, /jadwal), one row per person, so conversations
survive a restart. Until now that state lived in memory (PTB conversations, sets rebuilt at
start) and in ``setting`` rows named ``alasan:<telegram id>``; the upgrade moves those rows
and the /lapor drafts touched in the last 24 hours (what a restart used to reattach) into the
new table, and the downgrade moves the pending reasons back.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:10:00.000000
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Lightweight copies of the tables the data steps touch (the models may change later).
_chat_state = sa.table(
    'chat_state',
    sa.column('telegram_id', sa.BigInteger()),
    sa.column('flow', sa.String(16)),
    sa.column('step', sa.String(40)),
    sa.column('payload', sa.Text()),
    sa.column('version', sa.Integer()),
    sa.column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime()),
)
_setting = sa.table('setting', sa.column('key', sa.String()), sa.column('value', sa.String()))
_draft = sa.table(
    'draft',
    sa.column('id', sa.Integer()),
    sa.column('user_id', sa.Integer()),
    sa.column('status', sa.String(16)),
    sa.column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime()),
)
_app_user = sa.table(
    'app_user', sa.column('id', sa.Integer()), sa.column('telegram_id', sa.BigInteger())
)
REASON_PREFIX = 'alasan:'
ATTACH_HOURS = 24


def upgrade() -> None:
    op.create_table('chat_state',
    sa.Column('telegram_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('flow', sa.String(length=16), nullable=False),
    sa.Column('step', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('telegram_id')
    )
    bind = op.get_bind()
    now = datetime.now(UTC)
    rows: dict[int, dict] = {}
    since = now - timedelta(hours=ATTACH_HOURS)
    drafts = bind.execute(
        sa.select(_app_user.c.telegram_id, _draft.c.id, _draft.c.updated_at)
        .join(_draft, _draft.c.user_id == _app_user.c.id)
        .where(_draft.c.status == 'aktif')
    ).all()
    for tgid, draft_id, at in drafts:
        if at is not None and (at if at.tzinfo else at.replace(tzinfo=UTC)) >= since:
            rows[int(tgid)] = {'flow': 'lapor', 'payload': {'draft_id': draft_id}}
    reasons = bind.execute(
        sa.select(_setting.c.key, _setting.c.value).where(
            _setting.c.key.like(f'{REASON_PREFIX}%')
        )
    ).all()
    for key, value in reasons:
        tgid_s = key[len(REASON_PREFIX):]
        if tgid_s.isdecimal() and str(value).isdecimal():
            # A pending reason wins over a draft, as the typed-text handlers were ordered.
            rows[int(tgid_s)] = {'flow': 'alasan', 'payload': {'pelaporan_id': int(value)}}
    if rows:
        bind.execute(
            _chat_state.insert(),
            [
                {
                    'telegram_id': tgid,
                    'flow': r['flow'],
                    'step': '',
                    'payload': json.dumps(r['payload']),
                    'version': 1,
                    'updated_at': now,
                }
                for tgid, r in rows.items()
            ],
        )
    bind.execute(_setting.delete().where(_setting.c.key.like(f'{REASON_PREFIX}%')))


def downgrade() -> None:
    bind = op.get_bind()
    reasons = bind.execute(
        sa.select(_chat_state.c.telegram_id, _chat_state.c.payload).where(
            _chat_state.c.flow == 'alasan'
        )
    ).all()
    values = []
    for tgid, payload in reasons:
        pid = json.loads(payload or '{}').get('pelaporan_id')
        if isinstance(pid, int):
            values.append({'key': f'{REASON_PREFIX}{tgid}', 'value': str(pid)})
    if values:
        bind.execute(_setting.insert(), values)
    op.drop_table('chat_state')
