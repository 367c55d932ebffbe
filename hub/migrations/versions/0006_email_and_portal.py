"""E-mail destinations and the portal (issue 14): action link uses, inbound mail, the endpoint
attempt log, and the keyring that keeps the hub's own sealed secrets

Revision ID: 0006
Revises: 0005
Created: 2026-12-03 15:51:39.377671
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('action_uses',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('delivery_id', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('nonce')
    )
    with op.batch_alter_table('action_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_uses_delivery_id'), ['delivery_id'], unique=False)

    op.create_table('endpoint_attempts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('destination', sa.String(length=128), nullable=False),
    sa.Column('delivery_id', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Float(), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('endpoint_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_endpoint_attempts_destination_at', ['destination', 'at'], unique=False)

    op.create_table('hub_secrets',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('inbound_mail',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('sender', sa.String(length=320), nullable=True),
    sa.Column('subject', sa.String(length=500), nullable=True),
    sa.Column('delivery_id', sa.String(length=64), nullable=True),
    sa.Column('complaint_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inbound_mail', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_mail_received_at'), ['received_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('inbound_mail', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_mail_received_at'))

    op.drop_table('inbound_mail')
    op.drop_table('hub_secrets')
    with op.batch_alter_table('endpoint_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_endpoint_attempts_destination_at')

    op.drop_table('endpoint_attempts')
    with op.batch_alter_table('action_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_uses_delivery_id'))

    op.drop_table('action_uses')
