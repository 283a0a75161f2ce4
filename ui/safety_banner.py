"""The safety alert as a supervisor receives it: a red band across the top of the main window,
over whatever screen is open, until someone acknowledges it.

It names who raised it, where, when and for which case; Ctrl+Shift+K acknowledges ("I'm on it")
and the band goes from every receiver's screen; Open case shows the case. A new alert also asks
the window system for attention (the task bar flashes) and rings the bell once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from ui.labels import local_time
from ui.operations import bug_message, is_user_error

if TYPE_CHECKING:
    from desk.services.safety_alerts import SafetyAlertView
    from ui.operations import Operations

_STYLE = """
QFrame#safetyBanner { background: #a4161a; border: 0; }
QFrame#safetyBanner QLabel { color: white; font-weight: bold; }
QFrame#safetyBanner QPushButton { padding: 4px 12px; }
"""


class SafetyBanner(QFrame):
    openCaseRequested = Signal(int)
    acknowledged = Signal(object)  # SafetyAlertView
    alertsArrived = Signal(list)  # the SafetyAlertViews not shown before, newest first

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setObjectName("safetyBanner")
        self.setAccessibleName(self.tr("Safety alert"))
        self.setStyleSheet(_STYLE)
        self.alerts: list[SafetyAlertView] = []
        self._seen: set[int] = set()
        self.text = QLabel()
        self.text.setObjectName("safetyBannerText")
        self.text.setWordWrap(True)
        self.open_case = QPushButton(self.tr("&Open case"))
        self.open_case.setObjectName("safetyOpenCase")
        self.open_case.setAccessibleName(self.tr("Open the case of the safety alert"))
        self.open_case.clicked.connect(self._open_case)
        self.acknowledge_button = QPushButton(self.tr("I'm on it (Ctrl+Shift+K)"))
        self.acknowledge_button.setObjectName("safetyAcknowledge")
        self.acknowledge_button.setAccessibleName(self.tr("Acknowledge the safety alert"))
        self.acknowledge_button.setShortcut(QKeySequence("Ctrl+Shift+K"))
        self.acknowledge_button.clicked.connect(self.acknowledge)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.open_case)
        layout.addWidget(self.acknowledge_button)
        self.hide()

    def refresh(self) -> None:
        """Read the open alerts again (news arrived, or the person logged in)."""
        self.ops.query(
            lambda d: d.safety.open_alerts(),
            on_success=self.show_alerts,
            on_error=lambda exc: None,  # the next news reads again; the band is not the place
            owner=self,
            key="safety-alerts",
        )

    def show_alerts(self, alerts: list[SafetyAlertView]) -> None:
        self.alerts = list(alerts)
        if not self.alerts:
            self.hide()
            return
        newest = self.alerts[0]
        case = (
            self.tr(", case {reference}").format(reference=newest.case_reference)
            if newest.case_reference
            else ""
        )
        text = self.tr("⚠ Safety alert from {name} ({centre}{case}) at {time}.").format(
            name=newest.raised_by,
            centre=newest.centre,
            case=case,
            time=local_time(newest.raised_at),
        )
        if len(self.alerts) > 1:
            text += " " + self.tr("{n} more waiting.").format(n=len(self.alerts) - 1)
        self.text.setText(text)
        self.setAccessibleDescription(text)
        self.open_case.setVisible(newest.case_id is not None)
        self.acknowledge_button.setEnabled(True)
        self.show()
        fresh = {a.id for a in self.alerts} - self._seen
        if fresh:
            self._seen |= fresh
            window = self.window()
            QApplication.alert(window, 0)
            QApplication.beep()
            self.alertsArrived.emit([a for a in self.alerts if a.id in fresh])

    def acknowledge(self) -> None:
        if not self.alerts:
            return
        alert_id = self.alerts[0].id
        self.acknowledge_button.setEnabled(False)
        self.ops.write(
            lambda d: d.safety.acknowledge(alert_id),
            on_success=self._acknowledged,
            on_error=self._failed,
            owner=self,
            label=self.tr("Acknowledging the safety alert…"),
        )

    def _acknowledged(self, view: SafetyAlertView) -> None:
        self.acknowledged.emit(view)
        self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self.acknowledge_button.setEnabled(True)
        message = str(exc) if is_user_error(exc) else bug_message()
        self.text.setText(self.text.text() + "\n" + message)

    def _open_case(self) -> None:
        if self.alerts and self.alerts[0].case_id is not None:
            self.openCaseRequested.emit(self.alerts[0].case_id)
