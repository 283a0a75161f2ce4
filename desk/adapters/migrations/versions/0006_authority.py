"""authority: permissions of roles, kinds of request, authority limits, approval requests; on
PostgreSQL the database itself refuses what a staff login may not do

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 09:10:00

Existing roles whose names are on the shipped competency ladder get that rung's permissions and
limits; any other role gets the permissions of a counter officer and no limits, so nobody gains
authority by this upgrade.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

# Frozen copies of the shipped defaults (desk.domain.authority may change later; this must not).
_OFFICER = ("create_cases", "view_centre_cases", "grant_waivers", "grant_claims")
_LADDER: dict[str, tuple[tuple[str, ...], dict[str, int]]] = {
    "Counter Officer": (_OFFICER, {"waiver": 5_000, "claim": 10_000, "refund": 10_000}),
    "Senior Officer": (
        (*_OFFICER, "reassign"),
        {"waiver": 20_000, "claim": 30_000, "refund": 30_000},
    ),
    "Supervisor": (
        (*_OFFICER, "reassign", "decide_approvals", "vet_replies", "view_reports",
         "reveal_identifiers"),
        {"waiver": 100_000, "claim": 200_000, "refund": 200_000},
    ),
    "Manager": (
        (*_OFFICER, "reassign", "decide_approvals", "vet_replies", "view_reports",
         "reveal_identifiers", "view_all_cases", "view_audit"),
        {"waiver": 1_000_000, "claim": 2_000_000, "refund": 2_000_000},
    ),
    "Administrator": (
        ("create_cases", "view_all_cases", "view_reports", "manage_staff", "manage_roles",
         "manage_limits", "manage_scripts", "manage_organisation", "view_audit",
         "reveal_identifiers"),
        {},
    ),
}
_KINDS = (
    ("waiver", "Fee waiver", "grant_waivers"),
    ("claim", "Claim", "grant_claims"),
    ("refund", "Refund", "grant_claims"),
)

# Configuration tables a staff login writes only with the matching permission.
GUARDED = {
    "roles": "manage_roles",
    "role_permissions": "manage_roles",
    "request_kinds": "manage_limits",
    "authority_limits": "manage_limits",
    "staff": "manage_staff",
    "service_centres": "manage_organisation",
    "specialist_teams": "manage_organisation",
    "categories": "manage_organisation",
}
# Tables whose rows belong to a case and are seen exactly when the case is.
CASE_CHILDREN = ("case_events", "case_transactions", "script_runs")


def upgrade() -> None:
    with op.batch_alter_table('roles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    op.create_table('role_permissions',
    sa.Column('role_id', BigId, nullable=False),
    sa.Column('permission', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['role_id'], ['roles.id'], name=op.f('fk_role_permissions_role_id_roles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('role_id', 'permission', name=op.f('pk_role_permissions'))
    )
    op.create_table('request_kinds',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('grant_permission', sa.String(length=40), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_kinds')),
    sa.UniqueConstraint('code', name=op.f('uq_request_kinds_code'))
    )
    op.create_table('authority_limits',
    sa.Column('role_id', BigId, nullable=False),
    sa.Column('kind_id', BigId, nullable=False),
    sa.Column('limit_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['kind_id'], ['request_kinds.id'], name=op.f('fk_authority_limits_kind_id_request_kinds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_id'], ['roles.id'], name=op.f('fk_authority_limits_role_id_roles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('role_id', 'kind_id', name=op.f('pk_authority_limits'))
    )
    op.create_table('approval_requests',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('uuid', sa.Uuid(), nullable=False),
    sa.Column('case_id', BigId, nullable=False),
    sa.Column('customer_id', BigId, nullable=False),
    sa.Column('kind_id', BigId, nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recommendation', sa.Text(), nullable=False),
    sa.Column('alternatives_offered', sa.Text(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('requested_by_id', BigId, nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('assigned_to_id', BigId, nullable=True),
    sa.Column('decided_by_id', BigId, nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['staff.id'], name=op.f('fk_approval_requests_assigned_to_id_staff')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_approval_requests_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_approval_requests_customer_id_customers')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff.id'], name=op.f('fk_approval_requests_decided_by_id_staff')),
    sa.ForeignKeyConstraint(['kind_id'], ['request_kinds.id'], name=op.f('fk_approval_requests_kind_id_request_kinds')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['staff.id'], name=op.f('fk_approval_requests_requested_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_requests')),
    sa.UniqueConstraint('uuid', name=op.f('uq_approval_requests_uuid'))
    )
    with op.batch_alter_table('approval_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_requests_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_approval_requests_customer_kind', ['customer_id', 'kind_id', 'status'], unique=False)
        batch_op.create_index('ix_approval_requests_status_requested', ['status', 'requested_at'], unique=False)
        batch_op.create_index(
            'ix_approval_requests_assigned_case', ['assigned_to_id', 'case_id'], unique=False
        )
        batch_op.create_index(
            'ix_approval_requests_assignee_pending', ['assigned_to_id', 'requested_at', 'id'],
            unique=False, postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )

    _seed_defaults()
    if op.get_bind().dialect.name == "postgresql":
        _enforce_in_postgresql()


def _seed_defaults() -> None:
    conn = op.get_bind()
    kinds = sa.table('request_kinds', sa.column('id'), sa.column('code'), sa.column('label'),
                     sa.column('grant_permission'), sa.column('active', sa.Boolean))
    conn.execute(kinds.insert(), [
        {"code": c, "label": label, "grant_permission": p, "active": True} for c, label, p in _KINDS
    ])
    kind_ids = dict(conn.execute(sa.text("SELECT code, id FROM request_kinds")).all())
    permissions, limits = [], []
    for role_id, name in conn.execute(sa.text("SELECT id, name FROM roles")).all():
        granted, role_limits = _LADDER.get(name, (_OFFICER, {}))
        permissions += [{"role_id": role_id, "permission": p} for p in granted]
        limits += [
            {"role_id": role_id, "kind_id": kind_ids[k], "limit_minor": v}
            for k, v in role_limits.items()
        ]
    if permissions:
        conn.execute(sa.text(
            "INSERT INTO role_permissions (role_id, permission) VALUES (:role_id, :permission)"
        ), permissions)
    if limits:
        conn.execute(sa.text(
            "INSERT INTO authority_limits (role_id, kind_id, limit_minor) "
            "VALUES (:role_id, :kind_id, :limit_minor)"
        ), limits)
    existing = {k for (k,) in conn.execute(sa.text("SELECT key FROM settings")).all()}
    if "grant_window_days" not in existing:
        conn.execute(sa.text(
            "INSERT INTO settings (key, value) VALUES ('grant_window_days', '365')"
        ))


# --- PostgreSQL: the database is the authority -------------------------------------------------

_FUNCTIONS = r"""
-- Who is at the keyboard: the staff row of the login role (session_user survives SET ROLE and
-- SECURITY DEFINER calls, so it always names the person).
-- PL/pgSQL, not SQL: these run in every query's row-level policy, and PL/pgSQL keeps its plans
-- for the session (a SECURITY DEFINER SQL function is planned again on every call).
CREATE FUNCTION desk_session_staff_id() RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    RETURN (SELECT id FROM staff WHERE db_role = session_user);
END $$;

