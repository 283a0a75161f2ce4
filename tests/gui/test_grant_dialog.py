"""An officer grants a small waiver at the counter from the keyboard; a larger one is refused with
the reason and who can decide, and sent for a decision without retyping anything."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.integration.test_cases_service import new_customer, walk_in_case
from ui.grant_dialog import GrantDialog
from ui.operations import Operations


def open_dialog(qtbot: QtBot, ops: Operations, gui_desk: Any) -> GrantDialog:
    customer = new_customer(gui_desk)
    case = gui_desk.cases.create(walk_in_case(gui_desk, customer.id, "Late fee after outage"))
    dialog = GrantDialog(ops, case.id, gui_desk.reference_data().currency)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)  # mnemonics go to the active window
    qtbot.waitUntil(lambda: dialog.kind.count() > 0, timeout=10_000)
    return dialog


def test_an_officer_grants_a_small_waiver_with_the_keyboard(
    qtbot: QtBot, ops: Operations, gui_desk: Any
) -> None:
    dialog = open_dialog(qtbot, ops, gui_desk)
    assert dialog.kind.currentData() == "waiver"
    assert not dialog.grant_button.isEnabled(), "nothing to grant before an amount"
    qtbot.keyClicks(dialog.amount, "20.00")
    qtbot.waitUntil(lambda: dialog.check is not None, timeout=10_000)
    assert dialog.grant_button.isEnabled() and "may grant" in dialog.verdict.text()
    assert not dialog.recommendation.isVisible()
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.reason, "Late fee caused by our outage")
    with qtbot.waitSignal(dialog.done, timeout=10_000) as saved:
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_G, Qt.KeyboardModifier.AltModifier)
    assert saved.args[0].status == "granted"


def test_a_larger_waiver_is_explained_and_sent_for_a_decision(
    qtbot: QtBot, ops: Operations, gui_desk: Any
) -> None:
    dialog = open_dialog(qtbot, ops, gui_desk)
    qtbot.keyClicks(dialog.amount, "12.345")
    qtbot.waitUntil(lambda: dialog.amount_error.isVisible(), timeout=5_000)
    assert "decimal places" in dialog.amount_error.text()
    dialog.amount.clear()
    qtbot.keyClicks(dialog.amount, "80")
    qtbot.waitUntil(lambda: dialog.check is not None, timeout=10_000)
    assert not dialog.grant_button.isEnabled()
    assert dialog.verdict.text().startswith("Your limit for fee waivers is $50.00")
    assert "a Senior Officer must decide this" in dialog.verdict.text()
    assert dialog.recommendation.isVisible() and dialog.send_button.isEnabled()
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
    # A mnemonic "animates" the click: it lands a moment later.
    qtbot.waitUntil(dialog.reason_error.isVisible, timeout=5_000)
    assert dialog.focusWidget() is dialog.reason, "a reason is required"
    qtbot.keyClicks(dialog.reason, "Penalty on a payment the bank lost")
    qtbot.keyClicks(dialog.recommendation, "Waive in full")
    with qtbot.waitSignal(dialog.done, timeout=10_000) as sent:
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
    view = sent.args[0]
    assert view.status == "pending" and view.assigned_to


def test_the_main_window_opens_the_grant_dialog_for_the_open_case(
    qtbot: QtBot, window: Any, gui_desk: Any
) -> None:
    from PySide6.QtWidgets import QApplication

    customer = new_customer(gui_desk)
    case = gui_desk.cases.create(walk_in_case(gui_desk, customer.id, "Fee after outage"))
    assert not window.admin_action.isVisible(), "an officer has no admin console"
    window.open_case(case.id)
    qtbot.waitUntil(lambda: window.form.view is not None and window.form.view.id == case.id)
    qtbot.keyClick(
        window,
        Qt.Key.Key_W,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(
        lambda: isinstance(QApplication.activeModalWidget(), GrantDialog), timeout=5_000
    )
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, GrantDialog) and dialog.case_id == case.id
    dialog.reject()


def test_an_admin_opens_the_admin_console_from_the_main_window(
    qtbot: QtBot, make_window: Any, gui_desk: Any
) -> None:
    gui_desk.login("admin", "demo")
    window = make_window()
    assert window.admin_action.isVisible() and window.admin_action.isEnabled()
    qtbot.keyClick(
        window,
        Qt.Key.Key_M,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: window.admin_console is not None and window.admin_console.isVisible())
    window.admin_console.close()
