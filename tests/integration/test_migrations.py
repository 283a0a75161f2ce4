"""Schema migrations: upgrade keeps data, models and migrations agree, newer schemas are refused."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from desk.adapters.database import (
    alembic_config,
    backup_sqlite_file,
    make_engine,
    schema_differences,
    schema_state,
    upgrade,
)
from desk.bootstrap import Desk, hash_password
from desk.domain.scripts import builtin_directory, load_builtin_library
from desk.services.dto import CaseQuery, CaseScope
from desk.services.errors import SchemaMismatch


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


@pytest.fixture
def empty_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    postgres = request.getfixturevalue("postgres")
    return str(postgres.url(postgres.create_database("desk_test_migrate")))


# Data written with the first revision's columns only (the models may have moved on since).
_FIRST_REVISION_DATA = [
    "INSERT INTO service_centres (id, uuid, code, name, address, phone, email, opening_hours, "
    "active) VALUES (1, '00000000-0000-4000-8000-000000000001', 'C1', 'Central', '1 Square', "
    "'+1 555 0100', 'c@example.org', 'Mon-Fri', true)",
    "INSERT INTO roles (id, name, description, rank) VALUES (1, 'Counter Officer', '', 1)",
    "INSERT INTO staff (id, uuid, username, full_name, email, role_id, centre_id, active, "
    "password_hash, created_at) VALUES (1, '00000000-0000-4000-8000-000000000002', 'officer', "
    "'Ana Officer', '', 1, 1, true, NULL, '2026-01-01 09:00:00+00')",
    "INSERT INTO customers (id, uuid, full_name, name_key, customer_number, phone, phone_digits, "
    "email, address, preferred_language, created_at) VALUES (1, "
    "'00000000-0000-4000-8000-000000000003', 'Zoë Lefèvre', 'zoë lefèvre', '1234567', '', '', "
    "'', '', 'fr', '2026-01-01 09:00:00+00')",
    "INSERT INTO cases (id, uuid, reference, version, kind, channel, social_platform, "
    "social_handle, social_post_url, priority, status, centre_id, customer_id, "
    "assigned_officer_id, created_by_id, customer_words, customer_expectation, "
    "officer_understanding, customer_confirmed, root_cause, actions_agreed, next_steps, "
    "resolution, opened_at, updated_at, search_text) VALUES (1, "
    "'00000000-0000-4000-8000-000000000004', 'C-2026-000001', 1, 'complaint', 'walk_in', '', "
    "'', '', 'normal', 'new', 1, 1, 1, 1, 'Ma facture est fausse 😡', '', '', false, '', '', "
    "'', '', '2026-01-02 10:00:00+00', '2026-01-02 10:00:00+00', "
    "'C-2026-000001 Zoë Lefèvre Ma facture est fausse')",
    "INSERT INTO case_transactions (id, case_id, position, reference, amount_minor) "
    "VALUES (1, 1, 0, 'INV-1', 12550)",
    "INSERT INTO case_events (id, uuid, case_id, at, actor_id, kind, summary) VALUES (1, "
    "'00000000-0000-4000-8000-000000000005', 1, '2026-01-02 10:00:00+00', 1, 'created', "
    "'Case recorded')",
    "INSERT INTO reference_counters (year, last_number) VALUES (2026, 1)",
]
_CHECK = (
    "SELECT c.reference, c.customer_words, cu.full_name, t.amount_minor, s.username "
    "FROM cases c JOIN customers cu ON cu.id = c.customer_id "
    "JOIN case_transactions t ON t.case_id = c.id JOIN staff s ON s.id = c.created_by_id"
)


def test_each_revision_upgrades_a_database_that_holds_data(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        revisions = _revisions()
        upgrade(engine, revisions[0])
        with engine.begin() as conn:
            for statement in _FIRST_REVISION_DATA:
                conn.execute(text(statement))
            before = conn.execute(text(_CHECK)).all()
        for revision in revisions[1:]:
            upgrade(engine, revision)
            with engine.connect() as conn:
                assert conn.execute(text(_CHECK)).all() == before, revision
        assert schema_state(engine).up_to_date
        assert schema_differences(engine) == []
        assert before == [
            ("C-2026-000001", "Ma facture est fausse 😡", "Zoë Lefèvre", 12550, "officer")
        ]
    finally:
        engine.dispose()


def test_the_app_works_on_an_upgraded_embedded_database(tmp_path: Path) -> None:
    """After upgrading, the services read and find the case written under the first revision."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = make_engine(url)
    try:
        upgrade(engine, _revisions()[0])
        with engine.begin() as conn:
            for statement in _FIRST_REVISION_DATA:
                conn.execute(text(statement))
            conn.execute(text("UPDATE staff SET password_hash = :h"), {"h": hash_password("pw")})
    finally:
        engine.dispose()
    desk: Any = Desk.open(url)  # migrates the file, after copying it aside
    try:
        desk.login("officer", "pw")
        old = desk.cases.find_by_reference("C-2026-000001")
        assert old.details.transactions[0].amount_minor == 12550
        page = desk.cases.list(CaseQuery(scope=CaseScope.ALL, text="facture"))
        assert [r.reference for r in page.rows] == ["C-2026-000001"]
    finally:
        desk.close()
    assert list(tmp_path.glob("old.before-migration-*.sqlite3")), "a copy was kept"


