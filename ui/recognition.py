"""A note of recognition: when a supervisor acknowledges a customer's compliment about the
logged-in person, a calm green band across the top of the window passes it on ("Leila Tanaka
passed on a compliment: …") with the customer's words, until the person says "Thank you". The next
note, if there are several, follows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ui.operations import bug_message, is_user_error

if TYPE_CHECKING:
    from desk.services.work_items import WorkItemView
    from ui.operations import Operations

_STYLE = """
QFrame#recognitionBanner { background: #e7f5ec; border: 1px solid #a8d5b8; border-radius: 4px; }
QFrame#recognitionBanner QLabel { color: #1d4d2f; background: transparent; }
QFrame#recognitionBanner QLabel#recognitionText { font-weight: 600; }
QFrame#recognitionBanner QPushButton { padding: 4px 14px; }
"""
REFRESH_DELAY_MS = 500


def _quoted(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class RecognitionBanner(QFrame):
    """Signal: ``thanked(WorkItemView)`` after the person read a note."""

    thanked = Signal(object)

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setObjectName("recognitionBanner")
        self.setAccessibleName(self.tr("A note of recognition"))
        self.setStyleSheet(_STYLE)
        self.notes: list[WorkItemView] = []
        self.text = QLabel()
        self.text.setObjectName("recognitionText")
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setWordWrap(True)
        self.words = QLabel()
        self.words.setObjectName("recognitionWords")
        self.words.setTextFormat(Qt.TextFormat.PlainText)
        self.words.setWordWrap(True)
        self.thank_button = QPushButton(self.tr("&Thank you"))
        self.thank_button.setObjectName("recognitionThanks")
        self.thank_button.setAccessibleName(self.tr("Thank you: mark the note as read"))
        self.thank_button.clicked.connect(self.thank)
        texts = QVBoxLayout()
        texts.setSpacing(2)
        texts.addWidget(self.text)
        texts.addWidget(self.words)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addLayout(texts, 1)
        layout.addWidget(self.thank_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        ops.changed.connect(self._timer.start)
        self.hide()

    def refresh(self) -> None:
        """Read the notes not read yet (news arrived, or the person logged in)."""
        self._timer.stop()
        if self.ops.desk is None:
            return
        self.ops.query(
            lambda d: d.items.recognitions(),
            on_success=self.show_notes,
            on_error=lambda exc: None,  # the next change reads again; the band is not the place
            owner=self,
            key=f"recognitions-{id(self)}",
        )

    @property
    def current(self) -> WorkItemView | None:
        return self.notes[0] if self.notes else None

    def show_notes(self, notes: list[WorkItemView]) -> None:
        self.notes = list(notes)
        note = self.current
        if note is None:
            self.hide()
            return
        text = self.tr("★ {who} passed on a compliment: {note}").format(
            who=note.decided_by or self.tr("Your supervisor"), note=_quoted(note.response)
        )
        if len(self.notes) > 1:
            text += " " + self.tr("(1 of {n})").format(n=len(self.notes))
        self.text.setText(text)
        self.words.setText(
            self.tr("{customer} said: “{words}” (case {case})").format(
                customer=note.customer_name, words=_quoted(note.body), case=note.case_reference
            )
        )
        self.setAccessibleDescription(text)
        self.thank_button.setEnabled(True)
        self.show()

    def thank(self) -> None:
        note = self.current
        if note is None:
            return
        self.thank_button.setEnabled(False)
        note_id = note.id
        self.ops.write(
            lambda d: d.items.mark_seen(note_id),
            on_success=self._thanked,
            on_error=self._failed,
            owner=self,
            label=self.tr("Marking the note as read…"),
        )

    def _thanked(self, view: WorkItemView) -> None:
        self.notes = [n for n in self.notes if n.id != view.id]
        self.thanked.emit(view)
        self.show_notes(self.notes)  # the next one at once; the read confirms it
        self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self.thank_button.setEnabled(True)
        self.words.setText(str(exc) if is_user_error(exc) else bug_message())
