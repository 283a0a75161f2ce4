"""A decider whose window is not in front is told what arrived: a tray message (or, without a
tray, the status bar), the task bar flashing, and a badge counting what waits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QSystemTrayIcon, QWidget
from pytestqt.qtbot import QtBot

from desk.drafts import DraftStore
from desk.services.grants import Outcome
from tests.integration.test_cases_service import new_customer, walk_in_case
from ui.main_window import MainWindow
from ui.notifier import INBOX, SAFETY, Notifier
from ui.operations import Operations

NEWS_MS = 20_000  # the listener polls (SQLite) or hears (PostgreSQL) within moments


# --- the notifier on its own, with a fake tray -------------------------------------------------


class FakeTray(QObject):
    """Records what a QSystemTrayIcon would have shown."""

    activated = Signal(object)
    messageClicked = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.messages: list[tuple[str, str, QSystemTrayIcon.MessageIcon]] = []
        self.tooltip = ""
        self.menu: QMenu | None = None
        self.visible = False

    def setToolTip(self, tip: str) -> None:
        self.tooltip = tip

    def setContextMenu(self, menu: QMenu) -> None:
        self.menu = menu

    def showMessage(
        self, title: str, text: str, icon: QSystemTrayIcon.MessageIcon, msecs: int
    ) -> None:
        self.messages.append((title, text, icon))

    def show(self) -> None:
        self.visible = True

    def hide(self) -> None:
        self.visible = False


@pytest.fixture
def alerts(monkeypatch: pytest.MonkeyPatch) -> list[QWidget]:
    """The windows the task bar was asked to flash for."""
    calls: list[QWidget] = []
    monkeypatch.setattr(QApplication, "alert", lambda widget, msec=0: calls.append(widget))
    return calls


@pytest.fixture
def badges(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The numbers put on the dock or launcher badge."""
    numbers: list[int] = []
    app = QGuiApplication.instance()
    monkeypatch.setattr(app, "setBadgeNumber", numbers.append)
    # A launcher badge needs the app's desktop file; without one Desk leaves the badge alone.
    monkeypatch.setattr(app, "desktopFileName", lambda: "desk")
    return numbers


@pytest.fixture
def plain_window(qtbot: QtBot) -> QMainWindow:
    window = QMainWindow()
    window.setWindowTitle("Desk — C-1")
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    return window


@pytest.fixture
def tray() -> FakeTray:
    return FakeTray()


@pytest.fixture
def notifier(plain_window: QMainWindow, tray: FakeTray) -> Notifier:
    return Notifier(plain_window, tray_factory=lambda parent: tray)


def minimise(qtbot: QtBot, window: QWidget) -> None:
    window.showMinimized()
    qtbot.waitUntil(window.isMinimized, timeout=5_000)


def test_a_tray_message_is_shown_only_when_the_count_rises_while_the_window_is_not_in_front(
    qtbot: QtBot,
    plain_window: QMainWindow,
    notifier: Notifier,
    tray: FakeTray,
    alerts: list[QWidget],
    badges: list[int],
) -> None:
    assert tray.visible and tray.menu is notifier.menu
    notifier.set_waiting(2)  # the first count after login
    assert tray.messages == [] and alerts == []
    assert plain_window.windowTitle() == "(2) Desk — C-1"
    assert badges[-1] == 2

    notifier.set_waiting(3)  # in front: the person sees the Decisions tab's count
    assert tray.messages == [] and alerts == []
    assert plain_window.windowTitle() == "(3) Desk — C-1"

    minimise(qtbot, plain_window)
    notifier.set_waiting(4)
    info = QSystemTrayIcon.MessageIcon.Information
    assert tray.messages == [("Desk", "New decision waiting: 4 in your inbox", info)]
    assert alerts == [plain_window]
    assert "4" in tray.tooltip and "4" in notifier.count_action.text()

    notifier.set_waiting(3)  # one decided (by this person, or a colleague): nothing to tell
    notifier.set_waiting(3)
    assert len(tray.messages) == 1 and len(alerts) == 1
    assert plain_window.windowTitle() == "(3) Desk — C-1"

    notifier.set_waiting(0)
    assert plain_window.windowTitle() == "Desk — C-1"
    assert badges[-1] == 0
    assert "Nothing waiting" in tray.tooltip
    assert plain_window.statusBar().currentMessage() == "", "with a tray, not the status bar"


