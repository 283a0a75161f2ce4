"""Schema revision 0009 (inbox work items) upgrades a database at 0008 that holds cases: the new
table arrives empty, the cases stay as they were, and the app uses it on both databases (on
PostgreSQL with staff logins made before the upgrade)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect, text

from desk.adapters.database import alembic_config, make_engine, upgrade
from desk.bootstrap import Desk, hash_password
from desk.domain.work_items import Decision, ItemKind, ItemStatus
from tests.integration.test_migrations import _FIRST_REVISION_DATA, _revisions

# A second case, written at 0008 with the first revision's columns (later ones have defaults).
_CASE_AT_0008 = (
    "INSERT INTO cases (id, uuid, reference, version, kind, channel, social_platform, "
    "social_handle, social_post_url, priority, status, centre_id, customer_id, "
    "assigned_officer_id, created_by_id, customer_words, customer_expectation, "
    "officer_understanding, customer_confirmed, root_cause, actions_agreed, next_steps, "
    "resolution, opened_at, updated_at, search_text) VALUES (2, "
    "'00000000-0000-4000-8000-000000000007', 'C-2026-000002', 1, 'complaint', 'walk_in', '', "
    "'', '', 'urgent', 'in_progress', 1, 1, 1, 1, 'Die Rechnung ist doppelt', '', '', false, '', "
    "'', '', '', '2026-01-03 10:00:00+00', '2026-01-03 10:00:00+00', "
    "'C-2026-000002 Zoë Lefèvre Die Rechnung ist doppelt')"
)
_CASES = (
    "SELECT c.reference, c.status, c.priority, c.customer_words, cu.full_name "
    "FROM cases c JOIN customers cu ON cu.id = c.customer_id ORDER BY c.id"
)


_WITH_IDS = (
    "service_centres",
    "roles",
    "staff",
    "customers",
    "cases",
    "case_transactions",
    "case_events",
)


@pytest.fixture
def empty_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'at0008.sqlite3'}"
    postgres = request.getfixturevalue("postgres")
    return str(postgres.url(postgres.create_database("desk_test_migrate")))


def _database_at_0008_with_cases(url: str) -> list[Any]:
    """The first revision's data, upgraded to 0008, with a supervisor over the officer (who may
    decide and vet replies) and a second case; returns the cases as stored."""
    engine = make_engine(url)
    try:
        upgrade(engine, _revisions()[0])
        with engine.begin() as conn:
            for statement in _FIRST_REVISION_DATA:
                conn.execute(text(statement))
        upgrade(engine, "0008")
        with engine.begin() as conn:
            conn.execute(text(_CASE_AT_0008))
            conn.execute(
                text(
                    "INSERT INTO roles (id, name, description, rank) "
                    "VALUES (2, 'Supervisor', '', 3)"
                )
            )
            for permission in ("decide_approvals", "vet_replies", "view_centre_cases"):
                conn.execute(
                    text("INSERT INTO role_permissions (role_id, permission) VALUES (2, :p)"),
                    {"p": permission},
                )
            conn.execute(
                text(
                    "INSERT INTO staff (id, uuid, username, full_name, email, role_id, centre_id, "
                    "active, password_hash, created_at) VALUES (2, "
                    "'00000000-0000-4000-8000-000000000006', 'boss', 'Bea Boss', '', 2, 1, true, "
                    "NULL, '2026-01-01 09:00:00+00')"
                )
            )
            conn.execute(text("UPDATE staff SET supervisor_id = 2 WHERE id = 1"))
            conn.execute(text("UPDATE staff SET password_hash = :h"), {"h": hash_password("pw")})
            if conn.dialect.name == "postgresql":  # rows written with their ids: move on
                for table in _WITH_IDS:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))"
                        )
                    )
            return list(conn.execute(text(_CASES)).all())
    finally:
        engine.dispose()


def test_upgrading_a_database_with_cases_to_0009_adds_an_empty_work_items_table(
    empty_url: str, backend: str
) -> None:
    cases = _database_at_0008_with_cases(empty_url)
    assert [c[0] for c in cases] == ["C-2026-000001", "C-2026-000002"]
    engine = make_engine(empty_url)
    try:
        assert not inspect(engine).has_table("work_items")
        upgrade(engine, "0009")
        schema = inspect(engine)
        assert schema.has_table("work_items")
        columns = {c["name"] for c in schema.get_columns("work_items")}
        assert {
            "uuid",
            "kind",
            "case_id",
            "subject_staff_id",
            "body",
            "requested_by_id",
            "assigned_to_id",
            "status",
            "outcome",
            "response",
            "decided_by_id",
            "decided_at",
            "sent_at",
            "seen_at",
            "version",
        } <= columns
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM work_items")).scalar_one() == 0
            assert conn.execute(text(_CASES)).all() == cases, "the cases are as they were"
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            assert version == "0009"
            if backend == "postgresql":
                triggers = set(
                    conn.execute(
                        text(
                            "SELECT tgname FROM pg_trigger "
                            "WHERE tgrelid = 'work_items'::regclass AND NOT tgisinternal"
                        )
                    ).scalars()
                )
                assert triggers == {"work_items_check", "work_items_notify", "work_items_kept"}
                secured = conn.execute(
                    text("SELECT relrowsecurity FROM pg_class WHERE oid = 'work_items'::regclass")
                ).scalar_one()
                assert secured, "row-level security is on"

        command.downgrade(alembic_config(engine), "0008")
        assert not inspect(engine).has_table("work_items")
        with engine.connect() as conn:
            assert conn.execute(text(_CASES)).all() == cases
        upgrade(engine, "0009")
        assert inspect(engine).has_table("work_items")
    finally:
        engine.dispose()


def _raise_and_decide(url: str, officer_password: str, boss_password: str) -> None:
    """The officer asks for a review of the old case; it reaches their supervisor, who decides."""
    officer: Any = Desk.open(url)  # an embedded database is migrated to the newest revision
    boss: Any = Desk.open(url)
    try:
        officer.login("officer", officer_password)
        boss.login("boss", boss_password)
        case = officer.cases.find_by_reference("C-2026-000002")
        assert officer.items.for_case(case.id) == []
        item = officer.items.ask_review(case.id, "The customer asks for a supervisor's review")
        assert item.kind is ItemKind.REVIEW and item.assigned_to == "Bea Boss"
        assert item.id in {i.id for i in boss.items.waiting()}
        decided = boss.items.decide(item.id, Decision.UPHOLD, "The bill was right")
        assert decided.status is ItemStatus.DONE and decided.decided_by == "Bea Boss"
        assert decided.wording.startswith("Zoë, a supervisor has looked at the decision again")
        assert officer.cases.get(case.id).status.value == "in_progress"
    finally:
        officer.close()
        boss.close()


def test_the_app_uses_work_items_on_an_embedded_database_upgraded_from_0008(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    _database_at_0008_with_cases(url)
    _raise_and_decide(url, "pw", "pw")
    assert list(tmp_path.glob("old.before-migration-*.sqlite3")), "a copy was kept"


def test_staff_logins_made_before_0009_raise_and_decide_items_after_it(postgres: Any) -> None:
    from desk.adapters.pg_roles import create_login_role

    name = postgres.create_database("desk_test_migrate")
    _database_at_0008_with_cases(postgres.url(name))
    engine = make_engine(postgres.url(name))
    try:
        with engine.begin() as conn:
            create_login_role(conn, "officer", None)
            create_login_role(conn, "boss", None)
        upgrade(engine, "0009")
        upgrade(engine)  # the app opens a database at the newest revision only
    finally:
        engine.dispose()
    _raise_and_decide(postgres.url(name), "any: the test server trusts", "any")
