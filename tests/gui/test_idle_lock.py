"""The idle lock: a counter PC is shared, so after some minutes without input (or at once, with
Lock now) the window hides every customer's data until the same person unlocks it with their
password; anyone else can only log them out, and their unsaved case waits for them as a draft.

Unlocking is checked on both databases against a server that really checks passwords (the
shared test server trusts every connection). Keys are typed through the focused window, as a real
keyboard does, so a lock screen that a modal dialog keeps from the keyboard fails the test.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from desk.adapters.database import make_engine
from desk.bootstrap import Desk
from desk.domain.model import EventKind
from desk.drafts import Draft, DraftStore
from desk.services.dto import CaseQuery, CaseScope
from ui.entry_dialog import EntryDialog
from ui.idle_lock import IdleWatcher
from ui.main_window import MainWindow
from ui.operations import Operations

PASSWORD = "demo"  # every demo login's password (tests/conftest.py)
LOCK_KEYS = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier  # + L
WORDS = "Passport renewal refused twice; customer Zelda Quist-Okafor is upset"


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def checked_desk(request: pytest.FixtureRequest) -> Iterator[Desk]:
    """The demo counter officer on a database that checks passwords: a private SQLite copy
    (argon2id), or the scram-sha-256 PostgreSQL cluster."""
    fixture = "sqlite_demo_url" if request.param == "sqlite" else "password_demo_url"
    desk = Desk.open(request.getfixturevalue(fixture))
    desk.login("officer", PASSWORD)
    yield desk
    desk.close()


@pytest.fixture
def checked_ops(qtbot: QtBot, checked_desk: Desk) -> Iterator[Operations]:
    operations = Operations(checked_desk)
    reports: list[tuple[str, bool]] = []
    operations.errorReported.connect(lambda message, bug: reports.append((message, bug)))
    yield operations
    qtbot.waitUntil(lambda: not operations.busy, timeout=10_000)
    operations.shutdown(close_desk=False)
    assert not [m for m, bug in reports if bug], f"unexpected errors: {reports}"


def _open_window(qtbot: QtBot, ops: Operations, drafts: DraftStore) -> MainWindow:
    window = MainWindow(ops, database_url="sqlite:///test", drafts=drafts)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: window.form is not None, timeout=10_000)
    qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    return window


@pytest.fixture
def checked_window(qtbot: QtBot, checked_ops: Operations, drafts: DraftStore) -> MainWindow:
    """A ready main window over a database that checks passwords."""
    return _open_window(qtbot, checked_ops, drafts)


# --- helpers -------------------------------------------------------------------------------


def keyboard(qtbot: QtBot, keys: str, *, enter: bool = False) -> None:
    """Type into whatever window has the keyboard focus (a window blocked by a modal dialog
    gets nothing, as with a real keyboard)."""
    target = QGuiApplication.focusWindow()
    assert target is not None, "no window has the keyboard"
    for key in keys:
        QTest.keyClick(target, key)
    if enter:
        QTest.keyClick(target, Qt.Key.Key_Return)


def shown_text() -> str:
    """Everything a person at the screen can read: window titles and the visible text of every
    visible widget of every window (the first rows of lists included)."""
    parts: list[str] = []
    for top in QApplication.topLevelWidgets():
        if not top.isVisible():
            continue
        parts.append(top.windowTitle())
        for widget in [top, *top.findChildren(QWidget)]:
            if not widget.isVisible():
                continue
            if isinstance(widget, QLabel | QAbstractButton | QLineEdit):
                parts.append(widget.text())
            elif isinstance(widget, QPlainTextEdit | QTextEdit):
                parts.append(widget.toPlainText())
            elif isinstance(widget, QComboBox):
                parts.append(widget.currentText())
            elif isinstance(widget, QAbstractItemView) and widget.model() is not None:
                model = widget.model()
                for row in range(min(model.rowCount(), 30)):
                    for column in range(model.columnCount()):
                        parts.append(str(model.index(row, column).data() or ""))
    return "\n".join(parts)


def lock_by_idling(qtbot: QtBot, window: MainWindow) -> None:
    """Let the idle timer run out (a tiny interval: nobody waits minutes)."""
    window.idle_watcher.set_interval_ms(30)
    qtbot.waitUntil(lambda: window.is_locked, timeout=5_000)


def wait_for_keyboard(qtbot: QtBot, window: MainWindow) -> None:
    """Until the lock screen's password field has the keyboard (in the window in front)."""

    def ready() -> bool:
        screen = window.active_lock_screen()
        handle = screen.window().windowHandle()
        return (
            QGuiApplication.focusWindow() is handle
            and QApplication.focusWidget() is screen.password
        )

    qtbot.waitUntil(ready, timeout=5_000)


