"""One report per problem (issue 13): complaint links and incidents

Revision ID: 0005
Revises: 0004
Created: 2026-12-03 14:42:50.126574
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incidents',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('city', sa.String(length=64), nullable=True),
    sa.Column('kecamatan', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_category_kecamatan', ['category', 'kecamatan'], unique=False)

    op.create_table('complaint_links',
    sa.Column('complaint_id', sa.String(length=64), nullable=False),
    sa.Column('original_id', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('distance_m', sa.Float(), nullable=True),
    sa.Column('similarity', sa.Float(), nullable=True),
    sa.Column('linked_by', sa.String(length=200), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
    sa.ForeignKeyConstraint(['original_id'], ['complaints.id'], ),
    sa.PrimaryKeyConstraint('complaint_id')
    )
    with op.batch_alter_table('complaint_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_links_original_id'), ['original_id'], unique=False)

    op.create_table('incident_complaints',
    sa.Column('incident_id', sa.String(length=64), nullable=False),
    sa.Column('complaint_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.PrimaryKeyConstraint('incident_id', 'complaint_id')
    )
    with op.batch_alter_table('incident_complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_complaints_complaint_id'), ['complaint_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('incident_complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_complaints_complaint_id'))

    op.drop_table('incident_complaints')
    with op.batch_alter_table('complaint_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_links_original_id'))

    op.drop_table('complaint_links')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_category_kecamatan')

    op.drop_table('incidents')
