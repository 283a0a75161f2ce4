"""leave and deputies: a decider's days away and who decides meanwhile

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 11:45:00

On PostgreSQL the staff table is changed only with the permission manage_staff; a decider sets
their own leave through ``desk_set_my_leave``, which changes nothing else of their row.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

_SET_MY_LEAVE = """
CREATE FUNCTION desk_set_my_leave(first_day date, last_day date, deputy bigint)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    me bigint := desk_session_staff_id();
BEGIN
    IF me IS NULL OR NOT desk_has_permission('decide_approvals') THEN
        RAISE EXCEPTION 'Setting one''s own leave needs the permission "decide_approvals".'
            USING ERRCODE = '42501';
    END IF;
    IF (first_day IS NULL) <> (last_day IS NULL) OR last_day < first_day THEN
        RAISE EXCEPTION 'The leave needs a first and a last day, in that order.'
            USING ERRCODE = '22023';
    END IF;
    IF first_day IS NOT NULL AND (deputy IS NULL OR deputy = me
        OR NOT EXISTS (SELECT 1 FROM staff WHERE id = deputy AND active)) THEN
        RAISE EXCEPTION 'The deputy must be another active member of staff.'
            USING ERRCODE = '22023';
    END IF;
    UPDATE staff SET away_from = first_day, away_until = last_day,
        deputy_id = CASE WHEN first_day IS NULL THEN NULL ELSE deputy END,
        version = version + 1
    WHERE id = me;
END $$;
"""


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('away_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('away_until', sa.Date(), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        # A column with its reference, added in place: a batch copy of staff would drop the
        # table every case and request refers to, which SQLite refuses once it holds data.
        op.execute(
            'ALTER TABLE staff ADD COLUMN deputy_id INTEGER '
            'CONSTRAINT fk_staff_deputy_id_staff REFERENCES staff (id)'
        )
    else:
        op.add_column('staff', sa.Column('deputy_id', BigId, nullable=True))
        op.create_foreign_key(
            op.f('fk_staff_deputy_id_staff'), 'staff', 'staff', ['deputy_id'], ['id']
        )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_SET_MY_LEAVE)
        op.execute("REVOKE ALL ON FUNCTION desk_set_my_leave(date, date, bigint) FROM PUBLIC")
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
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS desk_set_my_leave(date, date, bigint)")
    with op.batch_alter_table('staff', schema=None) as batch_op:
        if op.get_bind().dialect.name != 'sqlite':  # SQLite's copy leaves the reference out
            batch_op.drop_constraint(batch_op.f('fk_staff_deputy_id_staff'), type_='foreignkey')
        batch_op.drop_column('deputy_id')
        batch_op.drop_column('away_until')
        batch_op.drop_column('away_from')
