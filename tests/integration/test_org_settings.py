"""Organisation settings in the database: typed, validated, audited; on both databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from desk.adapters.database import make_engine, upgrade
from desk.adapters.unit_of_work import UnitOfWork
from desk.bootstrap import Desk
from desk.domain.validation import ValidationError
from desk.services import org_settings
from desk.services.errors import PermissionRefused

DEMO_PASSWORD = "demo"  # every demo login's password (see tests/conftest.py)


@pytest.fixture
def owner_engine(backend: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An empty, migrated database of each kind, opened as its owner (who may write settings)."""
    if backend == "sqlite":
        tmp_path = request.getfixturevalue("tmp_path")
        url = f"sqlite:///{tmp_path / 'settings.sqlite3'}"
    else:
        postgres = request.getfixturevalue("postgres")
        url = postgres.url(postgres.create_database("desk_test_settings"))
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _uow(engine: Engine) -> Callable[..., UnitOfWork]:
    return lambda **kwargs: UnitOfWork(engine, **kwargs)


def _stored(engine: Engine) -> str | None:
    with engine.connect() as conn:
        value = conn.execute(
            text("SELECT value FROM settings WHERE key = 'idle_lock_minutes'")
        ).scalar()
    return None if value is None else str(value)


def _audit_actions(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT action, entity_id, details FROM audit_events ORDER BY id")
        ).all()
    return [(str(a), str(e), str(d)) for a, e, d in rows]


def test_the_idle_lock_is_five_minutes_until_someone_sets_it(owner_engine: Engine) -> None:
    assert org_settings.idle_lock_minutes(_uow(owner_engine)) == 5
    assert _stored(owner_engine) is None


def test_whole_minutes_from_0_to_240_are_stored_and_read_back(owner_engine: Engine) -> None:
    for given, stored in [(0, 0), (1, 1), (15, 15), (240, 240), (" 30 ", 30)]:
        assert org_settings.set_idle_lock_minutes(_uow(owner_engine), given, actor=None) == stored
        assert _stored(owner_engine) == str(stored)
        assert org_settings.idle_lock_minutes(_uow(owner_engine)) == stored


REFUSED: list[Any] = [-1, 241, 10_000, "", "five", "5.5", "-3", "1e2", "٣", 2.0, None, True]


def test_anything_else_is_refused_with_a_sentence_and_nothing_is_written(
    owner_engine: Engine,
) -> None:
    for given in REFUSED:
        with pytest.raises(ValidationError) as refused:
            org_settings.set_idle_lock_minutes(_uow(owner_engine), given, actor=None)
        message = refused.value.errors["idle_lock_minutes"]
        assert message.startswith("The idle lock must be a whole number of minutes from 0"), message
        assert "to 240" in message
    assert _stored(owner_engine) is None
    assert _audit_actions(owner_engine) == []


def test_the_refusal_says_what_was_given_and_what_zero_means() -> None:
    with pytest.raises(ValidationError) as refused:
        org_settings.IDLE_LOCK_MINUTES.parse("five")
    assert str(refused.value) == (
        "The idle lock must be a whole number of minutes from 0 (0 never locks) to 240; "
        "“five” is not."
    )


def test_a_change_is_audited_with_the_old_and_new_value(owner_engine: Engine) -> None:
    uow = _uow(owner_engine)
    org_settings.set_idle_lock_minutes(uow, 10, actor=None)
    org_settings.set_idle_lock_minutes(uow, 10, actor=None)  # unchanged: no entry
    org_settings.set_idle_lock_minutes(uow, 0, actor=None)
    actions = _audit_actions(owner_engine)
    assert [(action, entity_id) for action, entity_id, _ in actions] == [
        ("setting.changed", "idle_lock_minutes"),
        ("setting.changed", "idle_lock_minutes"),
    ]
    assert '"to":"10"' in actions[0][2].replace(" ", "")
    assert '"from":"10"' in actions[1][2].replace(" ", "")


def test_a_hand_edited_unusable_value_falls_back_to_the_default(
    owner_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with owner_engine.begin() as conn:
        conn.execute(text("INSERT INTO settings (key, value) VALUES ('idle_lock_minutes', 'ten')"))
    assert org_settings.idle_lock_minutes(_uow(owner_engine)) == 5
    assert "idle_lock_minutes" in caplog.text


@pytest.fixture
def idle_lock_set_to(database_url: str) -> Iterator[Callable[[str], None]]:
    """Store a value in the demo database as its owner; the row is removed afterwards (the
    PostgreSQL demo database is shared by the whole test session)."""
    engine = make_engine(database_url)

    def store(value: str) -> None:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM settings WHERE key = 'idle_lock_minutes'"))
            conn.execute(
                text("INSERT INTO settings (key, value) VALUES ('idle_lock_minutes', :v)"),
                {"v": value},
            )

    yield store
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM settings WHERE key = 'idle_lock_minutes'"))
    engine.dispose()


def test_the_setting_is_read_at_login(
    database_url: str, idle_lock_set_to: Callable[[str], None]
) -> None:
    idle_lock_set_to("12")
    desk = Desk.open(database_url)
    try:
        assert desk.idle_lock_minutes == 5  # nobody logged in yet
        desk.login("officer", DEMO_PASSWORD)
        assert desk.idle_lock_minutes == 12
    finally:
        desk.close()


def test_an_officer_cannot_change_the_setting_on_postgresql(
    postgres: Any, pg_demo_database: str
) -> None:
    """Even a modified client calling the service directly: the database refuses the write
    (the admin console checks the permission first; see desk/services/admin.py)."""
    desk = Desk.open(postgres.url(pg_demo_database))
    try:
        officer = desk.login("officer", DEMO_PASSWORD)
        with pytest.raises(PermissionRefused):
            org_settings.set_idle_lock_minutes(_uow(desk.engine), 30, actor=officer)
        assert org_settings.idle_lock_minutes(_uow(desk.engine)) == 5
    finally:
        desk.close()


def test_the_change_is_audited_under_the_name_of_who_made_it(sqlite_demo_url: str) -> None:
    desk = Desk.open(sqlite_demo_url)
    try:
        admin = desk.login("admin", DEMO_PASSWORD)
        assert org_settings.set_idle_lock_minutes(_uow(desk.engine), "20", actor=admin) == 20
        with desk.engine.connect() as conn:
            actor = conn.execute(
                text("SELECT actor_name FROM audit_events WHERE action = 'setting.changed'")
            ).scalar_one()
        assert actor == admin.full_name
    finally:
        desk.close()
