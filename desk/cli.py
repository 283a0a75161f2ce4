"""The operator's command line: the same services as the window.

``desk`` alone opens the window; ``desk db …``, ``desk audit …`` and ``desk demo`` look after
databases. The argument parser lives here, and ``desk db init``'s questions (the first admin's
password is asked only once the database has passed its checks). Opening the window must not wait
for the database stack, so the commands that need it import it when they run.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse


def _add_database_option(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    # A subcommand's own option must not reset what was given before the subcommand
    # (``desk --database URL db upgrade``): only the top level has a default.
    import argparse

    parser.add_argument(
        "--database",
        "--url",
        dest="database",
        metavar="URL",
        default=None if top else argparse.SUPPRESS,
        help="database URL (default: $DESK_DATABASE_URL, the settings file, or this computer's "
        "embedded database)",
    )


def _add_admin_commands(commands: Any) -> None:
    """Staff, roles and limits, through the same service and checks as the admin console."""
    staff = commands.add_parser("staff", help="staff accounts")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    listing = staff_commands.add_parser("list", help="list the staff accounts")
    _add_database_option(listing)
    add = staff_commands.add_parser(
        "add", help="add an account (the person chooses their own password at first login)"
    )
    _add_database_option(add)
    add.add_argument("username")
    add.add_argument("--name", required=True, help="the person's full name")
    add.add_argument("--role", required=True, help="for example 'Counter Officer'")
    add.add_argument("--centre", required=True, metavar="CODE", help="service centre code")
    add.add_argument("--supervisor", metavar="USERNAME")
    add.add_argument("--email")
    for name, text in (
        ("disable", "disable an account (it can no longer log in)"),
        ("enable", "enable a disabled account again"),
        ("reset-password", "set a temporary password; the person must change it"),
    ):
        sub = staff_commands.add_parser(name, help=text)
        _add_database_option(sub)
        sub.add_argument("username")
    for sub in (add, staff_commands.choices["reset-password"]):
        sub.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the temporary password from standard input (for scripts)",
        )

    roles = commands.add_parser("roles", help="roles and their permissions")
    roles_commands = roles.add_subparsers(dest="roles_command", required=True)
    _add_database_option(roles_commands.add_parser("list", help="list roles and permissions"))

    limits = commands.add_parser("limits", help="authority limits per role and kind of request")
    limits_commands = limits.add_subparsers(dest="limits_command", required=True)
    _add_database_option(limits_commands.add_parser("show", help="show the limits matrix"))
    set_limit = limits_commands.add_parser("set", help="set one role's limit for one kind")
    _add_database_option(set_limit)
    set_limit.add_argument("role")
    set_limit.add_argument("kind", help="waiver, claim, refund or a kind an admin added")
    set_limit.add_argument("amount", help="in the organisation's currency, for example 50.00")


def _add_init_options(init: argparse.ArgumentParser) -> None:
    init.description = (
        "Set up a new, empty database (on PostgreSQL, run it as the database's owner, a role "
        "that may create roles). A real organisation: --admin USERNAME --name 'FULL NAME'; the "
        "admin's password is asked twice (or read from standard input with --password-stdin) and "
        "must be changed at the first login. A demonstration: --demo. Exit status 1: what was "
        "typed is refused; 2: the database cannot be set up (unreachable, wrong password, not the "
        "owner, another version's schema, or an organisation already there). Nothing is changed "
        "when init refuses."
    )
    kind = init.add_mutually_exclusive_group()
    kind.add_argument(
        "--admin", metavar="USERNAME", help="a new organisation, with this first administrator"
    )
    kind.add_argument(
        "--demo",
        action="store_true",
        help="a demo organisation with synthetic cases and published demo passwords "
        "(never on a real deployment)",
    )
    init.add_argument("--name", metavar="FULL_NAME", help="the first administrator's full name")
    init.add_argument("--email", default="", help="the first administrator's e-mail address")
    init.add_argument(
        "--centre-code", default="MAIN", metavar="CODE", help="the service centre's code (MAIN)"
    )
    init.add_argument(
        "--centre-name",
        default="Main Service Centre",
        metavar="NAME",
        help="the service centre's name (Main Service Centre)",
    )
    init.add_argument(
        "--organisation",
        default="",
        metavar="NAME",
        help="the organisation's name, printed on slips (default: the shipped one)",
    )
    init.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the first administrator's password from standard input (for scripts)",
    )
    # The demo's options; either one alone also means --demo (the form older scripts use).
    init.add_argument("--demo-cases", type=int, default=None, metavar="N", help="demo cases (200)")
    init.add_argument("--seed", type=int, default=None, metavar="S", help="demo seed (1)")


def _unusable_address(url: str) -> str:
    return (
        f"desk: {url} is not a database address Desk can use: postgresql://host/database "
        "for a shared server, or sqlite:///path/to/file.sqlite3 for this computer."
    )


def _db_init(args: argparse.Namespace, url: str) -> int:
    """``desk db init``: refuse (exit 2) before asking anything when the database will not do."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from desk.adapters.database import backend_of, make_engine
    from desk.services import setup
    from desk.services.errors import DatabaseUnavailable, DeskError, PasswordRefused, SchemaMismatch

    demo = args.demo or args.demo_cases is not None or args.seed is not None
    if args.admin is not None and (args.demo_cases is not None or args.seed is not None):
        return _usage("--demo-cases and --seed belong to --demo, not to --admin.")
    if not demo and args.admin is None:
        return _usage(
            "say who the first administrator is (--admin USERNAME --name 'FULL NAME') for a "
            "new organisation, or --demo for a demonstration."
        )
    if not demo and not args.name:
        return _usage("give the first administrator's full name with --name 'FULL NAME'.")
    try:
        if backend_of(url) not in ("sqlite", "postgresql"):
            raise ValueError(url)
        engine = make_engine(url)
    except (ArgumentError, NoSuchModuleError, ValueError):
        print(_unusable_address(url), file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"desk: the database file cannot be created: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        new = setup.NewOrganisation(
            admin_username=args.admin or "",
            admin_full_name=args.name or "",
            admin_email=args.email,
            centre_code=args.centre_code,
            centre_name=args.centre_name,
            name=args.organisation,
        )
        postgres = engine.dialect.name == "postgresql"
        if not demo:  # what was typed first: no need to reach the server to refuse it
            new = setup.checked_input(new, database=engine.url.database if postgres else None)
        setup.check_database(engine)
        if demo:
            from desk import operator_commands

            args.demo_cases = 200 if args.demo_cases is None else args.demo_cases
            args.seed = 1 if args.seed is None else args.seed
            return operator_commands.db(args, url)
        password = _new_admin_password(args, new.admin_username)
        if password is None:
            return 1
        setup.check_password(new.admin_username, password)
        summary = setup.create_organisation(engine, new, password, progress=print)
    except (setup.SetupInputError, PasswordRefused) as exc:
        print(f"desk: {exc} Nothing was changed.", file=sys.stderr)
        return 1
    except (DatabaseUnavailable, SchemaMismatch, setup.SetupRefused) as exc:
        print(f"desk: {exc}", file=sys.stderr)
        return 2
    except DeskError as exc:  # refused by the server while writing: the transaction rolled back
        print(f"desk: {exc} The organisation was not created.", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"The schema is at {summary.schema}.")
    print(
        f"Created {summary.organisation}: the roles {', '.join(summary.roles)}; the service "
        f"centre {summary.centre_code} ({summary.centre_name})."
    )
    login = f", PostgreSQL login role {summary.login_role}" if summary.login_role else ""
    print(
        f"The first administrator is {summary.admin_full_name} ({summary.admin_username}{login});"
        " they choose their own password at the first login."
    )
    return 0