def test_models_and_migrations_agree(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        upgrade(engine)
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


def test_downgrade_to_nothing_and_back(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        upgrade(engine)
        command.downgrade(alembic_config(engine), "base")
        assert schema_state(engine).is_empty
        upgrade(engine)
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_newer_schema_is_refused_and_left_untouched(sqlite_demo_url: str) -> None:
    path = Path(sqlite_demo_url.removeprefix("sqlite:///"))
    engine = make_engine(sqlite_demo_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    engine.dispose()
    with closing(sqlite3.connect(path)) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    digest = _digest(path)
    siblings = set(path.parent.iterdir())

    with pytest.raises(SchemaMismatch, match="newer version of Desk"):
        Desk.open(sqlite_demo_url)

    assert _digest(path) == digest
    assert {p for p in path.parent.iterdir() if not p.name.endswith(("-wal", "-shm"))} <= siblings


def test_sqlite_file_is_copied_aside_with_its_data(sqlite_demo_url: str) -> None:
    engine = make_engine(sqlite_demo_url)
    try:
        copy = backup_sqlite_file(engine)
    finally:
        engine.dispose()
    assert copy is not None and copy.exists()
    copy_engine = make_engine(f"sqlite:///{copy}")
    try:
        with copy_engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM cases")).scalar_one() == 200
    finally:
        copy_engine.dispose()


def test_first_start_creates_schema_and_demo_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'desk.sqlite3'}"
    messages: list[str] = []
    desk: Any = Desk.open(url, progress=messages.append)
    try:
        assert messages, "the first start says what it is doing"
        logins = desk.demo_logins()
        assert ("officer", "demo", "Counter Officer") in logins
        desk.login("manager", "demo")  # a manager sees every centre's cases
        page = desk.cases.list(CaseQuery(scope=CaseScope.ALL, page_size=500))
        assert len(page.rows) == 200
    finally:
        desk.close()


def test_the_head_constant_matches_the_newest_migration() -> None:
    from desk.adapters.database import head_revision
    from desk.adapters.migrations import HEAD_REVISION

    assert head_revision() == HEAD_REVISION == _revisions()[-1]


def _run_record(script_id: str, outcome: str | None, answers: list[tuple[str, str, str]]) -> str:
    """A run log as revision 0005 stored it (``RunRecord.as_dict``): only what 0007 reads
    matters here, the rest is as the panel writes it."""
    at = "2026-01-02T10:05:00+00:00"
    return json.dumps(
        {
            "script_id": script_id,
            "script_version": 1,
            "language": "en",
            "started_at": "2026-01-02T10:00:00+00:00",
            "ended_at": at if outcome else None,
            "outcome": outcome,
            "scripts": [{"id": script_id, "version": 1}],
            "steps_shown": [],
            "answers": [
                {"script_id": s, "step_id": p, "answer_id": a, "at": at} for s, p, a in answers
            ],
            "ticks": [],
            "safety_alerts": [],
            "events": [],
        }
    )


_RUNS_AT_0006 = [
    # Escalated after going on from "last" to "supervisor_request": it turned there.
    (
        "last",
        "escalated",
        [("last", "satisfied", "wants_supervisor"), ("supervisor_request", "available", "no")],
    ),
    ("last", "calmed_and_resolved", [("last", "can_solve", "yes"), ("last", "satisfied", "yes")]),
    ("deescalate_angry", "escalated", []),  # escalated before any question was answered
    ("last", None, [("last", "can_solve", "yes")]),  # not finished
]


def _database_at_0006_with_runs(url: str) -> None:
    """The first revision's case, upgraded to 0006, then the runs of ``_RUNS_AT_0006`` stored
    with it as 0005 stored them."""
    engine = make_engine(url)
    try:
        upgrade(engine, _revisions()[0])
        with engine.begin() as conn:
            for statement in _FIRST_REVISION_DATA:
                conn.execute(text(statement))
            conn.execute(text("UPDATE staff SET password_hash = :h"), {"h": hash_password("pw")})
        upgrade(engine, "0006")
        with engine.begin() as conn:
            for n, (script_id, outcome, answers) in enumerate(_RUNS_AT_0006, start=1):
                conn.execute(
                    text(
                        "INSERT INTO script_runs (uuid, case_id, officer_id, script_id, "
                        "script_version, language, started_at, ended_at, outcome, last_step_id, "
                        "safety_incident, incident_report, record) VALUES (:uuid, 1, 1, :script, "
                        "1, 'en', '2026-01-02 10:00:00+00', NULL, :outcome, NULL, false, '', "
                        ":record)"
                    ),
                    {
                        "uuid": f"00000000-0000-4000-8000-1000000000{n:02d}",
                        "script": script_id,
                        "outcome": outcome,
                        "record": _run_record(script_id, outcome, answers),
                    },
                )
    finally:
        engine.dispose()


def test_upgrading_to_0007_publishes_the_shipped_scripts_and_finds_where_escalated_runs_turned(
    empty_url: str, backend: str
) -> None:
    _database_at_0006_with_runs(empty_url)
    engine = make_engine(empty_url)
    try:
        upgrade(engine, "0007")
        with engine.connect() as conn:
            turns = conn.execute(
                text(
                    "SELECT outcome, turn_script_id, turn_step_id, turn_answer_id "
                    "FROM script_runs ORDER BY id"
                )
            ).all()
            staff = conn.execute(text("SELECT username, language FROM staff")).all()
            versions = conn.execute(
                text(
                    "SELECT s.id, v.version, v.source, v.published_by_id, s.retired_at, "
                    "s.proposed_for FROM scripts s JOIN script_versions v ON v.script_id = s.id "
                    "ORDER BY s.id"
                )
            ).all()
            drafts = conn.execute(text("SELECT count(*) FROM script_drafts")).scalar_one()
        upgrade(engine)  # the later revisions keep it, and the result matches the models
        assert schema_differences(engine) == []
    finally:
        engine.dispose()

    assert [tuple(t) for t in turns] == [
        ("escalated", "supervisor_request", "available", "no"),
        ("calmed_and_resolved", None, None, None),
        ("escalated", None, None, None),
        (None, None, None, None),
    ]
    assert [tuple(s) for s in staff] == [("officer", "")]
    shipped = load_builtin_library()
    assert [v[0] for v in versions] == sorted(s.id for s in shipped)
    for script_id, version, source, published_by, retired_at, proposed_for in versions:
        assert (version, published_by, retired_at) == (1, None, None)
        assert proposed_for is None  # the file's moods, until an admin assigns others
        assert source == (builtin_directory() / shipped[script_id].source).read_text("utf-8")
    assert drafts == 0

    if backend == "sqlite":  # the services read the upgraded file as any other
        desk: Any = Desk.open(empty_url)
        try:
            assert desk.login("officer", "pw").language == ""
            library = desk.scripts.published()
            assert {s.id: s.version for s in library} == {s.id: 1 for s in shipped}
            assert library.refusals == ()
        finally:
            desk.close()


def test_upgrading_to_0007_gives_the_staff_logins_made_before_it_the_library(
    postgres: Any,
) -> None:
    """A shared database whose staff logins were made at 0006: afterwards an officer's own login
    reads the library and runs the services, and the database refuses it a draft."""
    from desk.adapters.pg_roles import create_login_role

    name = postgres.create_database("desk_test_migrate")
    _database_at_0006_with_runs(postgres.url(name))
    engine = make_engine(postgres.url(name))
    try:
        with engine.begin() as conn:
            create_login_role(conn, "officer", None)
        upgrade(engine, "0007")
        upgrade(engine)  # the app opens a database at the newest revision only
    finally:
        engine.dispose()
    desk: Any = Desk.open(postgres.url(name))
    try:
        session = desk.login("officer", "any password: the test server trusts")
        assert session.language == ""
        assert {s.id for s in desk.scripts.published()} == {s.id for s in load_builtin_library()}
        with desk.engine.connect() as conn, pytest.raises(DBAPIError, match="manage_scripts"):
            conn.execute(
                text(
                    "INSERT INTO script_drafts (script_id, source, updated_at) "
                    "VALUES ('last', 'x', now())"
                )
            )
    finally:
        desk.close()


# --- 0008: leave and deputies ------------------------------------------------------------------


def _database_at_0007_with_staff(url: str) -> None:
    """The first revision's data at 0007, with a supervisor (a decider) over the officer."""
    engine = make_engine(url)
    try:
        upgrade(engine, _revisions()[0])
        with engine.begin() as conn:
            for statement in _FIRST_REVISION_DATA:
                conn.execute(text(statement))
        upgrade(engine, "0007")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO roles (id, name, description, rank) "
                    "VALUES (2, 'Supervisor', '', 3)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO role_permissions (role_id, permission) "
                    "VALUES (2, 'decide_approvals')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO staff (id, uuid, username, full_name, email, role_id, centre_id, "
                    "active, password_hash, created_at, version) VALUES (2, "
                    "'00000000-0000-4000-8000-000000000006', 'boss', 'Bea Boss', '', 2, 1, true, "
                    "NULL, '2026-01-01 09:00:00+00', 4)"
                )
            )
            conn.execute(text("UPDATE staff SET supervisor_id = 2 WHERE id = 1"))
    finally:
        engine.dispose()


