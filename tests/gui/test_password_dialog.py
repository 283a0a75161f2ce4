"""A person whose password an admin set chooses their own before anything else."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desk.services.admin import NewStaff
from ui.operations import Operations
from ui.password_dialog import ChangePasswordDialog


@pytest.fixture
def newcomer(desk_factory: Any) -> Any:
    username = "pw" + uuid.uuid4().hex[:6]
    desk_factory("admin").admin.add_staff(
        NewStaff(username, "New Person", "Counter Officer", "CEN"), "temporary password 1"
    )
    return desk_factory(username, "temporary password 1")


@pytest.fixture
def newcomer_ops(qtbot: QtBot, newcomer: Any) -> Iterator[Operations]:
    operations = Operations(newcomer)
    yield operations
    qtbot.waitUntil(lambda: not operations.busy, timeout=10_000)
    operations.shutdown(close_desk=False)


def test_the_new_password_follows_the_rules_and_is_saved(
    qtbot: QtBot, newcomer: Any, newcomer_ops: Operations
) -> None:
    assert newcomer.session.must_change_password
    dialog = ChangePasswordDialog(newcomer_ops, newcomer.session.username)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClicks(dialog.new, "short")
    assert "at least 12" in dialog.rules.text()
    dialog.new.clear()
    qtbot.keyClicks(dialog.new, "my own good secret")
    assert dialog.rules.text() == "That password is fine."
    qtbot.keyClick(dialog.new, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.again, "my own good secreT")
    qtbot.keyClick(dialog.again, Qt.Key.Key_Return)
    assert "differ" in dialog.error.text() and dialog.error.isVisible()
    dialog.again.clear()
    qtbot.keyClicks(dialog.again, "my own good secret")
    with qtbot.waitSignal(dialog.changed, timeout=10_000) as saved:
        qtbot.keyClick(dialog.again, Qt.Key.Key_Return)
    assert not saved.args[0].must_change_password
    assert not newcomer.session.must_change_password


def test_after_login_the_newcomer_chooses_a_password_before_the_window_opens(
    qtbot: QtBot, sqlite_demo_url: str
) -> None:
    from PySide6.QtWidgets import QApplication

    from desk.bootstrap import Desk
    from tests.gui.test_startup import _close
    from ui.app import AppController
    from ui.login_dialog import LoginDialog

    admin = Desk.open(sqlite_demo_url)
    admin.login("admin", "demo")
    admin.admin.add_staff(
        NewStaff("newbie", "New Bie", "Counter Officer", "CEN"), "temporary password 1"
    )
    admin.close()
    controller = AppController(sqlite_demo_url, "command line")
    controller.start()
    try:
        dialog = controller.login_dialog
        assert isinstance(dialog, LoginDialog)
        qtbot.waitUntil(lambda: dialog.ready, timeout=30_000)
        qtbot.keyClicks(dialog.username, "newbie")
        qtbot.keyClicks(dialog.password, "temporary password 1")
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
        qtbot.waitUntil(
            lambda: isinstance(QApplication.activeWindow(), ChangePasswordDialog), timeout=20_000
        )
        assert controller.window is None, "no customer data before the password is chosen"
        chooser = QApplication.activeWindow()
        assert isinstance(chooser, ChangePasswordDialog)
        qtbot.keyClicks(chooser.new, "a secret of my own 2")
        qtbot.keyClicks(chooser.again, "a secret of my own 2")
        qtbot.keyClick(chooser.again, Qt.Key.Key_Return)
        qtbot.waitUntil(
            lambda: controller.window is not None and controller.window.form is not None,
            timeout=20_000,
        )
    finally:
        _close(qtbot, controller)
