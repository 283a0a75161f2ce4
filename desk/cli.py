"""The operator's command line: the same services as the window.

``desk`` alone opens the window; ``desk db …`` and ``desk demo`` look after databases.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Sequence
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
from desk.config import resolve_database_url
from desk.services.errors import DeskError


def _add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        "--url",
        dest="database",
        metavar="URL",
        help="database URL (default: $DESK_DATABASE_URL, the settings file, or this computer's "
        "embedded database)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="desk", description="Desk: the service desk.")
    _add_database_option(parser)
    commands = parser.add_subparsers(dest="command")

    run = commands.add_parser("run", help="open the window (the default)")
    _add_database_option(run)

    db = commands.add_parser("db", help="look after the database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    for name, text in (
        ("upgrade", "migrate the schema to this version of Desk"),
        ("current", "show the schema version"),
        ("check", "fail when the models and the migrations disagree"),
        ("init", "create the schema, roles and demo organisation on a new database"),
        ("drop-roles", "drop the PostgreSQL login and group roles of a database"),
    ):
        sub = db_commands.add_parser(name, help=text)
        _add_database_option(sub)
        if name == "init":
            sub.add_argument("--demo-cases", type=int, default=200, metavar="N")
            sub.add_argument("--seed", type=int, default=1)
        if name == "drop-roles":
            sub.add_argument("--name", help="the database whose roles to drop (default: the URL's)")

    audit_parser = commands.add_parser("audit", help="check or export the audit trail")
    audit_commands = audit_parser.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser("verify", help="find the first tampered or missing entry")
    _add_database_option(verify)
    export = audit_commands.add_parser("export", help="write the audit trail as CSV")
    _add_database_option(export)
    export.add_argument("--output", "-o", required=True, metavar="FILE.csv")

    demo = commands.add_parser("demo", help="fill a database with a synthetic organisation")
    _add_database_option(demo)
    demo.add_argument("--cases", type=int, default=200, metavar="N")
    demo.add_argument("--seed", type=int, default=1, metavar="S")
    demo.add_argument(
        "--password",
        help="password for the demo login roles on PostgreSQL (default: the demo password)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    url, source = resolve_database_url(args.database)
    if args.command in (None, "run"):
        from ui.app import main as run_window

        return int(run_window(url, source))
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.command == "db":
            return _db(args, url)
        if args.command == "audit":
            return _audit(args, url)
        if args.command == "demo":
            return _demo(url, cases=args.cases, seed=args.seed, password=args.password)
    except DeskError as exc:
        print(f"desk: {exc}", file=sys.stderr)
        return 1
    parser.error(f"unknown command {args.command}")
    return 2


def _db(args: argparse.Namespace, url: str) -> int:
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
    return _demo(url, cases=cases, seed=seed, password=None)


def _demo(url: str, *, cases: int, seed: int, password: str | None) -> int:
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


def _audit(args: argparse.Namespace, url: str) -> int:
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


def ask_password(prompt: str) -> str:
    return getpass.getpass(prompt)


if __name__ == "__main__":
    sys.exit(main())
