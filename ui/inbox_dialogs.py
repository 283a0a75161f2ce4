"""The small dialogs of a decision: approve, approve a lower amount, reject, return, escalate,
and pass on to a named person.

Each checks what it can before anything is sent (a reason where one is required, an amount that is
not above the one asked, not negative and has the currency's decimals); the decision itself is
checked again by the service and, on PostgreSQL, by the database.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk.domain.money import AmountError, Currency, parse_amount, to_major_text
from desk.services.inbox import InboxItem
from desk.services.leave import DeputyChoice
from ui.widgets import FieldError, TextBox


class Decision(enum.StrEnum):
    APPROVE = "approve"
    APPROVE_LOWER = "approve_lower"
    REJECT = "reject"
    RETURN = "return"
    ESCALATE = "escalate"


class DecisionDialog(QDialog):
    """Asks what a decision needs; ``amount_minor`` and ``reason`` hold the answer once
    accepted. Ctrl+Enter confirms from anywhere in it, Esc cancels."""

    def __init__(
        self,
        decision: Decision,
        item: InboxItem,
        currency: Currency,
        *,
        max_approvable_minor: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.decision = decision
        self.item = item
        self.currency = currency
        self.amount_minor: int | None = None
        self.reason = ""
        self.setObjectName("decisionDialog")
        self.setMinimumWidth(460)
        asked = currency.format(item.amount_minor)
        what = self.tr("{kind} of {amount} for {customer} ({case})").format(
            kind=item.kind_label,
            amount=asked,
            customer=item.customer_name,
            case=item.case_reference,
        )
        titles = {
            Decision.APPROVE: self.tr("Approve"),
            Decision.APPROVE_LOWER: self.tr("Approve a lower amount"),
            Decision.REJECT: self.tr("Reject"),
            Decision.RETURN: self.tr("Return to the officer"),
            Decision.ESCALATE: self.tr("Escalate"),
        }
        self.setWindowTitle(titles[decision])
        self.setAccessibleName(titles[decision])
        summary = QLabel(what)
        summary.setObjectName("decisionSummary")
        summary.setTextFormat(Qt.TextFormat.PlainText)
        summary.setWordWrap(True)
        summary.setProperty("role", "title" if decision is Decision.APPROVE else "")
        form = QFormLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addLayout(form)

        # Every field belongs to the dialog; those this decision does not need stay hidden.
        self.amount = QLineEdit(self)
        self.amount.setObjectName("decisionAmount")
        self.amount.setAccessibleName(self.tr("Amount to approve"))
        self.amount_error = FieldError("decisionAmountError", self)
        self.note = QLineEdit(self)
        self.note.setObjectName("decisionNote")
        self.note.setAccessibleName(self.tr("Note (optional)"))
        self.reason_box = TextBox("decisionReason", self.tr("Reason"), lines=4, parent=self)
        self.reason_error = FieldError("decisionReasonError", self)

        if decision is Decision.APPROVE:
            caption = QLabel(self.tr("&Note (optional):"))
            caption.setBuddy(self.note)
            form.addRow(caption, self.note)
            self.reason_box.hide()
            self.amount.hide()
        else:
            self.note.hide()
            if decision is Decision.APPROVE_LOWER:
                caption = QLabel(self.tr("A&mount:"))
                caption.setBuddy(self.amount)
                form.addRow(caption, self.amount)
                form.addRow("", self.amount_error)
                hint = self.tr("Less than the {asked} asked.").format(asked=asked)
                if max_approvable_minor is not None and max_approvable_minor < item.amount_minor:
                    hint += " " + self.tr("Your authority covers up to {most}.").format(
                        most=currency.format(max_approvable_minor)
                    )
                    self.amount.setText(to_major_text(max_approvable_minor, currency))
                    self.amount.selectAll()
                hint_label = QLabel(hint)
                hint_label.setObjectName("decisionAmountHint")
                hint_label.setProperty("role", "hint")
                hint_label.setWordWrap(True)
                form.addRow("", hint_label)
                self.amount.setPlaceholderText(
                    self.tr("less than {asked}").format(
                        asked=to_major_text(item.amount_minor, currency)
                    )
                )
            else:
                self.amount.hide()
            prompts = {
                Decision.APPROVE_LOWER: self.tr("&Why less:"),
                Decision.REJECT: self.tr("&Why not:"),
                Decision.RETURN: self.tr("&What is missing:"),
                Decision.ESCALATE: self.tr("&Why pass it on:"),
            }
            caption = QLabel(prompts[decision])
            caption.setBuddy(self.reason_box)
            form.addRow(caption, self.reason_box)
            form.addRow("", self.reason_error)
            hints = {
                Decision.APPROVE_LOWER: self.tr("The officer tells the customer why."),
                Decision.REJECT: self.tr("The officer tells the customer why."),
                Decision.RETURN: self.tr("The officer asks the customer for it."),
                Decision.ESCALATE: self.tr(
                    "It goes to the next person up your chain of command who may decide it."
                ),
            }
            hint_label = QLabel(hints[decision] + " " + self.tr("Ctrl+Enter confirms."))
            hint_label.setProperty("role", "hint")
            hint_label.setWordWrap(True)
            form.addRow("", hint_label)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        confirm_texts = {
            Decision.APPROVE: self.tr("&Approve"),
            Decision.APPROVE_LOWER: self.tr("&Approve this amount"),
            Decision.REJECT: self.tr("&Reject"),
            Decision.RETURN: self.tr("Re&turn"),
            Decision.ESCALATE: self.tr("&Escalate"),
        }
        self.confirm = QPushButton(confirm_texts[decision])
        self.confirm.setObjectName("decisionConfirm")
        self.confirm.setAccessibleName(confirm_texts[decision].replace("&", ""))
        buttons.addButton(self.confirm, QDialogButtonBox.ButtonRole.AcceptRole)
        self.confirm.setDefault(True)
        cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAutoDefault(False)
        cancel.setObjectName("decisionCancel")
        cancel.setAccessibleName(self.tr("Cancel"))
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(self._accept)

        if decision is Decision.APPROVE:
            self.note.setFocus()
        elif decision is Decision.APPROVE_LOWER:
            self.amount.setFocus()
        else:
            self.reason_box.setFocus()

    def _checked_amount(self) -> int | None:
        try:
            amount = parse_amount(self.amount.text(), self.currency)
        except AmountError as exc:
            self.amount_error.show_message(str(exc))
            return None
        asked = self.item.amount_minor
        if amount > asked:
            self.amount_error.show_message(
                self.tr("The amount approved cannot be more than the {asked} asked.").format(
                    asked=self.currency.format(asked)
                )
            )
            return None
        if amount == asked:
            self.amount_error.show_message(
                self.tr("That is the whole amount asked: use Approve instead.")
            )
            return None
        self.amount_error.clear_message()
        return amount

    def _accept(self) -> None:
        if self.decision is Decision.APPROVE:
            self.reason = self.note.text().strip()
            self.accept()
            return
        amount: int | None = None
        if self.decision is Decision.APPROVE_LOWER:
            amount = self._checked_amount()
            if amount is None:
                self.amount.setFocus()
                self.amount.selectAll()
                return
        reason = " ".join(self.reason_box.text().split())
        if not reason:
            messages = {
                Decision.APPROVE_LOWER: self.tr("Give a reason: the officer tells the customer."),
                Decision.REJECT: self.tr("Give a reason: the officer tells the customer."),
                Decision.RETURN: self.tr("Say what is missing, so the officer can ask for it."),
                Decision.ESCALATE: self.tr("Give a reason: the next person reads it first."),
            }
            self.reason_error.show_message(messages[self.decision])
            self.reason_box.setFocus()
            return
        self.reason_error.clear_message()
        self.amount_minor = amount
        self.reason = reason
        self.accept()


class PassOnDialog(QDialog):
    """Pass an item on to a named person who may decide it (a colleague with time, the
    specialist for the kind): the person and, where the service records one, the reason.

    Unlike the decision dialogs it stays open while the service answers: ``submitted`` carries
    the choice, and a refusal (their limit does not cover it, they asked for it themselves) comes
    back through ``refused`` and is said beside the person, with nothing typed lost. The caller
    closes it with ``accept`` once the item has moved. Ctrl+Enter confirms, Esc cancels."""

    submitted = Signal(str, str)  # user name, reason

    def __init__(
        self, summary: str, *, with_reason: bool, hint: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.with_reason = with_reason
        self.busy = False
        self.loaded = False  # the people have arrived
        self.setObjectName("passOnDialog")
        self.setWindowTitle(self.tr("Pass on to someone"))
        self.setAccessibleName(self.tr("Pass on to someone"))
        self.setMinimumWidth(480)
        heading = QLabel(summary)
        heading.setObjectName("passOnSummary")
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setWordWrap(True)

        self.person = QComboBox(self)
        self.person.setObjectName("passOnPerson")
        self.person.setAccessibleName(self.tr("Person to pass it on to"))
        self.person.addItem(self.tr("Loading the people who may decide…"), None)
        self.person.setEnabled(False)
        self.person_error = FieldError("passOnPersonError", self)
        self.reason_box = TextBox("passOnReason", self.tr("Reason"), lines=3, parent=self)
        self.reason_error = FieldError("passOnReasonError", self)

        form = QFormLayout()
        caption = QLabel(self.tr("&Person:"))
        caption.setBuddy(self.person)
        form.addRow(caption, self.person)
        form.addRow("", self.person_error)
        if with_reason:
            caption = QLabel(self.tr("&Why pass it on:"))
            caption.setBuddy(self.reason_box)
            form.addRow(caption, self.reason_box)
            form.addRow("", self.reason_error)
        else:
            self.reason_box.hide()
        hint_label = QLabel(
            (hint + " " if hint else "") + self.tr("Ctrl+Enter confirms, Esc cancels.")
        )
        hint_label.setObjectName("passOnHint")
        hint_label.setProperty("role", "hint")
        hint_label.setWordWrap(True)
        form.addRow("", hint_label)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.confirm = QPushButton(self.tr("P&ass on"))
        self.confirm.setObjectName("passOnConfirm")
        self.confirm.setAccessibleName(self.tr("Pass on"))
        buttons.addButton(self.confirm, QDialogButtonBox.ButtonRole.AcceptRole)
        self.confirm.setDefault(True)
        self.cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel.setAutoDefault(False)
        self.cancel.setObjectName("passOnCancel")
        self.cancel.setAccessibleName(self.tr("Cancel"))
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(buttons)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(self._submit)
        self.person.currentIndexChanged.connect(lambda _i: self.person_error.clear_message())
        self.person.setFocus()

    def set_choices(self, choices: Sequence[DeputyChoice]) -> None:
        """The people who may decide (the logged-in person left out), with their leave."""
        self.person.clear()
        self.person.addItem(self.tr("Choose a person"), None)
        today = dt.date.today()
        for choice in choices:
            text = f"{choice.full_name} — {choice.centre}"
            if choice.away_from and choice.away_until and choice.away_until >= today:
                text += " " + self.tr("(away {first} to {last})").format(
                    first=f"{choice.away_from:%d %b}", last=f"{choice.away_until:%d %b}"
                )
            self.person.addItem(text, choice.username)
        self.loaded = True
        self.person.setEnabled(not self.busy)
        self.person.setFocus()

    def choose(self, username: str) -> bool:
        """Select a person by user name (False when they are not offered)."""
        index = self.person.findData(username)
        if index >= 0:
            self.person.setCurrentIndex(index)
        return index >= 0

    def _submit(self) -> None:
        if self.busy:
            return
        username = self.person.currentData()
        if not username:
            self._tell(self.person_error, self.tr("Choose the person to pass it on to."))
            self.person.setFocus()
            return
        self.person_error.clear_message()
        reason = " ".join(self.reason_box.text().split())
        if self.with_reason and not reason:
            self._tell(self.reason_error, self.tr("Give a reason: they read it first."))
            self.reason_box.setFocus()
            return
        self.reason_error.clear_message()
        self.set_busy(True)
        self.submitted.emit(str(username), reason)

    def refused(self, message: str, *, field: str = "person") -> None:
        """The service said no: say it beside the field; everything chosen and typed stays."""
        self.set_busy(False)
        if field == "reason" and self.with_reason:
            self._tell(self.reason_error, message)
            self.reason_box.setFocus()
        else:
            self._tell(self.person_error, message)
            self.person.setFocus()

    def _tell(self, error: FieldError, message: str) -> None:
        """A message beside a field; the dialog grows to hold it rather than squeeze the rest."""
        error.show_message(message)
        self.layout().activate()
        self.resize(self.width(), max(self.height(), self.sizeHint().height()))

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.confirm.setEnabled(not busy)
        self.reason_box.setEnabled(not busy)
        self.person.setEnabled(not busy and self.loaded)

    def reject(self) -> None:
        if not self.busy:  # once sent, the answer comes back to this dialog
            super().reject()
