"""The inbox and the "sent for decision" view are tabs of the main window."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.integration.test_cases_service import new_customer, walk_in_case
from ui.main_window import MainWindow

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def test_an_officer_has_sent_for_decision_but_no_inbox(qtbot: QtBot, window: MainWindow) -> None:
    assert window.inbox is None and not window.inbox_action.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_E, CTRL_SHIFT)
    assert window.tabs.currentWidget() is window.sent
    assert QApplication.focusWidget() is window.sent.table


def test_a_supervisor_sees_a_new_request_in_the_decisions_tab(
    qtbot: QtBot, make_window: Callable[[], MainWindow], gui_desk: Any, desk_factory: Any
) -> None:
    gui_desk.login("supervisor", "demo")
    window = make_window()
    assert window.inbox is not None
    qtbot.keyClick(window, Qt.Key.Key_D, CTRL_SHIFT)
    assert window.tabs.currentWidget() is window.inbox
    officer = desk_factory("officer")
    customer = new_customer(officer)
    case = officer.cases.create(walk_in_case(officer, customer.id, "Late fee after outage"))
    request = officer.grants.request(case.id, "waiver", 9_000, "Outage at the bank")
    # Live: the window hears of it without any action here.
    qtbot.waitUntil(
        lambda: request.id in [item.id for item in window.inbox.model.rows()], timeout=20_000
    )
    qtbot.waitUntil(
        lambda: window.tabs.tabText(window.tabs.indexOf(window.inbox)).startswith("Decisions ("),
        timeout=10_000,
    )
