"""Faults on the way to a real PostgreSQL: the server restarted in the middle of a save, the
connection cut by a proxy between client and server (dropped, stalled, half open), two clients
editing one case. After each, nothing is lost and nothing is recorded twice: every test counts the
rows itself, as the database owner.

A save whose connection fails either committed or raised DatabaseUnavailable, and saving again
with the same client UUID records it once. A connection that stops answering fails the save within
the engine's response time (shortened here to two seconds) instead of hanging the window.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import psycopg
import pytest
from sqlalchemy import text as sql
from sqlalchemy.engine import make_url

from desk.adapters import database
from desk.adapters.unit_of_work import UnitOfWork
from desk.bootstrap import Desk
from desk.domain.model import Channel, EventKind
from desk.services.errors import ConflictError, DatabaseUnavailable
from desk.services.grants import Outcome
from tests.conftest import (
    DEMO_PASSWORD,
    PasswordCheckingCluster,
    PostgresServer,
    _prepare_demo_database,
)
from tests.faultproxy import COMMIT, FaultProxy, Mode
from tests.integration.test_cases_service import new_customer, walk_in_case

pytestmark = pytest.mark.postgres

T = TypeVar("T")

# The engine's response and connection timeouts in these tests (30 s and 10 s in the app).
QUICK_SECONDS = 2
# A call that has not returned after this long hangs: the test fails instead of waiting forever.
HANG_SECONDS = 30.0


@pytest.fixture(autouse=True)
def quick_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "RESPONSE_TIMEOUT_SECONDS", float(QUICK_SECONDS))
    monkeypatch.setattr(database, "CONNECT_TIMEOUT_SECONDS", QUICK_SECONDS)


# --- the database, as its owner sees it -----------------------------------------------------


class Owner:
    """Counts rows directly, as the owner: what the application says does not count."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)

    def connect(self, *, autocommit: bool = True) -> psycopg.Connection[Any]:
        url = self.url
        return psycopg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            dbname=url.database,
            autocommit=autocommit,
        )

    def value(self, sql: str, *params: object) -> Any:
        with self.connect() as conn:
            row = conn.execute(sql, params).fetchone()
            return row[0] if row else None

    def cases(self, client_uuid: uuid.UUID) -> int:
        return int(self.value("SELECT count(*) FROM cases WHERE uuid = %s", client_uuid))

    def case_id(self, client_uuid: uuid.UUID) -> int:
        return int(self.value("SELECT id FROM cases WHERE uuid = %s", client_uuid))

    def created_records(self, client_uuid: uuid.UUID) -> int:
        """'Case recorded' lines on the timeline and in the audit trail: one each, or none."""
        events = self.value(
            "SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id "
            "WHERE c.uuid = %s AND e.kind = 'created'",
            client_uuid,
        )
        audits = self.value(
            "SELECT count(*) FROM audit_events a JOIN cases c ON c.reference = a.entity_id "
            "WHERE c.uuid = %s AND a.action = 'case.created'",
            client_uuid,
        )
        assert events == audits, (events, audits)
        return int(events)

    def entries(self, case_id: int, text: str) -> int:
        return int(
            self.value(
                "SELECT count(*) FROM case_events WHERE case_id = %s AND summary = %s",
                case_id,
                text,
            )
        )

    def events(self, case_id: int, kind: str) -> int:
        return int(
            self.value(
                "SELECT count(*) FROM case_events WHERE case_id = %s AND kind = %s", case_id, kind
            )
        )

    def case_version(self, case_id: int) -> int:
        return int(self.value("SELECT version FROM cases WHERE id = %s", case_id))

    def customer_words(self, case_id: int) -> str:
        return str(self.value("SELECT customer_words FROM cases WHERE id = %s", case_id))


@pytest.fixture
def owner(postgres: PostgresServer, pg_demo_database: str) -> Owner:
    return Owner(postgres.url(pg_demo_database))


# --- the proxy and the people who connect through it ---------------------------------------


@pytest.fixture
def proxy(postgres: PostgresServer) -> Iterator[FaultProxy]:
    url = postgres.admin_url
    with FaultProxy(url.host or "127.0.0.1", url.port or 5432) as running:
        yield running


