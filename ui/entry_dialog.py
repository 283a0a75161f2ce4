"""A small dialog to add a contact, an update for the customer or an internal note to a case."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from desk.domain.model import Channel, EventKind
from ui.labels import label
from ui.widgets import FieldError, TextBox, enum_data


class EntryDialog(QDialog):
    """Text (and the channel, for a contact); nothing is saved until the officer presses Add."""

    def __init__(self, kind: EventKind, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.setObjectName("entryDialog")
        titles = {
            EventKind.CONTACT: self.tr("Add a contact"),
            EventKind.CUSTOMER_UPDATE: self.tr("Add an update for the customer"),
            EventKind.NOTE: self.tr("Add an internal note"),
        }
        self.setWindowTitle(titles.get(kind, label(kind)))
        self.setMinimumWidth(440)
        self.text = TextBox("entryText", self.tr("Text"), lines=5)
        self.channel = QComboBox()
        self.channel.setObjectName("entryChannel")
        self.channel.setAccessibleName(self.tr("Channel"))
        for channel in Channel:
            self.channel.addItem(label(channel), channel)
        self.error = FieldError("entryTextError")
        form = QFormLayout()
        if kind is EventKind.CONTACT:
            channel_label = QLabel(self.tr("&Channel:"))
            channel_label.setBuddy(self.channel)
            form.addRow(channel_label, self.channel)
        else:
            self.channel.hide()
        text_label = QLabel(
            self.tr("&What was said:") if kind is EventKind.CONTACT else self.tr("&Text:")
        )
        text_label.setBuddy(self.text)
        form.addRow(text_label, self.text)
        form.addRow("", self.error)
        if kind is EventKind.NOTE:
            hint = QLabel(self.tr("Internal notes are not shown to the customer."))
            hint.setProperty("role", "hint")
            form.addRow("", hint)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        add = buttons.addButton(self.tr("&Add"), QDialogButtonBox.ButtonRole.AcceptRole)
        add.setObjectName("entryAddButton")
        add.setDefault(True)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        (self.channel if kind is EventKind.CONTACT else self.text).setFocus()

    def entry_channel(self) -> Channel | None:
        return enum_data(self.channel, Channel) if self.kind is EventKind.CONTACT else None

    def _accept(self) -> None:
        if not self.text.text().strip():
            self.error.show_message(self.tr("Write what happened before adding it."))
            self.text.setFocus()
            return
        self.accept()
