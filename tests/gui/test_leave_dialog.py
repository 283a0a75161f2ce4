"""My leave: a supervisor sets the days away and the deputy from the keyboard; a missing deputy is
refused beside the field; an officer's request then shows who decides meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from ui.leave_dialog import LeaveDialog
from ui.operations import Operations

ALT = Qt.KeyboardModifier.AltModifier


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


@pytest.fixture
def supervisor(desk_factory: Any) -> Iterator[Any]:
    desk = desk_factory("supervisor")
    yield desk
    mine = desk.leave.mine()
    if mine.away_from is not None:  # the shared database is left as it was
        desk.leave.set_mine(None, None, None, expected_version=mine.version)


@pytest.fixture
def supervisor_ops(qtbot: QtBot, supervisor: Any) -> Iterator[Operations]:
    operations = Operations(supervisor)
    yield operations
    qtbot.waitUntil(lambda: not operations.busy, timeout=10_000)
    operations.shutdown(close_desk=False)


def open_dialog(qtbot: QtBot, ops: Operations) -> LeaveDialog:
    dialog = LeaveDialog(ops)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled(), timeout=10_000)
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)
    return dialog


def test_a_supervisor_sets_leave_with_a_deputy_by_keyboard(
    qtbot: QtBot, supervisor_ops: Operations, supervisor: Any
) -> None:
    dialog = open_dialog(qtbot, supervisor_ops)
    assert focused() is dialog.away
    qtbot.keyClick(focused(), Qt.Key.Key_Space)
    assert dialog.away.isChecked() and dialog.deputy.isEnabled()
    qtbot.keyClick(focused(), Qt.Key.Key_D, ALT)
    assert focused() is dialog.deputy
    manager = next(
        i for i in range(dialog.deputy.count()) if dialog.deputy.itemData(i) == "manager"
    )
    for _ in range(manager):
        qtbot.keyClick(dialog.deputy, Qt.Key.Key_Down)
    assert dialog.deputy.currentData() == "manager"
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    mine = supervisor.leave.mine()
    assert mine.deputy == "manager" and mine.away_from is not None
    assert mine.away_on(mine.away_from)

    again = open_dialog(qtbot, supervisor_ops)
    assert again.away.isChecked()
    assert again.deputy.currentData() == "manager"
    assert "decides meanwhile" in again.intro.text()


def test_leave_without_a_deputy_is_refused_beside_the_field(
    qtbot: QtBot, supervisor_ops: Operations, supervisor: Any
) -> None:
    dialog = open_dialog(qtbot, supervisor_ops)
    qtbot.keyClick(focused(), Qt.Key.Key_Space)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    error = dialog.errors["deputy"]
    qtbot.waitUntil(error.isVisible, timeout=10_000)
    assert "deputy" in error.text().lower()
    assert dialog.isVisible(), "nothing typed is lost: the dialog stays open"
    assert supervisor.leave.mine().away_from is None


def test_an_admin_sets_someones_leave_from_the_staff_tab(
    qtbot: QtBot, desk_factory: Any, supervisor: Any
) -> None:
    from ui.admin_staff import StaffTab

    admin_ops = Operations(desk_factory("admin"))
    try:
        tab = StaffTab(admin_ops)
        qtbot.addWidget(tab)
        tab.show()
        tab.reload()
        qtbot.waitUntil(lambda: tab.info("supervisor") is not None, timeout=10_000)
        tab.select("supervisor")
        assert tab.leave_button.isEnabled()
        tab.edit_leave()
        dialog = tab.dialog
        assert isinstance(dialog, LeaveDialog)
        qtbot.waitUntil(lambda: dialog.save_button.isEnabled(), timeout=10_000)
        dialog.away.setChecked(True)
        dialog.deputy.setCurrentIndex(dialog.deputy.findData("manager"))
        with qtbot.waitSignal(dialog.saved, timeout=10_000):
            dialog.save()
        assert supervisor.leave.mine().deputy == "manager"
        tab.reload()  # in the console, every save reloads the tabs (ops.changed)
        qtbot.waitUntil(
            lambda: (info := tab.info("supervisor")) is not None and info.deputy == "manager",
            timeout=10_000,
        )
        assert "deputises" in tab.model.data(
            tab.model.index(tab.model.rows.index(tab.info("supervisor")), 5)
        )
    finally:
        qtbot.waitUntil(lambda: not admin_ops.busy, timeout=10_000)
        admin_ops.shutdown(close_desk=False)
