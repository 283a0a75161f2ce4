"""Small pieces the admin console's tabs share: a message line, labelled fields, error text."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import (
    QAbstractButton,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.operations import bug_message, is_user_error
from ui.widgets import set_role


def tr(text: str) -> str:
    return QCoreApplication.translate("AdminConsole", text)


def error_text(exc: BaseException) -> str:
    """What to tell the admin: the message of a refusal, or where the details of a bug are."""
    return str(exc) if is_user_error(exc) else bug_message()


class MessageLine(QLabel):
    """One line under a tab's controls: what happened, a warning, or what went wrong."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setWordWrap(True)
        self.setAccessibleName(tr("Message"))
        self.kind = ""
        self.hide()

    def _show(self, message: str, role: str) -> None:
        self.kind = role if message else ""
        self.setText(message)
        self.setAccessibleName(message or tr("Message"))
        set_role(self, role)
        self.setVisible(bool(message))

    def info(self, message: str) -> None:
        self._show(message, "hint")

    def warning(self, message: str) -> None:
        self._show(message, "warning")

    def error(self, message: str) -> None:
        self._show(message, "error")

    def clear_message(self) -> None:
        self._show("", "")


def button(text: str, object_name: str, accessible_name: str) -> QPushButton:
    widget = QPushButton(text)
    widget.setObjectName(object_name)
    widget.setAccessibleName(accessible_name)
    widget.setAutoDefault(False)
    return widget


def labelled(form: QFormLayout, text: str, field: QWidget, *extra: QWidget) -> QLabel:
    """Add ``field`` to the form under a label whose mnemonic moves to it; ``extra`` widgets (an
    error line, a hint) go on their own rows under it."""
    caption = QLabel(text)
    caption.setBuddy(field)
    if not extra:
        form.addRow(caption, field)
        return caption
    box = QWidget()
    column = QVBoxLayout(box)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(3)
    column.addWidget(field)
    for widget in extra:
        column.addWidget(widget)
    form.addRow(caption, box)
    return caption


def set_enabled(widgets: list[QWidget] | tuple[QWidget, ...], enabled: bool) -> None:
    for widget in widgets:
        widget.setEnabled(enabled)


def plain(text: str) -> str:
    """A button or label text without its mnemonic marker, for accessible names."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def retitle(widget: QAbstractButton, text: str) -> None:
    widget.setText(text)
    widget.setAccessibleName(plain(text))
