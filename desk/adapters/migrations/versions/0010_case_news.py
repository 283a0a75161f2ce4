"""case news: a case saved, or a line added to its timeline, is announced on the desk_cases
channel

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 12:00:00

On PostgreSQL the database NOTIFYs every listening client (desk.adapters.notifications) when a
case is inserted or updated (its id, version and centre: enough to know whether the case on
someone's screen is out of date, and small) and when a contact, update, note or change is written
to a case's timeline (the case's id). No table changes; the embedded database needs no trigger:
its listener reads the newest ``updated_at`` and timeline id once a second.
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOTIFY = r"""
CREATE FUNCTION desk_notify_case() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM pg_notify('desk_cases', json_build_object(
        'case', NEW.id, 'version', NEW.version, 'centre', NEW.centre_id)::text);
    RETURN NULL;
END $$;

CREATE FUNCTION desk_notify_case_event() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM pg_notify('desk_cases', json_build_object('case', NEW.case_id)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER cases_notify AFTER INSERT OR UPDATE ON cases
    FOR EACH ROW EXECUTE FUNCTION desk_notify_case();
CREATE TRIGGER case_events_notify AFTER INSERT ON case_events
    FOR EACH ROW EXECUTE FUNCTION desk_notify_case_event();
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_NOTIFY)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS case_events_notify ON case_events")
        op.execute("DROP TRIGGER IF EXISTS cases_notify ON cases")
        op.execute("DROP FUNCTION IF EXISTS desk_notify_case_event()")
        op.execute("DROP FUNCTION IF EXISTS desk_notify_case()")
