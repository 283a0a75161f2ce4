"""Schema migrations: upgrade keeps data, models and migrations agree, newer schemas are refused."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from desk.adapters.database import (
    alembic_config,
    backup_sqlite_file,
    make_engine,
    schema_differences,
    schema_state,
    upgrade,
)
from desk.bootstrap import Desk
from desk.services.demo import generate_demo
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


def test_each_revision_upgrades_a_database_that_holds_data(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        revisions = _revisions()
        upgrade(engine, revisions[0])
        generate_demo(engine, cases=60, seed=3)
        with engine.connect() as conn:
            before = conn.execute(
                text("SELECT reference, customer_words FROM cases ORDER BY id")
            ).all()
        for revision in revisions[1:]:
            upgrade(engine, revision)
        state = schema_state(engine)
        assert state.up_to_date
        with engine.connect() as conn:
            after = conn.execute(
                text("SELECT reference, customer_words FROM cases ORDER BY id")
            ).all()
        assert after == before and len(after) == 60
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


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
        desk.login("officer", "demo")
        page = desk.cases.list(CaseQuery(scope=CaseScope.ALL, page_size=500))
        assert len(page.rows) == 200
    finally:
        desk.close()


def test_the_head_constant_matches_the_newest_migration() -> None:
    from desk.adapters.database import head_revision
    from desk.adapters.migrations import HEAD_REVISION

    assert head_revision() == HEAD_REVISION == _revisions()[-1]