_STAFF = (
    "SELECT username, full_name, role_id, supervisor_id, active, version, language "
    "FROM staff ORDER BY id"
)


def test_upgrading_to_0008_finds_everyone_at_work_without_a_deputy(empty_url: str) -> None:
    _database_at_0007_with_staff(empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.connect() as conn:
            before = [tuple(r) for r in conn.execute(text(_STAFF))]
            cases = conn.execute(text(_CHECK)).all()
        upgrade(engine, "0008")
        with engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(text(_STAFF))] == before
            assert conn.execute(text(_CHECK)).all() == cases
            leave = conn.execute(
                text("SELECT username, away_from, away_until, deputy_id FROM staff ORDER BY id")
            ).all()
        assert [tuple(r) for r in leave] == [
            ("officer", None, None, None),
            ("boss", None, None, None),
        ]
        upgrade(engine)
        assert schema_differences(engine) == []
    finally:
        engine.dispose()
    assert before == [
        ("officer", "Ana Officer", 1, 2, True, 1, ""),
        ("boss", "Bea Boss", 2, None, True, 4, ""),
    ]


def test_after_0008_a_deputy_refers_to_someone_on_the_staff(empty_url: str) -> None:
    _database_at_0007_with_staff(empty_url)
    engine = make_engine(empty_url)
    try:
        upgrade(engine, "0008")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE staff SET away_from = '2026-03-02', away_until = '2026-03-06', "
                    "deputy_id = 1 WHERE username = 'boss'"
                )
            )
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text("UPDATE staff SET deputy_id = 99 WHERE username = 'officer'"))
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT username, deputy_id FROM staff ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [("officer", None), ("boss", 1)]
    finally:
        engine.dispose()


