"""Start-up: the login dialog is usable before the database is open, and waits for it."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from ui.app import AppController, LogFile
from ui.login_dialog import LoginDialog

ROOT = Path(__file__).resolve().parents[2]


def _close(qtbot: QtBot, controller: AppController) -> None:
    if controller.window is not None:
        controller.window.close_for_logout()
    if controller.login_dialog is not None:
        controller.login_dialog.rejected.disconnect()
        controller.login_dialog.close()
    qtbot.waitUntil(lambda: not controller.ops.busy, timeout=60_000)
    controller.shutdown()


def test_login_dialog_takes_typing_before_the_database_is_open_and_logs_in_once_it_is(
    qtbot: QtBot, tmp_path: Path
) -> None:
    # A first start on a real, new SQLite file: the schema and ~200 demo cases are created
    # behind the dialog, which takes seconds.
    controller = AppController(f"sqlite:///{tmp_path / 'new.sqlite3'}", "command line")
    controller.start()
    try:
        dialog = controller.login_dialog
        assert isinstance(dialog, LoginDialog) and dialog.isVisible()
        # The open cannot have completed: its result is delivered by the GUI event loop,
        # which has not run yet.
        assert controller.ops.desk is None and not dialog.ready
        assert not dialog.login_button.isEnabled()
        assert dialog.status.isVisibleTo(dialog) and dialog.busy.isVisibleTo(dialog)
        assert "Preparing the database" in dialog.status.text()

        qtbot.keyClicks(dialog.username, "officer")
        qtbot.keyClicks(dialog.password, "demo")
        assert (dialog.username.text(), dialog.password.text()) == ("officer", "demo")
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)  # before the database is ready
        assert dialog.login_requested and not dialog.login_button.isEnabled()
        assert "as soon as it is ready" in dialog.status.text()
        assert controller.window is None

        # The first-start progress reaches the dialog while the button is still disabled.
        qtbot.waitUntil(lambda: "demo organisation" in dialog.status.text(), timeout=30_000)
        assert controller.ops.desk is None and not dialog.login_button.isEnabled()

        # The real open completes; the remembered login runs by itself.
        with qtbot.waitSignal(dialog.databaseReady, timeout=60_000):
            pass
        qtbot.waitUntil(
            lambda: controller.window is not None and controller.window.form is not None,
            timeout=20_000,
        )
        assert "Counter Officer" in controller.window.who.text()
        assert not dialog.isVisible()
    finally:
        _close(qtbot, controller)


def test_log_in_button_waits_for_the_database_and_the_demo_logins_appear(
    qtbot: QtBot, tmp_path: Path
) -> None:
    controller = AppController(f"sqlite:///{tmp_path / 'wait.sqlite3'}", "command line")
    controller.start()
    try:
        dialog = controller.login_dialog
        assert isinstance(dialog, LoginDialog)
        open_when_ready: list[bool] = []
        dialog.databaseReady.connect(
            lambda: open_when_ready.append(controller.ops.desk is not None)
        )
        assert not dialog.login_button.isEnabled() and not dialog.demo_hint.isVisible()

        mismatches: list[bool] = []

        def button_follows_the_database() -> bool:
            enabled = dialog.login_button.isEnabled()
            if enabled != (controller.ops.desk is not None):
                mismatches.append(enabled)
            return enabled

        qtbot.waitUntil(button_follows_the_database, timeout=60_000)
        assert not mismatches, "Log in was enabled before the database was open"
        assert dialog.ready and open_when_ready == [True]
        assert not dialog.status.isVisible() and not dialog.busy.isVisible()
        assert "wait.sqlite3" in dialog.where.text()
        qtbot.waitUntil(dialog.demo_hint.isVisible, timeout=10_000)
        assert "officer / demo" in dialog.demo_hint.text()
    finally:
        _close(qtbot, controller)


def test_a_database_that_cannot_be_opened_is_explained_and_retry_opens_it(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = tmp_path / "broken.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    controller = AppController(f"sqlite:///{path}", "command line")
    seen: list[str] = []

    def answer_with_retry() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer_with_retry)
            return
        seen.append(box.text())
        assert controller.login_dialog is not None
        seen.append(controller.login_dialog.status.text())
        path.unlink()  # the problem is fixed: a new database is created on retry
        retry = box.findChild(QPushButton, "retryButton")
        assert retry is not None
        retry.click()

    QTimer.singleShot(20, answer_with_retry)
    controller.start()
    try:
        dialog = controller.login_dialog
        assert isinstance(dialog, LoginDialog)
        qtbot.waitUntil(lambda: len(seen) == 2, timeout=30_000)
        assert seen == ["The database cannot be reached", "The database could not be opened."]
        qtbot.waitUntil(lambda: dialog.ready, timeout=60_000)
        assert dialog.login_button.isEnabled() and controller.login_dialog is dialog
    finally:
        _close(qtbot, controller)


def test_importing_the_window_code_loads_no_database_stack() -> None:
    code = (
        "import sys, ui.app, ui.login_dialog; "
        "print(','.join(sorted(m for m in ('sqlalchemy', 'alembic', 'psycopg', 'keyring', "
        "'argon2', 'desk.bootstrap', 'desk.domain.case', 'desk.services.dto') "
        "if m in sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.strip()
    assert loaded == ""


def test_importing_the_window_code_loads_nothing_the_login_window_does_not_need() -> None:
    # What only the log file, the settings file, errors or the keyring need is imported when
    # they are used, so the first window is not kept waiting for it.
    code = (
        "import sys, desk.cli, ui.app, ui.login_dialog; "
        "print(','.join(sorted(m for m in ('logging.handlers', 'dataclasses', 'json', "
        "'concurrent.futures', 'desk.services.errors') if m in sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.strip()
    assert loaded == ""


_RUN_THE_WINDOW = """
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