def _desks(url: Any) -> Iterator[Callable[[str], Desk]]:
    opened: list[Desk] = []

    def log_in(username: str = "officer") -> Desk:
        desk = Desk(url)
        desk.login(username, DEMO_PASSWORD)
        opened.append(desk)
        return desk

    yield log_in
    for desk in opened:
        desk.close()


@pytest.fixture
def through_proxy(
    proxy: FaultProxy, postgres: PostgresServer, pg_demo_database: str
) -> Iterator[Callable[[str], Desk]]:
    """Log a demo user in to the demo database through the proxy."""
    url = make_url(postgres.url(pg_demo_database)).set(
        host="127.0.0.1", port=proxy.port, username=None, password=None
    )
    yield from _desks(url)


@pytest.fixture
def direct(postgres: PostgresServer, pg_demo_database: str) -> Iterator[Callable[[str], Desk]]:
    """Log a demo user in to the demo database directly."""
    url = make_url(postgres.url(pg_demo_database)).set(username=None, password=None)
    yield from _desks(url)


def bounded(call: Callable[[], T], *, unstick: Callable[[], None] | None = None) -> T:
    """Run ``call``, failing the test if it has not returned within HANG_SECONDS (then
    ``unstick`` frees it, so no thread is left behind)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed back to the test's thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="bounded-call", daemon=True)
    worker.start()
    worker.join(HANG_SECONDS)
    if worker.is_alive():
        if unstick is not None:
            unstick()
        worker.join(HANG_SECONDS)
        pytest.fail(f"the call was still waiting after {HANG_SECONDS:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return cast(T, outcome["value"])


def save_new_case(desk: Desk, customer_id: int, client_uuid: uuid.UUID) -> Any:
    return desk.cases.create(
        walk_in_case(desk, customer_id, "Charged twice"), client_uuid=client_uuid
    )


def token() -> str:
    return f"Called back, token {uuid.uuid4().hex}"


# --- the proxy itself ----------------------------------------------------------------------


def test_the_proxy_passes_stalls_half_opens_and_drops_as_told(
    proxy: FaultProxy, owner: Owner
) -> None:
    def connect() -> psycopg.Connection[Any]:
        url = owner.url
        return psycopg.connect(
            host="127.0.0.1",
            port=proxy.port,
            user=url.username,
            dbname=url.database,
            autocommit=True,
        )

    def alive(pid: int) -> bool:
        return bool(owner.value("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", pid))

    def query(conn: psycopg.Connection[Any]) -> threading.Thread:
        worker = threading.Thread(target=lambda: _quietly(lambda: conn.execute("SELECT 1")))
        worker.start()
        return worker

    with connect() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,) and proxy.connections == 1
        proxy.stall()  # nothing moves, nothing is lost
        worker = query(conn)
        worker.join(0.5)
        assert worker.is_alive()
        proxy.resume()
        worker.join(HANG_SECONDS)
        assert not worker.is_alive() and conn.execute("SELECT 2").fetchone() == (2,)

        pid = conn.info.backend_pid
        proxy.half_open()  # the server's side ends; the client hears nothing
        assert proxy.wait_until(lambda _p: not alive(pid))
        worker = query(conn)
        worker.join(0.5)
        assert worker.is_alive() and proxy.connections == 1
        proxy.drop()  # the client is reset at last
        worker.join(HANG_SECONDS)
        assert not worker.is_alive() and proxy.connections == 0

    proxy.resume()
    with connect() as conn:
        pid = conn.info.backend_pid
        proxy.drop()
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")
        assert proxy.wait_until(lambda _p: not alive(pid))


def _quietly(call: Callable[[], object]) -> None:
    with contextlib.suppress(psycopg.Error):
        call()


# --- the connections dropped ----------------------------------------------------------------


def test_a_save_after_every_connection_was_reset_reconnects_without_an_error(
    through_proxy: Callable[[str], Desk], proxy: FaultProxy, owner: Owner
) -> None:
    desk = through_proxy("officer")
    customer = new_customer(desk)  # the pool now holds a connection used a moment ago
    proxy.drop()

    client_uuid = uuid.uuid4()
    view = save_new_case(desk, customer.id, client_uuid)
    text = token()
    desk.cases.add_entry(view.id, kind=EventKind.CONTACT, text=text, channel=Channel.PHONE)

    assert owner.cases(client_uuid) == 1 and owner.created_records(client_uuid) == 1
    assert owner.entries(view.id, text) == 1


def test_while_the_server_cannot_be_reached_a_save_fails_and_retried_later_records_once(
    through_proxy: Callable[[str], Desk], proxy: FaultProxy, owner: Owner
) -> None:
    desk = through_proxy("officer")
    customer = new_customer(desk)
    client_uuid = uuid.uuid4()
    proxy.refuse()

    with pytest.raises(DatabaseUnavailable):
        bounded(lambda: save_new_case(desk, customer.id, client_uuid))
    assert owner.cases(client_uuid) == 0

    proxy.resume()
    first = save_new_case(desk, customer.id, client_uuid)
    again = save_new_case(desk, customer.id, client_uuid)
    assert first.id == again.id
    assert owner.cases(client_uuid) == 1 and owner.created_records(client_uuid) == 1


def test_a_connection_dropped_before_the_commit_arrives_saves_nothing_and_a_retry_saves_once(
    through_proxy: Callable[[str], Desk], proxy: FaultProxy, owner: Owner
) -> None:
    desk = through_proxy("officer")
    customer = new_customer(desk)
    client_uuid = uuid.uuid4()
    proxy.fail_on(COMMIT, "drop")

    with pytest.raises(DatabaseUnavailable):
        bounded(lambda: save_new_case(desk, customer.id, client_uuid))
    assert owner.cases(client_uuid) == 0

    save_new_case(desk, customer.id, client_uuid)
    assert owner.cases(client_uuid) == 1 and owner.created_records(client_uuid) == 1


def test_a_connection_dropped_after_the_server_committed_keeps_the_case_and_a_retry_adds_nothing(
    through_proxy: Callable[[str], Desk], proxy: FaultProxy, owner: Owner
) -> None:
    desk = through_proxy("officer")
    customer = new_customer(desk)
    client_uuid = uuid.uuid4()
    proxy.fail_on(COMMIT, "drop", after_reply=True)

    with pytest.raises(DatabaseUnavailable):
        bounded(lambda: save_new_case(desk, customer.id, client_uuid))
    assert owner.cases(client_uuid) == 1  # committed, though the client never heard so

    view = save_new_case(desk, customer.id, client_uuid)
    assert view.id == owner.case_id(client_uuid)
    assert owner.cases(client_uuid) == 1 and owner.created_records(client_uuid) == 1


def test_a_contact_whose_connection_dropped_before_the_commit_is_added_once_on_retry(
    through_proxy: Callable[[str], Desk], proxy: FaultProxy, owner: Owner
) -> None:
    desk = through_proxy("officer")
    view = save_new_case(desk, new_customer(desk).id, uuid.uuid4())
    text = token()
    proxy.fail_on(COMMIT, "drop")

    with pytest.raises(DatabaseUnavailable):
        bounded(
            lambda: desk.cases.add_entry(
                view.id, kind=EventKind.CONTACT, text=text, channel=Channel.PHONE
            )
        )
    assert owner.entries(view.id, text) == 0

    desk.cases.add_entry(view.id, kind=EventKind.CONTACT, text=text, channel=Channel.PHONE)
    assert owner.entries(view.id, text) == 1


def test_a_contact_whose_connection_dropped_after_the_commit_is_kept(
    through_proxy: Callable[[str], Desk], proxy: FaultProxy, owner: Owner
) -> None:
    desk = through_proxy("officer")
    view = save_new_case(desk, new_customer(desk).id, uuid.uuid4())
    text = token()
    proxy.fail_on(COMMIT, "drop", after_reply=True)

    with pytest.raises(DatabaseUnavailable):
        bounded(
            lambda: desk.cases.add_entry(
                view.id, kind=EventKind.CONTACT, text=text, channel=Channel.PHONE
            )
        )
    assert owner.entries(view.id, text) == 1
    # The next operation works on a fresh connection, and sees the contact.
    assert sum(e.summary == text for e in desk.cases.get(view.id).timeline) == 1


def test_an_update_cut_off_after_its_commit_is_not_applied_twice(
    through_proxy: Callable[[str], Desk], proxy: FaultProxy, owner: Owner
) -> None:
    desk = through_proxy("officer")
    customer = new_customer(desk)
    view = save_new_case(desk, customer.id, uuid.uuid4())
    changed = walk_in_case(desk, customer.id, "Charged three times, in fact")
    proxy.fail_on(COMMIT, "drop", after_reply=True)

    with pytest.raises(DatabaseUnavailable):
        bounded(lambda: desk.cases.save(view.id, changed, expected_version=view.version))
    assert owner.case_version(view.id) == view.version + 1
    assert owner.customer_words(view.id) == "Charged three times, in fact"

    with pytest.raises(ConflictError):  # sent again as it was: the version says it is done
        desk.cases.save(view.id, changed, expected_version=view.version)
    assert owner.case_version(view.id) == view.version + 1
    assert owner.events(view.id, "changed") == 1


def test_an_update_cut_off_before_its_commit_is_applied_once_on_retry(
    through_proxy: Callable[[str], Desk], proxy: FaultProxy, owner: Owner
) -> None:
    desk = through_proxy("officer")
    customer = new_customer(desk)
    view = save_new_case(desk, customer.id, uuid.uuid4())
    changed = walk_in_case(desk, customer.id, "Charged three times, in fact")
    proxy.fail_on(COMMIT, "drop")

    with pytest.raises(DatabaseUnavailable):
        bounded(lambda: desk.cases.save(view.id, changed, expected_version=view.version))
    assert owner.case_version(view.id) == view.version
    assert owner.events(view.id, "changed") == 0

    saved = desk.cases.save(view.id, changed, expected_version=view.version)
    assert saved.version == view.version + 1 == owner.case_version(view.id)
    assert owner.events(view.id, "changed") == 1


# --- the connection stalled or half open: no answer, ever -----------------------------------


def test_a_save_on_a_stalled_connection_fails_in_bounded_time_and_a_retry_records_once(
    through_proxy: Callable[[str], Desk], proxy: FaultProxy, owner: Owner
) -> None:
    desk = through_proxy("officer")
    customer = new_customer(desk)
    client_uuid = uuid.uuid4()
    proxy.stall()

    with pytest.raises(DatabaseUnavailable, match="did not answer"):
        bounded(lambda: save_new_case(desk, customer.id, client_uuid), unstick=proxy.drop)

    # Another try while it stalls fails the same way: a new connection gets no answer either.
    with pytest.raises(DatabaseUnavailable):
        bounded(lambda: save_new_case(desk, customer.id, client_uuid), unstick=proxy.drop)

    proxy.resume()  # what was held flows on: statements without their COMMIT, then goodbye
    save_new_case(desk, customer.id, client_uuid)
    assert owner.cases(client_uuid) == 1 and owner.created_records(client_uuid) == 1


def test_a_commit_stalled_on_the_way_fails_in_bounded_time_and_nothing_is_recorded_twice(
    through_proxy: Callable[[str], Desk], proxy: FaultProxy, owner: Owner
) -> None:
    desk = through_proxy("officer")
    customer = new_customer(desk)
    client_uuid = uuid.uuid4()
    proxy.fail_on(COMMIT, "stall")

    with pytest.raises(DatabaseUnavailable, match="did not answer"):
        bounded(lambda: save_new_case(desk, customer.id, client_uuid), unstick=proxy.drop)
    assert owner.cases(client_uuid) == 0  # the COMMIT is still held on the way

    # The network comes back and delivers the held COMMIT late (before the server would have
    # given the silent transaction up): the save was recorded after all. Waiting for it keeps
    # the retry from racing the late COMMIT for the case's UUID.
    proxy.resume()
    assert proxy.wait_until(lambda _p: owner.cases(client_uuid) == 1)
    view = save_new_case(desk, customer.id, client_uuid)
    assert view.id == owner.case_id(client_uuid)
    assert owner.cases(client_uuid) == 1 and owner.created_records(client_uuid) == 1


def test_a_client_stalled_in_the_middle_of_a_save_does_not_hold_up_other_officers(
    through_proxy: Callable[[str], Desk],
    direct: Callable[[str], Desk],
    proxy: FaultProxy,
    owner: Owner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The server gives a silent transaction up after 2 s (15 s in the app): well before the
    # other officer's own response time runs out (5 s here, 30 s in the app).
    monkeypatch.setattr(database, "IDLE_IN_TRANSACTION_SECONDS", 2.0)
    monkeypatch.setattr(database, "RESPONSE_TIMEOUT_SECONDS", 5.0)
    stalled, other = through_proxy("officer"), direct("senior")
    stalled_customer, other_customer = new_customer(stalled), new_customer(other)
    stalled_uuid, other_uuid = uuid.uuid4(), uuid.uuid4()
    # The stalled save has taken this year's case-number counter and waits for its COMMIT.
    proxy.fail_on(COMMIT, "stall")
    outcome: dict[str, BaseException] = {}

    def save_stalled() -> None:
        try:
            save_new_case(stalled, stalled_customer.id, stalled_uuid)
        except BaseException as exc:  # reported by the test, not lost in the thread
            outcome["error"] = exc

    worker = threading.Thread(target=save_stalled, name="stalled-save", daemon=True)
    worker.start()
    try:
        assert proxy.wait_until(lambda p: p.mode is Mode.STALL)
        # The other officer's save waits for the counter only until the server gives the
        # silent transaction up, well within the other's own response time.
        bounded(lambda: save_new_case(other, other_customer.id, other_uuid))
    finally:
        worker.join(HANG_SECONDS)
    assert isinstance(outcome.get("error"), DatabaseUnavailable), outcome
    assert owner.cases(other_uuid) == 1 and owner.cases(stalled_uuid) == 0

    proxy.resume()
    save_new_case(stalled, stalled_customer.id, stalled_uuid)
    assert owner.cases(stalled_uuid) == 1 and owner.created_records(stalled_uuid) == 1


def test_a_save_on_a_half_open_connection_fails_in_bounded_time_and_a_retry_records_once(
    through_proxy: Callable[[str], Desk], proxy: FaultProxy, owner: Owner
) -> None:
    desk = through_proxy("officer")
    customer = new_customer(desk)
    client_uuid = uuid.uuid4()
    proxy.half_open()

    with pytest.raises(DatabaseUnavailable, match="did not answer"):
        bounded(lambda: save_new_case(desk, customer.id, client_uuid), unstick=proxy.drop)
    assert owner.cases(client_uuid) == 0

    proxy.resume()
    save_new_case(desk, customer.id, client_uuid)
    assert owner.cases(client_uuid) == 1 and owner.created_records(client_uuid) == 1


@pytest.mark.parametrize("after_reply", [False, True], ids=["before-commit", "after-commit"])
def test_a_connection_left_half_open_around_the_commit_records_the_case_at_most_once(
    through_proxy: Callable[[str], Desk], proxy: FaultProxy, owner: Owner, after_reply: bool
) -> None:
    desk = through_proxy("officer")
    customer = new_customer(desk)
    client_uuid = uuid.uuid4()
    proxy.fail_on(COMMIT, "half_open", after_reply=after_reply)

    with pytest.raises(DatabaseUnavailable, match="did not answer"):
        bounded(lambda: save_new_case(desk, customer.id, client_uuid), unstick=proxy.drop)
    assert owner.cases(client_uuid) == (1 if after_reply else 0)

    proxy.resume()
    view = save_new_case(desk, customer.id, client_uuid)
    assert view.id == owner.case_id(client_uuid)
    assert owner.cases(client_uuid) == 1 and owner.created_records(client_uuid) == 1
    # The dead connection was given up, not kept: the proxy holds nothing half open.
    assert proxy.wait_until(lambda p: p.connections <= 1)


def test_a_transaction_the_server_gave_up_is_reported_as_a_lost_connection(
    direct: Callable[[str], Desk], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "IDLE_IN_TRANSACTION_SECONDS", 0.5)
    desk = direct("officer")
    with pytest.raises(DatabaseUnavailable, match="left waiting"), UnitOfWork(desk.engine) as uow:
        uow.session.execute(sql("SELECT 1"))
        time.sleep(1.5)  # a client that paused in the middle (a laptop put to sleep)
        uow.session.execute(sql("SELECT 1"))
    assert desk.cases.get(save_new_case(desk, new_customer(desk).id, uuid.uuid4()).id)


# --- decisions ----------------------------------------------------------------------------


def _decider_of(owner: Owner, request_id: int) -> str:
    return str(
        owner.value(
            "SELECT s.username FROM approval_requests r JOIN staff s ON s.id = r.assigned_to_id "
            "WHERE r.id = %s",
            request_id,
        )
    )


def _decisions(owner: Owner, request_id: int) -> tuple[str, int, int]:
    """The request's status, its decision lines in the audit trail and on the case timeline."""
    status = owner.value("SELECT status FROM approval_requests WHERE id = %s", request_id)
    audits = owner.value(
        "SELECT count(*) FROM audit_events WHERE entity = 'approval_request' "
        "AND entity_id = %s AND action LIKE 'decision%%'",
        str(request_id),
    )
    lines = owner.value(
        "SELECT count(*) FROM case_events e JOIN approval_requests r ON r.case_id = e.case_id "
        "WHERE r.id = %s AND e.summary LIKE '%%approved%%'",
        request_id,
    )
    return str(status), int(audits), int(lines)


