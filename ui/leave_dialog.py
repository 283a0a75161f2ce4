"""Leave with a deputy: the days a decider is away and who decides meanwhile.

A supervisor opens it for themselves (File → My leave…); an admin opens it for anyone from the
staff tab. Items that would wait for the person go to the deputy while the leave lasts; the
officers who sent them see who decides meanwhile. Problems appear beside the field they concern.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ui.admin_common import error_text, labelled
from ui.widgets import FieldError

if TYPE_CHECKING:
    from desk.services.leave import DeputyChoice, LeaveInfo
    from ui.operations import Operations


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _day(value: QDate) -> dt.date:
    return dt.date(value.year(), value.month(), value.day())


class LeaveDialog(QDialog):
    """``saved(object)`` carries what the service returned (LeaveInfo or StaffInfo)."""

    saved = Signal(object)

    def __init__(
        self, ops: Operations, *, username: str | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.username = username  # None: the logged-in person's own leave
        self.info: LeaveInfo | None = None
        self.setObjectName("leaveDialog")
        self.setWindowTitle(self.tr("My leave") if username is None else self.tr("Leave"))
        self.setAccessibleName(self.windowTitle())
        self.setMinimumWidth(460)

        self.intro = QLabel(self.tr("Loading…"))
        self.intro.setObjectName("leaveIntro")
        self.intro.setWordWrap(True)
        self.away = QCheckBox(self.tr("&Away on these days"))
        self.away.setObjectName("leaveAway")
        self.away.setAccessibleName(self.tr("Away on these days"))
        self.first = QDateEdit()
        self.first.setObjectName("leaveFirstDay")
        self.first.setAccessibleName(self.tr("First day away"))
        self.first.setCalendarPopup(True)
        self.last = QDateEdit()
        self.last.setObjectName("leaveLastDay")
        self.last.setAccessibleName(self.tr("Last day away"))
        self.last.setCalendarPopup(True)
        for edit in (self.first, self.last):
            edit.setDisplayFormat("ddd d MMM yyyy")
        today = _qdate(dt.date.today())
        self.first.setDate(today)
        self.last.setDate(today.addDays(4))
        self.deputy = QComboBox()
        self.deputy.setObjectName("leaveDeputy")
        self.deputy.setAccessibleName(self.tr("Deputy who decides meanwhile"))
        self.errors = {
            "away_from": FieldError("leaveFirstDayError"),
            "away_until": FieldError("leaveLastDayError"),
            "deputy": FieldError("leaveDeputyError"),
        }
        self.general = FieldError("leaveError")
        form = QFormLayout()
        form.addRow(self.away)
        labelled(form, self.tr("&First day:"), self.first, self.errors["away_from"])
        labelled(form, self.tr("&Last day:"), self.last, self.errors["away_until"])
        labelled(form, self.tr("&Deputy:"), self.deputy, self.errors["deputy"])
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.setObjectName("leaveButtons")
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("leaveSave")
        self.save_button.setAccessibleName(self.tr("Save the leave"))
        self.save_button.setEnabled(False)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.general)
        layout.addWidget(self.buttons)
        self.save_button.setDefault(True)
        self.away.toggled.connect(self._away_toggled)
        self._away_toggled(False)
        self.ops.query(
            lambda d: (d.leave.of(username), d.leave.deputies(username)),
            on_success=self._loaded,
            on_error=lambda exc: self.general.show_message(error_text(exc)),
            owner=self,
        )

    def _loaded(self, loaded: tuple[LeaveInfo, list[DeputyChoice]]) -> None:
        info, deputies = loaded
        self.info = info
        self.deputy.clear()
        self.deputy.addItem(self.tr("Choose a deputy"), None)
        for choice in deputies:
            if choice.username == info.username:
                continue
            text = f"{choice.full_name} — {choice.centre}"
            if choice.away_from and choice.away_until and choice.away_until >= dt.date.today():
                text += " " + self.tr("(away {first} to {last})").format(
                    first=f"{choice.away_from:%d %b}", last=f"{choice.away_until:%d %b}"
                )
            self.deputy.addItem(text, choice.username)
        who = self.tr("You are") if self.username is None else f"{info.full_name} is"
        if info.away_from and info.away_until:
            self.away.setChecked(True)
            self.first.setDate(_qdate(info.away_from))
            self.last.setDate(_qdate(info.away_until))
            self.deputy.setCurrentIndex(max(0, self.deputy.findData(info.deputy)))
            self.intro.setText(
                self.tr(
                    "{who} away from {first} to {last}; {deputy} decides meanwhile. Untick "
                    "“Away” and save to end the leave."
                ).format(
                    who=who,
                    first=f"{info.away_from:%d %b %Y}",
                    last=f"{info.away_until:%d %b %Y}",
                    deputy=info.deputy_name,
                )
            )
        else:
            self.intro.setText(
                self.tr(
                    "While someone is away, what would wait for them goes to their deputy, and "
                    "the officers who asked see who decides. Nothing is lost: items already "
                    "waiting are shown to the deputy too."
                )
            )
        self.save_button.setEnabled(True)
        self.away.setFocus()

    def _away_toggled(self, away: bool) -> None:
        for widget in (self.first, self.last, self.deputy):
            widget.setEnabled(away)

    def save(self) -> None:
        if self.info is None:
            return
        for error in (*self.errors.values(), self.general):
            error.clear_message()
        away = self.away.isChecked()
        first = _day(self.first.date()) if away else None
        last = _day(self.last.date()) if away else None
        deputy = self.deputy.currentData() if away else None
        version, username = self.info.version, self.username
        self.save_button.setEnabled(False)

        def store(desk: Any) -> object:
            if username is None:
                return desk.leave.set_mine(first, last, deputy, expected_version=version)
            return desk.admin.set_leave(username, first, last, deputy, expected_version=version)

        self.ops.write(
            store,
            on_success=self._saved,
            on_error=self._refused,
            owner=self,
            label=self.tr("Saving the leave…"),
        )

    def _saved(self, result: object) -> None:
        self.saved.emit(result)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        errors = getattr(exc, "errors", None)
        field = getattr(exc, "field", "")
        if isinstance(errors, dict) and errors:
            for name, message in errors.items():
                self.errors.get(name, self.general).show_message(message)
        elif field in self.errors:
            self.errors[field].show_message(str(exc))
        else:
            self.general.show_message(error_text(exc))