def test_a_window_behind_another_is_not_in_front(
    qtbot: QtBot, plain_window: QMainWindow, notifier: Notifier, tray: FakeTray
) -> None:
    notifier.set_waiting(0)
    other = QWidget()
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    qtbot.waitUntil(lambda: not plain_window.isActiveWindow(), timeout=5_000)
    assert not notifier.in_front()
    notifier.set_waiting(1)
    assert [text for _title, text, _icon in tray.messages] == [
        "New decision waiting: 1 in your inbox"
    ]


def test_a_safety_alert_is_told_even_in_front_with_a_critical_icon(
    plain_window: QMainWindow, notifier: Notifier, tray: FakeTray, alerts: list[QWidget]
) -> None:
    class Alert:
        raised_by, centre, case_reference = "Ana Officer", "Harbour Street", "C-2024-0001"

    assert notifier.in_front()
    notifier.safety_alerts([Alert()])
    [(_title, text, icon)] = tray.messages
    assert icon is QSystemTrayIcon.MessageIcon.Critical
    assert text == "Safety alert: Ana Officer (Harbour Street) needs help now."
    assert "C-2024" not in text, "nothing of the case on the desktop"
    assert alerts == [plain_window]


def test_clicking_the_message_brings_the_window_back_at_what_it_told(
    qtbot: QtBot, plain_window: QMainWindow, notifier: Notifier, tray: FakeTray
) -> None:
    notifier.set_waiting(0)
    minimise(qtbot, plain_window)
    notifier.set_waiting(1)
    with qtbot.waitSignal(notifier.shown) as shown:
        tray.messageClicked.emit()
    assert shown.args == [INBOX]
    qtbot.waitUntil(lambda: not plain_window.isMinimized(), timeout=5_000)

    minimise(qtbot, plain_window)
    with qtbot.waitSignal(notifier.shown) as shown:
        tray.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    assert shown.args == [""]
    qtbot.waitUntil(lambda: not plain_window.isMinimized(), timeout=5_000)

    minimise(qtbot, plain_window)
    notifier.show_action.trigger()  # the tray menu's Show Desk
    qtbot.waitUntil(lambda: not plain_window.isMinimized(), timeout=5_000)
    assert notifier.show_action.objectName() == "trayShowAction"
    assert not notifier.count_action.isEnabled()


def test_the_badge_follows_the_window_renaming_itself(
    plain_window: QMainWindow, notifier: Notifier
) -> None:
    notifier.set_waiting(2)
    plain_window.setWindowTitle("Desk — C-2")
    assert plain_window.windowTitle() == "(2) Desk — C-2"
    assert notifier.plain_title() == "Desk — C-2"
    notifier.set_waiting(0)
    assert plain_window.windowTitle() == "Desk — C-2"