def _requested(desk: Desk, proxy: FaultProxy, owner: Owner) -> Any:
    """A waiver request sent while the connection drops after its COMMIT, then sent again."""
    view = save_new_case(desk, new_customer(desk).id, uuid.uuid4())
    client_uuid = uuid.uuid4()

    def send() -> Any:
        return desk.grants.request(
            view.id, "waiver", 15_000, "Late fee caused by our outage", client_uuid=client_uuid
        )

    proxy.fail_on(COMMIT, "drop", after_reply=True)
    with pytest.raises(DatabaseUnavailable):
        bounded(send)
    request = send()
    assert owner.value("SELECT count(*) FROM approval_requests WHERE uuid = %s", client_uuid) == 1
    assert request.status == "pending"
    return request


def test_a_decision_cut_off_after_its_commit_stands_once_and_a_retry_is_told_so(
    through_proxy: Callable[[str], Desk], proxy: FaultProxy, owner: Owner
) -> None:
    request = _requested(through_proxy("officer"), proxy, owner)
    decider = through_proxy(_decider_of(owner, request.id))
    proxy.fail_on(COMMIT, "drop", after_reply=True)

    with pytest.raises(DatabaseUnavailable):
        bounded(lambda: decider.grants.decide(request.id, Outcome.APPROVE))
    assert _decisions(owner, request.id) == ("approved", 1, 1)

    with pytest.raises(ConflictError, match="already decided") as retried:
        decider.grants.decide(request.id, Outcome.APPROVE)
    assert decider.session is not None
    assert retried.value.changed_by == decider.session.full_name
    assert _decisions(owner, request.id) == ("approved", 1, 1)


