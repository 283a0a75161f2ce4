"""Small building blocks shared by the forms: error labels beside fields, keyboard-friendly text."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QSizePolicy,
    QWidget,
)

E = TypeVar("E", bound=enum.Enum)


class FieldError(QLabel):
    """A red message under a field; hidden while there is nothing to say."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setProperty("role", "error")
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.hide()

    def show_message(self, message: str) -> None:
        self.setText(message)
        self.setAccessibleName(message)
        self.setVisible(bool(message))

    def clear_message(self) -> None:
        self.show_message("")


class TextBox(QPlainTextEdit):
    """Multi-line text where Tab moves on to the next field, as a keyboard user expects."""

    def __init__(
        self,
        object_name: str,
        accessible_name: str,
        *,
        placeholder: str = "",
        lines: int = 3,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setAccessibleName(accessible_name)
        self.setTabChangesFocus(True)
        self.setPlaceholderText(placeholder)
        # A fixed height keeps the form compact; longer text scrolls inside the box.
        line_height = self.fontMetrics().lineSpacing()
        self.setFixedHeight(line_height * lines + 14)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def text(self) -> str:
        return self.toPlainText()

    def setText(self, text: str) -> None:
        if text != self.toPlainText():
            self.setPlainText(text)


def set_role(label: QLabel, role: str) -> None:
    """Change a label's style role (error, warning, hint) and re-apply the style sheet."""
    label.setProperty("role", role)
    label.style().unpolish(label)
    label.style().polish(label)


def enum_data(combo: QComboBox, cls: type[E]) -> E | None:
    """The combo's current enum value: Qt hands StrEnum item data back as a plain str."""
    data = combo.currentData()
    if data is None or data == "":
        return None
    return cls(data)


def ask_yes_no(
    parent: QWidget, object_name: str, title: str, text: str, on_yes: Callable[[], object]
) -> QMessageBox:
    """A window-modal question whose safe answer (No) is the default; ``on_yes`` runs only on
    Yes. The caller keeps the box (tests find it by ``object_name``)."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        parent,
    )
    box.setObjectName(object_name)
    box.setAccessibleName(title)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    box.finished.connect(
        lambda result: on_yes() if result == QMessageBox.StandardButton.Yes else None
    )
    box.open()
    return box