def unlock_with_keyboard(qtbot: QtBot, window: MainWindow, password: str = PASSWORD) -> None:
    # Back to minutes first: a tiny interval would lock the window again at once.
    window.idle_watcher.set_interval_ms(IdleWatcher.minutes_to_ms(5))
    wait_for_keyboard(qtbot, window)
    keyboard(qtbot, password, enter=True)
    qtbot.waitUntil(lambda: not window.is_locked, timeout=15_000)


def wait_for_message(qtbot: QtBot, window: MainWindow) -> str:
    screen = window.active_lock_screen()
    qtbot.waitUntil(lambda: screen.error.isVisible() and not screen.busy, timeout=15_000)
    return screen.error.text()


def a_case_id(desk: Any) -> int:
    page = desk.cases.list(CaseQuery(scope=CaseScope.ALL, page_size=5))
    return int(page.rows[0].id)


# --- the idle countdown --------------------------------------------------------------------


def test_the_idle_countdown_starts_again_on_every_key_press(qtbot: QtBot) -> None:
    field = QLineEdit()
    field.setObjectName("anyField")
    qtbot.addWidget(field)
    field.show()
    watcher = IdleWatcher(IdleWatcher.minutes_to_ms(10))
    watcher.start()
    full = watcher.interval_ms
    qtbot.waitUntil(lambda: 0 < watcher.remaining_ms() < full - 300, timeout=5_000)
    before = watcher.input_events
    qtbot.keyClick(field, Qt.Key.Key_A)
    assert watcher.input_events > before
    assert watcher.remaining_ms() > full - 150  # counting from the key press again
    watcher.deleteLater()


def test_a_mouse_click_is_input_too_but_other_events_are_not(qtbot: QtBot) -> None:
    button = QPushButton("Press")
    button.setObjectName("anyButton")
    qtbot.addWidget(button)
    button.show()
    watcher = IdleWatcher(IdleWatcher.minutes_to_ms(10))
    watcher.start()
    before = watcher.input_events
    button.update()
    QCoreApplication.processEvents()  # paints and timers are not a person
    assert watcher.input_events == before
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert watcher.input_events > before
    watcher.deleteLater()


def test_a_stopped_or_switched_off_watcher_never_says_idle(qtbot: QtBot) -> None:
    off = IdleWatcher(IdleWatcher.minutes_to_ms(0))
    off.start()
    assert not off.enabled and not off.watching and off.remaining_ms() == -1
    stopped = IdleWatcher(20)
    stopped.start()
    stopped.stop()
    assert stopped.remaining_ms() == -1
    with qtbot.assertNotEmitted(stopped.idle, wait=100):
        pass
    off.deleteLater()
    stopped.deleteLater()


def test_the_idle_minutes_come_from_the_organisation_setting_read_at_login(
    qtbot: QtBot, gui_desk: Any, make_window: Callable[[], MainWindow]
) -> None:
    gui_desk.idle_lock_minutes = 7  # what Desk.login read from the settings table
    window = make_window()
    assert window.idle_watcher.interval_ms == 7 * 60_000
    assert window.idle_watcher.watching
    window.idle_watcher.idle.emit()  # as the timer does after seven quiet minutes
    assert window.is_locked
    assert window.lock_screen.reason.text() == "Locked automatically after 7 minutes without use."


def test_zero_minutes_switches_the_idle_lock_off_but_lock_now_still_works(
    qtbot: QtBot, gui_desk: Any, make_window: Callable[[], MainWindow]
) -> None:
    gui_desk.idle_lock_minutes = 0
    window = make_window()
    assert not window.idle_watcher.watching
    assert window.idle_watcher.remaining_ms() == -1
    qtbot.keyClick(window, Qt.Key.Key_L, LOCK_KEYS)
    assert window.is_locked