def test_a_decision_cut_off_before_its_commit_is_recorded_once_on_retry(
    through_proxy: Callable[[str], Desk], proxy: FaultProxy, owner: Owner
) -> None:
    request = _requested(through_proxy("officer"), proxy, owner)
    decider = through_proxy(_decider_of(owner, request.id))
    proxy.fail_on(COMMIT, "drop")

    with pytest.raises(DatabaseUnavailable):
        bounded(lambda: decider.grants.decide(request.id, Outcome.APPROVE))
    assert _decisions(owner, request.id) == ("pending", 0, 0)

    decided = decider.grants.decide(request.id, Outcome.APPROVE)
    assert decided.status == "approved"
    assert _decisions(owner, request.id) == ("approved", 1, 1)


def test_a_decision_on_a_stalled_connection_fails_in_bounded_time_and_stands_once_after(
    through_proxy: Callable[[str], Desk], proxy: FaultProxy, owner: Owner
) -> None:
    request = _requested(through_proxy("officer"), proxy, owner)
    decider = through_proxy(_decider_of(owner, request.id))
    proxy.stall()

    with pytest.raises(DatabaseUnavailable):
        bounded(lambda: decider.grants.decide(request.id, Outcome.APPROVE), unstick=proxy.drop)
    proxy.resume()
    decider.grants.decide(request.id, Outcome.APPROVE)
    assert _decisions(owner, request.id) == ("approved", 1, 1)


