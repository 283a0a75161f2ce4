"""The safety incident report: a small dialog from the case form.

The officer writes what happened; the report is saved with every safety incident of the case that
still waits for one (and with the script runs not stored yet, in the same transaction). The dialog
stays open, with the text, until the report is saved: a refusal or a lost connection never loses it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from desk.domain.safety import check_report
from desk.domain.validation import ValidationError
from desk.services.dto import ScriptRunToSave, ScriptRunView
from ui.labels import local_time
from ui.operations import Operations, bug_message, is_user_error
from ui.widgets import FieldError, TextBox


class IncidentDialog(QDialog):
    """Nothing is saved until the officer presses "Save the report"."""

    reported = Signal(object)  # list[ScriptRunView]: every stored run of the case

    def __init__(
        self,
        ops: Operations,
        *,
        case_id: int,
        reference: str,
        incidents: Sequence[tuple[str, dt.datetime]],
        runs: Sequence[ScriptRunToSave] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.case_id = case_id
        self.runs = list(runs)
        self.saving = False
        self.setObjectName("incidentDialog")
        self.setWindowTitle(
            self.tr("Report the safety incident on {reference}").format(reference=reference)
        )
        self.setMinimumWidth(520)

        lines = [
            self.tr("• {script}, started {when}").format(script=script, when=local_time(when))
            for script, when in incidents
        ]
        intro = QLabel(
            "\n".join(
                [
                    self.tr(
                        "A safety alert was raised, or a guided script ended in a safety "
                        "incident, during:"
                    ),
                    *lines,
                ]
            )
        )
        intro.setObjectName("incidentSummary")
        intro.setWordWrap(True)
        self.text = TextBox(
            "incidentReportText",
            self.tr("Incident report"),
            placeholder=self.tr(
                "What happened: the words used, any threats, the time, who saw it, whom you "
                "alerted and what they did."
            ),
            lines=8,
        )
        text_label = QLabel(self.tr("&What happened:"))
        text_label.setBuddy(self.text)
        hint = QLabel(
            self.tr(
                "Write it as your organisation's procedure asks. Once saved, the report is kept "
                "with the case and a supervisor can read it."
            )
        )
        hint.setProperty("role", "hint")
        hint.setWordWrap(True)
        self.error = FieldError("incidentReportError")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("incidentCancelButton")
        cancel.setAccessibleName(self.tr("Cancel without saving the report"))
        self.save_button = buttons.addButton(
            self.tr("&Save the report"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.save_button.setObjectName("incidentSaveButton")
        self.save_button.setAccessibleName(self.tr("Save the incident report"))
        self.save_button.setDefault(True)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(text_label)
        layout.addWidget(self.text)
        layout.addWidget(hint)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.text.setFocus()

    def save(self) -> None:
        if self.saving:
            return
        try:
            report = check_report(self.text.text())
        except ValidationError as exc:
            self._show_error(str(exc))
            return
        self.saving = True
        self.save_button.setEnabled(False)
        self.error.clear_message()
        case_id, runs = self.case_id, self.runs
        self.ops.write(
            lambda d: d.cases.script_runs.report_incident(case_id, report, runs=runs),
            on_success=self._saved,
            on_error=self._failed,
            owner=self,
            label=self.tr("Saving the incident report…"),
        )

    def _saved(self, runs: list[ScriptRunView]) -> None:
        self.saving = False
        self.reported.emit(runs)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.saving = False
        self.save_button.setEnabled(True)
        self._show_error(str(exc) if is_user_error(exc) else bug_message())

    def _show_error(self, message: str) -> None:
        self.error.show_message(message)
        self.text.setFocus()

    def reject(self) -> None:
        if not self.saving:  # a report on its way is not abandoned half-way
            super().reject()