# --- locking -------------------------------------------------------------------------------


def test_idling_locks_the_window_and_hides_the_customer(qtbot: QtBot, window: MainWindow) -> None:
    assert window.form is not None
    qtbot.keyClicks(window.form.customer_words, WORDS)
    assert "Zelda Quist-Okafor" in shown_text()
    lock_by_idling(qtbot, window)
    assert window.pages.currentWidget() is window.lock_screen
    assert not window.tabs.isVisible()
    assert window.script_dock.isHidden()
    assert window.windowTitle() == "Desk — locked"
    assert "Zelda Quist-Okafor" not in shown_text()
    assert "Locked automatically" in window.lock_screen.reason.text()
    # The keyboard is in the password field: no click needed.
    assert QApplication.focusWidget() is window.lock_screen.password
    assert not window.idle_watcher.watching


def test_lock_now_locks_at_once_and_writes_the_draft_straight_away(
    qtbot: QtBot, window: MainWindow, drafts: DraftStore
) -> None:
    assert window.form is not None
    qtbot.keyClicks(window.form.customer_words, WORDS)
    mine = {"database": window.database_key, "username": "officer"}
    assert drafts.load_for(**mine) == []  # not yet: drafts are written a moment after typing
    qtbot.keyClick(window, Qt.Key.Key_L, LOCK_KEYS)
    assert window.is_locked
    saved = drafts.load_for(**mine)
    assert [d.data["customer_words"] for d in saved] == [WORDS]


def test_lock_now_is_in_the_file_menu_with_its_shortcut(qtbot: QtBot, window: MainWindow) -> None:
    file_menu = window.menuBar().actions()[0].menu()
    assert window.lock_action in file_menu.actions()
    assert window.lock_action.shortcut().toString() == "Ctrl+Shift+L"
    assert ("Lock now", "Ctrl+Shift+L") in window.shortcut_rows()
    window.lock_action.trigger()
    assert window.is_locked


def test_nothing_behind_the_lock_answers_a_shortcut(qtbot: QtBot, window: MainWindow) -> None:
    window.lock_now()
    assert not window.menuBar().isEnabled()
    assert not [a.objectName() for a in window.actions() if a.isEnabled()]
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)  # case list
    qtbot.keyClick(window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)  # print the slip
    assert window.pages.currentWidget() is window.lock_screen
    assert QApplication.activeModalWidget() is None


def test_a_result_arriving_while_locked_shows_nothing_until_unlocked(
    qtbot: QtBot, window: MainWindow, gui_desk: Any
) -> None:
    assert window.form is not None
    window.lock_now()
    window.form.open_case(a_case_id(gui_desk))  # a case that was opening as the officer left
    qtbot.waitUntil(lambda: window.form is not None and window.form.view is not None)
    reference = window.form.view.reference
    assert window.windowTitle() == "Desk — locked"
    assert reference not in shown_text()
    window.statusBar().showMessage(f"Saved {reference}")
    assert window.statusBar().currentMessage() == ""
    unlock_with_keyboard(qtbot, window)
    assert window.windowTitle() == f"Desk — {reference}"


# --- unlocking -----------------------------------------------------------------------------


def test_the_right_password_gives_everything_back_as_it_was(
    qtbot: QtBot, checked_window: MainWindow
) -> None:
    window = checked_window
    assert window.form is not None
    enabled = {a.objectName() for a in window.actions() if a.isEnabled()}
    qtbot.keyClicks(window.form.customer_words, WORDS)
    window.form.customer_words.setFocus()
    lock_by_idling(qtbot, window)
    unlock_with_keyboard(qtbot, window)
    assert window.pages.currentWidget() is window.tabs
    assert window.form.customer_words.text() == WORDS
    assert window.form.is_dirty
    assert not window.script_dock.isHidden()
    assert {a.objectName() for a in window.actions() if a.isEnabled()} == enabled
    assert window.menuBar().isEnabled()
    assert window.windowTitle() != "Desk — locked"
    assert QApplication.focusWidget() is window.form.customer_words
    assert window.idle_watcher.watching
    assert window.lock_screen.password.text() == ""  # the password is not kept