# --- two clients, one case ------------------------------------------------------------------


def test_two_clients_saving_one_case_the_second_is_refused_and_nothing_is_overwritten(
    direct: Callable[[str], Desk], owner: Owner
) -> None:
    officer, senior = direct("officer"), direct("senior")
    customer = new_customer(officer)
    view = save_new_case(officer, customer.id, uuid.uuid4())
    seen_by_senior = senior.cases.get(view.id)

    officer.cases.save(
        view.id,
        walk_in_case(officer, customer.id, "Officer's words"),
        expected_version=view.version,
    )
    with pytest.raises(ConflictError) as refused:
        senior.cases.save(
            view.id,
            walk_in_case(senior, customer.id, "Senior's words"),
            expected_version=seen_by_senior.version,
        )
    assert refused.value.changed_by
    assert owner.customer_words(view.id) == "Officer's words"
    assert owner.case_version(view.id) == view.version + 1
    assert owner.events(view.id, "changed") == 1


def test_two_clients_saving_one_case_at_the_same_moment_exactly_one_wins(
    direct: Callable[[str], Desk], owner: Owner
) -> None:
    officer, senior = direct("officer"), direct("senior")
    customer = new_customer(officer)
    view = save_new_case(officer, customer.id, uuid.uuid4())
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def save(desk: Desk, words: str) -> None:
        start.wait(10)
        try:
            desk.cases.save(
                view.id, walk_in_case(desk, customer.id, words), expected_version=view.version
            )
            outcomes[words] = "saved"
        except ConflictError:
            outcomes[words] = "conflict"

    workers = [
        threading.Thread(target=save, args=(desk, words))
        for desk, words in ((officer, "Officer's words"), (senior, "Senior's words"))
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(HANG_SECONDS)
    assert sorted(outcomes.values()) == ["conflict", "saved"], outcomes
    winner = next(words for words, outcome in outcomes.items() if outcome == "saved")
    assert owner.customer_words(view.id) == winner
    assert owner.case_version(view.id) == view.version + 1
    assert owner.events(view.id, "changed") == 1


def test_contacts_added_by_two_clients_at_once_are_each_recorded_once(
    direct: Callable[[str], Desk], owner: Owner
) -> None:
    officer, senior = direct("officer"), direct("senior")
    view = save_new_case(officer, new_customer(officer).id, uuid.uuid4())
    texts = {desk_name: [token() for _ in range(5)] for desk_name in ("officer", "senior")}
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def add(desk: Desk, mine: list[str]) -> None:
        try:
            start.wait(10)
            for text in mine:
                desk.cases.add_entry(
                    view.id, kind=EventKind.CONTACT, text=text, channel=Channel.WALK_IN
                )
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)

    workers = [
        threading.Thread(target=add, args=(officer, texts["officer"])),
        threading.Thread(target=add, args=(senior, texts["senior"])),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(HANG_SECONDS)
    assert failures == []
    for text in texts["officer"] + texts["senior"]:
        assert owner.entries(view.id, text) == 1, text


# --- the server restarted -----------------------------------------------------------------


class RestartableCluster(PasswordCheckingCluster):
    """The private cluster of the password tests, which these tests may restart."""

    def _pg_ctl(self, *args: str) -> None:
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "log"), *args
        )

    def restart(self) -> None:
        self._pg_ctl("-m", "fast", "-w", "restart")

    def stop_server(self) -> None:
        self._pg_ctl("-m", "fast", "-w", "stop")

    def start_server(self) -> None:
        # The options of PasswordCheckingCluster.start (only "restart" remembers them).
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-w", "-o", options, "start")


