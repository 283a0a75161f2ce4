"""Start-up: preparing the database, logging in, and where the database is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desk import config
from ui.app import AppController, setup_logging
from ui.connection_dialog import ConnectionDialog
from ui.login_dialog import LoginDialog, keyring_access
from ui.operations import Operations


def test_first_start_prepares_the_database_then_logs_in_and_opens_the_window(
    qtbot: QtBot, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'first.sqlite3'}"
    controller = AppController(url, "command line")
    controller.start()
    try:
        dialog = controller.login_dialog
        assert isinstance(dialog, LoginDialog) and dialog.isVisible()
        # First start: the schema and the demo organisation are created behind the dialog.
        qtbot.waitUntil(lambda: dialog.ready, timeout=60_000)
        qtbot.waitUntil(dialog.demo_hint.isVisible, timeout=10_000)
        assert "officer / demo (Counter Officer)" in dialog.demo_hint.text()

        dialog.username.clear()
        qtbot.keyClicks(dialog.username, "officer")
        qtbot.keyClicks(dialog.password, "demo")
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
        qtbot.waitUntil(
            lambda: controller.window is not None and controller.window.form is not None,
            timeout=10_000,
        )
        window = controller.window
        assert window is not None
        assert "Counter Officer" in window.who.text()
        assert "first.sqlite3" in window.where.text()

        # Log out: back to the login dialog.
        window.logout_action.trigger()
        qtbot.waitUntil(
            lambda: controller.window is None and controller.login_dialog is not None,
            timeout=10_000,
        )
        qtbot.waitUntil(lambda: controller.ops.desk is not None and not controller.ops.busy)
        assert controller.ops.desk is not None and controller.ops.desk.session is None
    finally:
        if controller.login_dialog is not None:
            controller.login_dialog.close()
        qtbot.waitUntil(lambda: not controller.ops.busy, timeout=10_000)
        controller.shutdown()


def test_wrong_password_is_explained_beside_the_fields(qtbot: QtBot, sqlite_desk: Any) -> None:
    sqlite_desk.logout()
    ops = Operations(sqlite_desk)
    dialog = LoginDialog(ops, config.Settings(), "sqlite:///x")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.username, "officer")
    qtbot.keyClicks(dialog.password, "wrong")
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(dialog.error.isVisible, timeout=10_000)
    assert "not right" in dialog.error.text()
    assert dialog.isVisible() and sqlite_desk.session is None
    qtbot.waitUntil(lambda: not ops.busy)
    ops.shutdown(close_desk=False)


def test_remembered_password_lives_in_the_keyring_only(
    qtbot: QtBot, sqlite_desk: Any, tmp_path: Path
) -> None:
    sqlite_desk.logout()
    ops = Operations(sqlite_desk)
    url = "sqlite:///remember-test"
    settings = config.Settings()
    dialog = LoginDialog(ops, settings, url)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.username, "officer")
    qtbot.keyClicks(dialog.password, "demo")
    dialog.remember.setChecked(True)
    with qtbot.waitSignal(dialog.loggedIn, timeout=10_000):
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    keyring_access().wait()  # the keyring is written on its own thread
    assert config.recall_password(url, "officer") == "demo"
    assert "demo" not in config.settings_path().read_text(encoding="utf-8")
    assert json.loads(config.settings_path().read_text(encoding="utf-8"))["last_username"] == (
        "officer"
    )

    # Next time the password is filled in from the keyring (read on the keyring's thread).
    again = LoginDialog(ops, config.Settings.load(), url)
    qtbot.addWidget(again)
    assert again.username.text() == "officer"
    qtbot.waitUntil(lambda: again.password.text() == "demo", timeout=10_000)
    config.forget_password(url, "officer")
    qtbot.waitUntil(lambda: not ops.busy)
    ops.shutdown(close_desk=False)


def test_shared_workstation_remembers_nothing(qtbot: QtBot, sqlite_desk: Any) -> None:
    ops = Operations(sqlite_desk)
    dialog = LoginDialog(
        ops, config.Settings(shared_workstation=True, last_username="x"), "sqlite:///x"
    )
    qtbot.addWidget(dialog)
    assert not dialog.remember.isEnabled() and not dialog.remember.isChecked()
    assert dialog.username.text() == ""
    qtbot.waitUntil(lambda: not ops.busy)
    ops.shutdown(close_desk=False)


def test_connection_dialog_saves_the_server_without_a_password(
    qtbot: QtBot, sqlite_desk: Any
) -> None:
    ops = Operations(sqlite_desk)
    settings = config.Settings()
    dialog = ConnectionDialog(ops, settings)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.embedded.isChecked() and not dialog.server_box.isEnabled()
    dialog.server.setChecked(True)
    assert dialog.server_box.isEnabled()
    dialog.host.setText("desk.example.org")
    dialog.port.setValue(6543)
    dialog.database.setText("city")
    dialog.username.setText("officer")
    dialog.password.setText("s3cret")
    dialog.sslmode.setCurrentText("require")
    dialog.shared.setChecked(True)
    dialog.findChild(type(dialog.test_button), "saveConnection").click()

    saved = config.settings_path().read_text(encoding="utf-8")
    assert "s3cret" not in saved
    loaded = config.Settings.load()
    assert loaded.server is not None
    assert (loaded.server.host, loaded.server.port, loaded.server.database) == (
        "desk.example.org",
        6543,
        "city",
    )
    assert loaded.server.sslmode == "require" and loaded.shared_workstation
    assert dialog.database_url().startswith(
        "postgresql+psycopg://officer@desk.example.org:6543/city"
    )
    assert "s3cret" not in dialog.database_url()
    ops.shutdown(close_desk=False)


def test_logging_goes_to_a_rotating_file_in_the_log_directory(tmp_path: Path) -> None:
    import logging
    import logging.handlers

    path = setup_logging(tmp_path / "logs")
    handlers = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.handlers.RotatingFileHandler)
        and Path(h.baseFilename) == path.resolve()
    ]
    try:
        assert len(handlers) == 1
        assert setup_logging(tmp_path / "logs") == path
        assert (
            len(
                [
                    h
                    for h in logging.getLogger().handlers
                    if isinstance(h, logging.handlers.RotatingFileHandler)
                    and Path(h.baseFilename) == path.resolve()
                ]
            )
            == 1
        ), "calling it twice does not log everything twice"
    finally:
        for handler in handlers:
            logging.getLogger().removeHandler(handler)
            handler.close()