CREATE FUNCTION desk_has_permission(wanted text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    RETURN EXISTS (
        SELECT 1 FROM staff s JOIN role_permissions p ON p.role_id = s.role_id
        WHERE s.db_role = session_user AND s.active AND p.permission = wanted);
END $$;

-- True for the schema owner (migrations, operators' maintenance, SECURITY DEFINER functions).
CREATE FUNCTION desk_acting_as_owner(relation oid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
    SELECT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = relation), 'USAGE')
$$;

-- The centre whose cases this person sees (NULL without the permission).
CREATE FUNCTION desk_scope_centre() RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    RETURN (SELECT s.centre_id FROM staff s
            WHERE s.db_role = session_user AND s.active
              AND EXISTS (SELECT 1 FROM role_permissions p
                          WHERE p.role_id = s.role_id AND p.permission = 'view_centre_cases'));
END $$;

-- Cases with a request waiting for this person (a manager up the chain may sit elsewhere).
CREATE FUNCTION desk_cases_awaiting_me() RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT case_id FROM approval_requests
    WHERE assigned_to_id = (SELECT id FROM staff WHERE db_role = session_user)
$$;

-- The person's own limit for a kind of request (0 when none is set).
CREATE FUNCTION desk_my_limit(kind bigint) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce((SELECT l.limit_minor FROM authority_limits l JOIN staff s
                     ON s.role_id = l.role_id
                     WHERE s.db_role = session_user AND l.kind_id = kind), 0)
$$;

-- What the customer already received of this kind within the rolling window (all centres).
CREATE FUNCTION desk_prior_total(customer bigint, kind bigint, excluding bigint)
RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce(sum(decided_amount_minor), 0)::bigint FROM approval_requests
    WHERE customer_id = customer AND kind_id = kind AND status IN ('granted', 'approved')
      AND id IS DISTINCT FROM excluding
      AND decided_at > now() - make_interval(days => coalesce(
            (SELECT value::int FROM settings WHERE key = 'grant_window_days'), 365))
$$;

CREATE FUNCTION desk_guard_configuration() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF NOT desk_acting_as_owner(TG_RELID) AND NOT desk_has_permission(TG_ARGV[0]) THEN
        RAISE EXCEPTION 'Changing % needs the permission "%", which your role does not have.',
            replace(TG_TABLE_NAME, '_', ' '), TG_ARGV[0] USING ERRCODE = '42501';
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION desk_guard_setting() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    setting_key text := CASE WHEN TG_OP = 'DELETE' THEN OLD.key ELSE NEW.key END;
    needed text := CASE setting_key WHEN 'grant_window_days' THEN 'manage_limits'
                   ELSE 'manage_organisation' END;
BEGIN
    IF NOT desk_acting_as_owner(TG_RELID) AND NOT desk_has_permission(needed) THEN
        RAISE EXCEPTION 'Changing the setting % needs the permission "%", which your role does not have.',
            setting_key, needed USING ERRCODE = '42501';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER settings_guard BEFORE INSERT OR UPDATE OR DELETE ON settings
    FOR EACH ROW EXECUTE FUNCTION desk_guard_setting();

CREATE FUNCTION desk_check_approval() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    me bigint;
    needed text;
    lim bigint;
    prior bigint;
BEGIN
    IF desk_acting_as_owner(TG_RELID) THEN
        RETURN NEW;
    END IF;
    me := desk_session_staff_id();
    IF me IS NULL OR NOT (SELECT active FROM staff WHERE id = me) THEN
        RAISE EXCEPTION 'Only an active staff member may make or decide requests.'
            USING ERRCODE = '42501';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.requested_by_id IS DISTINCT FROM me THEN
            RAISE EXCEPTION 'A request is made in the name of the person who makes it.'
                USING ERRCODE = '42501';
        END IF;
        IF NEW.status NOT IN ('pending', 'granted') THEN
            RAISE EXCEPTION 'A new request is either pending or granted on the spot.'
                USING ERRCODE = '42501';
        END IF;
        NEW.requested_at := now();
    ELSE
        IF OLD.status NOT IN ('pending', 'returned') THEN
            RAISE EXCEPTION 'This request was already %; a decision is never changed.', OLD.status
                USING ERRCODE = '42501';
        END IF;
        IF NEW.requested_by_id <> OLD.requested_by_id OR NEW.customer_id <> OLD.customer_id
           OR NEW.case_id <> OLD.case_id OR NEW.kind_id <> OLD.kind_id
           OR NEW.requested_at <> OLD.requested_at
           OR (NEW.amount_minor <> OLD.amount_minor
               AND NOT (OLD.status = 'returned' AND OLD.requested_by_id = me)) THEN
            RAISE EXCEPTION 'What was asked cannot be changed, except by its requester after it was returned.'
                USING ERRCODE = '42501';
        END IF;
        IF NEW.status = 'withdrawn' AND OLD.requested_by_id <> me THEN
            RAISE EXCEPTION 'Only the person who asked may withdraw a request.'
                USING ERRCODE = '42501';
        END IF;
    END IF;

    IF NEW.status IN ('granted', 'approved', 'rejected', 'returned')
       AND (TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status) THEN
        IF NEW.decided_by_id IS DISTINCT FROM me THEN
            RAISE EXCEPTION 'A decision is recorded in the name of the person who takes it.'
                USING ERRCODE = '42501';
        END IF;
        NEW.decided_at := now();
        IF NEW.status = 'granted' THEN
            IF TG_OP <> 'INSERT' THEN
                RAISE EXCEPTION 'Only a new request is granted on the spot; a pending one is decided by someone else.'
                    USING ERRCODE = '42501';
            END IF;
            needed := (SELECT grant_permission FROM request_kinds WHERE id = NEW.kind_id);
        ELSE
            IF NEW.requested_by_id = me THEN
                RAISE EXCEPTION 'Nobody decides their own request; another person must decide it.'
                    USING ERRCODE = '42501';
            END IF;
            needed := 'decide_approvals';
        END IF;
        IF NOT desk_has_permission(needed) THEN
            RAISE EXCEPTION 'Your role does not have the permission "%".', needed
                USING ERRCODE = '42501';
        END IF;
        IF NEW.status IN ('granted', 'approved') THEN
            IF NEW.decided_amount_minor IS NULL OR NEW.decided_amount_minor < 0
               OR NEW.decided_amount_minor > NEW.amount_minor THEN
                RAISE EXCEPTION 'The amount granted must be between zero and the amount asked.'
                    USING ERRCODE = '23514';
            END IF;
            -- One grant at a time per customer, so two officers cannot both fit under a limit.
            PERFORM pg_advisory_xact_lock(7243, (NEW.customer_id % 2147483647)::int);
            lim := desk_my_limit(NEW.kind_id);
            prior := desk_prior_total(NEW.customer_id, NEW.kind_id, NEW.id);
            IF prior + NEW.decided_amount_minor > lim THEN
                RAISE EXCEPTION 'Above your authority: your limit for this kind is % (minor units) and this customer has already received % in the period.', lim, prior
                    USING ERRCODE = '42501';
            END IF;
        ELSE
            NEW.decided_amount_minor := NULL;
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER approval_requests_authority BEFORE INSERT OR UPDATE ON approval_requests
    FOR EACH ROW EXECUTE FUNCTION desk_check_approval();

CREATE FUNCTION desk_refuse_request_delete() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF NOT desk_acting_as_owner(TG_RELID) THEN
        RAISE EXCEPTION 'Requests and decisions are kept; withdraw a request instead of deleting it.'
            USING ERRCODE = '42501';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER approval_requests_kept BEFORE DELETE OR TRUNCATE ON approval_requests
    FOR EACH STATEMENT EXECUTE FUNCTION desk_refuse_request_delete();
"""

# Live updates: every open inbox and window hears of a new or decided request, and of a change of
# permissions or limits, within moments and without polling (LISTEN/NOTIFY).
_NOTIFY = r"""
CREATE FUNCTION desk_notify_request() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM pg_notify('desk_requests', json_build_object(
        'id', NEW.id, 'status', NEW.status, 'assigned_to', NEW.assigned_to_id,
        'requested_by', NEW.requested_by_id, 'case', NEW.case_id)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER approval_requests_notify AFTER INSERT OR UPDATE ON approval_requests
    FOR EACH ROW EXECUTE FUNCTION desk_notify_request();

CREATE FUNCTION desk_notify_configuration() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM pg_notify('desk_configuration', TG_TABLE_NAME);
    RETURN NULL;
END $$;
"""
NOTIFYING = (
    "roles", "role_permissions", "authority_limits", "request_kinds", "staff", "settings",
    "service_centres", "specialist_teams", "categories",
)


# Admin actions that need PostgreSQL privileges: run as the owner, after checking the caller.
# Only the owner and the staff group may execute them; passwords arrive as SCRAM verifiers.
_ADMIN_FUNCTIONS = r"""
CREATE FUNCTION desk_login_role(p_username text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
BEGIN
    IF p_username !~ '^[a-z][a-z0-9._-]{0,29}$' OR position('__' in p_username) > 0 THEN
        RAISE EXCEPTION 'A user name starts with a letter and has at most 30 lower-case letters, digits, dots, dashes or single underscores.'
            USING ERRCODE = '22023';
    END IF;
    RETURN lower(current_database()) || '__' || p_username;
END $$;

CREATE FUNCTION desk_require_manage_staff() RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF desk_session_staff_id() IS NOT NULL AND NOT desk_has_permission('manage_staff') THEN
        RAISE EXCEPTION 'Managing staff accounts needs the permission "manage_staff", which your role does not have.'
            USING ERRCODE = '42501';
    END IF;
END $$;

CREATE FUNCTION desk_require_verifier(verifier text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF verifier IS NULL OR left(verifier, 14) <> 'SCRAM-SHA-256$' THEN
        RAISE EXCEPTION 'A password is set as a SCRAM-SHA-256 verifier, never in plain text.'
            USING ERRCODE = '22023';
    END IF;
END $$;

CREATE FUNCTION desk_create_login(p_username text, verifier text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    role_name text := desk_login_role(p_username);
    grp text := lower(current_database()) || '__@staff';
BEGIN
    PERFORM desk_require_manage_staff();
    PERFORM desk_require_verifier(verifier);
    IF NOT EXISTS (SELECT 1 FROM staff WHERE username = p_username) THEN
        RAISE EXCEPTION 'There is no staff account %.', p_username USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
        EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L', role_name, verifier);
    ELSE
        EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', role_name, verifier);
    END IF;
    EXECUTE format('GRANT %I TO %I', grp, role_name);
    UPDATE staff SET db_role = role_name, must_change_password = true, active = true
        WHERE username = p_username;
    RETURN role_name;
END $$;

-- An admin's reset (the person must choose a new one at the next login), or one's own change.
CREATE FUNCTION desk_set_password(p_username text, verifier text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    target staff%ROWTYPE;
    own boolean;
BEGIN
    PERFORM desk_require_verifier(verifier);
    SELECT * INTO target FROM staff WHERE username = p_username;
    IF NOT FOUND OR target.db_role IS NULL THEN
        RAISE EXCEPTION 'There is no login for %.', p_username USING ERRCODE = '22023';
    END IF;
    own := target.db_role = session_user;
    IF NOT own THEN
        PERFORM desk_require_manage_staff();
    END IF;
    EXECUTE format('ALTER ROLE %I PASSWORD %L', target.db_role, verifier);
    UPDATE staff SET must_change_password = NOT own WHERE id = target.id;
END $$;

CREATE FUNCTION desk_set_login_enabled(p_username text, enabled boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    target staff%ROWTYPE;
BEGIN
    PERFORM desk_require_manage_staff();
    SELECT * INTO target FROM staff WHERE username = p_username;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'There is no staff account %.', p_username USING ERRCODE = '22023';
    END IF;
    IF target.db_role = session_user AND NOT enabled THEN
        RAISE EXCEPTION 'You cannot disable your own account.' USING ERRCODE = '42501';
    END IF;
    IF target.db_role IS NOT NULL AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = target.db_role) THEN
        EXECUTE format('ALTER ROLE %I %s', target.db_role, CASE WHEN enabled THEN 'LOGIN' ELSE 'NOLOGIN' END);
    END IF;
    UPDATE staff SET active = enabled WHERE id = target.id;
END $$;
"""
ADMIN_SIGNATURES = (
    "desk_create_login(text, text)",
    "desk_set_password(text, text)",
    "desk_set_login_enabled(text, boolean)",
    "desk_require_manage_staff()",
    "desk_require_verifier(text)",
    "desk_login_role(text)",
)

_CASE_SCOPE = """
    (SELECT desk_has_permission('view_all_cases'))
    OR centre_id = (SELECT desk_scope_centre())
    OR assigned_officer_id = (SELECT desk_session_staff_id())
    OR created_by_id = (SELECT desk_session_staff_id())
    OR id IN (SELECT desk_cases_awaiting_me())
"""


def _let_search_use_its_index() -> None:
    """Under row-level security PostgreSQL applies a user's condition only after the policy's,
    unless its function is marked LEAKPROOF: without that the text search (``@@``) cannot use its
    index and a staff member's search reads the whole table. ``ts_match_vq`` returns a boolean of
    its two arguments and raises no data-dependent error, so it reveals nothing of rows the policy
    hides. Only a superuser may mark it; an owner who is not one is told to ask for it once."""
    bind = op.get_bind()
    superuser = bind.execute(
        sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    ).scalar()
    if superuser:
        op.execute("ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF")
    else:
        import logging

        logging.getLogger(__name__).warning(
            "Case search under row-level security will be slow: ask a superuser to run "
            "ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF "
            "in this database once."
        )


def _enforce_in_postgresql() -> None:
    op.execute(_FUNCTIONS)
    # Short queries only: the row-level policies inflate cost estimates until PostgreSQL would
    # JIT-compile an inbox count (a quarter of a second) that runs in milliseconds.
    database = op.get_bind().execute(sa.text("SELECT current_database()")).scalar_one()
    op.execute(f'ALTER DATABASE "{database}" SET jit = off')
    op.execute(_ADMIN_FUNCTIONS)
    op.execute(_NOTIFY)
    for table in NOTIFYING:
        op.execute(
            f"CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION desk_notify_configuration()"
        )
    for signature in ADMIN_SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    # Only staff (through their group) and the owner connect; other roles of the server do not.
    database = op.get_bind().execute(sa.text("SELECT current_database()")).scalar_one()
    op.execute(f'REVOKE CONNECT, TEMPORARY ON DATABASE "{database}" FROM PUBLIC')
    for table, permission in GUARDED.items():
        op.execute(
            f"CREATE TRIGGER {table}_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION "
            f"desk_guard_configuration('{permission}')"
        )
    _let_search_use_its_index()
    op.execute("ALTER TABLE cases ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY cases_scope ON cases USING ({_CASE_SCOPE}) WITH CHECK ({_CASE_SCOPE})")
    for table in CASE_CHILDREN:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_scope ON {table} "
            "USING (EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id))"
        )
    op.execute("ALTER TABLE approval_requests ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY approval_requests_scope ON approval_requests USING ("
        "requested_by_id = (SELECT desk_session_staff_id()) "
        "OR assigned_to_id = (SELECT desk_session_staff_id()) "
        "OR EXISTS (SELECT 1 FROM cases c WHERE c.id = case_id))"
    )
    # Staff group privileges for the new tables (the group exists once staff logins exist).
    group = op.get_bind().execute(sa.text("SELECT current_database() || '__@staff'")).scalar_one()
    exists = op.get_bind().execute(
        sa.text("SELECT 1 FROM pg_roles WHERE rolname = :g"), {"g": group}
    ).first()
    if exists:
        from desk.adapters.pg_roles import grant_staff_privileges

        grant_staff_privileges(op.get_bind(), group)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS approval_requests_scope ON approval_requests")
        for table in CASE_CHILDREN:
            op.execute(f"DROP POLICY IF EXISTS {table}_scope ON {table}")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute("DROP POLICY IF EXISTS cases_scope ON cases")
        op.execute("ALTER TABLE cases DISABLE ROW LEVEL SECURITY")
        for table in (*GUARDED, "settings"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_guard ON {table}")
        op.execute("DROP TRIGGER IF EXISTS approval_requests_authority ON approval_requests")
        op.execute("DROP TRIGGER IF EXISTS approval_requests_notify ON approval_requests")
        for table in NOTIFYING:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_notify ON {table}")
        op.execute("DROP TRIGGER IF EXISTS approval_requests_kept ON approval_requests")
        for signature in (
            *ADMIN_SIGNATURES,
            "desk_notify_request()",
            "desk_notify_configuration()",
            "desk_refuse_request_delete()", "desk_check_approval()", "desk_guard_configuration()",
            "desk_guard_setting()",
            "desk_prior_total(bigint, bigint, bigint)", "desk_my_limit(bigint)",
            "desk_cases_awaiting_me()", "desk_scope_centre()", "desk_acting_as_owner(oid)",
            "desk_has_permission(text)", "desk_session_staff_id()",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    with op.batch_alter_table('approval_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_approval_requests_assignee_pending')
        batch_op.drop_index('ix_approval_requests_assigned_case')
        batch_op.drop_index('ix_approval_requests_status_requested')
        batch_op.drop_index('ix_approval_requests_customer_kind')
        batch_op.drop_index(batch_op.f('ix_approval_requests_case_id'))
    op.drop_table('approval_requests')
    op.drop_table('authority_limits')
    op.drop_table('request_kinds')
    op.drop_table('role_permissions')
    op.execute("DELETE FROM settings WHERE key = 'grant_window_days'")
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('must_change_password')
    with op.batch_alter_table('roles', schema=None) as batch_op:
        batch_op.drop_column('version')