@pytest.fixture(scope="module")
def cluster() -> Iterator[RestartableCluster]:
    directory = Path(tempfile.mkdtemp(prefix="desk-pg-faults-"))
    running = RestartableCluster(directory)
    running.start()
    try:
        yield running
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            running.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster_demo(cluster: RestartableCluster) -> tuple[str, str]:
    """The demo database on the private cluster: (the owner's URL, the staff's URL)."""
    server = PostgresServer(cluster.admin_url())
    name = server.create_database("desk_faults")
    owner_url = server.url(name)
    _prepare_demo_database(owner_url, login_roles=True)
    staff_url = make_url(owner_url).set(username=None, password=None)
    return owner_url, staff_url.render_as_string(hide_password=False)


@pytest.fixture
def on_cluster(cluster_demo: tuple[str, str]) -> Iterator[Callable[[str], Desk]]:
    yield from _desks(cluster_demo[1])


@pytest.fixture
def cluster_owner(cluster_demo: tuple[str, str]) -> Owner:
    return Owner(cluster_demo[0])


def test_after_a_server_restart_the_next_save_works_without_restarting_the_app(
    on_cluster: Callable[[str], Desk], cluster: RestartableCluster, cluster_owner: Owner
) -> None:
    desk = on_cluster("officer")
    customer = new_customer(desk)  # the pool holds connections the restart will end
    cluster.restart()

    client_uuid = uuid.uuid4()
    view = save_new_case(desk, customer.id, client_uuid)
    text = token()
    desk.cases.add_entry(view.id, kind=EventKind.CONTACT, text=text, channel=Channel.PHONE)
    assert cluster_owner.cases(client_uuid) == 1 and cluster_owner.created_records(client_uuid) == 1
    assert cluster_owner.entries(view.id, text) == 1


