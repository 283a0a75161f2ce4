"""The window while the server is away: the status bar says "Offline — N changes waiting", a
case saved meanwhile is kept and says so, its slip says its reference is provisional, the
changes go by themselves when the server is back, and a change that met a newer save is
compared field by field before anything is overwritten."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QPushButton, QTableWidget
from pytestqt.qtbot import QtBot

from desk.domain.model import EventKind
from desk.domain.outbox import is_provisional_reference
from tests.conftest import DEMO_PASSWORD
from tests.integration.test_cases_service import new_customer, walk_in_case
from ui.main_window import MainWindow
from ui.slip import slip_html

WAIT_MS = 10_000


@pytest.fixture
def gui_desk(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """The officer with an outbox, as the window opens them."""
    from desk.bootstrap import Desk

    desk = Desk.open(database_url, outbox_dir=tmp_path / "outbox")
    desk.login("officer", DEMO_PASSWORD)
    yield desk
    desk.close()


def _indicator_text(window: MainWindow) -> str:
    button = window.offline_status.button
    return button.text() if button.isVisible() else ""


def test_a_case_saved_offline_is_kept_said_so_and_sent_when_the_server_is_back(
    qtbot: QtBot, window: MainWindow, server_away: Callable[[bool], None]
) -> None:
    desk = window.ops.desk
    customer = new_customer(desk)
    case = desk.cases.create(walk_in_case(desk, customer.id, "Bin not collected"))
    window.open_case(case.id)
    form = window.form
    assert form is not None
    qtbot.waitUntil(lambda: form.view is not None and form.view.id == case.id, timeout=WAIT_MS)

    server_away(True)
    form.next_steps.setText("We call you back on Monday.")
    form.save()
    qtbot.waitUntil(lambda: "Kept on this computer" in form.banner.text(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "Offline — 1 change" in _indicator_text(window), timeout=WAIT_MS)
    assert form.next_steps.text() == "We call you back on Monday."  # nothing typed is lost
    button = window.offline_status.button
    assert button.objectName() == "statusOffline" and button.accessibleName()

    server_away(False)
    window.offline_status.replay()
    qtbot.waitUntil(lambda: _indicator_text(window) == "", timeout=WAIT_MS)
    assert "sent to the server" in window.statusBar().currentMessage()
    assert desk.cases.get(case.id).details.next_steps == "We call you back on Monday."


def test_the_slip_of_a_case_recorded_offline_says_its_reference_is_provisional(
    window: MainWindow, server_away: Callable[[bool], None]
) -> None:
    desk = window.ops.desk
    customer = new_customer(desk)
    desk.customers.get(customer.id)
    desk.refresh_offline_cache()
    server_away(True)
    view = desk.cases.create(walk_in_case(desk, customer.id, "Streetlight out"))
    server_away(False)
    assert is_provisional_reference(view.reference)
    html = slip_html(view, desk.reference_data())
    assert "Provisional reference" in html and view.reference in html
    assert "provisional" in html.lower()


def test_a_change_made_offline_over_a_newer_save_is_compared_before_it_is_saved(
    qtbot: QtBot, window: MainWindow, server_away: Callable[[bool], None], desk_factory: Any
) -> None:
    desk = window.ops.desk
    customer = new_customer(desk)
    case = desk.cases.create(walk_in_case(desk, customer.id, "Parking fine twice"))
    desk.cases.get(case.id)
    colleague = desk_factory("supervisor")

    server_away(True)
    mine = dataclasses.replace(case.details, next_steps="Refund agreed at the counter.")
    desk.cases.save(case.id, mine, expected_version=case.version)
    server_away(False)
    theirs = dataclasses.replace(case.details, root_cause="Camera read the plate twice.")
    colleague.cases.save(case.id, theirs, expected_version=case.version)
    desk.cases.add_entry(case.id, kind=EventKind.NOTE, text="Online again")  # not held back

    window.offline_status.replay()
    qtbot.waitUntil(lambda: "needs your attention" in _indicator_text(window), timeout=WAIT_MS)

    qtbot.keyClick(
        window,
        Qt.Key.Key_J,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    dialog = window.offline_status.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.isVisible() and len(dialog.changes) == 1, timeout=WAIT_MS)
    table = dialog.findChild(QTableWidget, "pendingTable")
    assert "compare" in table.item(0, 2).text().lower()
    compare = dialog.findChild(QPushButton, "pendingCompare")
    assert compare.isEnabled()
    compare.click()
    qtbot.waitUntil(lambda: dialog.conflict_dialog is not None, timeout=WAIT_MS)
    conflict = dialog.conflict_dialog
    assert "while you were offline" in conflict.headline.text()
    assert conflict.back_button.text() == "&Not now"
    fields = {d.key for d in conflict.conflict.to_decide}
    assert {"next_steps", "root_cause"} <= fields
    conflict.accept()  # the proposal: my next steps, their root cause
    qtbot.waitUntil(lambda: dialog.changes == [], timeout=WAIT_MS)

    stored = desk.cases.get(case.id)
    assert stored.details.next_steps == "Refund agreed at the counter."
    assert stored.details.root_cause == "Camera read the plate twice."
    qtbot.waitUntil(lambda: _indicator_text(window) == "", timeout=WAIT_MS)
    dialog.done(QDialog.DialogCode.Rejected)


def test_a_decision_while_offline_is_refused_saying_it_needs_the_server(
    qtbot: QtBot, window: MainWindow, server_away: Callable[[bool], None]
) -> None:
    from desk.services.grants import Outcome

    refused: list[BaseException] = []
    server_away(True)
    window.ops.write(
        lambda d: d.grants.decide(1, Outcome.APPROVE, reason="Agreed"),
        on_error=refused.append,
    )
    qtbot.waitUntil(lambda: bool(refused), timeout=WAIT_MS)
    assert "This needs the server" in str(refused[0])
    assert window.ops.desk.offline.status().waiting == 0  # nothing waits for it


@pytest.fixture
def damaged_outbox(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """The officer's outbox file was overwritten with something that is not a database."""
    from desk.bootstrap import Desk

    first = Desk.open(database_url, outbox_dir=tmp_path / "outbox")
    first.login("officer", DEMO_PASSWORD)
    path = first.offline.store.path
    first.close()
    path.write_bytes(b"not a database at all " * 200)
    desk = Desk.open(database_url, outbox_dir=tmp_path / "outbox")
    desk.login("officer", DEMO_PASSWORD)
    yield desk
    desk.close()


def test_a_damaged_outbox_file_is_reported_when_the_window_opens(
    qtbot: QtBot, damaged_outbox: Any, tmp_path: Path
) -> None:
    from desk.drafts import DraftStore
    from ui.operations import Operations

    ops = Operations(damaged_outbox)
    try:
        window = MainWindow(ops, database_url="sqlite:///test", drafts=DraftStore(tmp_path / "d"))
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(
            lambda: "was damaged" in window.statusBar().currentMessage(), timeout=WAIT_MS
        )
        assert "moved aside" in window.statusBar().currentMessage()
    finally:
        qtbot.waitUntil(lambda: not ops.busy, timeout=WAIT_MS)
        ops.shutdown(close_desk=False)
