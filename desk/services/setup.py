"""A new organisation on a new database (``desk db init --admin``).

The schema, the organisation's settings from the shipped defaults, the shipped roles ladder with
its permissions and limits, one service centre and the first administrator, whose PostgreSQL
login role is created from a SCRAM verifier made here (the password never reaches the server in
plain text). No demo data. The administrator chooses their own password at the first login, as
every account another person set up does.

``check_database`` reads only: it refuses, before anything is asked or written, a server that
cannot be reached, a role that may not set Desk up, a schema of another version of Desk, another
program's tables, an organisation that is already there, or roles left from an earlier database of
the same name. ``create_organisation`` checks again and writes everything in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import Connection, Engine, inspect, select, text
from sqlalchemy.orm import Session

from desk.adapters import orm
from desk.adapters.database import (
    SchemaState,
    connect,
    refuse_newer_schema,
    schema_state,
    upgrade,
)
from desk.adapters.unit_of_work import UnitOfWork
from desk.domain.authority import DEFAULT_LADDER
from desk.domain.passwords import password_problems, username_problem
from desk.domain.validation import EMAIL_PATTERN, normalise_text
from desk.services import audit
from desk.services.admin import CENTRE_CODE_PATTERN, OPERATOR
from desk.services.errors import DeskError, PasswordRefused

DEFAULT_CENTRE_CODE = "MAIN"
DEFAULT_CENTRE_NAME = "Main Service Centre"
ADMIN_ROLE = "Administrator"

# Serialises two set-ups racing on one PostgreSQL database (any number unique to this purpose).
_SETUP_LOCK = 0x6465736B_696E6974  # "deskinit"

Progress = Callable[[str], None]


class SetupRefused(DeskError):
    """This database or server cannot take a new organisation; nothing was changed."""


class SetupInputError(DeskError):
    """What the operator typed about the new organisation cannot be used; nothing was changed."""


@dataclass(frozen=True)
class NewOrganisation:
    """What the operator says about the new organisation and its first administrator."""

    admin_username: str
    admin_full_name: str
    admin_email: str = ""
    centre_code: str = DEFAULT_CENTRE_CODE
    centre_name: str = DEFAULT_CENTRE_NAME
    name: str = ""  # the organisation's name (printed on slips); empty: the shipped default


@dataclass(frozen=True)
class SetupSummary:
    organisation: str
    schema: str
    roles: tuple[str, ...]
    centre_code: str
    centre_name: str
    admin_username: str
    admin_full_name: str
    login_role: str | None  # PostgreSQL only


# --- what the operator typed ---------------------------------------------------------------------


def checked_input(new: NewOrganisation, *, database: str | None = None) -> NewOrganisation:
    """``new`` normalised, or SetupInputError saying what to change.

    ``database``: the PostgreSQL database's name, whose length counts toward the login role's.
    """
    username = new.admin_username.strip().lower()
    problem = username_problem(username) if username else "Give the first admin's user name."
    if problem:
        raise SetupInputError(problem)
    if database is not None:
        from desk.adapters.pg_roles import RoleNameError, login_role_name

        try:
            login_role_name(database, username)
        except RoleNameError as exc:
            raise SetupInputError(str(exc)) from exc
    full_name = _one_line(new.admin_full_name)
    if not full_name:
        raise SetupInputError("Give the first admin's full name (--name).")
    email = new.admin_email.strip()
    if email and not EMAIL_PATTERN.match(email):
        raise SetupInputError(f"{email!r} is not an e-mail address (name@example.org).")
    code = new.centre_code.strip().upper()
    if not CENTRE_CODE_PATTERN.match(code):
        raise SetupInputError(
            f"{new.centre_code!r} cannot be a centre's code: use 2 to 20 letters, digits or "
            "dashes, for example NTH."
        )
    centre_name = _one_line(new.centre_name)
    if not centre_name:
        raise SetupInputError("Give the service centre's name (--centre-name).")
    organisation = _one_line(new.name) or _default_organisation_name()
    for label, value, maximum in (
        ("full name", full_name, 200),
        ("e-mail address", email, 200),
        ("centre's name", centre_name, 200),
        ("organisation's name", organisation, 200),
    ):
        if len(value) > maximum:
            raise SetupInputError(f"The {label} is longer than {maximum} characters.")
    return replace(
        new,
        admin_username=username,
        admin_full_name=full_name,
        admin_email=email,
        centre_code=code,
        centre_name=centre_name,
        name=organisation,
    )


def check_password(username: str, password: str) -> None:
    """The same rules as every password a person chooses (desk.domain.passwords)."""
    problems = password_problems(username, password)
    if problems:
        raise PasswordRefused("The password is refused: " + " ".join(problems))


def _one_line(value: str) -> str:
    return " ".join(normalise_text(value).split())


def _default_organisation_name() -> str:
    from desk.config import load_organisation_defaults

    return str(load_organisation_defaults()["organisation"]["name"])


# --- the database: may a new organisation go here? ----------------------------------------------


def check_database(engine: Engine) -> SchemaState:
    """Read-only checks before anything is asked or written; each refusal says what to do.

    Raises DatabaseUnavailable (unreachable server, wrong password, missing database),
    SchemaMismatch (a newer Desk's schema) or SetupRefused.
    """
    with connect(engine) as conn:
        if conn.dialect.name == "postgresql":
            _check_owner(conn)
    state = schema_state(engine)
    refuse_newer_schema(state)
    with connect(engine) as conn:
        if state.is_empty:
            others = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
            if others:
                raise SetupRefused(
                    f"{_where(engine)} already holds other tables ({', '.join(sorted(others)[:3])}"
                    f"{', …' if len(others) > 3 else ''}), not a Desk database: give Desk a new, "
                    "empty database. Nothing was changed."
                )
        elif _has_organisation(conn):
            hint = (
                "to bring it to this version of Desk, run `desk db upgrade` instead"
                if not state.up_to_date
                else "add staff with the admin console or `desk staff add`"
            )
            raise SetupRefused(
                f"{_where(engine)} already has an organisation (schema {state.current}); "
                f"{hint}. Nothing was changed."
            )
        if conn.dialect.name == "postgresql":
            _check_no_leftover_roles(conn, engine)
    return state


def _where(engine: Engine) -> str:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return f"The database file {url.database}"
    return f"The database {url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def _shown_url(engine: Engine, username: str, database: str) -> str:
    """A URL as the operator would type it (no driver name, no password, no query)."""
    url = engine.url._replace(password=None).set(username=username, database=database, query={})
    if url.drivername == "postgresql+psycopg":
        url = url.set(drivername="postgresql")
    return str(url.render_as_string(hide_password=False))


def _check_owner(conn: Connection) -> None:
    """The owner sets Desk up: it creates tables, the staff group and login roles."""
    row = conn.execute(
        text(
            "SELECT current_user, r.rolsuper, r.rolcreaterole, "
            "pg_has_role(current_user, d.datdba, 'MEMBER'), pg_get_userbyid(d.datdba), "
            "current_database() "
            "FROM pg_roles r, pg_database d "
            "WHERE r.rolname = current_user AND d.datname = current_database()"
        )
    ).one()
    user, superuser, createrole, owns, owner, database = row
    if superuser:
        return
    if not owns:
        raise SetupRefused(
            f"The role {user} does not own the database {database} (its owner is {owner}): "
            f"run desk db init as the owner, or make {user} the owner "
            f'(ALTER DATABASE "{database}" OWNER TO "{user}"). Nothing was changed.'
        )
    if not createrole:
        raise SetupRefused(
            f"The role {user} may not create roles, and staff log in as roles of their own: "
            f'a superuser runs ALTER ROLE "{user}" CREATEROLE first. Nothing was changed.'
        )


def _has_organisation(conn: Connection) -> bool:
    tables = set(inspect(conn).get_table_names())
    for table in ("staff", "roles", "service_centres"):
        if table in tables and conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first():
            return True
    return False


def _check_no_leftover_roles(conn: Connection, engine: Engine) -> None:
    """Roles named for this database would let their holders into the new one: refuse them."""
    from desk.adapters.pg_roles import current_database, database_roles

    database = current_database(conn)
    leftovers = database_roles(conn, database)
    if leftovers:
        shown = ", ".join(leftovers[:3]) + (", …" if len(leftovers) > 3 else "")
        raise SetupRefused(
            f"The server still has {len(leftovers)} roles of an earlier database named "
            f"{database} ({shown}); they would let their holders into this one. A superuser "
            f"removes them (`desk db drop-roles --name {database} --url "
            f"{_shown_url(engine, 'postgres', 'postgres')}`), then run init again. "
            "Nothing was changed."
        )


# --- the organisation ----------------------------------------------------------------------------


def create_organisation(
    engine: Engine, new: NewOrganisation, password: str, *, progress: Progress | None = None
) -> SetupSummary:
    """Migrate the schema and create the organisation and its first admin (one transaction)."""
    postgres = engine.dialect.name == "postgresql"
    new = checked_input(new, database=engine.url.database if postgres else None)
    check_password(new.admin_username, password)
    check_database(engine)
    state = upgrade(engine, progress=progress)
    if progress:
        progress("Creating the organisation and its first administrator…")
    with UnitOfWork(engine) as uow:
        session = uow.session
        if postgres:
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SETUP_LOCK})
        if _has_organisation(session.connection()):  # someone else was quicker
            raise SetupRefused(
                f"{_where(engine)} already has an organisation. Nothing was changed."
            )
        _write_settings(session, new.name)
        roles = _create_ladder(session)
        centre = orm.ServiceCentre(code=new.centre_code, name=new.centre_name, active=True)
        session.add(centre)
        session.flush()
        admin = orm.Staff(
            username=new.admin_username,
            full_name=new.admin_full_name,
            email=new.admin_email,
            role_id=roles[ADMIN_ROLE],
            centre_id=centre.id,
            supervisor_id=None,
            active=True,
            must_change_password=True,
            password_hash=None if postgres else _argon2(password),
        )
        session.add(admin)
        session.flush()
        login_role: str | None = None
        if postgres:
            from desk.adapters.pg_roles import ensure_group_role
            from desk.adapters.pg_scram import scram_verifier

            ensure_group_role(session.connection())
            login_role = str(
                session.execute(
                    text("SELECT desk_create_login(:u, :v)"),
                    {"u": new.admin_username, "v": scram_verifier(password)},
                ).scalar_one()
            )
        now = dt.datetime.now(dt.UTC)
        for action, entity, entity_id, details in (
            (
                "organisation_created",
                "settings",
                "organisation_name",
                {"name": new.name, "roles": list(roles)},
            ),
            (
                "centre_added",
                "service_centre",
                centre.id,
                {"code": centre.code, "name": centre.name},
            ),
            (
                "staff_added",
                "staff",
                admin.id,
                {"username": admin.username, "role": ADMIN_ROLE, "centre": centre.code},
            ),
        ):
            audit.record(
                uow,
                actor=None,
                actor_name=OPERATOR,
                action=action,
                entity=entity,
                entity_id=entity_id,
                details=details,
                at=now,
            )
        uow.commit()
    return SetupSummary(
        organisation=new.name,
        schema=state.current or "",
        roles=tuple(roles),
        centre_code=new.centre_code,
        centre_name=new.centre_name,
        admin_username=new.admin_username,
        admin_full_name=new.admin_full_name,
        login_role=login_role,
    )


def _write_settings(session: Session, name: str) -> None:
    from desk.config import load_organisation_defaults

    defaults = load_organisation_defaults()["organisation"]
    wanted = {
        "organisation_name": name,
        "currency_code": str(defaults["currency_code"]),
        "currency_symbol": str(defaults["currency_symbol"]),
        "currency_decimals": str(defaults["currency_decimals"]),
    }
    existing = set(session.scalars(select(orm.Setting.key)))  # the migrations' own defaults stay
    session.add_all(orm.Setting(key=k, value=v) for k, v in wanted.items() if k not in existing)
    session.flush()


def _create_ladder(session: Session) -> dict[str, int]:
    """The shipped competency ladder: each rung with its permissions and authority limits."""
    from desk.services.demo import ROLES  # the rungs' ranks and descriptions

    kind_ids = dict(session.execute(select(orm.RequestKind.code, orm.RequestKind.id)).all())
    role_ids: dict[str, int] = {}
    for name, rank, description in ROLES:
        role = orm.Role(name=name, rank=rank, description=description)
        session.add(role)
        session.flush()
        role_ids[name] = role.id
        permissions, limits = DEFAULT_LADDER[name]
        session.add_all(orm.RolePermission(role_id=role.id, permission=str(p)) for p in permissions)
        session.add_all(
            orm.AuthorityLimit(role_id=role.id, kind_id=kind_ids[kind], limit_minor=amount)
            for kind, amount in limits.items()
            if kind in kind_ids
        )
    session.flush()
    return role_ids


def _argon2(password: str) -> str:
    from desk.bootstrap import hash_password

    return hash_password(password)
