"""The transactions a case is about: one row each, with its message right under the row."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk.domain.case import TransactionReference
from desk.domain.money import DEFAULT_CURRENCY, AmountError, Currency, parse_amount, to_major_text
from ui.widgets import FieldError


class TransactionRow(QWidget):
    """Reference, amount and date of one transaction."""

    removeRequested = Signal(object)
    edited = Signal()

    def __init__(self, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reference = QLineEdit()
        self.amount = QLineEdit()
        self.date = QLineEdit()
        self.remove = QPushButton(self.tr("Remove"))
        self.error = FieldError("")
        self.reference.setPlaceholderText(self.tr("bill, payment or account reference"))
        self.amount.setPlaceholderText(self.tr("amount, e.g. 12.50"))
        self.date.setPlaceholderText(self.tr("YYYY-MM-DD"))
        self.date.setInputMask("")
        self.set_index(index)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(1)
        grid.addWidget(self.reference, 0, 0)
        grid.addWidget(self.amount, 0, 1)
        grid.addWidget(self.date, 0, 2)
        grid.addWidget(self.remove, 0, 3)
        grid.addWidget(self.error, 1, 0, 1, 4)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(2, 2)
        self.remove.clicked.connect(lambda: self.removeRequested.emit(self))
        for edit in (self.reference, self.amount, self.date):
            edit.textEdited.connect(lambda _t: self.edited.emit())

    def set_index(self, index: int) -> None:
        """Object names follow the row's position so tests and screen readers can find them."""
        n = index + 1
        self.setObjectName(f"transactionRow{index}")
        self.reference.setObjectName(f"transactionReference{index}")
        self.reference.setAccessibleName(self.tr("Transaction {n} reference").format(n=n))
        self.amount.setObjectName(f"transactionAmount{index}")
        self.amount.setAccessibleName(self.tr("Transaction {n} amount").format(n=n))
        self.date.setObjectName(f"transactionDate{index}")
        self.date.setAccessibleName(self.tr("Transaction {n} date").format(n=n))
        self.remove.setObjectName(f"transactionRemove{index}")
        self.remove.setAccessibleName(self.tr("Remove transaction {n}").format(n=n))
        self.error.setObjectName(f"transactionError{index}")

    def state(self) -> list[str]:
        return [self.reference.text(), self.amount.text(), self.date.text()]

    def set_state(self, values: list[str]) -> None:
        reference, amount, date = ([*list(values), "", "", ""])[:3]
        self.reference.setText(reference)
        self.amount.setText(amount)
        self.date.setText(date)

    def value(self, currency: Currency) -> tuple[TransactionReference | None, str]:
        """The parsed transaction, or None and the message to show under the row."""
        amount: int | None = None
        if self.amount.text().strip():
            try:
                amount = parse_amount(self.amount.text(), currency)
            except AmountError as exc:
                return None, str(exc)
        occurred: dt.date | None = None
        if self.date.text().strip():
            try:
                occurred = dt.date.fromisoformat(self.date.text().strip())
            except ValueError:
                return None, self.tr("Enter the date as YYYY-MM-DD, for example 2026-03-31.")
        return TransactionReference(self.reference.text(), amount, occurred), ""


