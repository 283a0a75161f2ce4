"""``desk db init``: a new organisation with its first administrator, and every refusal."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from desk.adapters.database import make_engine, upgrade
from desk.bootstrap import Desk
from desk.cli import main
from desk.domain.authority import DEFAULT_LADDER
from desk.services.errors import LoginFailed

PASSWORD = "a long first password"
ADMIN = ["--admin", "boss", "--name", "Ana  Boss", "--password-stdin"]
LADDER = ["Counter Officer", "Senior Officer", "Supervisor", "Manager", "Administrator"]
COUNTED = (
    "staff",
    "roles",
    "role_permissions",
    "authority_limits",
    "service_centres",
    "settings",
    "audit_events",
    "cases",
    "customers",
)


def _init(
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    *extra: str,
    password: str = PASSWORD,
    admin: list[str] | None = None,
) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["db", "init", "--url", url, *(ADMIN if admin is None else admin), *extra])


def _scalar(url: str, sql: str, **params: object) -> Any:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def _tables(url: str) -> list[str]:
    from sqlalchemy import inspect

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def _snapshot(url: str) -> dict[str, object]:
    """What init could have changed: row counts, the schema version and the server's roles."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            shot: dict[str, object] = {
                t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in COUNTED
            }
            shot["version"] = conn.execute(text("SELECT version_num FROM alembic_version")).all()
            if conn.dialect.name == "postgresql":
                shot["roles"] = conn.execute(
                    text("SELECT rolname, rolpassword FROM pg_authid ORDER BY rolname")
                ).all()
    finally:
        engine.dispose()
    return shot


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def new_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty database on each backend (PostgreSQL: dropped with its roles afterwards)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'new.sqlite3'}"
    postgres = request.getfixturevalue("postgres")
    return str(postgres.url(postgres.create_database("desk_test_init")))


# --- a new organisation --------------------------------------------------------------------------


