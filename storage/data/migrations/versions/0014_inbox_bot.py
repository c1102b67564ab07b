"""update inbox keyed by bot

Telegram numbers updates per bot, so an inbox keyed by update id alone skips a new bot's first
updates as "already handled" after a token change against the same database. The key becomes
(``bot_id``, ``update_id``), ``bot_id`` being the token's number before ':'.

Rows written before this revision get ``bot_id`` 0: the next bot to start adopts them (see
``storage.services.inbox.adopt``), as they were written by the bot that ran last.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 15:00:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild(key: list[str], keep: str) -> None:
    """Copy the inbox into a table with the primary key ``key``: a key cannot be changed in
    place on SQLite, and one way for both databases is simpler to trust. Nothing refers to it."""
    columns: list[sa.Column[Any]] = [
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("done_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    ]
    if "bot_id" in key:
        columns.insert(0, sa.Column("bot_id", sa.BigInteger(), autoincrement=False, nullable=False))
    op.create_table("update_inbox_new", *columns, sa.PrimaryKeyConstraint(*key))
    names = ", ".join(c.name for c in columns)
    op.execute(f"INSERT INTO update_inbox_new ({names}) SELECT {keep} FROM update_inbox")
    op.drop_index("ix_update_inbox_status", table_name="update_inbox")
    op.drop_table("update_inbox")
    op.rename_table("update_inbox_new", "update_inbox")
    if op.get_bind().dialect.name == "postgresql":  # the key keeps the name it was made with
        op.execute(
            "ALTER TABLE update_inbox RENAME CONSTRAINT update_inbox_new_pkey TO update_inbox_pkey"
        )
    op.create_index("ix_update_inbox_status", "update_inbox", [*key[:-1], "status"])


def upgrade() -> None:
    _rebuild(["bot_id", "update_id"], "0, update_id, payload, status, received_at, done_at")


def downgrade() -> None:
    # Two bots' rows may share an update id; the older key holds the newest bot's only.
    op.execute("DELETE FROM update_inbox WHERE bot_id <> (SELECT MAX(bot_id) FROM update_inbox)")
    _rebuild(["update_id"], "update_id, payload, status, received_at, done_at")
