"""A case saved, or added to, by another Desk is heard without any user action, with its id: on
PostgreSQL through the cases' triggers (LISTEN/NOTIFY on desk_cases), on the embedded database by
the listener's poll. A lost LISTEN connection comes back and says everything may have changed."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from desk.adapters import orm
from desk.adapters.notifications import CASES, CHANNELS, Listener
from desk.domain.model import Channel, EventKind
from tests.conftest import DEMO_PASSWORD
from tests.integration.test_cases_service import new_customer, walk_in_case
from tests.integration.test_notifications import Inbox


def _about(case_id: int) -> Any:
    return lambda n: n.channel == CASES and n.payload.get("case") == case_id


def test_a_case_created_and_saved_by_another_desk_is_heard_with_its_id(
    desk_factory: Any,
) -> None:
    me = desk_factory("officer")
    other = desk_factory("officer")
    inbox = Inbox()
    listener = Listener(me.engine, inbox.deliver).start()
    try:
        assert listener.wait_ready()
        customer = new_customer(other)
        case = other.cases.create(walk_in_case(other, customer.id, "Meter read twice"))
        created = inbox.wait_for(_about(case.id))
        assert created.payload.get("version", case.version) == case.version
        if me.backend == "postgresql":  # small: which case, which version, which centre
            assert created.payload == {
                "case": case.id,
                "version": case.version,
                "centre": case.centre.id,
            }

        details = dataclasses.replace(case.details, next_steps="We call you back on Friday.")
        saved = other.cases.update(case.id, details, expected_version=case.version)
        assert saved.version > case.version
        inbox.wait_for(lambda n: _about(case.id)(n) and n.payload.get("version") == saved.version)
    finally:
        listener.stop()


def test_a_contact_added_to_a_case_elsewhere_is_heard_with_the_case_id(
    desk_factory: Any,
) -> None:
    me = desk_factory("officer")
    other = desk_factory("officer")
    customer = new_customer(other)
    case = other.cases.create(walk_in_case(other, customer.id, "Letter never arrived"))
    inbox = Inbox()
    listener = Listener(me.engine, inbox.deliver).start()
    try:
        assert listener.wait_ready()
        other.cases.add_entry(
            case.id, kind=EventKind.CONTACT, text="Called back", channel=Channel.PHONE
        )
        note = inbox.wait_for(_about(case.id))
        assert "resync" not in note.payload
    finally:
        listener.stop()


@pytest.fixture
def two_on_sqlite(sqlite_demo_url: str) -> Iterator[tuple[Any, Any]]:
    """Two counter officers' Desks on one embedded database."""
    from desk.bootstrap import Desk

    desks = [Desk.open(sqlite_demo_url) for _ in range(2)]
    for one in desks:
        one.login("officer", DEMO_PASSWORD)
    yield desks[0], desks[1]
    for one in desks:
        one.close()


def test_many_cases_at_once_on_the_embedded_database_become_one_resync(
    two_on_sqlite: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from desk.adapters import notifications

    monkeypatch.setattr(notifications, "MAX_CASES_PER_POLL", 1)
    me, other = two_on_sqlite
    customer = new_customer(other)
    inbox = Inbox()
    listener = Listener(me.engine, inbox.deliver).start()
    try:
        assert listener.wait_ready()
        with me.engine.begin() as conn:  # two cases touched in one go, between two polls
            conn.execute(
                update(orm.Case)
                .where(orm.Case.id.in_(select(orm.Case.id).order_by(orm.Case.id).limit(2)))
                .values(updated_at=dt.datetime.now(dt.UTC))
            )
        inbox.wait_for(lambda n: n.channel == CASES and n.payload.get("resync") is True)
        case = other.cases.create(walk_in_case(other, customer.id, "After the import"))
        inbox.wait_for(_about(case.id))  # and the poll goes on case by case
    finally:
        listener.stop()


def test_a_lost_listen_connection_listens_again_and_asks_for_a_resync(
    postgres: Any, pg_demo_database: str
) -> None:
    from desk.bootstrap import Desk

    desk = Desk.open(postgres.url(pg_demo_database))
    desk.login("officer", DEMO_PASSWORD)
    inbox = Inbox()
    listener = Listener(desk.engine, inbox.deliver).start()
    try:
        assert listener.wait_ready()
        lost = listener.backend_pid
        assert lost is not None
        with postgres._admin() as admin:  # the server ends the listening connection
            admin.execute("SELECT pg_terminate_backend(%s)", (lost,))
        inbox.wait_for(lambda n: n.channel == CASES and n.payload.get("resync") is True)
        resyncs = [n for n in inbox.received if n.payload.get("resync")]
        assert {n.channel for n in resyncs} == set(CHANNELS), "every screen reads again"
        assert listener.backend_pid != lost
        customer = new_customer(desk)
        case = desk.cases.create(walk_in_case(desk, customer.id, "Heard after the reconnect"))
        inbox.wait_for(_about(case.id))  # and it hears again
    finally:
        listener.stop()
        desk.close()
