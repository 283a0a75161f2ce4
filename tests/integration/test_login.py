"""Logging in: argon2id on the embedded database, the person's own login role on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from desk.bootstrap import Desk
from desk.services.errors import LoginFailed


def test_demo_officer_logs_in_and_sees_their_centre(desk: Any) -> None:
    session = desk.session
    assert session.username == "officer"
    assert session.role_name == "Counter Officer"
    assert session.centre_name


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("officer", "wrong"),
        ("nobody", "demo"),
        ("", "demo"),
        ("officer", ""),
        ("OFFICER__x", "demo"),
    ],
)
def test_wrong_credentials_are_refused_without_saying_which(
    backend: str, request: pytest.FixtureRequest, username: str, password: str
) -> None:
    # On PostgreSQL the server checks the password: use a cluster that really does.
    fixture = "sqlite_demo_url" if backend == "sqlite" else "password_demo_url"
    desk = Desk.open(request.getfixturevalue(fixture))
    try:
        with pytest.raises(LoginFailed):
            desk.login(username, password)
        assert desk.session is None
    finally:
        desk.close()


def test_inactive_staff_cannot_log_in(sqlite_demo_url: str) -> None:
    desk = Desk.open(sqlite_demo_url)
    with desk.engine.begin() as conn:
        conn.execute(text("UPDATE staff SET active = false WHERE username = 'senior'"))
    try:
        with pytest.raises(LoginFailed):
            desk.login("senior", "demo")
    finally:
        desk.close()


def test_embedded_passwords_are_argon2id_hashes(sqlite_demo_url: str) -> None:
    desk = Desk.open(sqlite_demo_url)
    try:
        with desk.engine.connect() as conn:
            hashes = conn.execute(text("SELECT password_hash FROM staff")).scalars().all()
        assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    finally:
        desk.close()


def test_on_postgresql_the_client_connects_as_the_staff_members_own_role(
    postgres: Any, pg_demo_database: str
) -> None:
    desk = Desk.open(postgres.url(pg_demo_database))
    try:
        desk.login("officer", "demo")
        with desk.engine.connect() as conn:
            role = conn.execute(text("SELECT session_user")).scalar_one()
        assert role == f"{pg_demo_database}__officer"
    finally:
        desk.close()


def test_a_staff_role_cannot_touch_the_schema(postgres: Any, pg_demo_database: str) -> None:
    import psycopg

    url = postgres.admin_url
    with psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        dbname=pg_demo_database,
        user=f"{pg_demo_database}__officer",
        password="demo",
    ) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DROP TABLE cases")
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM case_events")


def test_the_server_checks_the_staff_password(password_demo_url: str) -> None:
    desk = Desk.open(password_demo_url)
    try:
        session = desk.login("supervisor", "demo")
        assert session.role_name == "Supervisor"
        with desk.engine.connect() as conn:
            assert conn.execute(text("SELECT session_user")).scalar_one().endswith("__supervisor")
    finally:
        desk.close()


def test_a_dead_server_is_a_clear_message(unused_tcp_port: int) -> None:
    from desk.services.errors import DatabaseUnavailable

    desk = Desk.open(f"postgresql://127.0.0.1:{unused_tcp_port}/desk")
    with pytest.raises(DatabaseUnavailable, match="cannot be reached"):
        desk.login("officer", "demo")


def test_five_wrong_passwords_lock_the_account_for_a_while(sqlite_demo_url: str) -> None:
    desk = Desk.open(sqlite_demo_url)
    try:
        for _ in range(5):
            with pytest.raises(LoginFailed, match="not right"):
                desk.login("senior", "guess")
        with pytest.raises(LoginFailed, match="locked"):
            desk.login("senior", "demo")
        with desk.engine.begin() as conn:  # fifteen minutes later
            conn.execute(
                text("UPDATE staff SET locked_until = :t WHERE username = 'senior'"),
                {"t": "2000-01-01 00:00:00.000000"},
            )
        assert desk.login("senior", "demo").username == "senior"
        with desk.engine.connect() as conn:
            failures = conn.execute(
                text("SELECT failed_logins FROM staff WHERE username = 'senior'")
            ).scalar_one()
            actions = (
                conn.execute(
                    text("SELECT action FROM audit_events WHERE entity = 'staff' ORDER BY id")
                )
                .scalars()
                .all()
            )
        assert failures == 0
        assert actions == ["login.failed"] * 5 + ["login.refused_locked", "login"]
    finally:
        desk.close()


def test_the_lockout_threshold_is_an_organisation_setting(sqlite_demo_url: str) -> None:
    desk = Desk.open(sqlite_demo_url)
    try:
        with desk.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO settings (key, value) VALUES ('login_max_failures', '2')")
            )
        for _ in range(2):
            with pytest.raises(LoginFailed, match="not right"):
                desk.login("manager", "guess")
        with pytest.raises(LoginFailed, match="locked"):
            desk.login("manager", "demo")
    finally:
        desk.close()
