"""The officer raises a review, a reply to vet or a compliment from the main window's keys on the
case on show; the script's escalation step opens the review request with its words."""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from desk.domain.case import CaseDetails
from desk.domain.customer import CustomerDetails
from ui.item_dialogs import ReplyVettingDialog, ReviewRequestDialog
from ui.main_window import MainWindow

CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def show_new_case(qtbot: QtBot, window: MainWindow, desk: Any) -> Any:
    customer = desk.customers.create(CustomerDetails(full_name=f"Window {uuid.uuid4().hex[:8]}"))
    case = desk.cases.create(
        CaseDetails(
            customer_id=customer.id,
            customer_words="The late fee was charged although I paid on time.",
            officer_understanding="Late fee disputed",
        )
    )
    window.open_case(case.id)
    qtbot.waitUntil(
        lambda: (
            window.form is not None
            and window.form.view is not None
            and window.form.view.id == case.id
        ),
        timeout=10_000,
    )
    return case


def test_ctrl_shift_r_sends_the_case_for_a_supervisors_review(
    qtbot: QtBot, window: MainWindow, gui_desk: Any
) -> None:
    case = show_new_case(qtbot, window, gui_desk)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    qtbot.keyClick(focused(), Qt.Key.Key_R, CTRL_SHIFT)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), ReviewRequestDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, ReviewRequestDialog)
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)
    dialog.body.setFocus()
    qtbot.keyClicks(dialog.body, "The customer paid on the 3rd; the fee should not apply.")
    qtbot.keyClick(dialog.body, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: "Sent to" in window.statusBar().currentMessage(), timeout=10_000)
    [item] = [i for i in gui_desk.items.raised() if i.case_id == case.id]
    try:
        assert item.kind.value == "review" and item.status.value == "pending"
        assert item.body.startswith("The customer paid on the 3rd")
        qtbot.waitUntil(  # the form shows the case again, waiting for the decision
            lambda: (
                window.form is not None
                and window.form.view is not None
                and window.form.view.status == "awaiting_decision"
            ),
            timeout=10_000,
        )
    finally:
        gui_desk.items.withdraw(item.id)


def test_an_unsaved_case_is_saved_first(qtbot: QtBot, window: MainWindow) -> None:
    assert window.form is not None and window.form.view is None
    window.raise_item("reply")
    assert "Save the case first" in window.statusBar().currentMessage()
    assert QApplication.activeModalWidget() is None


def test_the_scripts_escalation_step_opens_the_review_request_with_its_words(
    qtbot: QtBot, window: MainWindow, gui_desk: Any
) -> None:
    show_new_case(qtbot, window, gui_desk)
    window.script_panel.actionRequested.emit(
        "escalation", "Pass the case to a supervisor, with what was tried."
    )
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), ReviewRequestDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, ReviewRequestDialog)
    assert dialog.body.text().startswith("Pass the case to a supervisor")
    dialog.discard()


def test_ctrl_shift_y_opens_the_reply_to_vet(
    qtbot: QtBot, window: MainWindow, gui_desk: Any
) -> None:
    show_new_case(qtbot, window, gui_desk)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    qtbot.keyClick(focused(), Qt.Key.Key_Y, CTRL_SHIFT)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), ReplyVettingDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, ReplyVettingDialog)
    dialog.discard()
