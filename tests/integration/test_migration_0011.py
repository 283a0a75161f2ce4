"""Schema revision 0011 (offline outbox) upgrades a database at 0010 that holds cases: the cases
stay as they were, with no provisional reference; a change sent from an outbox is recorded with
its client's UUID once."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from desk.adapters.database import make_engine, schema_differences, upgrade
from tests.integration.test_migration_0009 import _CASES
from tests.integration.test_migration_0010 import _database_at_0009_with_cases


@pytest.fixture
def empty_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'at0010.sqlite3'}"
    postgres = request.getfixturevalue("postgres")
    return str(postgres.url(postgres.create_database("desk_test_migrate")))


def test_upgrading_a_database_with_cases_to_0011_keeps_them_and_records_sent_changes_once(
    empty_url: str,
) -> None:
    cases = _database_at_0009_with_cases(empty_url)
    engine = make_engine(empty_url)
    try:
        upgrade(engine, "0010")
        upgrade(engine, "0011")
        assert schema_differences(engine) == []
        with engine.begin() as conn:
            assert conn.execute(text(_CASES)).all() == cases, "the cases are as they were"
            provisional = conn.execute(
                text("SELECT count(*) FROM cases WHERE provisional_reference IS NOT NULL")
            ).scalar_one()
            assert provisional == 0
            case_id, staff_id = conn.execute(
                text("SELECT id, created_by_id FROM cases ORDER BY id LIMIT 1")
            ).one()
            op = uuid.uuid4()
            sqlite = engine.dialect.name == "sqlite"
            now = dt.datetime.now(dt.UTC)
            insert = text(
                "INSERT INTO client_operations (uuid, kind, staff_id, case_id, case_version, "
                "recorded_at, applied_at) VALUES (:u, 'case.entry', :s, :c, 1, :t, :t)"
            ).bindparams(
                u=op.hex if sqlite else op,
                s=staff_id,
                c=case_id,
                t=now.replace(tzinfo=None) if sqlite else now,
            )
            conn.execute(insert)
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert)
    finally:
        engine.dispose()