def _usage(message: str) -> int:
    print(f"desk db init: {message}", file=sys.stderr)
    return 2


def _new_admin_password(args: argparse.Namespace, username: str) -> str | None:
    """From --password-stdin (scripts) or asked twice at the terminal; never an argument."""
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    try:
        first = getpass.getpass(f"Password for the first administrator, {username}: ")
        again = getpass.getpass("The same password again: ")
    except EOFError:
        print("\ndesk: no password was given; nothing was changed.", file=sys.stderr)
        return None
    if first != again:
        print("desk: the two passwords differ; nothing was changed.", file=sys.stderr)
        return None
    return first


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(prog="desk", description="Desk: the service desk.")
    _add_database_option(parser, top=True)
    commands = parser.add_subparsers(dest="command")

    run = commands.add_parser("run", help="open the window (the default)")
    _add_database_option(run)

    db = commands.add_parser("db", help="look after the database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    for name, text in (
        ("upgrade", "migrate the schema to this version of Desk"),
        ("current", "show the schema version"),
        ("check", "fail when the models and the migrations disagree"),
        (
            "init",
            "set up a new database: the schema, roles and an organisation with its first admin "
            "(--admin) or a demo organisation (--demo)",
        ),
        ("drop-roles", "drop the PostgreSQL login and group roles of a database"),
    ):
        sub = db_commands.add_parser(name, help=text)
        _add_database_option(sub)
        if name == "init":
            _add_init_options(sub)
        if name == "drop-roles":
            sub.add_argument("--name", help="the database whose roles to drop (default: the URL's)")

    audit_parser = commands.add_parser("audit", help="check or export the audit trail")
    audit_commands = audit_parser.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser("verify", help="find the first tampered or missing entry")
    _add_database_option(verify)
    export = audit_commands.add_parser("export", help="write the audit trail as CSV")
    _add_database_option(export)
    export.add_argument("--output", "-o", required=True, metavar="FILE.csv")

    _add_admin_commands(commands)

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
    arguments = sys.argv[1:] if argv is None else list(argv)
    if not arguments:  # plain `desk`: straight to the window, nothing to parse
        from ui.app import main as run_window

        return int(run_window(None, "default"))
    parser = build_parser()
    args = parser.parse_args(arguments)
    if args.command in (None, "run"):
        from ui.app import main as run_window

        # The window resolves the default database itself, off the GUI thread where it can.
        return int(run_window(args.database, "command line" if args.database else "default"))
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from desk import operator_commands
    from desk.config import resolve_database_url
    from desk.services.errors import DeskError

    url, _source = resolve_database_url(args.database)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.command == "db" and args.db_command == "init":
        return _db_init(args, url)
    try:
        if args.command == "db":
            return operator_commands.db(args, url)
        if args.command == "audit":
            return operator_commands.audit(args, url)
        if args.command == "staff":
            return operator_commands.staff(args, url)
        if args.command == "roles":
            return operator_commands.roles(args, url)
        if args.command == "limits":
            return operator_commands.limits(args, url)
        if args.command == "demo":
            return operator_commands.demo(
                url, cases=args.cases, seed=args.seed, password=args.password
            )
    except DeskError as exc:
        print(f"desk: {exc}", file=sys.stderr)
        return 1
    except (ArgumentError, NoSuchModuleError):
        print(_unusable_address(url), file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
