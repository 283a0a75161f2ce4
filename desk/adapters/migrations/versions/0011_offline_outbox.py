"""offline outbox: changes sent later by a client that was offline are recorded once, and a case
made offline keeps the provisional reference printed on its slip

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 15:00:00

``client_operations`` holds the UUID of every change a client sent from its outbox, written in
the same transaction as the change: sending it again finds it and records nothing twice. On
PostgreSQL staff may add and read only their own rows (row-level security); nobody updates or
deletes them. ``cases.provisional_reference`` is unique where set.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

UtcDateTime = sa.DateTime(timezone=True)

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    # A plain ADD COLUMN on both backends: a batch copy of cases would have to drop the table
    # every timeline line refers to.
    op.execute('ALTER TABLE cases ADD COLUMN provisional_reference VARCHAR(20)')
    op.create_index(
        'uq_cases_provisional_reference', 'cases', ['provisional_reference'], unique=True
    )
    op.create_table(
        'client_operations',
        sa.Column('uuid', sa.Uuid(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('staff_id', BigId, nullable=False),
        sa.Column('case_id', BigId, nullable=True),
        sa.Column('case_version', sa.Integer(), nullable=True),
        sa.Column('recorded_at', UtcDateTime, nullable=False),
        sa.Column('applied_at', UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ['case_id'], ['cases.id'],
            name=op.f('fk_client_operations_case_id_cases'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['staff_id'], ['staff.id'], name=op.f('fk_client_operations_staff_id_staff')
        ),
        sa.PrimaryKeyConstraint('uuid', name=op.f('pk_client_operations')),
    )
    op.create_index(
        op.f('ix_client_operations_case_id'), 'client_operations', ['case_id'], unique=False
    )
    op.create_index(
        op.f('ix_client_operations_staff_id'), 'client_operations', ['staff_id'], unique=False
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE client_operations ENABLE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY client_operations_own ON client_operations "
            "USING (staff_id = (SELECT desk_session_staff_id())) "
            "WITH CHECK (staff_id = (SELECT desk_session_staff_id()))"
        )
        group = op.get_bind().execute(
            sa.text("SELECT current_database() || '__@staff'")
        ).scalar_one()
        exists = op.get_bind().execute(
            sa.text("SELECT 1 FROM pg_roles WHERE rolname = :g"), {"g": group}
        ).first()
        if exists:
            from desk.adapters.pg_roles import grant_staff_privileges

            grant_staff_privileges(op.get_bind(), group)


def downgrade() -> None:
    op.drop_index(op.f('ix_client_operations_staff_id'), table_name='client_operations')
    op.drop_index(op.f('ix_client_operations_case_id'), table_name='client_operations')
    op.drop_table('client_operations')
    op.drop_index('uq_cases_provisional_reference', table_name='cases')
    op.execute('ALTER TABLE cases DROP COLUMN provisional_reference')
