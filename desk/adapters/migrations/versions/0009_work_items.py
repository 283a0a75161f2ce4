"""work items: review requests, replies to vet and compliments in the supervisors' inbox; the
resolution targets per priority behind the service-level breaches

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 12:00:00

On PostgreSQL the database checks what a staff login does with an item: made in one's own name;
decided by someone else who holds the permission for its kind (vet_replies for a reply,
decide_approvals otherwise), once; resubmitted, withdrawn or marked as sent only by the person who
asked, a reply only once approved. Row-level security shows an item to whoever asked, whom it
waits for, whom a compliment is about, and those who see its case.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UtcDateTime = sa.DateTime(timezone=True)

_CHECK = r"""
CREATE FUNCTION desk_check_work_item() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    me bigint;
    needed text;
BEGIN
    IF desk_acting_as_owner(TG_RELID) THEN
        RETURN NEW;
    END IF;
    me := desk_session_staff_id();
    IF me IS NULL OR NOT (SELECT active FROM staff WHERE id = me) THEN
        RAISE EXCEPTION 'Only an active staff member may raise or decide items.'
            USING ERRCODE = '42501';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.requested_by_id IS DISTINCT FROM me OR NEW.status <> 'pending'
           OR NEW.decided_by_id IS NOT NULL OR NEW.sent_at IS NOT NULL THEN
            RAISE EXCEPTION 'A new item is pending, in the name of the person who raises it.'
                USING ERRCODE = '42501';
        END IF;
        NEW.requested_at := now();
        RETURN NEW;
    END IF;
    IF NEW.kind <> OLD.kind OR NEW.case_id <> OLD.case_id
       OR NEW.requested_by_id <> OLD.requested_by_id OR NEW.requested_at <> OLD.requested_at
       OR NEW.subject_staff_id IS DISTINCT FROM OLD.subject_staff_id THEN
        RAISE EXCEPTION 'What an item is about cannot be changed.' USING ERRCODE = '42501';
    END IF;
    IF OLD.status IN ('done', 'withdrawn') THEN
        -- A decided item: only the reply's "sent" mark (by its requester) and the compliment's
        -- "read" mark (by the person it is about) may follow.
        IF NEW.status <> OLD.status OR NEW.outcome IS DISTINCT FROM OLD.outcome
           OR NEW.response <> OLD.response OR NEW.body <> OLD.body
           OR NEW.decided_by_id IS DISTINCT FROM OLD.decided_by_id THEN
            RAISE EXCEPTION 'This item was already %; a decision is never changed.', OLD.status
                USING ERRCODE = '42501';
        END IF;
        IF NEW.sent_at IS DISTINCT FROM OLD.sent_at AND (OLD.requested_by_id <> me
           OR OLD.kind <> 'reply' OR OLD.outcome <> 'approved' OR OLD.sent_at IS NOT NULL) THEN
            RAISE EXCEPTION 'Only an approved reply is marked as sent, once, by the officer who drafted it.'
                USING ERRCODE = '42501';
        END IF;
        IF NEW.seen_at IS DISTINCT FROM OLD.seen_at AND OLD.subject_staff_id IS DISTINCT FROM me THEN
            RAISE EXCEPTION 'Only the person a compliment is about marks its note as read.'
                USING ERRCODE = '42501';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.sent_at IS NOT NULL THEN
        RAISE EXCEPTION 'A reply is marked as sent only once it is approved.' USING ERRCODE = '42501';
    END IF;
    IF NEW.status IN ('done', 'returned') AND NEW.status IS DISTINCT FROM OLD.status THEN
        IF OLD.status <> 'pending' THEN
            RAISE EXCEPTION 'Only a pending item is decided.' USING ERRCODE = '42501';
        END IF;
        IF NEW.decided_by_id IS DISTINCT FROM me THEN
            RAISE EXCEPTION 'A decision is recorded in the name of the person who takes it.'
                USING ERRCODE = '42501';
        END IF;
        IF OLD.requested_by_id = me OR OLD.subject_staff_id = me THEN
            RAISE EXCEPTION 'Nobody decides an item they raised or that is about them.'
                USING ERRCODE = '42501';
        END IF;
        needed := CASE OLD.kind WHEN 'reply' THEN 'vet_replies' ELSE 'decide_approvals' END;
        IF NOT desk_has_permission(needed) THEN
            RAISE EXCEPTION 'Deciding this needs the permission "%", which your role does not have.',
                needed USING ERRCODE = '42501';
        END IF;
        -- The decision fits the kind (desk.domain.work_items.DECISIONS), is written down, and
        -- leaves what the requester wrote as it was (an edited reply is the response).
        IF NOT ((NEW.status = 'returned' AND NEW.outcome IS NULL)
                OR (NEW.status = 'done' AND (OLD.kind, coalesce(NEW.outcome, '')) IN (
                    ('review', 'upheld'), ('review', 'changed'), ('reply', 'approved'),
                    ('compliment', 'acknowledged')))) THEN
            RAISE EXCEPTION 'This decision does not fit a % item.', OLD.kind
                USING ERRCODE = '42501';
        END IF;
        IF btrim(NEW.response) = '' OR NEW.body <> OLD.body THEN
            RAISE EXCEPTION 'A decision is written down, and what was asked is kept as it was.'
                USING ERRCODE = '42501';
        END IF;
        NEW.decided_at := now();
        RETURN NEW;
    END IF;
    -- An open item keeps its last decision's words (a return for more information): only a
    -- decision above writes them.
    IF NEW.outcome IS DISTINCT FROM OLD.outcome OR NEW.response <> OLD.response
       OR NEW.decided_by_id IS DISTINCT FROM OLD.decided_by_id
       OR NEW.decided_at IS DISTINCT FROM OLD.decided_at THEN
        RAISE EXCEPTION 'Only a decision writes an outcome or a response.' USING ERRCODE = '42501';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status OR NEW.body <> OLD.body THEN
        IF NOT (OLD.status IN ('pending', 'returned')
                AND NEW.status IN ('pending', 'withdrawn', OLD.status)) THEN
            RAISE EXCEPTION 'An item is decided, resubmitted or withdrawn; nothing else.'
                USING ERRCODE = '42501';
        END IF;
        IF OLD.requested_by_id <> me THEN
            RAISE EXCEPTION 'Only the person who raised an item resubmits or withdraws it.'
                USING ERRCODE = '42501';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.assigned_to_id IS DISTINCT FROM OLD.assigned_to_id THEN
        needed := CASE OLD.kind WHEN 'reply' THEN 'vet_replies' ELSE 'decide_approvals' END;
        IF NOT desk_has_permission(needed) THEN
            RAISE EXCEPTION 'Passing an item on needs the permission "%".', needed
                USING ERRCODE = '42501';
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION desk_notify_work_item() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM pg_notify('desk_requests', json_build_object(
        'item', NEW.id, 'kind', NEW.kind, 'status', NEW.status,
        'assigned_to', NEW.assigned_to_id, 'requested_by', NEW.requested_by_id,
        'case', NEW.case_id)::text);
    RETURN NULL;