def test_upgrading_to_0008_lets_deciders_logins_made_before_it_set_their_own_leave(
    postgres: Any,
) -> None:
    """Staff logins made at 0007 may call ``desk_set_my_leave`` afterwards: a decider's changes
    their own row and nothing else; an officer's is refused by the function itself."""
    from desk.adapters.pg_roles import create_login_role, login_role_name

    name = postgres.create_database("desk_test_migrate")
    _database_at_0007_with_staff(postgres.url(name))
    engine = make_engine(postgres.url(name))
    try:
        with engine.begin() as conn:
            create_login_role(conn, "officer", None)
            create_login_role(conn, "boss", None)
        upgrade(engine, "0008")
        call = text("SELECT desk_set_my_leave(DATE '2026-03-02', DATE '2026-03-06', :deputy)")
        officer = make_engine(postgres.url(name, login_role_name(name, "officer"), None))
        boss = make_engine(postgres.url(name, login_role_name(name, "boss"), None))
        try:
            with officer.connect() as conn, pytest.raises(DBAPIError, match="decide_approvals"):
                conn.execute(call, {"deputy": 2})
            with boss.begin() as conn:
                conn.execute(call, {"deputy": 1})
        finally:
            officer.dispose()
            boss.dispose()
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT username, CAST(away_from AS text), CAST(away_until AS text), "
                    "deputy_id, version FROM staff ORDER BY id"
                )
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("officer", None, None, None, 1),
        ("boss", "2026-03-02", "2026-03-06", 1, 5),
    ]
