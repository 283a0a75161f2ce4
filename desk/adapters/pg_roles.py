"""PostgreSQL login roles for staff, named per database so several Desk databases share a server.

A staff member ``ana`` of database ``desk_live`` logs in as ``desk_live__ana``; every login role is
a member of the group role ``desk_live__@staff``, which holds only the privileges the application
needs. Dropping a database's roles removes exactly those with its prefix.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from desk.domain.passwords import username_problem

MAX_ROLE_LENGTH = 63

# Tables staff write; everything else they only read. Row-level security and triggers (schema
# revision 0006) narrow this to the person's scope and authority.
STAFF_WRITABLE = (
    "customers",
    "cases",
    "case_transactions",
    "case_events",
    "reference_counters",
    "script_runs",
    "approval_requests",
    "safety_alerts",
    "work_items",
)

# Configuration: writable only with the matching permission (a trigger checks it).
STAFF_CONFIGURABLE = (
    "roles",
    "role_permissions",
    "request_kinds",
    "authority_limits",
    "staff",
    "service_centres",
    "specialist_teams",
    "categories",
    "settings",
    "scripts",
    "script_drafts",
)

# SECURITY DEFINER functions for admin actions; each checks the caller's permission first.
STAFF_ADMIN_FUNCTIONS = (
    "desk_create_login(text, text)",
    "desk_set_password(text, text)",
    "desk_set_login_enabled(text, boolean)",
    "desk_require_manage_staff()",
    "desk_require_verifier(text)",
    "desk_login_role(text)",
    "desk_set_my_leave(date, date, bigint)",
)

# Tables staff may only add to: never update or delete.
STAFF_APPEND_ONLY = ("audit_events", "script_versions", "client_operations")


class RoleNameError(ValueError):
    pass


def role_prefix(database: str) -> str:
    return f"{database.lower()}__"


def login_role_name(database: str, username: str) -> str:
    """The PostgreSQL role a staff member connects as on this database."""
    username = username.strip().lower()
    problem = username_problem(username)
    if problem:
        raise RoleNameError(problem)
    name = role_prefix(database) + username
    if len(name) > MAX_ROLE_LENGTH:
        raise RoleNameError(
            f"The database name and user name together are too long for PostgreSQL ({name!r})."
        )
    return name


def group_role_name(database: str) -> str:
    # "@" cannot appear in a user name, so the group never collides with a login role.
    return role_prefix(database) + "@staff"


def _ident(name: str) -> str:
    from psycopg import sql  # only a PostgreSQL deployment needs psycopg loaded

    return sql.Identifier(name).as_string()


def _literal(value: str) -> str:
    from psycopg import sql

    return sql.Literal(value).as_string()


def current_database(conn: Connection) -> str:
    return str(conn.execute(text("SELECT current_database()")).scalar_one())


def ensure_group_role(conn: Connection) -> str:
    """Create the database's staff group role (if missing) and give it the app's privileges."""
    database = current_database(conn)
    group = group_role_name(database)
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": group}).first()
    if exists is None:
        conn.execute(text(f"CREATE ROLE {_ident(group)} NOLOGIN"))
    conn.execute(text(f"GRANT CONNECT ON DATABASE {_ident(database)} TO {_ident(group)}"))
    grant_staff_privileges(conn, group)
    return group


def grant_staff_privileges(conn: Connection, group: str) -> None:
    """Give the staff group exactly the table privileges the application needs (idempotent)."""
    who = _ident(group)
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {who}"))
    conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {who}"))
    existing = set(
        conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
    )
    for table in STAFF_WRITABLE:
        if table in existing:
            conn.execute(text(f"GRANT INSERT, UPDATE ON {_ident(table)} TO {who}"))
    conn.execute(text(f"GRANT DELETE ON case_transactions TO {who}"))
    for table in STAFF_CONFIGURABLE:
        if table in existing:
            conn.execute(text(f"GRANT INSERT, UPDATE, DELETE ON {_ident(table)} TO {who}"))
    for table in STAFF_APPEND_ONLY:
        if table in existing:
            conn.execute(text(f"GRANT INSERT ON {_ident(table)} TO {who}"))
    conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {who}"))
    for function in STAFF_ADMIN_FUNCTIONS:
        exists = conn.execute(
            text("SELECT to_regprocedure(:f) IS NOT NULL"), {"f": function}
        ).scalar_one()
        if exists:
            conn.execute(text(f"GRANT EXECUTE ON FUNCTION {function} TO {who}"))


def create_login_role(conn: Connection, username: str, password: str | None) -> str:
    """Create (or re-password) the staff member's login role and record it on the staff row."""
    database = current_database(conn)
    role = login_role_name(database, username)
    group = ensure_group_role(conn)
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    password_clause = f" PASSWORD {_literal(password)}" if password else ""
    verb = "ALTER" if exists else "CREATE"
    conn.execute(text(f"{verb} ROLE {_ident(role)} LOGIN{password_clause}"))
    conn.execute(text(f"GRANT {_ident(group)} TO {_ident(role)}"))
    conn.execute(
        text("UPDATE staff SET db_role = :role WHERE lower(username) = :username"),
        {"role": role, "username": username.lower()},
    )
    return role


def database_roles(conn: Connection, database: str) -> list[str]:
    prefix = role_prefix(database)
    rows = conn.execute(
        text("SELECT rolname FROM pg_roles WHERE starts_with(rolname, :p) ORDER BY rolname"),
        {"p": prefix},
    )
    return [r[0] for r in rows]


def drop_database_roles(conn: Connection, database: str) -> list[str]:
    """Drop every role belonging to ``database`` (run before or after dropping the database).

    Run from a connection to another database on the same server when the database is gone.
    """
    roles = database_roles(conn, database)
    group = group_role_name(database)
    logins = [r for r in roles if r != group]
    for role in [*logins, *([group] if group in roles else [])]:
        if current_database(conn) == database:
            conn.execute(text(f"DROP OWNED BY {_ident(role)}"))
        conn.execute(text(f"DROP ROLE IF EXISTS {_ident(role)}"))
    return roles
