"""The audit trail: every case change and login is recorded, and tampering is found."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from desk.adapters.database import make_engine
from desk.bootstrap import Desk
from desk.cli import main
from desk.domain.case import CaseDetails
from desk.domain.customer import CustomerDetails
from desk.domain.model import CaseStatus, EventKind


def _case(desk: Any, words: str = "The bin was not collected") -> Any:
    customer = desk.customers.create(CustomerDetails(full_name=f"Audit {uuid.uuid4().hex[:8]}"))
    return desk.cases.create(CaseDetails(customer_id=customer.id, customer_words=words))


def _entries(desk: Any, entity_id: str) -> list[tuple[str, str]]:
    with desk.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT action, actor_name FROM audit_events WHERE entity_id = :e ORDER BY id"),
            {"e": entity_id},
        ).all()
    return [(r[0], r[1]) for r in rows]


def test_case_changes_are_recorded_with_who_did_them(desk: Any) -> None:
    view = _case(desk)
    desk.cases.change_status(view.id, CaseStatus.IN_PROGRESS, note="Looking into it")
    desk.cases.add_entry(view.id, kind=EventKind.NOTE, text="Called the depot")
    actions = [action for action, _ in _entries(desk, view.reference)]
    assert actions == ["case.created", "case.status_changed", "case.note"]
    assert {name for _, name in _entries(desk, view.reference)} == {desk.session.full_name}
    checked, broken = desk.verify_audit_trail()
    assert broken is None and checked >= 3


def test_logins_logouts_and_failed_logins_are_recorded(sqlite_demo_url: str) -> None:
    desk = Desk.open(sqlite_demo_url)
    try:
        with pytest.raises(Exception, match="not right"):
            desk.login("officer", "wrong password")
        session = desk.login("officer", "demo")
        desk.logout()
        desk.login("officer", "demo")
        actions = [a for a, _ in _entries(desk, str(session.staff_id))]
        assert actions == ["login.failed", "login", "logout", "login"]
    finally:
        desk.close()


def test_the_database_refuses_to_change_or_remove_entries(desk: Any) -> None:
    _case(desk)
    for statement in (
        "UPDATE audit_events SET actor_name = 'someone else'",
        "DELETE FROM audit_events",
    ):
        with (
            pytest.raises(DBAPIError, match=r"append-only|permission denied"),
            desk.engine.begin() as conn,
        ):
            conn.execute(text(statement))


def test_an_officer_cannot_alter_the_trail_even_in_sql(
    postgres: Any, pg_demo_database: str
) -> None:
    url = postgres.admin_url
    with psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        dbname=pg_demo_database,
        user=f"{pg_demo_database}__officer",
        password="demo",
        autocommit=True,
    ) as conn:
        for statement in (
            "UPDATE audit_events SET actor_name = 'x'",
            "DELETE FROM audit_events",
            "TRUNCATE audit_events",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def _tamper(url: str, *statements: str) -> None:
    """What someone with the file or the owner's password could do: lift the guard, edit."""
    engine = make_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.begin() as conn:
            if sqlite:
                conn.execute(text("DROP TRIGGER audit_events_no_update"))
                conn.execute(text("DROP TRIGGER audit_events_no_delete"))
            else:
                conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            for statement in statements:
                conn.execute(text(statement))
            if not sqlite:
                conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
    finally:
        engine.dispose()


@pytest.fixture
def private_url(backend: str, request: pytest.FixtureRequest) -> str:
    """A database of this test's own, since the tests below damage its audit trail."""
    if backend == "sqlite":
        return str(request.getfixturevalue("sqlite_demo_url"))
    postgres = request.getfixturevalue("postgres")
    name = postgres.create_database("desk_test_audit")
    url = postgres.url(name)
    assert main(["db", "init", "--database", url, "--demo-cases", "10"]) == 0
    return str(url)


def test_verify_names_the_first_changed_entry(private_url: str) -> None:
    desk = Desk.open(private_url)
    desk.login("officer", "demo")
    references = [_case(desk, f"case {i}").reference for i in range(3)]
    with desk.engine.connect() as conn:
        target = conn.execute(
            text("SELECT min(id) FROM audit_events WHERE entity_id = :r"), {"r": references[1]}
        ).scalar_one()
    desk.close()
    assert main(["audit", "verify", "--database", private_url]) == 0

    _tamper(private_url, f"UPDATE audit_events SET details = '{{}}' WHERE id = {target}")

    assert main(["audit", "verify", "--database", private_url]) == 1
    desk = Desk.open(private_url)
    desk.login("officer", "demo")
    try:
        _, broken = desk.verify_audit_trail()
        assert broken is not None and broken.entry_id == target
        assert "changed after it was written" in broken.reason
    finally:
        desk.close()


def test_verify_finds_a_removed_entry(private_url: str) -> None:
    desk = Desk.open(private_url)
    desk.login("officer", "demo")
    for i in range(3):
        _case(desk, f"case {i}")
    with desk.engine.connect() as conn:
        ids = conn.execute(text("SELECT id FROM audit_events ORDER BY id")).scalars().all()
    desk.close()

    _tamper(private_url, f"DELETE FROM audit_events WHERE id = {ids[2]}")

    desk = Desk.open(private_url)
    desk.login("officer", "demo")
    try:
        _, broken = desk.verify_audit_trail()
        assert broken is not None and broken.entry_id == ids[3]
        assert "removed" in broken.reason
    finally:
        desk.close()


def test_export_writes_every_entry(sqlite_demo_url: str, tmp_path: Path) -> None:
    desk = Desk.open(sqlite_demo_url)
    desk.login("officer", "demo")
    _case(desk)
    desk.close()
    target = tmp_path / "audit.csv"
    assert main(["audit", "export", "--database", sqlite_demo_url, "--output", str(target)]) == 0
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("id,at,actor_id") and len(lines) >= 3


def test_writers_at_the_same_moment_keep_one_chain(desk_factory: Any) -> None:
    desks = [desk_factory("officer"), desk_factory("senior")]
    errors: list[BaseException] = []

    def work(desk: Any) -> None:
        try:
            for i in range(5):
                _case(desk, f"parallel {i}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(d,)) for d in desks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    _, broken = desks[0].verify_audit_trail()
    assert broken is None