def test_a_save_in_flight_when_the_server_restarts_fails_clearly_and_a_retry_records_once(
    on_cluster: Callable[[str], Desk], cluster: RestartableCluster, cluster_owner: Owner
) -> None:
    desk = on_cluster("officer")
    customer = new_customer(desk)
    client_uuid = uuid.uuid4()
    outcome: dict[str, Any] = {}

    # Someone holds this year's reference counter, so the save stops half way, in its
    # transaction, waiting for it; the server restarts under it.
    blocker = cluster_owner.connect(autocommit=False)
    try:
        blocker.execute(
            "SELECT * FROM reference_counters WHERE year = %s FOR UPDATE",
            (dt.datetime.now(dt.UTC).year,),
        )

        def save() -> None:
            try:
                outcome["view"] = save_new_case(desk, customer.id, client_uuid)
            except BaseException as exc:
                outcome["error"] = exc

        worker = threading.Thread(target=save, name="save-in-flight", daemon=True)
        worker.start()
        waiting = (
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND application_name = 'desk'"
        )
        deadline = time.monotonic() + HANG_SECONDS
        while cluster_owner.value(waiting) == 0:
            assert time.monotonic() < deadline, "the save never reached the locked counter"
            time.sleep(0.02)
        cluster.restart()
        worker.join(HANG_SECONDS)
        assert not worker.is_alive(), "the save hung across the restart"
    finally:
        blocker.close()

    assert isinstance(outcome.get("error"), DatabaseUnavailable), outcome
    assert cluster_owner.cases(client_uuid) == 0

    save_new_case(desk, customer.id, client_uuid)
    save_new_case(desk, customer.id, client_uuid)
    assert cluster_owner.cases(client_uuid) == 1 and cluster_owner.created_records(client_uuid) == 1


def test_while_the_server_is_stopped_saves_fail_clearly_and_work_once_it_is_back(
    on_cluster: Callable[[str], Desk], cluster: RestartableCluster, cluster_owner: Owner
) -> None:
    desk = on_cluster("officer")
    customer = new_customer(desk)
    client_uuid = uuid.uuid4()
    cluster.stop_server()
    try:
        with pytest.raises(DatabaseUnavailable, match="cannot be reached"):
            bounded(lambda: save_new_case(desk, customer.id, client_uuid))
    finally:
        cluster.start_server()

    save_new_case(desk, customer.id, client_uuid)
    assert cluster_owner.cases(client_uuid) == 1 and cluster_owner.created_records(client_uuid) == 1
