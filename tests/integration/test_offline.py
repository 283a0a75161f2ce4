"""Working on while the shared database is away, on SQLite and on PostgreSQL.

The server "going away" is the unit of work failing to connect, as it does when the network
drops (the real network faults, through a TCP proxy, are in test_faults.py and
test_offline_faults.py); everything else is the real database.
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from desk.adapters import orm
from desk.adapters.outbox_store import OutboxFull, OutboxStore
from desk.domain.conflict import Conflict, Side
from desk.domain.model import CaseStatus, Channel, EventKind
from desk.domain.outbox import EntryState, is_provisional_reference
from desk.services.dto import CaseQuery, CaseScope
from desk.services.errors import DatabaseUnavailable
from tests.conftest import DEMO_PASSWORD
from tests.integration.test_cases_service import new_customer, unique_word, walk_in_case

Desk = Any


@pytest.fixture
def open_desk(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Desk]]:
    from desk.bootstrap import Desk as RealDesk

    opened: list[Any] = []

    def factory(username: str = "officer", outbox: Path | None = None) -> Desk:
        desk = RealDesk.open(database_url, outbox_dir=outbox or tmp_path / f"outbox-{username}")
        desk.login(username, DEMO_PASSWORD)
        opened.append(desk)
        return desk

    yield factory
    for desk in opened:
        desk.close()


def count(desk: Desk, statement: Any) -> int:
    with desk.engine.connect() as conn:
        return int(conn.execute(statement).scalar_one())


def cases_with_uuid(desk: Desk, case_uuid: uuid.UUID) -> int:
    return count(desk, select(func.count()).where(orm.Case.uuid == case_uuid))


def owner_count(desk: Desk, sql: str, **params: Any) -> int:
    with desk.engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def test_a_case_recorded_offline_gets_a_provisional_reference_and_reaches_the_server_once(
    open_desk: Callable[..., Desk], server_away: Callable[[bool], None]
) -> None:
    desk = open_desk()
    customer = new_customer(desk)
    desk.refresh_offline_cache()
    desk.customers.get(customer.id)
    word = unique_word()

    server_away(True)
    view = desk.cases.create(walk_in_case(desk, customer.id, f"Offline complaint {word}"))

    assert is_provisional_reference(view.reference)
    assert view.id < 0 and view.offline_pending
    status = desk.offline.status()
    assert (status.online, status.waiting) == (False, 1)
    # The officer can open it again meanwhile, and find it in the list kept offline.
    assert desk.cases.get(view.id).reference == view.reference
    assert view.reference in [r.reference for r in desk.cases.list(CaseQuery()).rows]

    server_away(False)
    report = desk.replay_outbox()
    assert (report.sent, report.waiting, report.online) == (1, 0, True)
    assert desk.replay_outbox().sent == 0  # sending again records nothing twice

    assert cases_with_uuid(desk, view.uuid) == 1
    stored = desk.cases.find_by_reference(view.reference)  # still found by the slip's reference
    assert stored.uuid == view.uuid and not is_provisional_reference(stored.reference)
    assert "Recorded offline" in stored.timeline[-1].summary
    assert desk.cases.get(view.id).id == stored.id  # the form's provisional id now leads there
    found = desk.cases.list(CaseQuery(scope=CaseScope.ALL, text=view.reference)).rows
    assert [r.id for r in found] == [stored.id]


def test_a_new_customer_their_case_a_change_and_a_contact_made_offline_arrive_in_order(
    open_desk: Callable[..., Desk], server_away: Callable[[bool], None]
) -> None:
    from desk.domain.customer import CustomerDetails

    desk = open_desk()
    desk.refresh_offline_cache()
    word = unique_word()
    server_away(True)
    customer = desk.customers.create(CustomerDetails(full_name=f"Offline Person {word}"))
    assert customer.id < 0
    assert [c.id for c in desk.customers.search(word)] == [customer.id]
    view = desk.cases.create(walk_in_case(desk, customer.id, f"Water cut {word}"))
    changed = desk.cases.save(
        view.id,
        walk_in_case(desk, customer.id, f"Water cut {word}", next_steps="Call back Friday."),
        expected_version=view.version,
        status=CaseStatus.IN_PROGRESS,
    )
    assert changed.status is CaseStatus.IN_PROGRESS
    contact = f"Phoned the customer {word}"
    desk.cases.add_entry(view.id, kind=EventKind.CONTACT, text=contact, channel=Channel.PHONE)
    assert desk.offline.status().waiting == 4

    server_away(False)
    report = desk.replay_outbox()
    assert (report.sent, report.waiting, report.attention) == (4, 0, 0), report

    stored = desk.cases.find_by_reference(view.reference)
    assert stored.status is CaseStatus.IN_PROGRESS
    assert stored.details.next_steps == "Call back Friday."
    assert stored.customer.full_name == f"Offline Person {word}"
    assert [e.summary.startswith(contact) for e in stored.timeline].count(True) == 1
    name = f"Offline Person {word}"
    assert count(desk, select(func.count()).where(orm.Customer.full_name == name)) == 1


def test_a_replay_cut_short_after_the_server_committed_records_nothing_twice(
    open_desk: Callable[..., Desk], server_away: Callable[[bool], None], tmp_path: Path
) -> None:
    desk = open_desk()
    customer = new_customer(desk)
    desk.customers.get(customer.id)
    desk.refresh_offline_cache()
    word = unique_word()
    server_away(True)
    view = desk.cases.create(walk_in_case(desk, customer.id, f"Crash test {word}"))
    for n in range(3):
        desk.cases.add_entry(view.id, kind=EventKind.NOTE, text=f"Note {n} {word}")
    server_away(False)

    class Crash(BaseException):
        """The process dying between the server's commit and the outbox's note of it."""

    calls = 0

    def crash_on_second(_entry: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise Crash

    desk.offline.after_commit = crash_on_second
    with pytest.raises(Crash):
        desk.replay_outbox()
    desk.close()

    again = open_desk()  # the same outbox file, as after a restart
    report = again.replay_outbox()
    assert report.waiting == 0 and report.attention == 0
    case_id = again.cases.id_of(view.uuid)
    for n in range(3):
        assert (
            owner_count(
                again,
                "SELECT count(*) FROM case_events WHERE case_id = :c AND summary LIKE :s",
                c=case_id,
                s=f"Note {n} {word}%",
            )
            == 1
        )
    assert cases_with_uuid(again, view.uuid) == 1


def test_a_change_made_offline_over_a_newer_save_waits_for_the_officer_and_overwrites_nothing(
    open_desk: Callable[..., Desk], server_away: Callable[[bool], None]
) -> None:
    officer = open_desk()
    customer = new_customer(officer)
    view = officer.cases.create(walk_in_case(officer, customer.id, f"Shared {unique_word()}"))
    officer.cases.get(view.id)  # kept for offline reading
    supervisor = open_desk("supervisor")

    server_away(True)
    mine = walk_in_case(officer, customer.id, view.details.customer_words, next_steps="Mine")
    officer.cases.save(view.id, mine, expected_version=view.version)
    later = f"Officer's note {unique_word()}"
    officer.cases.add_entry(view.id, kind=EventKind.NOTE, text=later)
    server_away(False)

    theirs = walk_in_case(officer, customer.id, view.details.customer_words, next_steps="Theirs")
    supervisor.cases.save(view.id, theirs, expected_version=view.version)

    report = officer.replay_outbox()
    assert (report.sent, report.attention) == (1, 1)  # the note went; the change waits
    assert report.new_problems and "changed on the server" in report.new_problems[0]
    assert supervisor.cases.get(view.id).details.next_steps == "Theirs"
    (pending,) = officer.offline.pending()
    assert pending.state is EntryState.CONFLICT

    # The officer compares: the version they started from, theirs, and theirs; keeps their own.
    conflict = officer.offline.compare(pending.seq, officer.cases)
    assert conflict.base is not None and conflict.base.details.next_steps == view.details.next_steps
    assert (conflict.mine.details.next_steps, conflict.theirs.details.next_steps) == (
        "Mine",
        "Theirs",
    )
    choices = Conflict.between(conflict.base, conflict.mine, conflict.theirs_content)
    merged = choices.merged({"next_steps": Side.MINE})
    saved = officer.offline.resolve(conflict, merged, officer.cases)
    assert saved.details.next_steps == "Mine"
    assert officer.offline.pending() == []
    assert [e.summary.startswith(later) for e in saved.timeline].count(True) == 1


def test_decisions_and_admin_changes_are_refused_offline_not_queued(
    open_desk: Callable[..., Desk], server_away: Callable[[bool], None]
) -> None:
    supervisor = open_desk("supervisor")
    supervisor.refresh_offline_cache()
    server_away(True)
    with pytest.raises(DatabaseUnavailable):
        supervisor.inbox.page()
    with pytest.raises(DatabaseUnavailable):
        supervisor.admin.staff()
    assert supervisor.offline.status().waiting == 0


def test_the_officers_open_cases_customers_and_lists_stay_readable_offline(
    open_desk: Callable[..., Desk], server_away: Callable[[bool], None]
) -> None:
    desk = open_desk()
    customer = new_customer(desk)
    view = desk.cases.create(walk_in_case(desk, customer.id, f"Readable {unique_word()}"))
    kept = desk.refresh_offline_cache()
    assert kept >= 1
    reference = desk.reference_data()

    server_away(True)
    assert desk.cases.get(view.id).details == view.details
    assert view.id in [r.id for r in desk.cases.list(CaseQuery()).rows]
    assert desk.reference_data().categories == reference.categories
    assert customer.id in [c.id for c in desk.customers.search(customer.full_name)]
    assert desk.offline.status().online is False


def test_a_damaged_entry_is_set_aside_and_the_others_are_sent(
    open_desk: Callable[..., Desk], server_away: Callable[[bool], None], tmp_path: Path
) -> None:
    desk = open_desk()
    customer = new_customer(desk)
    desk.customers.get(customer.id)
    desk.refresh_offline_cache()
    server_away(True)
    first = desk.cases.create(walk_in_case(desk, customer.id, f"First {unique_word()}"))
    second = desk.cases.create(walk_in_case(desk, customer.id, f"Second {unique_word()}"))
    path = desk.offline.store.path
    with contextlib.closing(sqlite3.connect(path)) as conn:  # an edit by hand
        conn.execute(
            "UPDATE entries SET payload = replace(payload, 'First', 'Edited') WHERE op_uuid = ?",
            (str(first.uuid),),
        )
        conn.commit()
    server_away(False)

    report = desk.replay_outbox()
    assert (report.sent, report.attention) == (1, 1)
    assert cases_with_uuid(desk, second.uuid) == 1
    assert cases_with_uuid(desk, first.uuid) == 0
    (quarantined,) = desk.offline.pending()
    assert quarantined.state is EntryState.QUARANTINED
    assert "checksum" in quarantined.error
    copies = list((path.parent / "quarantine").glob("*.json"))
    assert len(copies) == 1 and "Edited" in copies[0].read_text(encoding="utf-8")


def test_a_full_disk_offline_refuses_with_a_message_and_keeps_what_was_there(
    open_desk: Callable[..., Desk], server_away: Callable[[bool], None]
) -> None:
    desk = open_desk()
    customer = new_customer(desk)
    desk.customers.get(customer.id)
    desk.refresh_offline_cache()
    server_away(True)
    kept = desk.cases.create(walk_in_case(desk, customer.id, f"Kept {unique_word()}"))
    store = desk.offline.store
    used = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store.limit_pages(used)
    with pytest.raises(OutboxFull, match="disk is full"):
        desk.cases.create(walk_in_case(desk, customer.id, "x" * 3000 + unique_word()))
    store.limit_pages(1_000_000)
    server_away(False)
    assert desk.replay_outbox().sent == 1
    assert cases_with_uuid(desk, kept.uuid) == 1


def test_an_outbox_file_that_is_no_database_is_moved_aside_and_a_new_one_used(
    tmp_path: Path,
) -> None:
    path = tmp_path / "outbox.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    store = OutboxStore(path)
    try:
        assert store.report.moved_aside is not None and store.report.moved_aside.exists()
        assert store.count(EntryState.WAITING) == 0
    finally:
        store.close()


def test_a_damaged_outbox_file_gives_back_every_entry_it_still_can(tmp_path: Path) -> None:
    from desk.domain.outbox import OpKind

    path = tmp_path / "outbox.sqlite3"
    store = OutboxStore(path)
    for n in range(5):
        store.add(
            OpKind.CASE_ENTRY,
            {"case_uuid": str(uuid.uuid4()), "text": f"n{n}"},
            op_uuid=uuid.uuid4(),
        )
    store.close()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    # Spoil the free-list count in the header: quick_check fails, the table still reads.
    data[36:40] = b"\xff\xff\xff\xff"
    path.write_bytes(bytes(data))

    again = OutboxStore(path)
    try:
        assert again.report.moved_aside is not None
        assert again.report.carried_over == 5
        assert [e.payload["text"] for e in again.entries()] == [f"n{n}" for n in range(5)]
    finally:
        again.close()


def test_the_guided_scripts_stay_readable_while_the_server_is_away(
    open_desk: Callable[..., Desk], server_away: Callable[[bool], None]
) -> None:
    desk = open_desk()
    library = desk.scripts.published()
    server_away(True)
    assert desk.scripts.published() == library
