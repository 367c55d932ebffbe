"""Personal data (issue 11): each complaint's privacy choice, and the transfer allow-list

Complaints stored before this revision were filed with no choice and count as public (the hub's
behaviour until now).

Revision ID: 0004
Revises: 0003
Created: 2026-12-03 13:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'transfer_allow',
        sa.Column('category', sa.String(length=64), nullable=False),
        sa.Column('destination', sa.String(length=128), nullable=False),
        sa.Column('added_by', sa.String(length=128), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('category', 'destination'),
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('privacy', sa.String(length=16), server_default='public', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_column('privacy')
    op.drop_table('transfer_allow')
