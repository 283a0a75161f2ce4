"""What the operator's commands do (``desk db``, ``desk audit``, ``desk demo``)."""

from __future__ import annotations

import argparse
from pathlib import Path

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
