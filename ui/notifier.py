"""Telling a person whose window is not in front that something arrived for them.

A decision waiting in their inbox, or a safety alert: while the window is minimised or another
window has the keyboard, a message from the system tray (or, where there is no tray, in the
status bar), and the task bar asks for attention. A badge counts what waits: "(3) Desk — …" in
the window title, and the dock or launcher badge where the platform has one.

Nothing is shown for the person's own actions (a count going down), nor for the first count
read after login (only what arrives after that); a safety alert is told always. Focus is never
taken: the window comes forward only when the person clicks the tray icon or the message.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from importlib.resources import files
from typing import Protocol

from PySide6.QtCore import QObject, Qt, Signal, SignalInstance
from PySide6.QtGui import QAction, QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QSystemTrayIcon, QWidget

# How long a tray message stays (the platform may shorten it).
MESSAGE_MS = 15_000

# What a message was about, for what clicking it opens.
INBOX = "inbox"
SAFETY = "safety"


class TrayIcon(Protocol):
    """What the notifier uses of a QSystemTrayIcon (tests pass a fake)."""

    activated: SignalInstance  # (QSystemTrayIcon.ActivationReason)
    messageClicked: SignalInstance

    def setToolTip(self, tip: str) -> None: ...

    def setContextMenu(self, menu: QMenu) -> None: ...

    def showMessage(
        self, title: str, text: str, icon: QSystemTrayIcon.MessageIcon, msecs: int
    ) -> None: ...

    def show(self) -> None: ...

    def hide(self) -> None: ...


def desk_icon() -> QIcon:
    """Desk's own icon (resources/icons/desk.svg), for the tray and the task bar."""
    return QIcon(str(files("resources.icons") / "desk.svg"))


def system_tray(parent: QObject) -> TrayIcon | None:
    """A tray icon, or None where the desktop has no system tray (many Linux desktops, tests)."""
    if not QSystemTrayIcon.isSystemTrayAvailable():
        return None
    return QSystemTrayIcon(desk_icon(), parent)


