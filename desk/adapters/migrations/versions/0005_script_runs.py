"""script runs stored with their case; the customer's mood on the case

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 08:45:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_mood', sa.String(length=20), nullable=True))
    op.create_table('script_runs',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('uuid', sa.Uuid(), nullable=False),
    sa.Column('case_id', BigId, nullable=False),
    sa.Column('officer_id', BigId, nullable=False),
    sa.Column('script_id', sa.String(length=100), nullable=False),
    sa.Column('script_version', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=30), nullable=True),
    sa.Column('last_step_id', sa.String(length=100), nullable=True),
    sa.Column('safety_incident', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('incident_reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('incident_report', sa.Text(), server_default='', nullable=False),
    sa.Column('record', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_script_runs_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['officer_id'], ['staff.id'], name=op.f('fk_script_runs_officer_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_script_runs')),
    sa.UniqueConstraint('uuid', name=op.f('uq_script_runs_uuid'))
    )
    with op.batch_alter_table('script_runs', schema=None) as batch_op:
        batch_op.create_index('ix_script_runs_case_started', ['case_id', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_script_runs_script_id'), ['script_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('script_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_script_runs_script_id'))
        batch_op.drop_index('ix_script_runs_case_started')
    op.drop_table('script_runs')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('customer_mood')
