"""Screen readers and tests find controls by name: every control a person uses has both names."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from ui.main_window import MainWindow

CONTROLS = (
    QAbstractButton,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QDateEdit,
    QAbstractItemView,
)


def _unnamed_controls(root: QWidget) -> list[str]:
    missing = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, CONTROLS) or widget.focusPolicy() == Qt.FocusPolicy.NoFocus:
            continue
        if (
            widget.objectName().startswith("qt_")
            or isinstance(widget.parentWidget(), (QComboBox, QDateEdit))
            or widget.window() is not root
        ):
            continue  # Qt's own parts (a combo box's edit or drop-down list): the owner is named
        if not widget.objectName() or not widget.accessibleName():
            name, accessible = widget.objectName(), widget.accessibleName()
            missing.append(f"{type(widget).__name__} {name!r} {accessible!r}")
    return missing


def test_every_control_of_the_main_window_has_an_object_name_and_accessible_name(
    qtbot: QtBot, window: MainWindow
) -> None:
    missing = _unnamed_controls(window)
    assert not missing, "\n".join(missing)