def test_without_a_desktop_file_the_launcher_badge_is_left_alone(
    plain_window: QMainWindow, notifier: Notifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    numbers: list[int] = []
    app = QGuiApplication.instance()
    monkeypatch.setattr(app, "setBadgeNumber", numbers.append)
    monkeypatch.setattr(app, "desktopFileName", lambda: "")
    monkeypatch.setattr("ui.notifier.sys.platform", "linux")
    notifier.set_waiting(3)
    assert numbers == [], "Qt would only log a warning on every count"
    assert plain_window.windowTitle().startswith("(3) "), "the title still says it"


def test_without_a_tray_the_message_goes_to_the_status_bar(
    qtbot: QtBot, plain_window: QMainWindow, alerts: list[QWidget]
) -> None:
    notifier = Notifier(plain_window, tray_factory=lambda parent: None)
    notifier.set_waiting(0)
    minimise(qtbot, plain_window)
    notifier.set_waiting(1)
    assert plain_window.statusBar().currentMessage() == "New decision waiting: 1 in your inbox"
    assert plain_window.windowTitle() == "(1) Desk — C-1"
    assert alerts == [plain_window]
    notifier.set_waiting(0)
    assert plain_window.statusBar().currentMessage() == "", "what it said is no longer true"


# --- in the main window, with a request made at the counter -----------------------------------


@pytest.fixture
def no_open_safety_alerts(desk_factory: Any) -> Iterator[None]:
    """An earlier test may have left a safety alert open on the shared PostgreSQL database; it
    would (rightly) be told at login. None is left for a later test either."""
    supervisor = desk_factory("supervisor")

    def acknowledge_all() -> None:
        for alert in supervisor.safety.open_alerts():
            supervisor.safety.acknowledge(alert.id)

    acknowledge_all()
    yield
    acknowledge_all()


@pytest.fixture
def open_supervisor(
    qtbot: QtBot, desk_factory: Any, tmp_path: Any, no_open_safety_alerts: None
) -> Iterator[Callable[..., MainWindow]]:
    """A supervisor of the officer's centre logging in on another computer."""
    opened: list[tuple[MainWindow, Operations]] = []

    def open_window(*, minimised: bool = False) -> MainWindow:
        supervisor_ops = Operations(desk_factory("supervisor"))
        window = MainWindow(
            supervisor_ops, database_url="sqlite:///supervisor", drafts=DraftStore(tmp_path / "s")
        )
        qtbot.addWidget(window)
        opened.append((window, supervisor_ops))
        if minimised:
            window.showMinimized()
        else:
            window.show()
        qtbot.waitUntil(lambda: window.form is not None, timeout=10_000)
        qtbot.waitUntil(lambda: not supervisor_ops.busy, timeout=10_000)
        return window

    yield open_window
    for window, supervisor_ops in opened:
        qtbot.waitUntil(lambda ops=supervisor_ops: not ops.busy, timeout=10_000)
        if shiboken6.isValid(window):
            window.close()
        supervisor_ops.shutdown(close_desk=False)


def request_above_the_officers_limit(officer: Any) -> Any:
    customer = new_customer(officer)
    case = officer.cases.create(walk_in_case(officer, customer.id, "Late fee after outage"))
    return officer.grants.request(case.id, "waiver", 9_000, "Outage at the bank")


def waiting(window: MainWindow) -> int | None:
    assert window.notifier is not None, "a supervisor decides approvals"
    return window.notifier.waiting


def test_a_request_arriving_while_the_supervisors_window_is_minimised_badges_and_flashes(
    qtbot: QtBot,
    open_supervisor: Callable[..., MainWindow],
    gui_desk: Any,
    desk_factory: Any,
    alerts: list[QWidget],
) -> None:
    window = open_supervisor()
    qtbot.waitUntil(lambda: waiting(window) is not None, timeout=10_000)
    before = waiting(window)
    assert before is not None
    assert alerts == [], "the first count after login is not news"
    assert window.statusBar().currentMessage() == ""
    assert window.notifier is not None and window.notifier.tray is None, "offscreen: no tray"
    plain = window.windowTitle().removeprefix(f"({before}) ")

    minimise(qtbot, window)
    request = request_above_the_officers_limit(gui_desk)
    now = before + 1
    qtbot.waitUntil(lambda: window.windowTitle() == f"({now}) {plain}", timeout=NEWS_MS)
    assert alerts == [window]
    assert window.statusBar().currentMessage() == f"New decision waiting: {now} in your inbox"
    assert window.isMinimized(), "nothing takes the window forward by itself"

    desk_factory("supervisor").grants.decide(request.id, Outcome.REJECT, reason="Not our error")
    back = f"({before}) {plain}" if before else plain
    qtbot.waitUntil(lambda: window.windowTitle() == back, timeout=NEWS_MS)
    assert alerts == [window], "a count going down is not news"
    if not before:
        assert window.statusBar().currentMessage() == ""


def test_a_request_waiting_at_login_is_badged_but_not_announced(
    qtbot: QtBot,
    open_supervisor: Callable[..., MainWindow],
    gui_desk: Any,
    alerts: list[QWidget],
) -> None:
    request_above_the_officers_limit(gui_desk)
    window = open_supervisor(minimised=True)
    qtbot.waitUntil(lambda: (waiting(window) or 0) >= 1, timeout=10_000)
    assert window.windowTitle().startswith(f"({waiting(window)}) Desk")
    assert alerts == []
    assert window.statusBar().currentMessage() == ""


def test_a_safety_alert_reaches_a_minimised_supervisor_in_the_status_bar(
    qtbot: QtBot,
    open_supervisor: Callable[..., MainWindow],
    window: MainWindow,
    alerts: list[QWidget],
) -> None:
    supervisor = open_supervisor()
    qtbot.waitUntil(lambda: waiting(supervisor) is not None, timeout=10_000)
    qtbot.waitUntil(lambda: window.script_panel.library is not None, timeout=10_000)
    minimise(qtbot, supervisor)
    window.safety_alert()  # the officer's key at the counter
    bar = supervisor.statusBar()
    qtbot.waitUntil(lambda: bar.currentMessage().startswith("Safety alert:"), timeout=NEWS_MS)
    assert window.session is not None and window.session.full_name in bar.currentMessage()
    assert supervisor in alerts
    assert supervisor.isMinimized()


def test_an_officer_has_no_notifier_and_a_plain_title(window: MainWindow) -> None:
    assert window.notifier is None
    assert not window.windowTitle().startswith("(")


def test_clicking_a_decision_message_opens_the_decisions_tab(
    qtbot: QtBot, open_supervisor: Callable[..., MainWindow]
) -> None:
    window = open_supervisor()
    assert window.notifier is not None and window.inbox is not None
    window.notifier.shown.emit(INBOX)
    assert window.tabs.currentWidget() is window.inbox
    window.notifier.shown.emit(SAFETY)  # no alert open: the band is hidden, nothing to focus
    assert window.tabs.currentWidget() is window.inbox


def test_the_badge_stays_on_the_locked_title_and_the_case_comes_back_without_a_second_one(
    qtbot: QtBot, open_supervisor: Callable[..., MainWindow], gui_desk: Any
) -> None:
    from tests.gui.test_idle_lock import unlock_with_keyboard

    request_above_the_officers_limit(gui_desk)
    window = open_supervisor()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    qtbot.waitUntil(lambda: (waiting(window) or 0) >= 1, timeout=10_000)
    count = waiting(window)
    title = window.windowTitle()
    assert title.startswith(f"({count}) Desk")
    window.lock_now()
    assert window.windowTitle() == f"({count}) Desk — locked", "a count, nothing of a customer"
    unlock_with_keyboard(qtbot, window)
    assert window.windowTitle() == title


def test_the_badge_counts_what_the_inbox_filters_hide(
    qtbot: QtBot, open_supervisor: Callable[..., MainWindow], gui_desk: Any
) -> None:
    request_above_the_officers_limit(gui_desk)
    window = open_supervisor()
    inbox = window.inbox
    assert inbox is not None
    qtbot.waitUntil(lambda: (waiting(window) or 0) >= 1, timeout=10_000)
    count = waiting(window)
    qtbot.keyClicks(inbox.min_amount, "1000000")
    inbox.apply_filters()
    qtbot.waitUntil(lambda: inbox.counts is not None and inbox.counts.total == 0, timeout=10_000)
    qtbot.waitUntil(lambda: not window.ops.busy, timeout=10_000)
    assert window.tabs.tabText(window.tabs.indexOf(inbox)) == "Decisions"
    assert waiting(window) == count
    assert window.windowTitle().startswith(f"({count}) Desk")
