"""script library: guided scripts live in the shared database as immutable published versions, a
draft each, moods an admin assigns, retirement; each officer's language; where escalated runs turned

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 11:50:00

The scripts shipped in ``resources/scripts`` are published as they stand when the database is
upgraded (or created), so every client reads one library from the database from then on. Runs
recorded before this revision keep their script id and version, which now name a stored version.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UtcDateTime = sa.DateTime(timezone=True)

_IMMUTABLE = "Published script versions cannot be changed or deleted; publish a new version instead."

_PG_FUNCTIONS = f"""
CREATE FUNCTION desk_refuse_published_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    RAISE EXCEPTION '{_IMMUTABLE}' USING ERRCODE = '42501';
END $$;

CREATE FUNCTION desk_notify_scripts() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM pg_notify('desk_scripts', TG_TABLE_NAME);
    RETURN NULL;
END $$;

CREATE FUNCTION desk_notify_safety() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM pg_notify('desk_safety', json_build_object(
        'id', NEW.id, 'centre', NEW.centre_id,
        'acknowledged', NEW.acknowledged_at IS NOT NULL)::text);
    RETURN NULL;
END $$;

-- Raised as oneself, in one's own centre; acknowledged only by someone who decides approvals.
CREATE FUNCTION desk_check_safety_alert() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF desk_acting_as_owner(TG_RELID) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.raised_by_id IS DISTINCT FROM desk_session_staff_id()
           OR NEW.acknowledged_at IS NOT NULL THEN
            RAISE EXCEPTION 'A safety alert is raised by the person logged in, unacknowledged.'
                USING ERRCODE = '42501';
        END IF;
        RETURN NEW;
    END IF;
    IF NOT desk_has_permission('decide_approvals') THEN
        RAISE EXCEPTION 'Acknowledging a safety alert needs the permission "decide_approvals".'
            USING ERRCODE = '42501';
    END IF;
    IF (NEW.raised_by_id, NEW.centre_id, NEW.raised_at, NEW.uuid)
       IS DISTINCT FROM (OLD.raised_by_id, OLD.centre_id, OLD.raised_at, OLD.uuid) THEN
        RAISE EXCEPTION 'Only the acknowledgement of a safety alert can change.'
            USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END $$;
"""


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=20), server_default='', nullable=False))
    with op.batch_alter_table('script_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('turn_script_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('turn_step_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('turn_answer_id', sa.String(length=100), nullable=True))
    op.create_table('scripts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('proposed_for', sa.String(length=200), nullable=True),
    sa.Column('created_at', UtcDateTime, nullable=False),
    sa.Column('retired_at', UtcDateTime, nullable=True),
    sa.Column('retired_by_id', BigId, nullable=True),
    sa.Column('revision', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['retired_by_id'], ['staff.id'], name=op.f('fk_scripts_retired_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scripts'))
    )
    op.create_table('script_versions',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('uuid', sa.Uuid(), nullable=False),
    sa.Column('script_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('published_at', UtcDateTime, nullable=False),
    sa.Column('published_by_id', BigId, nullable=True),
    sa.ForeignKeyConstraint(['published_by_id'], ['staff.id'], name=op.f('fk_script_versions_published_by_id_staff')),
    sa.ForeignKeyConstraint(['script_id'], ['scripts.id'], name=op.f('fk_script_versions_script_id_scripts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_script_versions')),
    sa.UniqueConstraint('script_id', 'version', name=op.f('uq_script_versions_script_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_script_versions_uuid'))
    )
    op.create_table('script_drafts',
    sa.Column('script_id', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('based_on_version', sa.Integer(), nullable=True),
    sa.Column('updated_at', UtcDateTime, nullable=False),
    sa.Column('updated_by_id', BigId, nullable=True),
    sa.Column('revision', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['script_id'], ['scripts.id'], name=op.f('fk_script_drafts_script_id_scripts')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff.id'], name=op.f('fk_script_drafts_updated_by_id_staff')),
    sa.PrimaryKeyConstraint('script_id', name=op.f('pk_script_drafts'))
    )
    op.create_table('safety_alerts',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('uuid', sa.Uuid(), nullable=False),
    sa.Column('raised_by_id', BigId, nullable=False),
    sa.Column('centre_id', BigId, nullable=False),
    sa.Column('case_id', BigId, nullable=True),
    sa.Column('case_reference', sa.String(length=30), server_default='', nullable=False),
    sa.Column('script_id', sa.String(length=64), nullable=True),
    sa.Column('step_id', sa.String(length=100), nullable=True),
    sa.Column('raised_at', UtcDateTime, nullable=False),
    sa.Column('acknowledged_at', UtcDateTime, nullable=True),
    sa.Column('acknowledged_by_id', BigId, nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['staff.id'], name=op.f('fk_safety_alerts_acknowledged_by_id_staff')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_safety_alerts_case_id_cases'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['centre_id'], ['service_centres.id'], name=op.f('fk_safety_alerts_centre_id_service_centres')),
    sa.ForeignKeyConstraint(['raised_by_id'], ['staff.id'], name=op.f('fk_safety_alerts_raised_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_alerts')),
    sa.UniqueConstraint('uuid', name=op.f('uq_safety_alerts_uuid'))
    )
    with op.batch_alter_table('safety_alerts', schema=None) as batch_op:
        batch_op.create_index('ix_safety_alerts_centre_open', ['centre_id', 'acknowledged_at'], unique=False)
    _publish_shipped_scripts()
    _record_escalation_turns()
    if op.get_bind().dialect.name == 'postgresql':
        _enforce_in_postgresql()
    else:
        for event in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER script_versions_refuse_{event.lower()} BEFORE {event} "
                f"ON script_versions BEGIN SELECT RAISE(ABORT, '{_IMMUTABLE}'); END"
            )


def _publish_shipped_scripts() -> None:
    """Version 1 (or whatever the file says) of every shipped script, published by nobody."""
    from desk.domain.scripts import builtin_directory, load_library

    library = load_library(builtin_directory())
    now = dt.datetime.now(dt.UTC)
    if op.get_bind().dialect.name == 'sqlite':
        now = now.replace(tzinfo=None)
    scripts = sa.table('scripts', sa.column('id'), sa.column('created_at'), sa.column('revision'))
    versions = sa.table(
        'script_versions', sa.column('uuid', sa.Uuid()), sa.column('script_id'),
        sa.column('version'), sa.column('title'), sa.column('source'), sa.column('published_at'),
    )
    for script in library:
        path = builtin_directory() / script.source
        op.bulk_insert(scripts, [{'id': script.id, 'created_at': now, 'revision': 1}])
        op.bulk_insert(versions, [{
            'uuid': uuid.uuid4(), 'script_id': script.id, 'version': script.version,
            'title': script.title.in_language(script.default_language)[:200],
            'source': path.read_text(encoding='utf-8'), 'published_at': now,
        }])


def _record_escalation_turns() -> None:
    """Runs already recorded: the question after which an escalated run turned."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, record FROM script_runs WHERE outcome = 'escalated'"
    )).all()
    for run_id, record in rows:
        try:
            answers = json.loads(record).get('answers') or []
            last = answers[-1]
            turn = (str(last['script_id']), str(last['step_id']), str(last['answer_id']))
        except (ValueError, AttributeError, IndexError, KeyError, TypeError):
            continue
        bind.execute(
            sa.text("UPDATE script_runs SET turn_script_id = :s, turn_step_id = :p, "
                    "turn_answer_id = :a WHERE id = :id"),
            {'s': turn[0][:100], 'p': turn[1][:100], 'a': turn[2][:100], 'id': run_id},
        )


