"""The operator's command line: the same services as the window.

``desk`` alone opens the window; ``desk db …``, ``desk audit …`` and ``desk demo`` look after
databases. Only the argument parser lives here: opening the window must not wait for the
database stack, so the commands that need it import it when they run.
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
    from desk import operator_commands
    from desk.config import resolve_database_url
    from desk.services.errors import DeskError

    url, _source = resolve_database_url(args.database)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
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
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