def test_a_wrong_password_is_refused_next_to_the_field_and_the_lock_stays(
    qtbot: QtBot, checked_window: MainWindow
) -> None:
    window = checked_window
    assert window.form is not None
    qtbot.keyClicks(window.form.customer_words, WORDS)
    window.lock_now()
    wait_for_keyboard(qtbot, window)
    keyboard(qtbot, "not-the-password", enter=True)
    message = wait_for_message(qtbot, window)
    assert "password is not right" in message
    assert window.is_locked
    assert "Zelda Quist-Okafor" not in shown_text()
    assert QApplication.focusWidget() is window.lock_screen.password
    assert window.lock_screen.password.selectedText() == "not-the-password"
    # Typing over the selection with the right one unlocks; the case is untouched.
    unlock_with_keyboard(qtbot, window)
    assert window.form.customer_words.text() == WORDS


def test_an_empty_password_is_refused_without_asking_the_database(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.lock_now()
    wait_for_keyboard(qtbot, window)
    qtbot.waitUntil(lambda: not window.ops.busy)  # the lock's audit entry
    keyboard(qtbot, "", enter=True)
    assert window.lock_screen.error.text() == "Enter your password."
    assert not window.ops.busy
    assert window.is_locked


def test_wrong_unlock_passwords_count_toward_the_lockout_on_sqlite(
    qtbot: QtBot, sqlite_desk: Any, drafts: DraftStore
) -> None:
    ops = Operations(sqlite_desk)
    try:
        window = _open_window(qtbot, ops, drafts)
        window.lock_now()
        wait_for_keyboard(qtbot, window)
        for _ in range(5):
            keyboard(qtbot, "guess-again", enter=True)
            assert "not right" in wait_for_message(qtbot, window)
        keyboard(qtbot, PASSWORD, enter=True)  # right, but the account now waits
        assert "locked for a while" in wait_for_message(qtbot, window)
        assert window.is_locked
        with sqlite_desk.engine.connect() as conn:
            actions = (
                conn.execute(
                    text("SELECT action FROM audit_events WHERE entity = 'staff' ORDER BY id")
                )
                .scalars()
                .all()
            )
        assert actions[-7:] == ["lock"] + ["login.failed"] * 5 + ["login.refused_locked"]
    finally:
        qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
        ops.shutdown(close_desk=False)


def test_an_account_disabled_while_locked_cannot_unlock_it(
    qtbot: QtBot, sqlite_desk: Any, drafts: DraftStore
) -> None:
    ops = Operations(sqlite_desk)
    try:
        window = _open_window(qtbot, ops, drafts)
        window.lock_now()
        with sqlite_desk.engine.begin() as conn:  # an administrator disables the account
            conn.execute(text("UPDATE staff SET active = false WHERE username = 'officer'"))
        wait_for_keyboard(qtbot, window)
        keyboard(qtbot, PASSWORD, enter=True)
        assert "no longer active" in wait_for_message(qtbot, window)
        assert window.is_locked
    finally:
        qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
        ops.shutdown(close_desk=False)


def test_locking_and_unlocking_are_audited(
    qtbot: QtBot, window: MainWindow, gui_desk: Any, database_url: str
) -> None:
    window.lock_now()
    unlock_with_keyboard(qtbot, window)
    qtbot.waitUntil(lambda: not window.ops.busy)
    engine = make_engine(database_url)  # the owner reads the whole trail
    try:
        with engine.connect() as conn:
            rows = (
                conn.execute(
                    text(
                        "SELECT action FROM audit_events WHERE entity = 'staff' "
                        "AND actor_id = :me ORDER BY id DESC LIMIT 2"
                    ),
                    {"me": gui_desk.session.staff_id},
                )
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    assert rows == ["unlock", "lock"]


def test_locked_while_the_screens_were_still_loading_they_wait_behind_the_lock(
    qtbot: QtBot, ops: Operations, drafts: DraftStore
) -> None:
    window = MainWindow(ops, database_url="sqlite:///test", drafts=drafts)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    window.lock_now()
    assert window.form is None  # the lists are still loading
    qtbot.waitUntil(lambda: window.form is not None and not ops.busy, timeout=10_000)
    assert window.is_locked
    assert window.pages.currentWidget() is window.lock_screen
    assert not window.tabs.isEnabled()
    assert not [a.objectName() for a in window.actions() if a.isEnabled()]
    unlock_with_keyboard(qtbot, window)
    assert window.pages.currentWidget() is window.tabs
    assert window.new_action.isEnabled() and window.save_action.isEnabled()


def test_when_the_server_cannot_be_reached_the_lock_says_so_and_log_out_still_works(
    qtbot: QtBot, postgres: Any, pg_demo_database: str, drafts: DraftStore, unused_tcp_port: int
) -> None:
    desk = Desk.open(postgres.url(pg_demo_database))
    desk.login("officer", PASSWORD)
    ops = Operations(desk)
    try:
        window = _open_window(qtbot, ops, drafts)
        window.lock_now()
        desk.url = desk.url.set(port=unused_tcp_port)  # the server went away
        wait_for_keyboard(qtbot, window)
        keyboard(qtbot, PASSWORD, enter=True)
        assert "cannot be reached" in wait_for_message(qtbot, window)
        assert window.is_locked
        with qtbot.waitSignal(window.logoutRequested, timeout=5_000):
            qtbot.mouseClick(window.lock_screen.logout_button, Qt.MouseButton.LeftButton)
    finally:
        qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
        ops.shutdown(close_desk=False)
        desk.close()


# --- someone else at the counter -----------------------------------------------------------


def test_someone_else_can_only_log_out_and_the_case_waits_as_a_draft_for_its_owner(
    qtbot: QtBot, window: MainWindow, ops: Operations, drafts: DraftStore
) -> None:
    assert window.form is not None
    assert not window.lock_screen.findChildren(QLineEdit, "username")  # no "log in as"
    qtbot.keyClicks(window.form.customer_words, WORDS)
    window.lock_now()
    with qtbot.waitSignal(window.logoutRequested, timeout=5_000):
        qtbot.mouseClick(window.lock_screen.logout_button, Qt.MouseButton.LeftButton)
    assert [
        d.data["customer_words"]
        for d in drafts.load_for(database=window.database_key, username="officer")
    ] == [WORDS]
    assert drafts.load_for(database=window.database_key, username="senior") == []
    window.close_for_logout()  # what the application does on logout

    # The same person logs in again: the case is offered back.
    again = _open_window(qtbot, ops, drafts)
    again.offer_draft_recovery()
    box = again.findChild(QMessageBox, "restoreDraftMessage")
    assert box is not None and box.isVisible()
    qtbot.mouseClick(box.findChild(QPushButton, "restoreButton"), Qt.MouseButton.LeftButton)
    assert again.form is not None
    qtbot.waitUntil(lambda: again.form is not None and again.form.customer_words.text() == WORDS)


# --- windows open at lock time -------------------------------------------------------------


def _restore_box(window: MainWindow) -> QMessageBox:
    draft = Draft(
        draft_id=f"{uuid.uuid4()}-x",
        saved_at=dt.datetime.now(dt.UTC),
        data={"customer": {"full_name": "Zelda Quist-Okafor"}, "reference": ""},
    )
    return window.ask_restore(draft)


def test_a_message_box_open_at_lock_time_is_covered_and_comes_back(
    qtbot: QtBot, checked_window: MainWindow
) -> None:
    window = checked_window
    box = _restore_box(window)
    qtbot.waitUntil(box.isVisible)
    assert "Zelda Quist-Okafor" in shown_text()
    lock_by_idling(qtbot, window)
    qtbot.waitUntil(lambda: window.unlock_dialog is not None and window.unlock_dialog.isVisible())
    # The box (modal) would keep the keyboard from the main window: the lock screen is in front.
    assert QApplication.activeModalWidget() is window.unlock_dialog
    assert box.isVisible() and not box.isEnabled()
    assert "Zelda Quist-Okafor" not in shown_text()
    assert box.windowTitle() == "Desk — locked"
    wait_for_keyboard(qtbot, window)
    keyboard(qtbot, "wrong-one", enter=True)
    assert "not right" in wait_for_message(qtbot, window)
    assert window.unlock_dialog.screen_widget.error.isVisible()
    unlock_with_keyboard(qtbot, window)
    assert not window.unlock_dialog.isVisible()
    assert box.isVisible() and box.isEnabled()
    assert box.windowTitle() == "Unsaved case"
    assert "Zelda Quist-Okafor" in shown_text()
    qtbot.mouseClick(box.findChild(QPushButton, "laterButton"), Qt.MouseButton.LeftButton)


def test_a_window_opening_while_locked_is_covered_as_it_appears(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.lock_now()
    box = _restore_box(window)  # say, the draft offer arriving late
    qtbot.waitUntil(lambda: window.unlock_dialog is not None and window.unlock_dialog.isVisible())
    assert box.isVisible()
    assert "Zelda Quist-Okafor" not in shown_text()
    assert QApplication.activeModalWidget() is window.unlock_dialog
    unlock_with_keyboard(qtbot, window)
    assert "Zelda Quist-Okafor" in shown_text()
    box.done(0)


def test_when_the_covered_dialog_goes_away_the_lock_screen_is_back_in_the_window(
    qtbot: QtBot, window: MainWindow
) -> None:
    box = _restore_box(window)
    qtbot.waitUntil(box.isVisible)
    window.lock_now()
    qtbot.waitUntil(lambda: window.unlock_dialog is not None and window.unlock_dialog.isVisible())
    box.done(0)  # closed by the program meanwhile
    qtbot.waitUntil(
        lambda: window.unlock_dialog is not None and not window.unlock_dialog.isVisible()
    )
    assert window.is_locked
    unlock_with_keyboard(qtbot, window)  # typed into the main window's lock screen
    assert window.pages.currentWidget() is window.tabs


def test_a_dialog_waiting_for_an_answer_keeps_what_was_typed_through_the_lock(
    qtbot: QtBot, window: MainWindow, gui_desk: Any
) -> None:
    """Hiding a dialog that runs exec() would cancel it: it stays open, covered, and the note
    typed in it is still there (and added) after unlocking."""
    form = window.form
    assert form is not None
    case_id = a_case_id(gui_desk)
    form.open_case(case_id)
    qtbot.waitUntil(lambda: form.view is not None and form.view.id == case_id)
    note = f"Rang back about the refund {uuid.uuid4().hex[:6]}"
    seen: dict[str, object] = {}

    def in_the_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        try:
            assert isinstance(dialog, EntryDialog)
            qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.text)
            keyboard(qtbot, note)
            assert dialog.text.text() == note
            lock_by_idling(qtbot, window)
            qtbot.waitUntil(
                lambda: window.unlock_dialog is not None and window.unlock_dialog.isVisible()
            )
            seen["front"] = QApplication.activeModalWidget() is window.unlock_dialog
            seen["hidden"] = note not in shown_text()
            unlock_with_keyboard(qtbot, window)
            seen["kept"] = dialog.text.text()
            seen["focus"] = QApplication.focusWidget() is dialog.text
            qtbot.mouseClick(
                dialog.findChild(QPushButton, "entryAddButton"), Qt.MouseButton.LeftButton
            )
        finally:
            if isinstance(dialog, EntryDialog) and dialog.isVisible():
                dialog.reject()  # never leave the test waiting in exec()

    QTimer.singleShot(0, in_the_dialog)
    form.add_entry(EventKind.NOTE)
    assert seen == {"front": True, "hidden": True, "kept": note, "focus": True}
    qtbot.waitUntil(lambda: not window.ops.busy)
    timeline = gui_desk.cases.get(case_id).timeline
    assert note in [entry.summary for entry in timeline]


# --- keyboard and screen readers -----------------------------------------------------------


def test_the_lock_screen_is_named_for_screen_readers_and_tabs_in_order(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.lock_now()
    screen = window.lock_screen
    for control in (screen.password, screen.unlock_button, screen.logout_button):
        assert control.objectName() and control.accessibleName()
    assert screen.password.echoMode() == QLineEdit.EchoMode.Password
    wait_for_keyboard(qtbot, window)
    order = []
    for _ in range(3):
        QTest.keyClick(QGuiApplication.focusWindow(), Qt.Key.Key_Tab)
        order.append(QApplication.focusWidget())
    assert order == [screen.unlock_button, screen.logout_button, screen.password]
