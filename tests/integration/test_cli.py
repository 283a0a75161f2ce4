"""The operator's command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from desk.adapters.database import make_engine
from desk.cli import main


def test_db_commands_on_a_new_sqlite_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    assert main(["db", "current", "--database", url]) == 1
    assert "empty database" in capsys.readouterr().out
    assert main(["db", "upgrade", "--database", url]) == 0
    assert main(["db", "current", "--database", url]) == 0
    assert main(["db", "check", "--database", url]) == 0
    assert "agree" in capsys.readouterr().out


def test_demo_is_deterministic_and_adds_cases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = [f"sqlite:///{tmp_path / name}" for name in ("a.sqlite3", "b.sqlite3")]
    for url in urls:
        assert main(["demo", "--database", url, "--cases", "30", "--seed", "5"]) == 0
    assert "officer / demo" in capsys.readouterr().out
    rows = []
    for url in urls:
        engine = make_engine(url)
        with engine.connect() as conn:
            rows.append(
                conn.execute(
                    text("SELECT reference, customer_words FROM cases ORDER BY reference")
                ).all()
            )
        engine.dispose()
    assert rows[0] == rows[1] and len(rows[0]) == 30
    assert main(["demo", "--database", urls[0], "--cases", "10", "--seed", "6"]) == 0
    engine = make_engine(urls[0])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar_one() == 40
    engine.dispose()


def test_newer_schema_is_reported_by_db_current(
    sqlite_demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(sqlite_demo_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'fffffff'"))
    engine.dispose()
    assert main(["db", "current", "--database", sqlite_demo_url]) == 1
    assert "newer version of Desk" in capsys.readouterr().err


def test_init_on_postgresql_creates_login_roles_and_drop_roles_removes_them(
    postgres: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    name = postgres.create_database("desk_test_cli")
    url = postgres.url(name)
    assert main(["db", "init", "--database", url, "--demo-cases", "20"]) == 0
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            roles = (
                conn.execute(
                    text("SELECT rolname FROM pg_roles WHERE starts_with(rolname, :p)"),
                    {"p": f"{name}__"},
                )
                .scalars()
                .all()
            )
            linked = conn.execute(
                text("SELECT count(*) FROM staff WHERE db_role IS NOT NULL")
            ).scalar_one()
    finally:
        engine.dispose()
    assert f"{name}__officer" in roles and f"{name}__@staff" in roles
    assert linked == len(roles) - 1
    assert main(["db", "drop-roles", "--database", url]) == 0
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            left = conn.execute(
                text("SELECT count(*) FROM pg_roles WHERE starts_with(rolname, :p)"),
                {"p": f"{name}__"},
            ).scalar_one()
    finally:
        engine.dispose()
    assert left == 0


@pytest.mark.parametrize("address", ["postgres://db.example.org/desk", "not a url"])
@pytest.mark.parametrize("command", [["db", "current"], ["staff", "list"], ["audit", "verify"]])
def test_an_unusable_address_is_one_clear_line_for_every_command(
    address: str, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database", address, *command]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"desk: {address} is not a database address Desk can use: postgresql://host/database "
        "for a shared server, or sqlite:///path/to/file.sqlite3 for this computer."
    ]
