"""Schema revision 0010 (case news) upgrades a database at 0009 that holds cases: the cases stay as
they were; on PostgreSQL a saved case and a line added to a timeline are announced on desk_cases
(also to staff logins made before the upgrade); on the embedded database nothing changes but the
revision, and the listener's poll tells of the old cases too."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command
from sqlalchemy import text

from desk.adapters.database import alembic_config, make_engine, upgrade
from desk.adapters.notifications import CASES, Listener
from desk.bootstrap import Desk
from tests.integration.test_migration_0009 import _CASES, _database_at_0008_with_cases
from tests.integration.test_notifications import Inbox

_TRIGGERS = (
    "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
    "WHERE tgname IN ('cases_notify', 'case_events_notify') AND NOT tgisinternal"
)


@pytest.fixture
def empty_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'at0009.sqlite3'}"
    postgres = request.getfixturevalue("postgres")
    return str(postgres.url(postgres.create_database("desk_test_migrate")))


def _database_at_0009_with_cases(url: str) -> list[Any]:
    cases = _database_at_0008_with_cases(url)
    engine = make_engine(url)
    try:
        upgrade(engine, "0009")
    finally:
        engine.dispose()
    return cases


def _heard(url: str, statement: str) -> list[dict[str, Any]]:
    """What desk_cases says while ``statement`` runs (PostgreSQL, as the server's owner)."""
    engine = make_engine(url)
    u = engine.url
    try:
        with psycopg.connect(
            host=u.host,
            port=u.port or 5432,
            user=u.username,
            password=u.password,
            dbname=u.database,
            autocommit=True,
        ) as listening:
            listening.execute(f"LISTEN {CASES}")
            with engine.begin() as conn:
                conn.execute(text(statement))
            return [json.loads(n.payload) for n in listening.notifies(timeout=2.0, stop_after=2)]
    finally:
        engine.dispose()


def test_upgrading_a_database_with_cases_to_0010_announces_case_changes(
    empty_url: str, backend: str
) -> None:
    cases = _database_at_0009_with_cases(empty_url)
    assert [c[0] for c in cases] == ["C-2026-000001", "C-2026-000002"]
    engine = make_engine(empty_url)
    try:
        upgrade(engine, "0010")
        with engine.connect() as conn:
            assert conn.execute(text(_CASES)).all() == cases, "the cases are as they were"
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            assert version == "0010"
            if backend == "postgresql":
                assert set(conn.execute(text(_TRIGGERS)).all()) == {
                    ("cases", "cases_notify"),
                    ("case_events", "case_events_notify"),
                }
        if backend == "postgresql":
            said = _heard(empty_url, "UPDATE cases SET priority = 'high' WHERE id = 2")
            assert said == [{"case": 2, "version": 1, "centre": 1}]
            said = _heard(
                empty_url,
                "INSERT INTO case_events (uuid, case_id, at, actor_id, kind, summary) VALUES ("
                "'00000000-0000-4000-8000-0000000000e1', 1, now(), 1, 'note', 'A note')",
            )
            assert said == [{"case": 1}]

        command.downgrade(alembic_config(engine), "0009")
        with engine.connect() as conn:
            assert conn.execute(text(_CASES)).all()[0] == cases[0]
            if backend == "postgresql":
                assert conn.execute(text(_TRIGGERS)).all() == []
        if backend == "postgresql":
            assert _heard(empty_url, "UPDATE cases SET priority = 'low' WHERE id = 2") == []
        upgrade(engine, "0010")
    finally:
        engine.dispose()


def _save_and_hear(url: str, username: str, password: str) -> None:
    """One officer saves the old case; another Desk's listener hears which case it was."""
    officer: Any = Desk.open(url)  # an embedded database is migrated to the newest revision
    watcher: Any = Desk.open(url)
    try:
        officer.login(username, password)
        watcher.login(username, password)
        inbox = Inbox()
        listener = Listener(watcher.engine, inbox.deliver).start()
        try:
            assert listener.wait_ready()
            case = officer.cases.find_by_reference("C-2026-000002")
            details = dataclasses.replace(case.details, next_steps="We call you on Monday.")
            saved = officer.cases.update(case.id, details, expected_version=case.version)
            inbox.wait_for(
                lambda n: (
                    n.channel == CASES
                    and n.payload.get("case") == case.id
                    and n.payload.get("version") == saved.version
                )
            )
        finally:
            listener.stop()
    finally:
        officer.close()
        watcher.close()


def test_an_embedded_database_upgraded_from_0009_tells_of_its_old_cases(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    _database_at_0009_with_cases(url)
    _save_and_hear(url, "officer", "pw")
    assert list(tmp_path.glob("old.before-migration-*.sqlite3")), "a copy was kept"


def test_staff_logins_made_before_0010_save_cases_that_are_announced(postgres: Any) -> None:
    from desk.adapters.pg_roles import create_login_role

    name = postgres.create_database("desk_test_migrate")
    _database_at_0009_with_cases(postgres.url(name))
    engine = make_engine(postgres.url(name))
    try:
        with engine.begin() as conn:
            create_login_role(conn, "officer", None)
        upgrade(engine, "0010")
        upgrade(engine)  # the app opens a database at the newest revision only
    finally:
        engine.dispose()
    _save_and_hear(postgres.url(name), "officer", "any: the test server trusts")