def _enforce_in_postgresql() -> None:
    op.execute(_PG_FUNCTIONS)
    op.execute(
        "CREATE TRIGGER script_versions_immutable BEFORE UPDATE OR DELETE ON script_versions "
        "FOR EACH ROW EXECUTE FUNCTION desk_refuse_published_change()"
    )
    op.execute(
        "CREATE TRIGGER script_versions_not_truncated BEFORE TRUNCATE ON script_versions "
        "FOR EACH STATEMENT EXECUTE FUNCTION desk_refuse_published_change()"
    )
    for table in ('scripts', 'script_versions', 'script_drafts'):
        op.execute(
            f"CREATE TRIGGER {table}_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION "
            "desk_guard_configuration('manage_scripts')"
        )
    for table in ('scripts', 'script_versions'):
        op.execute(
            f"CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION desk_notify_scripts()"
        )
    op.execute(
        "CREATE TRIGGER safety_alerts_notify AFTER INSERT OR UPDATE ON safety_alerts "
        "FOR EACH ROW EXECUTE FUNCTION desk_notify_safety()"
    )
    op.execute(
        "CREATE TRIGGER safety_alerts_check BEFORE INSERT OR UPDATE ON safety_alerts "
        "FOR EACH ROW EXECUTE FUNCTION desk_check_safety_alert()"
    )
    # Seen by the people of the alert's centre, by whoever raised it, and by those who see all.
    op.execute("ALTER TABLE safety_alerts ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY safety_alerts_scope ON safety_alerts USING ("
        "raised_by_id = (SELECT desk_session_staff_id()) "
        "OR centre_id = (SELECT centre_id FROM staff WHERE id = (SELECT desk_session_staff_id())) "
        "OR (SELECT desk_has_permission('view_all_cases')))"
    )
    group = op.get_bind().execute(sa.text("SELECT current_database() || '__@staff'")).scalar_one()
    exists = op.get_bind().execute(
        sa.text("SELECT 1 FROM pg_roles WHERE rolname = :g"), {"g": group}
    ).first()
    if exists:
        from desk.adapters.pg_roles import grant_staff_privileges

        grant_staff_privileges(op.get_bind(), group)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TABLE script_drafts, script_versions, scripts, safety_alerts")
        for function in ('desk_refuse_published_change()', 'desk_notify_scripts()',
                         'desk_notify_safety()', 'desk_check_safety_alert()'):
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
    else:
        op.drop_table('safety_alerts')
        op.drop_table('script_drafts')
        op.drop_table('script_versions')
        op.drop_table('scripts')
    with op.batch_alter_table('script_runs', schema=None) as batch_op:
        batch_op.drop_column('turn_answer_id')
        batch_op.drop_column('turn_step_id')
        batch_op.drop_column('turn_script_id')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('language')
