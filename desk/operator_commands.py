"""What the operator's commands do (``desk db``, ``desk audit``, ``desk demo``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select

from desk.adapters import orm
from desk.adapters.database import (
    backend_of,
    connect,
    make_engine,
    refuse_newer_schema,
    schema_differences,
    schema_state,
    upgrade,
)

if TYPE_CHECKING:
    from desk.services.admin import AdminService


def db(args: argparse.Namespace, url: str) -> int:
    engine = make_engine(url)
    try:
        if args.db_command == "current":
            state = schema_state(engine)
            where = "empty database" if state.is_empty else state.current
            print(f"{where} (this version of Desk: {state.head})")
            refuse_newer_schema(state)
            return 0 if state.up_to_date else 1
        if args.db_command == "upgrade":
            state = upgrade(engine, progress=print)
            if backend_of(url) == "postgresql":
                _grant_staff_privileges(engine)
            print(f"The schema is at {state.current}.")
            return 0
        if args.db_command == "check":
            upgrade(engine)
            differences = schema_differences(engine)
            for difference in differences:
                print(f"not in the migrations: {difference}")
            if differences:
                print("The models and the migrations disagree: add an Alembic revision.")
                return 1
            print("The models and the migrations agree.")
            return 0
        if args.db_command == "init":
            return _init(engine, url, cases=args.demo_cases, seed=args.seed)
        if args.db_command == "drop-roles":
            return _drop_roles(engine, args.name)
    finally:
        engine.dispose()
    return 2


def _init(engine: Engine, url: str, *, cases: int, seed: int) -> int:
    state = upgrade(engine, progress=print)
    print(f"The schema is at {state.current}.")
    return demo(url, cases=cases, seed=seed, password=None)


def demo(url: str, *, cases: int, seed: int, password: str | None) -> int:
    from desk.config import load_organisation_defaults
    from desk.services.demo import generate_demo

    engine = make_engine(url)
    try:
        upgrade(engine, progress=print)

        def report(done: int, total: int) -> None:
            print(f"\r{done:,} of {total:,} cases", end="", flush=True)

        summary = generate_demo(engine, cases=cases, seed=seed, progress=report)
        print()
        print(f"Added {summary.cases_added:,} cases and {summary.customers_added:,} customers.")
        if backend_of(url) == "postgresql":
            demo_password = password or str(load_organisation_defaults()["demo"]["password"])
            _create_login_roles(engine, demo_password)
        for username, login_password, role in summary.staff_logins:
            print(f"  log in as {username} / {login_password} ({role})")
    finally:
        engine.dispose()
    return 0


def _grant_staff_privileges(engine: Engine) -> None:
    from desk.adapters.pg_roles import ensure_group_role

    with connect(engine) as conn:
        ensure_group_role(conn)
        conn.commit()


def _create_login_roles(engine: Engine, password: str) -> None:
    from desk.adapters.pg_roles import create_login_role

    with connect(engine) as conn:
        usernames = (
            conn.execute(select(orm.Staff.username).where(orm.Staff.db_role.is_(None)))
            .scalars()
            .all()
        )
        for username in usernames:
            create_login_role(conn, username, password)
        conn.commit()
    print(f"Created {len(usernames)} PostgreSQL login roles.")


def _drop_roles(engine: Engine, name: str | None) -> int:
    from desk.adapters.pg_roles import drop_database_roles

    if engine.url.get_backend_name() != "postgresql":
        print("Only a PostgreSQL database has roles.")
        return 1
    database = name or engine.url.database or ""
    with connect(engine) as conn:
        dropped = drop_database_roles(conn, database)
        conn.commit()
    print(f"Dropped {len(dropped)} roles of {database}.")
    return 0


def audit(args: argparse.Namespace, url: str) -> int:
    from desk.adapters.unit_of_work import UnitOfWork
    from desk.services import audit

    engine = make_engine(url)
    try:
        refuse_newer_schema(schema_state(engine))
        if args.audit_command == "verify":
            checked, broken = audit.verify(lambda: UnitOfWork(engine))
            if broken is not None:
                print(f"The audit trail is broken after {checked - 1:,} good entries.")
                print(str(broken))
                return 1
            print(f"The audit trail is whole: {checked:,} entries checked.")
            return 0
        written = audit.export_csv(lambda: UnitOfWork(engine), Path(args.output))
        print(f"Wrote {written:,} entries to {args.output}.")
        return 0
    finally:
        engine.dispose()


# --- staff, roles and limits: the admin service, as the operator (the database owner) ----------


def _admin_service(engine: Engine) -> AdminService:
    from desk.adapters.unit_of_work import UnitOfWork
    from desk.services.admin import AdminService

    refuse_newer_schema(schema_state(engine))
    return AdminService(
        lambda read_only=False: UnitOfWork(engine, read_only=read_only), lambda: None
    )


def _password(args: argparse.Namespace, username: str) -> str:
    """From --password-stdin (scripts) or asked twice at the terminal; never an argument."""
    import getpass
    import sys

    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"Temporary password for {username}: ")
    if getpass.getpass("Again: ") != first:
        raise SystemExit("desk: the two passwords differ; nothing was changed.")
    return first


def staff(args: argparse.Namespace, url: str) -> int:
    import sys

    from desk.services.admin import AdminInputError, NewStaff

    engine = make_engine(url)
    try:
        service = _admin_service(engine)
        try:
            if args.staff_command == "list":
                rows = service.staff()
                print(
                    f"{'user':<16} {'name':<28} {'role':<18} {'centre':<6} {'supervisor':<14} state"
                )
                for s in rows:
                    state = "active" if s.active else "disabled"
                    if s.must_change_password:
                        state += ", must change password"
                    print(
                        f"{s.username:<16} {s.full_name:<28} {s.role:<18} {s.centre_code:<6} "
                        f"{s.supervisor or '-':<14} {state}"
                    )
                return 0
            if args.staff_command == "add":
                info = service.add_staff(
                    NewStaff(
                        username=args.username,
                        full_name=args.name,
                        role=args.role,
                        centre_code=args.centre,
                        supervisor=args.supervisor,
                        email=args.email or "",
                    ),
                    _password(args, args.username),
                )
                print(
                    f"Added {info.full_name} ({info.username}), {info.role} at {info.centre}; "
                    "they choose their own password at the first login."
                )
                return 0
            if args.staff_command in ("disable", "enable"):
                info = service.set_staff_active(args.username, args.staff_command == "enable")
                state = "active" if info.active else "disabled"
                print(f"{info.full_name} ({info.username}) is {state}.")
                return 0
            if args.staff_command == "reset-password":
                info = service.reset_password(args.username, _password(args, args.username))
                print(f"{info.full_name} must choose a new password at the next login.")
                return 0
        except AdminInputError as exc:
            print(f"desk: {exc}", file=sys.stderr)
            return 1
    finally:
        engine.dispose()
    return 2


def roles(args: argparse.Namespace, url: str) -> int:
    engine = make_engine(url)
    try:
        for role in _admin_service(engine).roles():
            print(f"{role.name} (rank {role.rank}, {role.staff_count} staff)")
            for permission in sorted(role.permissions):
                print(f"    {permission}")
        return 0
    finally:
        engine.dispose()


def limits(args: argparse.Namespace, url: str) -> int:
    import sys

    from desk.domain.money import Currency
    from desk.services.admin import AdminInputError

    engine = make_engine(url)
    try:
        service = _admin_service(engine)
        if args.limits_command == "set":
            try:
                warnings = service.set_limit(args.role, args.kind, args.amount)
            except AdminInputError as exc:
                print(f"desk: {exc}", file=sys.stderr)
                return 1
            for warning in warnings:
                print(f"warning: {warning}")
            print(f"The limit of {args.role} for {args.kind} is now {args.amount}.")
            return 0
        matrix = service.limits()
        currency = Currency(code=matrix.currency_code, symbol="", decimals=matrix.currency_decimals)
        width = max(len(r) for r in matrix.roles) if matrix.roles else 10
        print(f"{'role':<{width}}  " + "  ".join(f"{code:>12}" for code, _ in matrix.kinds))
        for role in matrix.roles:
            print(
                f"{role:<{width}}  "
                + "  ".join(
                    f"{currency.format(matrix.limit(role, code)):>12}" for code, _ in matrix.kinds
                )
            )
        print(f"(amounts in {matrix.currency_code})")
        return 0
    finally:
        engine.dispose()
