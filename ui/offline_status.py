"""The status bar's word on the connection: "Offline — 3 changes waiting", and the catching up.

While the server is away the case services keep the officer's changes in the outbox (see
``desk.services.offline``). This button says so, and a timer sends what waits as soon as the
server answers again: every few seconds at first, then less often (up to a minute), so a long
outage does not keep the worker busy. Clicking it (or Ctrl+Shift+J) lists the changes waiting
and those that need the officer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QStatusBar, QToolButton, QWidget

from ui.operations import Operations

if TYPE_CHECKING:
    from desk.services.offline import OutboxStatus, ReplayReport

FIRST_RETRY_MS = 5_000
LONGEST_RETRY_MS = 60_000
CACHE_REFRESH_MS = 10 * 60_000


class OfflineStatus(QObject):
    """Owns the status-bar button, the replay timer and the periodic refresh of the cache."""

    statusChanged = Signal(object)  # OutboxStatus
    problemsFound = Signal(list)  # new problems' texts
    sent = Signal(int)
    openCase = Signal(int)

    def __init__(self, ops: Operations, bar: QStatusBar, parent: QWidget) -> None:
        super().__init__(parent)
        self.ops = ops
        self.status: OutboxStatus | None = None
        self.button = QToolButton()
        self.button.setObjectName("statusOffline")
        self.button.setAccessibleName(self.tr("Connection and changes waiting"))
        self.button.setAutoRaise(True)
        self.button.hide()
        self.button.clicked.connect(self.show_pending)
        bar.addPermanentWidget(self.button)
        self.shortcut = QShortcut(QKeySequence("Ctrl+Shift+J"), parent)
        self.shortcut.activated.connect(self.show_pending)
        self._delay = FIRST_RETRY_MS
        self._replaying = False
        self.replay_timer = QTimer(self)
        self.replay_timer.setObjectName("offlineReplayTimer")
        self.replay_timer.setSingleShot(True)
        self.replay_timer.timeout.connect(self.replay)
        self.cache_timer = QTimer(self)
        self.cache_timer.setInterval(CACHE_REFRESH_MS)
        self.cache_timer.timeout.connect(self.refresh_cache)
        self.cache_timer.start()
        self.dialog: Any = None
        ops.changed.connect(self.check)

    def stop(self) -> None:
        """The window closes: no more replays or refreshes from it."""
        self.replay_timer.stop()
        self.cache_timer.stop()

    # --- reading the state ---------------------------------------------------------------

    reported = Signal(str)  # what was wrong with the outbox file when it was opened

    def report_opening(self) -> None:
        if not self._open():
            return
        self.ops.query(
            lambda d: d.offline.opening_report(),
            on_success=lambda text: self.reported.emit(text) if text else None,
            owner=self,
        )

    def _open(self) -> bool:
        """False once the window's database is closed (a timer may still fire then)."""
        return self.ops.desk is not None and not self.ops.stopped

    def check(self) -> None:
        """Ask how things stand (after every save, and when the window starts)."""
        if not self._open():
            return
        self.ops.query(
            lambda d: d.offline.status(), on_success=self._show, owner=self, key="outbox-status"
        )

    def _show(self, status: OutboxStatus) -> None:
        self.status = status
        if not status.online:
            text = (
                self.tr("Offline — 1 change waiting")
                if status.waiting == 1
                else self.tr("Offline — {n} changes waiting").format(n=status.waiting)
            )
            tip = self.tr(
                "The server cannot be reached. Keep working: new cases, changes, contacts and "
                "updates are kept on this computer and sent when the connection is back. "
                "Decisions and admin changes need the server."
            )
        elif status.waiting:
            text = (
                self.tr("Sending 1 change…")
                if status.waiting == 1
                else self.tr("Sending {n} changes…").format(n=status.waiting)
            )
            tip = self.tr("Changes made while offline are being sent to the server.")
        else:
            text = tip = ""
        if status.attention:
            attention = (
                self.tr("1 change needs your attention")
                if status.attention == 1
                else self.tr("{n} changes need your attention").format(n=status.attention)
            )
            text = f"{text} · {attention}" if text else attention
            tip = (tip + " " if tip else "") + self.tr(
                "Some changes made offline could not be sent as they were. Click to see them."
            )
        self.button.setText(text)
        self.button.setToolTip(tip)
        self.button.setAccessibleDescription(tip)
        self.button.setVisible(bool(text))
        self.statusChanged.emit(status)
        if (not status.online or status.waiting) and not self.replay_timer.isActive():
            self.replay_timer.start(self._delay)

    # --- catching up ---------------------------------------------------------------------

    def replay(self) -> None:
        if self._replaying or not self._open():
            return
        self._replaying = True
        self.ops.query(
            lambda d: d.replay_outbox(),
            on_success=self._replayed,
            on_error=self._replay_failed,
            owner=self,
        )

    def _replayed(self, report: ReplayReport) -> None:
        self._replaying = False
        if report.online:
            self._delay = FIRST_RETRY_MS
        else:
            self._delay = min(self._delay * 2, LONGEST_RETRY_MS)
        if report.sent:
            self.sent.emit(report.sent)
            self.ops.changed.emit()  # every screen reads again: their cases are real now
            if report.online and not report.waiting:
                self.refresh_cache()
        if report.new_problems:
            self.problemsFound.emit(list(report.new_problems))
        self._show_from_report(report)

    def _show_from_report(self, report: ReplayReport) -> None:
        from desk.services.offline import OutboxStatus

        self._show(OutboxStatus(report.online, report.waiting, report.attention))

    def _replay_failed(self, _exc: BaseException) -> None:
        self._replaying = False
        self._delay = min(self._delay * 2, LONGEST_RETRY_MS)
        self.replay_timer.start(self._delay)

    def refresh_cache(self) -> None:
        """Keep the officer's open cases readable offline (quietly: a failure changes nothing)."""
        if not self._open():
            return
        self.ops.query(
            lambda d: d.refresh_offline_cache(),
            on_error=lambda _exc: None,
            owner=self,
            key="offline-cache",
        )

    # --- the list ------------------------------------------------------------------------

    def show_pending(self) -> None:
        from ui.pending_changes import PendingChangesDialog

        if self.dialog is None:
            parent = self.parent()
            window = parent if isinstance(parent, QWidget) else None
            self.dialog = PendingChangesDialog(self.ops, self, window)
            self.dialog.openCase.connect(self.openCase)
        self.dialog.reload()
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