def test_init_creates_one_admin_one_centre_the_ladder_and_no_cases(
    new_url: str, backend: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _init(
        new_url,
        monkeypatch,
        "--organisation",
        "Riverside Council",
        "--centre-code",
        "cen",
        "--centre-name",
        "Central Service Centre",
        "--email",
        "ana@example.org",
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "The first administrator is Ana Boss (boss" in out
    engine = make_engine(new_url)
    try:
        with engine.connect() as conn:
            staff = conn.execute(
                text(
                    "SELECT s.username, s.full_name, s.email, r.name, c.code, s.active, "
                    "s.must_change_password, s.password_hash, s.db_role, s.supervisor_id "
                    "FROM staff s JOIN roles r ON r.id = s.role_id "
                    "JOIN service_centres c ON c.id = s.centre_id"
                )
            ).all()
            centres = conn.execute(text("SELECT code, name, active FROM service_centres")).all()
            roles = dict(conn.execute(text("SELECT name, id FROM roles ORDER BY rank")).all())
            permissions = {
                name: set(
                    conn.execute(
                        text("SELECT permission FROM role_permissions WHERE role_id = :r"),
                        {"r": role_id},
                    ).scalars()
                )
                for name, role_id in roles.items()
            }
            limits = {
                (name, kind): amount
                for name, kind, amount in conn.execute(
                    text(
                        "SELECT r.name, k.code, l.limit_minor FROM authority_limits l "
                        "JOIN roles r ON r.id = l.role_id JOIN request_kinds k ON k.id = l.kind_id"
                    )
                )
            }
            settings = dict(conn.execute(text("SELECT key, value FROM settings")).all())
            empty = {
                t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("cases", "customers", "specialist_teams", "categories")
            }
            audit = conn.execute(text("SELECT action, actor_name FROM audit_events")).all()
            database = engine.url.database
            login_roles = (
                conn.execute(
                    text(
                        "SELECT rolname FROM pg_roles WHERE rolcanlogin AND "
                        "starts_with(rolname, :p) AND pg_has_role(rolname, :g, 'MEMBER')"
                    ),
                    {"p": f"{database}__", "g": f"{database}__@staff"},
                )
                .scalars()
                .all()
                if backend == "postgresql"
                else []
            )
    finally:
        engine.dispose()

    assert len(staff) == 1
    username, full_name, email, role, centre, active, must_change, hashed, db_role, boss = staff[0]
    assert (username, full_name, email, role, centre) == (
        "boss",
        "Ana Boss",
        "ana@example.org",
        "Administrator",
        "CEN",
    )
    assert active and must_change and boss is None
    assert centres == [("CEN", "Central Service Centre", True)]
    assert list(roles) == LADDER
    for name in LADDER:
        assert permissions[name] == {str(p) for p in DEFAULT_LADDER[name][0]}
        for kind, amount in DEFAULT_LADDER[name][1].items():
            assert limits[(name, kind)] == amount
    assert settings["organisation_name"] == "Riverside Council"
    assert settings["currency_code"] == "USD" and "demo" not in settings
    assert settings["grant_window_days"] == "365"  # the migrations' own default stays
    assert empty == {"cases": 0, "customers": 0, "specialist_teams": 0, "categories": 0}
    assert {a for a, _ in audit} == {"organisation_created", "centre_added", "staff_added"}
    assert {who for _, who in audit} == {"operator (command line)"}
    if backend == "postgresql":
        assert hashed is None and db_role == f"{database}__boss"
        assert login_roles == [db_role]
    else:
        assert hashed.startswith("$argon2id$") and db_role is None

    desk = Desk.open(new_url)
    try:
        session = desk.login("boss", PASSWORD)  # the trust server takes any password
        assert session.role_name == "Administrator" and session.must_change_password
        assert session.centre_name == "Central Service Centre"
        assert desk.demo_logins() == []
        assert desk.reference_data().organisation_name == "Riverside Council"
        if backend == "sqlite":
            desk.logout()
            with pytest.raises(LoginFailed):
                desk.login("boss", "not the password at all")
    finally:
        desk.close()


def test_the_server_checks_the_first_admins_password(
    password_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = password_server.create_database("desk_pw_init")
    assert _init(password_server.url(name), monkeypatch) == 0
    verifier = _scalar(
        password_server.url(name),
        "SELECT rolpassword FROM pg_authid WHERE rolname = :r",
        r=f"{name}__boss",
    )
    assert verifier.startswith("SCRAM-SHA-256$4096:")
    plain = password_server.admin_url._replace(database=name, username=None, password=None)
    desk = Desk.open(plain)
    try:
        with pytest.raises(LoginFailed):
            desk.login("boss", "a wrong but long password")
        session = desk.login("boss", PASSWORD)
        assert session.must_change_password
        session = desk.change_password("chosen by the admin now")
        assert not session.must_change_password
        # The admin's first act: an account of their own, through the same checks as the console.
        from desk.services.admin import NewStaff

        added = desk.admin.add_staff(
            NewStaff("ana", "Ana Officer", "Counter Officer", "MAIN"), "temporary password 1"
        )
        assert added.has_login and added.must_change_password
    finally:
        desk.close()


def test_a_plain_owner_that_may_create_roles_sets_the_database_up(
    postgres: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's way: an owner with CREATEROLE and nothing more."""
    owner = f"desk_test_owner_{uuid.uuid4().hex[:8]}"
    name = f"desk_test_init_{uuid.uuid4().hex[:10]}"
    with postgres._admin() as conn:
        conn.execute(f'CREATE ROLE "{owner}" LOGIN CREATEROLE')
        conn.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
    try:
        assert _init(postgres.url(name, owner), monkeypatch) == 0
        desk = Desk.open(postgres.url(name))
        try:
            desk.login("boss", PASSWORD)
            from desk.services.admin import NewStaff

            assert desk.admin.add_staff(
                NewStaff("ana", "Ana Officer", "Counter Officer", "MAIN"), "temporary password 1"
            ).has_login
        finally:
            desk.close()
    finally:
        postgres.drop_database(name)
        with postgres._admin() as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{owner}"')


# --- refusals: nothing changed -------------------------------------------------------------------


def test_a_second_init_refuses_and_changes_nothing(
    new_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _init(new_url, monkeypatch) == 0
    before = _snapshot(new_url)
    capsys.readouterr()
    code = _init(
        new_url, monkeypatch, admin=["--admin", "other", "--name", "X Y", "--password-stdin"]
    )
    assert code == 2
    assert "already has an organisation" in _one_line(capsys.readouterr().err)
    assert main(["db", "init", "--url", new_url, "--demo"]) == 2
    assert "already has an organisation" in _one_line(capsys.readouterr().err)
    assert _snapshot(new_url) == before


def test_an_unreachable_server_exits_2_with_one_line(
    unused_tcp_port: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _init(f"postgresql://postgres@127.0.0.1:{unused_tcp_port}/desk", monkeypatch)
    assert code == 2
    assert "cannot be reached" in _one_line(capsys.readouterr().err)


@pytest.mark.parametrize("url", ["postgres://db.example.org/desk", "not a url", "mysql://h/desk"])
def test_an_address_desk_cannot_use_exits_2(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _init(url, monkeypatch) == 2
    assert "not a database address Desk can use" in _one_line(capsys.readouterr().err)


def test_a_missing_database_exits_2(
    postgres: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _init(postgres.url(f"desk_test_missing_{uuid.uuid4().hex[:8]}"), monkeypatch) == 2
    assert "does not exist" in _one_line(capsys.readouterr().err)


def test_wrong_credentials_exit_2(
    password_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    name = password_server.create_database("desk_pw_init")
    wrong = password_server.admin_url.set(database=name, password="not the owner's password")
    assert _init(wrong.render_as_string(hide_password=False), monkeypatch) == 2
    assert "refused the user name or password" in _one_line(capsys.readouterr().err)
    assert _tables(password_server.url(name)) == []


def test_a_role_that_is_not_the_owner_or_may_not_create_roles_is_refused(
    postgres: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    suffix = uuid.uuid4().hex[:8]
    stranger, owner = f"desk_test_stranger_{suffix}", f"desk_test_weak_owner_{suffix}"
    name = postgres.create_database("desk_test_init")
    with postgres._admin() as conn:
        conn.execute(f'CREATE ROLE "{stranger}" LOGIN CREATEROLE')
        conn.execute(f'CREATE ROLE "{owner}" LOGIN')  # owns the database, may not create roles
        conn.execute(f'ALTER DATABASE "{name}" OWNER TO "{owner}"')
    try:
        assert _init(postgres.url(name, stranger), monkeypatch) == 2
        assert f"does not own the database {name}" in _one_line(capsys.readouterr().err)
        assert _init(postgres.url(name, owner), monkeypatch) == 2
        assert "may not create roles" in _one_line(capsys.readouterr().err)
        assert _tables(postgres.url(name)) == []
    finally:
        postgres.drop_database(name)
        with postgres._admin() as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{stranger}"')
            conn.execute(f'DROP ROLE IF EXISTS "{owner}"')


def test_roles_left_from_an_earlier_database_of_the_name_are_refused(
    postgres: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    name = postgres.create_database("desk_test_init")
    with postgres._admin() as conn:  # dropped with the database's roles at the end
        conn.execute(f'CREATE ROLE "{name}__old_officer" LOGIN')
    assert _init(postgres.url(name), monkeypatch) == 2
    message = _one_line(capsys.readouterr().err)
    assert f"{name}__old_officer" in message and f"desk db drop-roles --name {name}" in message
    assert _tables(postgres.url(name)) == []


def test_a_newer_schema_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'newer.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'fffffff'"))
    engine.dispose()
    before = _snapshot(url)
    assert _init(url, monkeypatch) == 2
    assert "newer version of Desk" in _one_line(capsys.readouterr().err)
    assert _snapshot(url) == before


def test_an_older_schema_with_an_organisation_is_sent_to_db_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'older.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine, "0008")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO roles (name, description, rank) VALUES ('Clerk', '', 1)"))
    engine.dispose()
    assert _init(url, monkeypatch) == 2
    message = _one_line(capsys.readouterr().err)
    assert "already has an organisation (schema 0008)" in message and "desk db upgrade" in message
    assert _scalar(url, "SELECT version_num FROM alembic_version") == "0008"


def test_an_older_schema_without_an_organisation_is_brought_up_to_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'half.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine, "0008")
    engine.dispose()
    assert _init(url, monkeypatch) == 0
    assert _scalar(url, "SELECT count(*) FROM staff") == 1


def test_another_programs_database_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    assert _init(url, monkeypatch) == 2
    assert "not a Desk database" in _one_line(capsys.readouterr().err)
    assert _tables(url) == ["invoices"]


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 12 characters"),
        ("", "at least 12 characters"),
        ("boss-and-more-letters", "user name"),
        ("aaaaaaaaaaaaaaaa", "different characters"),
    ],
)
def test_a_password_the_rules_refuse_changes_nothing(
    new_url: str,
    password: str,
    reason: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _init(new_url, monkeypatch, password=password) == 1
    message = _one_line(capsys.readouterr().err)
    assert reason in message and "Nothing was changed" in message
    assert _tables(new_url) == []


def test_passwords_typed_twice_must_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'typed.sqlite3'}"
    answers = iter([PASSWORD, PASSWORD + "!"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["db", "init", "--url", url, "--admin", "boss", "--name", "Ana Boss"]) == 1
    assert "differ" in _one_line(capsys.readouterr().err)
    assert _tables(url) == []
    answers = iter([PASSWORD, PASSWORD])
    assert main(["db", "init", "--url", url, "--admin", "boss", "--name", "Ana Boss"]) == 0


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        ([], 2, "--admin USERNAME"),
        (["--admin", "boss"], 2, "--name"),
        (["--admin", "boss", "--name", "A B", "--demo-cases", "5"], 2, "belong to --demo"),
        (["--admin", "Bad Name", "--name", "A B"], 1, "A user name starts with a letter"),
        (["--admin", "boss", "--name", "   "], 1, "full name"),
        (["--admin", "boss", "--name", "A B", "--centre-code", "a b"], 1, "centre's code"),
        (["--admin", "boss", "--name", "A B", "--email", "nope"], 1, "e-mail address"),
    ],
)
def test_bad_arguments_are_refused_before_the_database_is_touched(
    tmp_path: Path,
    arguments: list[str],
    code: int,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite:///{tmp_path / 'args.sqlite3'}"
    assert main(["db", "init", "--url", url, *arguments]) == code
    assert message in _one_line(capsys.readouterr().err)
    assert not (tmp_path / "args.sqlite3").exists()


def test_a_database_name_too_long_for_the_admins_login_role_is_refused(
    postgres: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    name = postgres.create_database("desk_test_init_with_a_long_name")
    long_user = "a" + "b" * 29
    code = _init(postgres.url(name), monkeypatch, admin=["--admin", long_user, "--name", "A B"])
    assert code == 1
    assert "too long for PostgreSQL" in _one_line(capsys.readouterr().err)


def test_the_demo_form_still_works_and_is_not_repeated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    assert main(["db", "init", "--url", url, "--demo-cases", "5"]) == 0
    assert "officer / demo" in capsys.readouterr().out
    assert main(["db", "init", "--url", url, "--demo"]) == 2
    assert "already has an organisation" in _one_line(capsys.readouterr().err)
    assert _scalar(url, "SELECT count(*) FROM cases") == 5