class TransactionsEditor(QWidget):
    """Rows of transactions with Add and Remove, all reachable with Tab."""

    changed = Signal()

    def __init__(self, currency: Currency = DEFAULT_CURRENCY, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("transactions")
        self.currency = currency
        self.rows: list[TransactionRow] = []
        self.tab_anchor: QWidget | None = None  # the field before the first row
        self.header = QWidget()
        header = QHBoxLayout(self.header)
        header.setContentsMargins(0, 0, 0, 0)
        for text, stretch in (
            (self.tr("Reference"), 3),
            (self.tr("Amount ({code})").format(code=currency.code), 2),
            (self.tr("Date"), 2),
        ):
            lab = QLabel(text)
            lab.setProperty("role", "hint")
            header.addWidget(lab, stretch)
        header.addSpacing(70)
        self.rows_box = QVBoxLayout()
        self.rows_box.setSpacing(4)
        self.add_button = QPushButton(self.tr("Ad&d transaction"))
        self.add_button.setObjectName("addTransactionButton")
        self.add_button.setAccessibleName(self.tr("Add a transaction"))
        self.add_button.clicked.connect(lambda: self.add_row())
        self.error = FieldError("transactionsError")
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_button)
        add_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addLayout(self.rows_box)
        layout.addWidget(self.error)
        layout.addLayout(add_row)
        self.header.hide()

    def add_row(self, values: list[str] | None = None) -> TransactionRow:
        row = TransactionRow(len(self.rows))
        if values:
            row.set_state(values)
        row.removeRequested.connect(self._remove)
        row.edited.connect(self.changed)
        anchor = self.rows[-1].remove if self.rows else self.tab_anchor
        self.rows.append(row)
        self.rows_box.addWidget(row)
        if self.isVisible():
            row.show()  # now, not on the next event-loop turn: Tab skips hidden fields
        if anchor is not None:
            # New widgets join the end of the tab chain; put the row where it is on screen.
            QWidget.setTabOrder(anchor, row.reference)
            QWidget.setTabOrder(row.reference, row.amount)
            QWidget.setTabOrder(row.amount, row.date)
            QWidget.setTabOrder(row.date, row.remove)
            QWidget.setTabOrder(row.remove, self.add_button)
        self.header.show()
        if values is None:  # added by the officer: start typing there
            row.reference.setFocus()
        self.changed.emit()
        return row

    def _remove(self, row: TransactionRow) -> None:
        self.rows.remove(row)
        row.hide()
        row.deleteLater()
        for index, other in enumerate(self.rows):
            other.set_index(index)
        self.header.setVisible(bool(self.rows))
        self.add_button.setFocus()
        self.changed.emit()

    def clear(self) -> None:
        for row in list(self.rows):
            self.rows.remove(row)
            row.hide()
            row.deleteLater()
        self.header.hide()
        self.error.clear_message()

    def state(self) -> list[list[str]]:
        return [row.state() for row in self.rows]

    def set_state(self, rows: list[list[str]]) -> None:
        self.clear()
        for values in rows:
            self.add_row(list(values))

    def set_transactions(self, transactions: tuple[TransactionReference, ...]) -> None:
        self.set_state(
            [
                [
                    t.reference,
                    to_major_text(t.amount_minor, self.currency)
                    if t.amount_minor is not None
                    else "",
                    t.occurred_on.isoformat() if t.occurred_on else "",
                ]
                for t in transactions
            ]
        )

    def values(self) -> tuple[tuple[TransactionReference, ...], dict[str, str]]:
        """The parsed transactions and a message per bad row (keys like "transactions.0")."""
        parsed: list[TransactionReference] = []
        errors: dict[str, str] = {}
        for index, row in enumerate(self.rows):
            value, message = row.value(self.currency)
            if value is None:
                errors[f"transactions.{index}"] = message
                parsed.append(TransactionReference(row.reference.text()))
            else:
                parsed.append(value)
        return tuple(parsed), errors

    def show_errors(self, errors: dict[str, str]) -> QWidget | None:
        """Show each row's message under it; returns the first field to correct."""
        first: QWidget | None = None
        for index, row in enumerate(self.rows):
            message = errors.get(f"transactions.{index}", "")
            row.error.show_message(message)
            if message and first is None:
                lower = message.lower()
                first = (
                    row.amount
                    if "amount" in lower
                    else row.date
                    if "date" in lower
                    else row.reference
                )
        self.error.show_message(errors.get("transactions", ""))
        if first is None and "transactions" in errors:
            first = self.add_button
        return first

    def labels(self) -> list[str]:
        return [row.reference.text().strip() for row in self.rows if row.reference.text().strip()]