END $$;
"""


# The cases with something waiting for the session's person (the cases policy of 0006 asks it):
# now also inbox items, and what waits for someone away today whose deputy they are.
_AWAITING = """
CREATE OR REPLACE FUNCTION desk_cases_awaiting_me() RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH me AS (SELECT id FROM staff WHERE db_role = session_user),
    covering AS (
        SELECT id FROM me
        UNION
        SELECT s.id FROM staff s JOIN me ON s.deputy_id = me.id
        WHERE current_date BETWEEN s.away_from AND s.away_until
    )
    SELECT case_id FROM approval_requests WHERE assigned_to_id IN (SELECT id FROM covering)
    UNION
    SELECT case_id FROM work_items WHERE assigned_to_id IN (SELECT id FROM covering)
$$;
"""
_AWAITING_BEFORE = """
CREATE OR REPLACE FUNCTION desk_cases_awaiting_me() RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT case_id FROM approval_requests
    WHERE assigned_to_id = (SELECT id FROM staff WHERE db_role = session_user)
$$;
"""


def upgrade() -> None:
    op.create_table('work_items',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('uuid', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('case_id', BigId, nullable=False),
    sa.Column('subject_staff_id', BigId, nullable=True),
    sa.Column('origin', sa.String(length=20), server_default='', nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('requested_by_id', BigId, nullable=False),
    sa.Column('requested_at', UtcDateTime, nullable=False),
    sa.Column('assigned_to_id', BigId, nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('response', sa.Text(), server_default='', nullable=False),
    sa.Column('decided_by_id', BigId, nullable=True),
    sa.Column('decided_at', UtcDateTime, nullable=True),
    sa.Column('sent_at', UtcDateTime, nullable=True),
    sa.Column('seen_at', UtcDateTime, nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['staff.id'], name=op.f('fk_work_items_assigned_to_id_staff')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_work_items_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff.id'], name=op.f('fk_work_items_decided_by_id_staff')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['staff.id'], name=op.f('fk_work_items_requested_by_id_staff')),
    sa.ForeignKeyConstraint(['subject_staff_id'], ['staff.id'], name=op.f('fk_work_items_subject_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_items')),
    sa.UniqueConstraint('uuid', name=op.f('uq_work_items_uuid'))
    )
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.create_index('ix_work_items_assignee_status', ['assigned_to_id', 'status', 'requested_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_items_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_work_items_requester', ['requested_by_id', 'requested_at'], unique=False)
        batch_op.create_index('ix_work_items_subject', ['subject_staff_id', 'decided_at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_AWAITING)
        op.execute(_CHECK)
        op.execute(
            "CREATE TRIGGER work_items_check BEFORE INSERT OR UPDATE ON work_items "
            "FOR EACH ROW EXECUTE FUNCTION desk_check_work_item()"
        )
        op.execute(
            "CREATE TRIGGER work_items_notify AFTER INSERT OR UPDATE ON work_items "
            "FOR EACH ROW EXECUTE FUNCTION desk_notify_work_item()"
        )
        op.execute(
            "CREATE TRIGGER work_items_kept BEFORE DELETE OR TRUNCATE ON work_items "
            "FOR EACH STATEMENT EXECUTE FUNCTION desk_refuse_request_delete()"
        )
        op.execute("ALTER TABLE work_items ENABLE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY work_items_scope ON work_items USING ("
            "requested_by_id = (SELECT desk_session_staff_id()) "
            "OR assigned_to_id = (SELECT desk_session_staff_id()) "
            "OR subject_staff_id = (SELECT desk_session_staff_id()) "
            "OR EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id))"
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
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_AWAITING_BEFORE)
        op.execute("DROP TABLE work_items")
        op.execute("DROP FUNCTION IF EXISTS desk_check_work_item()")
        op.execute("DROP FUNCTION IF EXISTS desk_notify_work_item()")
        return
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.drop_index('ix_work_items_subject')
        batch_op.drop_index('ix_work_items_requester')
        batch_op.drop_index(batch_op.f('ix_work_items_case_id'))
        batch_op.drop_index('ix_work_items_assignee_status')
    op.drop_table('work_items')
