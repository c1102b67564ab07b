"""draft revision

``draft.revision`` counts the writes of a draft: every write lands only on the revision it
read (SQLAlchemy's version counter), and the Mini App form saves only onto the revision its
page showed. So the chat and the form, both writing the one draft of an operator, never
overwrite each other unseen. Existing drafts start at 0.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-20 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE (not batch): a batch copy would drop tables other foreign keys need.
    op.add_column('draft', sa.Column('revision', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.drop_column('revision')