import ui.app

themed = ui.app.apply_theme


def apply_theme(app, **options):
    themed(app, **options)
    sheet = app.styleSheet()
    app.setStyleSheet("")  # the style under Desk's style sheet
    print("style:", app.style().name())
    app.setStyleSheet(sheet)


started = ui.app.AppController.start


def start(controller):
    started(controller)

    def quit_once_the_demo_logins_show():
        dialog = controller.login_dialog
        if dialog is not None and dialog.ready and dialog.demo_hint.isVisible():
            print("demo:", dialog.demo_hint.text())
            QApplication.quit()
        else:
            QTimer.singleShot(20, quit_once_the_demo_logins_show)

    QTimer.singleShot(20, quit_once_the_demo_logins_show)


ui.app.apply_theme = apply_theme
ui.app.AppController.start = start
sys.exit(ui.app.main(None, "default"))
"""


def test_a_first_start_shows_the_demo_logins_and_logs_to_the_log_file(tmp_path: Path) -> None:
    # The window exactly as `desk` runs it, in a fresh interpreter with empty user directories:
    # the embedded database is created, the demo logins appear, and the log file (opened after
    # the window is shown) holds the whole start, in order.
    env = dict(os.environ)
    env.pop("DESK_DATABASE_URL", None)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[name] = str(tmp_path / name.lower())
    run = subprocess.run(
        [sys.executable, "-c", _RUN_THE_WINDOW],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "style: fusion" in run.stdout
    assert "officer / demo" in run.stdout
    assert (tmp_path / "xdg_data_home" / "Desk" / "desk.sqlite3").exists()
    log = (tmp_path / "xdg_state_home" / "Desk" / "log" / "desk.log").read_text("utf-8")
    starting = log.index("Desk starting (database from default)")
    opened = log.index("Opened sqlite database")
    stopped = log.index("Desk stopped with status 0")
    assert starting < opened < stopped


def test_what_is_logged_before_the_log_file_opens_is_written_first_in_order(
    tmp_path: Path,
) -> None:
    logger = logging.getLogger("desk.test.log_file")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = LogFile(tmp_path / "logs" / "desk.log")
    logger.addHandler(handler)
    try:
        logger.info("held one")
        logger.warning("held two")
        assert not handler.is_open and not handler.path.exists()
        handler.open()
        logger.info("straight to the file")
        handler.flush()
        lines = handler.path.read_text("utf-8").splitlines()
        assert [line.split(": ", 1)[1] for line in lines] == [
            "held one",
            "held two",
            "straight to the file",
        ]
        assert "WARNING" in lines[1]
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_choosing_another_database_from_the_login_dialog_reopens_behind_the_same_dialog(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from ui.connection_dialog import ConnectionDialog

    controller = AppController(f"sqlite:///{tmp_path / 'first.sqlite3'}", "command line")
    controller.start()
    try:
        dialog = controller.login_dialog
        assert isinstance(dialog, LoginDialog)
        qtbot.waitUntil(lambda: dialog.ready, timeout=60_000)
        other = tmp_path / "other.sqlite3"

        def choose_other_file() -> None:
            chooser = QApplication.activeModalWidget()
            if not isinstance(chooser, ConnectionDialog):
                QTimer.singleShot(20, choose_other_file)
                return
            chooser.embedded.setChecked(True)
            chooser.sqlite_path.setText(str(other))
            save = chooser.findChild(QPushButton, "saveConnection")
            assert save is not None
            save.click()

        QTimer.singleShot(20, choose_other_file)
        qtbot.mouseClick(dialog.server_button, Qt.MouseButton.LeftButton)  # runs the chooser
        # Back behind the same dialog: waiting for the new database, then ready for it.
        assert controller.login_dialog is dialog and dialog.isVisible()
        assert not dialog.ready and not dialog.login_button.isEnabled()
        assert controller.database_url == f"sqlite:///{other}"
        qtbot.waitUntil(lambda: dialog.ready, timeout=60_000)
        assert "other.sqlite3" in dialog.where.text() and other.exists()
        assert dialog.login_button.isEnabled()
    finally:
        _close(qtbot, controller)
