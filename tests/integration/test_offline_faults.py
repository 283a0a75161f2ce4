"""The outbox against a real PostgreSQL and real faults: the network cut by a TCP proxy while
officers work, a save whose commit reached the server but whose answer never came back, a
client killed in the middle of a replay and started again, and many clients replaying at once.
After each, every case, contact and change is on the server exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from desk.domain.model import CaseStatus, EventKind
from desk.domain.outbox import is_provisional_reference
from tests.conftest import DEMO_PASSWORD, PostgresServer
from tests.faultproxy import COMMIT, FaultProxy
from tests.integration.test_cases_service import new_customer, unique_word, walk_in_case

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_url(postgres: PostgresServer, pg_demo_database: str) -> str:
    return postgres.url(pg_demo_database)


@pytest.fixture
def proxy(postgres: PostgresServer) -> Iterator[FaultProxy]:
    url = postgres.admin_url
    with FaultProxy(url.host or "127.0.0.1", url.port or 5432) as running:
        yield running


def _through(url: str, proxy: FaultProxy) -> str:
    from sqlalchemy.engine import make_url

    return (
        make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    )


def _open(url: str, outbox: Path, username: str = "officer") -> Any:
    from desk.bootstrap import Desk

    desk = Desk.open(url, outbox_dir=outbox)
    desk.login(username, DEMO_PASSWORD)
    return desk


def _count(url: str, sql: str, **params: Any) -> int:
    from desk.adapters.database import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql), params).scalar_one())
    finally:
        engine.dispose()


def test_an_officer_works_on_through_a_cut_network_and_everything_arrives_once(
    pg_url: str, proxy: FaultProxy, tmp_path: Path
) -> None:
    desk = _open(_through(pg_url, proxy), tmp_path / "outbox")
    try:
        customer = new_customer(desk)
        desk.customers.get(customer.id)
        known = desk.cases.create(walk_in_case(desk, customer.id, f"Known {unique_word()}"))
        desk.refresh_offline_cache()
        word = unique_word()

        proxy.refuse()  # the network is gone: every connection is reset
        made = desk.cases.create(walk_in_case(desk, customer.id, f"Cut {word}"))
        assert is_provisional_reference(made.reference)
        desk.cases.add_entry(made.id, kind=EventKind.CONTACT, text=f"Called back {word}")
        desk.cases.add_entry(known.id, kind=EventKind.NOTE, text=f"Note on known {word}")
        assert desk.offline.status().waiting == 3 and not desk.offline.status().online

        proxy.resume()
        report = desk.replay_outbox()
        assert (report.sent, report.waiting, report.attention) == (3, 0, 0), report
    finally:
        desk.close()
    assert _count(pg_url, "SELECT count(*) FROM cases WHERE uuid = :u", u=made.uuid) == 1
    for summary in (f"Called back {word}%", f"Note on known {word}%"):
        assert (
            _count(pg_url, "SELECT count(*) FROM case_events WHERE summary LIKE :s", s=summary) == 1
        )


def test_a_save_whose_answer_was_lost_is_kept_and_sent_again_without_a_duplicate_or_conflict(
    pg_url: str, proxy: FaultProxy, tmp_path: Path
) -> None:
    desk = _open(_through(pg_url, proxy), tmp_path / "outbox")
    desk.offline.retry_after = 0.0  # try the server on every call, as after a while offline
    try:
        customer = new_customer(desk)
        first = desk.cases.create(walk_in_case(desk, customer.id, f"Lost {unique_word()}"))
        second = desk.cases.create(walk_in_case(desk, customer.id, f"Lost {unique_word()}"))
        desk.cases.get(first.id)
        desk.cases.get(second.id)
        word = unique_word()

        # The server commits the contact, and the connection dies before the client hears so.
        proxy.fail_on(COMMIT, "drop", after_reply=True)
        shown = desk.cases.add_entry(first.id, kind=EventKind.CONTACT, text=f"Answer {word}")
        assert shown.offline_pending  # kept: the client cannot know it arrived
        proxy.fail_on(COMMIT, "drop", after_reply=True)
        changed = desk.cases.save(
            second.id, None, expected_version=second.version, status=CaseStatus.IN_PROGRESS
        )
        assert changed.status is CaseStatus.IN_PROGRESS and changed.offline_pending

        report = desk.replay_outbox()
        assert (report.sent, report.attention) == (2, 0), report
        stored = desk.cases.get(second.id)
        assert stored.status is CaseStatus.IN_PROGRESS and not stored.offline_pending
        assert [e.kind for e in stored.timeline].count(EventKind.STATUS_CHANGED) == 1
    finally:
        desk.close()
    assert (
        _count(
            pg_url, "SELECT count(*) FROM case_events WHERE summary LIKE :s", s=f"Answer {word}%"
        )
        == 1
    )


_REPLAYER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from desk.bootstrap import Desk
    url, outbox, pause = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
    desk = Desk.open(url, outbox_dir=outbox)
    desk.login("officer", "demo")
    desk.offline.after_commit = lambda entry: time.sleep(pause)
    report = desk.replay_outbox()
    print(report.sent, report.waiting, report.attention, flush=True)
    desk.close()
    """
)