class Notifier(QObject):
    """Owned by the main window: fed the number of decisions waiting (``set_waiting``) and the
    safety alerts not seen before (``safety_alerts``).

    ``shown(what)`` when the person brought the window forward from the tray: ``"inbox"`` or
    ``"safety"`` when they clicked such a message, ``""`` from the icon or its menu."""

    shown = Signal(str)

    def __init__(
        self,
        window: QMainWindow,
        *,
        tray_factory: Callable[[QObject], TrayIcon | None] = system_tray,
    ) -> None:
        super().__init__(window)
        self.setObjectName("notifier")
        self.window = window
        self.waiting: int | None = None  # None until the first count after login
        self.last_message = ""
        self._message_kind = ""
        self._plain_title = window.windowTitle()
        self._badged_title = self._plain_title
        window.windowTitleChanged.connect(self._title_changed)

        self.menu = QMenu()
        self.menu.setObjectName("trayMenu")
        self.menu.setAccessibleName(self.tr("Desk in the system tray"))
        self.show_action = QAction(self.tr("&Show Desk"), self.menu)
        self.show_action.setObjectName("trayShowAction")
        self.show_action.triggered.connect(lambda: self.show_window())
        self.count_action = QAction(self.menu)
        self.count_action.setObjectName("trayCountAction")
        self.count_action.setEnabled(False)  # a line to read, not a command
        self.menu.addAction(self.show_action)
        self.menu.addSeparator()
        self.menu.addAction(self.count_action)
        self.destroyed.connect(self.menu.deleteLater)

        self.tray = tray_factory(self)
        if self.tray is not None:
            self.tray.setContextMenu(self.menu)
            self.tray.activated.connect(self._tray_activated)
            self.tray.messageClicked.connect(self._message_clicked)
            self.tray.show()
        self._show_count()

    # --- what arrives ----------------------------------------------------------------------

    def set_waiting(self, waiting: int) -> None:
        """The number of decisions waiting for this person, as just read."""
        before, self.waiting = self.waiting, waiting
        if before is not None and waiting > before and not self.in_front():
            self._tell(
                INBOX,
                self.tr("New decision waiting: {n} in your inbox").format(n=waiting),
                critical=False,
            )
        bar = self.window.statusBar()
        said = self._message_kind == INBOX and bar.currentMessage() == self.last_message
        if waiting == 0 and said:
            bar.clearMessage()  # what it said is no longer true
        self._show_count()

    def safety_alerts(self, alerts: Sequence[object]) -> None:
        """Safety alerts this person has not been told of (SafetyAlertView): told always."""
        if not alerts:
            return
        newest = alerts[0]
        name = getattr(newest, "raised_by", "")
        centre = getattr(newest, "centre", "")
        # No customer or case in the message: it shows on the desktop, even while Desk is locked.
        if len(alerts) == 1:
            text = self.tr("Safety alert: {name} ({centre}) needs help now.")
        else:
            text = self.tr("Safety alerts: {name} ({centre}) and {more} more need help now.")
        self._tell(
            SAFETY, text.format(name=name, centre=centre, more=len(alerts) - 1), critical=True
        )

    def in_front(self) -> bool:
        """The window (or one of its own dialogs) has the keyboard and is not minimised."""
        window = self.window
        if window.isMinimized() or not window.isVisible():
            return False
        active: QWidget | None = QApplication.activeWindow()
        while active is not None:
            if active is window:
                return True
            parent = active.parentWidget()
            active = parent.window() if parent is not None else None
        return False

    # --- telling ---------------------------------------------------------------------------

    def _tell(self, kind: str, text: str, *, critical: bool) -> None:
        self.last_message = text
        self._message_kind = kind
        if self.tray is not None:
            icon = (
                QSystemTrayIcon.MessageIcon.Critical
                if critical
                else QSystemTrayIcon.MessageIcon.Information
            )
            self.tray.showMessage(self.tr("Desk"), text, icon, MESSAGE_MS)
        else:
            # Kept until replaced: the person reads it when they come back.
            self.window.statusBar().showMessage(text)
        QApplication.alert(self.window, 0)  # the task bar flashes until the window is active

    def _show_count(self) -> None:
        waiting = self.waiting or 0
        if waiting:
            count = self.tr("Decisions waiting for you: {n}").format(n=waiting)
        else:
            count = self.tr("Nothing waiting for your decision")
        self.count_action.setText(count)
        if self.tray is not None:
            self.tray.setToolTip(self.tr("Desk — {count}").format(count=count))
        self._apply_title()
        app = QGuiApplication.instance()
        # Qt 6.5: the macOS dock, and Linux launchers that know the app's desktop file (without
        # one, Qt only logs a warning on every call).
        if hasattr(app, "setBadgeNumber") and (sys.platform == "darwin" or app.desktopFileName()):
            app.setBadgeNumber(waiting)

    # --- the title badge -------------------------------------------------------------------

    def plain_title(self, title: str | None = None) -> str:
        """The window's title without the badge (``title``: a title the window had)."""
        if title is None:
            title = self.window.windowTitle()
        return self._plain_title if title == self._badged_title else title

    def _title_changed(self, title: str) -> None:
        if title == self._badged_title:
            return  # our own
        self._plain_title = title  # the window named itself anew: badge that
        self._apply_title()

    def _apply_title(self) -> None:
        waiting = self.waiting or 0
        plain = self._plain_title
        wanted = self.tr("({n}) {title}").format(n=waiting, title=plain) if waiting else plain
        self._badged_title = wanted
        if self.window.windowTitle() != wanted:
            self.window.setWindowTitle(wanted)

    # --- the person answers ----------------------------------------------------------------

    def show_window(self, what: str = "") -> None:
        """Bring the window back and in front: the person asked for it."""
        window = self.window
        if window.isMinimized():
            window.setWindowState(
                (window.windowState() & ~Qt.WindowState.WindowMinimized)
                | Qt.WindowState.WindowActive
            )
        window.show()
        window.raise_()
        window.activateWindow()
        self.shown.emit(what)

    def _tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.show_window()

    def _message_clicked(self) -> None:
        self.show_window(self._message_kind)

    def stop(self) -> None:
        """Logging out or quitting: the tray icon and the badge go."""
        if self.tray is not None:
            self.tray.hide()
        app = QGuiApplication.instance()
        if hasattr(app, "setBadgeNumber"):
            app.setBadgeNumber(0)


__all__ = ["INBOX", "SAFETY", "Notifier", "TrayIcon", "desk_icon", "system_tray"]
