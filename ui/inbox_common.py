"""Pieces the inbox's screens share: labels, buttons, error text and the triage table."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QWidget,
)

from desk.services.errors import ConflictError
from ui.inbox_dialogs import Decision
from ui.labels import local_time
from ui.operations import bug_message, is_user_error


def caption(text: str, buddy: QWidget) -> QLabel:
    """A label whose mnemonic moves the keyboard to ``buddy``."""
    label = QLabel(text)
    label.setBuddy(buddy)
    return label


def value_label(object_name: str, accessible: str) -> QLabel:
    """A read-only value: plain text (never markup from the database), wrapped, selectable."""
    value = QLabel()
    value.setObjectName(object_name)
    value.setAccessibleName(accessible)
    value.setWordWrap(True)
    value.setTextFormat(Qt.TextFormat.PlainText)
    value.setTextInteractionFlags(
        Qt.TextInteractionFlag.TextSelectableByMouse
        | Qt.TextInteractionFlag.TextSelectableByKeyboard
    )
    return value


def make_button(text: str, object_name: str, accessible: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(object_name)
    button.setAccessibleName(accessible)
    button.setAutoDefault(False)
    return button


def error_text(exc: BaseException) -> str:
    if not is_user_error(exc):
        return bug_message()
    text = str(exc)
    if isinstance(exc, ConflictError) and exc.changed_at is not None:
        text += " " + QGuiApplication.translate("Inbox", "(at {when})").format(
            when=local_time(exc.changed_at)
        )
    return text


class TriageTable(QTableView):
    """A list that moves and acts on single keys (only while it has the focus, so typing in a
    filter never decides anything)."""

    openRequested = Signal()
    actionRequested = Signal(str)  # a Decision value

    ACTIONS = {
        Qt.Key.Key_A: Decision.APPROVE,
        Qt.Key.Key_L: Decision.APPROVE_LOWER,
        Qt.Key.Key_R: Decision.REJECT,
        Qt.Key.Key_T: Decision.RETURN,
        Qt.Key.Key_E: Decision.ESCALATE,
    }

    def __init__(self, *, actions: bool) -> None:
        super().__init__()
        self._actions = actions
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.horizontalHeader().setStretchLastSection(True)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.doubleClicked.connect(lambda _index: self.openRequested.emit())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if modifiers == Qt.KeyboardModifier.NoModifier:
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if self.currentIndex().isValid():
                    self.openRequested.emit()
                return
            if key == Qt.Key.Key_J:
                self.move_by(1)
                return
            if key == Qt.Key.Key_K:
                self.move_by(-1)
                return
            if self._actions and key in self.ACTIONS:
                self.actionRequested.emit(self.ACTIONS[Qt.Key(key)].value)
                return
        super().keyPressEvent(event)

    def move_by(self, step: int) -> None:
        model = self.model()
        if model is None or model.rowCount() == 0:
            return
        current = self.currentIndex().row() if self.currentIndex().isValid() else -1
        target = max(0, min(model.rowCount() - 1, current + step))
        if target == current and step > 0 and model.canFetchMore(QModelIndex()):
            model.fetchMore(QModelIndex())
        column = max(0, self.currentIndex().column())
        self.setCurrentIndex(model.index(target, column))
        self.scrollTo(self.currentIndex())