def _fill_outbox_offline(
    url: str, outbox: Path, server_away: Any, cases: int, notes: int
) -> list[tuple[uuid.UUID, str]]:
    """Record ``cases`` cases with ``notes`` notes each while the server is away."""
    desk = _open(url, outbox)
    made: list[tuple[uuid.UUID, str]] = []
    try:
        customer = new_customer(desk)
        desk.customers.get(customer.id)
        desk.refresh_offline_cache()
        server_away(True)
        for _ in range(cases):
            word = unique_word()
            view = desk.cases.create(walk_in_case(desk, customer.id, f"Batch {word}"))
            for n in range(notes):
                desk.cases.add_entry(view.id, kind=EventKind.NOTE, text=f"N{n} {word}")
            made.append((view.uuid, word))
    finally:
        server_away(False)
        desk.close()
    return made


def _replayer(url: str, outbox: Path, pause: float) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", _REPLAYER, url, str(outbox), str(pause)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def _assert_each_once(url: str, made: list[tuple[uuid.UUID, str]], notes: int) -> None:
    for case_uuid, word in made:
        assert _count(url, "SELECT count(*) FROM cases WHERE uuid = :u", u=case_uuid) == 1
        for n in range(notes):
            assert (
                _count(
                    url, "SELECT count(*) FROM case_events WHERE summary LIKE :s", s=f"N{n} {word}%"
                )
                == 1
            ), f"note N{n} of {word}"


def test_a_client_killed_in_the_middle_of_a_replay_and_started_again_duplicates_nothing(
    pg_url: str, tmp_path: Path, server_away: Any
) -> None:
    outbox = tmp_path / "outbox"
    made = _fill_outbox_offline(pg_url, outbox, server_away, cases=4, notes=3)
    total = len(made) * 4
    before = _count(pg_url, "SELECT count(*) FROM client_operations")

    first = _replayer(pg_url, outbox, pause=0.3)
    deadline = time.monotonic() + 60
    while _count(pg_url, "SELECT count(*) FROM client_operations") - before < total // 2:
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "the replay made no progress"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)  # between a commit and the note that it was sent
    first.communicate(timeout=30)
    sent_before_kill = _count(pg_url, "SELECT count(*) FROM client_operations") - before
    assert 0 < sent_before_kill < total

    again = _replayer(pg_url, outbox, pause=0.0)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    sent, waiting, attention = (int(x) for x in out.split())
    assert (waiting, attention) == (0, 0)
    assert sent >= total - sent_before_kill
    _assert_each_once(pg_url, made, notes=3)


def test_many_clients_replaying_at_once_each_record_everything_once(
    pg_url: str, tmp_path: Path, server_away: Any
) -> None:
    outboxes = [tmp_path / f"counter-{n}" for n in range(6)]
    made = [
        _fill_outbox_offline(pg_url, outbox, server_away, cases=3, notes=2) for outbox in outboxes
    ]
    running = [_replayer(pg_url, outbox, pause=0.0) for outbox in outboxes]
    for process in running:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err
        assert out.split()[1:] == ["0", "0"], out
    for batch in made:
        _assert_each_once(pg_url, batch, notes=2)
    references = [
        _count(pg_url, "SELECT count(DISTINCT reference) FROM cases WHERE uuid = :u", u=u)
        for batch in made
        for u, _ in batch
    ]
    assert references == [1] * len(references)
