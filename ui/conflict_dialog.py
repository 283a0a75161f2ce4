"""The conflict view: a colleague saved the case after the officer opened it.

Field by field, the officer sees their value and the colleague's, and chooses which one the saved
case keeps. Fields both changed differently are highlighted and come first; a field only one of
them changed is proposed from that side. Nothing is saved until "Save the merged case";
"Back to the form" (or Escape) leaves the form exactly as it was typed.

Keyboard: Up/Down move between fields, Space toggles the choice, M keeps mine, T takes theirs,
Ctrl+Enter saves the merge. The full values of the selected field show wrapped under the table.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from html import escape
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desk.domain.case import TransactionReference
from desk.domain.conflict import CaseContent, Change, Conflict, FieldDifference, Side
from desk.domain.money import to_major_text
from desk.domain.scripts import Mood
from desk.services.dto import ReferenceData
from ui.labels import label, local_time

FIELD_COLUMN, THEIRS_COLUMN, MINE_COLUMN, KEEP_COLUMN = range(4)
COLUMN_OF = {Side.THEIRS: THEIRS_COLUMN, Side.MINE: MINE_COLUMN}
KEY_ROLE = Qt.ItemDataRole.UserRole + 1

BOTH_CHANGED = QColor("#fff1c2")  # a field both officers changed differently
KEPT = QColor("#dcf3dc")  # the value the merged case keeps
SET_ASIDE = QColor("#7a7a7a")

# Where each field of the comparison lives in the form's state (CaseForm.form_state()).
FORM_STATE_KEYS: dict[str, tuple[str, ...]] = {
    "customer": ("customer", "customer_search"),
    "kind": ("kind",),
    "channel": ("channel",),
    "priority": ("priority",),
    "category": ("category_id", "subcategory_id"),
    "social_platform": ("social_platform",),
    "social_handle": ("social_handle",),
    "social_post_url": ("social_post_url",),
    "mood": ("customer_mood",),
    "customer_words": ("customer_words",),
    "customer_expectation": ("customer_expectation",),
    "officer_understanding": ("officer_understanding",),
    "transactions": ("transactions",),
    "customer_confirmed": ("customer_agreed",),
    "next_steps": ("next_steps",),
    "customer_comfortable": ("customer_comfortable",),
    "actions_agreed": ("actions_agreed",),
    "resolution": ("resolution",),
    "resolution_method": ("resolution_method",),
    "root_cause": ("root_cause",),
    "status": ("status",),
}


def field_label(difference: FieldDifference) -> str:
    """The form's label of the field, translated."""
    return QCoreApplication.translate("ConflictFields", difference.label)


class _FieldTable(QTableWidget):
    """The table of differing fields: Space, M and T choose without leaving the keyboard."""

    toggle = Signal()
    choose = Signal(object)  # Side

    def keyPressEvent(self, event: QKeyEvent) -> None:
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if modifiers == Qt.KeyboardModifier.NoModifier:
            key = event.key()
            if key == Qt.Key.Key_Space:
                self.toggle.emit()
                return
            if key == Qt.Key.Key_M:
                self.choose.emit(Side.MINE)
                return
            if key == Qt.Key.Key_T:
                self.choose.emit(Side.THEIRS)
                return
        super().keyPressEvent(event)


class ConflictDialog(QDialog):
    """Theirs, mine and the choice, field by field; accepted means "save the merged case"."""

    choicesChanged = Signal()

    def __init__(
        self,
        conflict: Conflict,
        *,
        reference: ReferenceData,
        case_reference: str,
        changed_by: str,
        changed_at: dt.datetime | None,
        customers: Mapping[int, str] | None = None,
        parent: QWidget | None = None,
        offline: bool = False,
    ) -> None:
        """``offline``: "mine" is a change made while the server was away, compared from the
        list of changes waiting rather than from the form."""
        super().__init__(parent)
        self.offline = offline
        self.conflict = conflict
        self.reference = reference
        self.customers = dict(customers or {})
        self.changed_by = changed_by or self.tr("Someone else")
        self._choices: dict[str, Side] = conflict.proposal()
        self._rows: list[FieldDifference] = list(conflict.to_decide)
        self.setObjectName("conflictDialog")
        self.setAccessibleName(self.tr("Compare your changes with theirs"))
        self.setWindowTitle(
            self.tr("{reference} was changed by {who}").format(
                reference=case_reference, who=self.changed_by
            )
        )
        self.setMinimumSize(900, 600)
        self._build(case_reference, changed_at)
        self._fill()
        if self._rows:
            self.table.selectRow(0)
        self._show_detail()
        self.table.setFocus()

    # --- building ------------------------------------------------------------------------

    def _build(self, case_reference: str, changed_at: dt.datetime | None) -> None:
        when = local_time(changed_at) if changed_at is not None else ""
        if self.offline:
            headline = (
                self.tr("{who} changed {reference} at {when}, while you were offline.")
                if when
                else self.tr("{who} changed {reference} while you were offline.")
            ).format(who=self.changed_by, reference=case_reference, when=when)
        else:
            headline = (
                self.tr("{who} changed {reference} at {when}, after you opened it.")
                if when
                else self.tr("{who} changed {reference} after you opened it.")
            ).format(who=self.changed_by, reference=case_reference, when=when)
        self.headline = QLabel(f"<b>{escape(headline)}</b>")
        self.headline.setObjectName("conflictHeadline")
        self.headline.setAccessibleName(headline)
        self.headline.setWordWrap(True)
        both = len(self.conflict.conflicting)
        only_theirs = sum(1 for d in self._rows if d.change is Change.THEIRS)
        only_mine = sum(1 for d in self._rows if d.change is Change.MINE)
        parts = []
        if both:
            parts.append(
                self.tr("{n} field(s) both of you changed differently (highlighted, first)").format(
                    n=both
                )
            )
        if only_theirs:
            parts.append(self.tr("{n} only they changed").format(n=only_theirs))
        if only_mine:
            parts.append(self.tr("{n} only you changed").format(n=only_mine))
        same = sum(1 for d in self.conflict.differences if d.change is Change.SAME)
        if same:
            parts.append(self.tr("{n} you both changed the same way (not listed)").format(n=same))
        summary = "; ".join(parts) + "." if parts else self.tr("Your changes and theirs agree.")
        self.summary = QLabel(summary)
        self.summary.setObjectName("conflictSummary")
        self.summary.setWordWrap(True)
        guide = QLabel(
            self.tr(
                "Choose what the saved case keeps for each field: ↑/↓ move, Space switches, "
                "M keeps yours, T takes theirs, Ctrl+Enter saves. Nothing is saved until you "
                "press “Save the merged case”; “Not now” keeps your offline change waiting."
            )
            if self.offline
            else self.tr(
                "Choose what the saved case keeps for each field: ↑/↓ move, Space switches, "
                "M keeps yours, T takes theirs, Ctrl+Enter saves. Nothing is saved until you "
                "press “Save the merged case”; “Back to the form” keeps everything you typed."
            )
        )
        guide.setObjectName("conflictGuide")
        guide.setProperty("role", "hint")
        guide.setWordWrap(True)

        self.table = _FieldTable(0, 4)
        self.table.setObjectName("conflictTable")
        self.table.setAccessibleName(self.tr("Fields that differ: theirs, yours and which to keep"))
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Field"),
                self.tr("Theirs ({who})").format(who=self.changed_by),
                self.tr("Mine (made offline)") if self.offline else self.tr("Mine (on your form)"),
                self.tr("Keep"),
            ]
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(FIELD_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(THEIRS_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(MINE_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(KEEP_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        self.table.toggle.connect(self.toggle_current)
        self.table.choose.connect(self.choose_current)
        self.table.itemSelectionChanged.connect(self._show_detail)
        self.table.cellDoubleClicked.connect(self._double_clicked)

        # The selected field in full, wrapped.
        self.detail_label = QLabel()
        self.detail_label.setObjectName("conflictDetailField")
        self.theirs_text = self._detail_box(
            "conflictTheirsText", self.tr("Their value of the selected field")
        )
        self.mine_text = self._detail_box(
            "conflictMineText", self.tr("Your value of the selected field")
        )
        self.base_label = QLabel()
        self.base_label.setObjectName("conflictBaseValue")
        self.base_label.setProperty("role", "hint")
        self.base_label.setWordWrap(True)
        self.base_label.setTextFormat(Qt.TextFormat.PlainText)
        self.take_theirs_button = self._button(
            "takeTheirsButton", self.tr("Take theirs (T)"), self.tr("Take their value")
        )
        self.keep_mine_button = self._button(
            "keepMineButton", self.tr("Keep mine (M)"), self.tr("Keep your value")
        )
        self.take_theirs_button.clicked.connect(lambda: self.choose_current(Side.THEIRS))
        self.keep_mine_button.clicked.connect(lambda: self.choose_current(Side.MINE))
        self.theirs_heading = QLabel(self.tr("Theirs ({who}):").format(who=self.changed_by))
        self.mine_heading = QLabel(
            self.tr("Mine (made offline):") if self.offline else self.tr("Mine (on your form):")
        )
        detail = QGridLayout()
        detail.addWidget(self.detail_label, 0, 0, 1, 2)
        detail.addWidget(self.theirs_heading, 1, 0)
        detail.addWidget(self.mine_heading, 1, 1)
        detail.addWidget(self.theirs_text, 2, 0)
        detail.addWidget(self.mine_text, 2, 1)
        detail.addWidget(self.take_theirs_button, 3, 0)
        detail.addWidget(self.keep_mine_button, 3, 1)
        detail.addWidget(self.base_label, 4, 0, 1, 2)

        self.all_theirs_button = self._button(
            "takeAllTheirsButton",
            self.tr("Take &all theirs"),
            self.tr("Take their value for every field"),
        )
        self.all_mine_button = self._button(
            "keepAllMineButton",
            self.tr("&Keep all mine"),
            self.tr("Keep your value for every field"),
        )
        if self.offline:
            self.back_button = self._button(
                "conflictBackButton",
                self.tr("&Not now"),
                self.tr("Not now: keep my offline change waiting"),
                self.tr("Nothing is saved; your change made offline keeps waiting (Esc)."),
            )
        else:
            self.back_button = self._button(
                "conflictBackButton",
                self.tr("&Back to the form"),
                self.tr("Back to the form, keeping everything you typed"),
                self.tr("Nothing is saved; your form stays as you typed it (Esc)."),
            )
        self.save_button = self._button(
            "conflictSaveButton",
            self.tr("&Save the merged case"),
            self.tr("Save the merged case"),
            self.tr("Saves the values chosen in the Keep column (Ctrl+Enter)."),
        )
        self.save_button.setProperty("primary", True)
        self.save_button.setStyleSheet(
            "QPushButton { background: #2f6fd6; color: white; font-weight: 600; "
            "padding: 4px 12px; }"
            "QPushButton:focus { border: 2px solid #0b2e6b; }"
        )
        self.all_theirs_button.clicked.connect(lambda: self.choose_all(Side.THEIRS))
        self.all_mine_button.clicked.connect(lambda: self.choose_all(Side.MINE))
        self.back_button.clicked.connect(self.reject)
        self.save_button.clicked.connect(self.accept)
        for keys in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            shortcut = QShortcut(QKeySequence(Qt.KeyboardModifier.ControlModifier | keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.accept)

        buttons = QHBoxLayout()
        buttons.addWidget(self.all_theirs_button)
        buttons.addWidget(self.all_mine_button)
        buttons.addStretch(1)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.summary)
        layout.addWidget(guide)
        layout.addWidget(self.table, 1)
        layout.addLayout(detail)
        layout.addLayout(buttons)

        order: list[QWidget] = [
            self.table,
            self.take_theirs_button,
            self.keep_mine_button,
            self.theirs_text,
            self.mine_text,
            self.all_theirs_button,
            self.all_mine_button,
            self.back_button,
            self.save_button,
        ]
        for first, second in itertools.pairwise(order):
            QWidget.setTabOrder(first, second)

    def _button(self, name: str, text: str, accessible: str, tip: str = "") -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAccessibleName(accessible)
        button.setAutoDefault(False)
        if tip:
            button.setToolTip(tip)
        return button

    def _detail_box(self, name: str, accessible: str) -> QPlainTextEdit:
        box = QPlainTextEdit()
        box.setObjectName(name)
        box.setAccessibleName(accessible)
        box.setReadOnly(True)
        box.setTabChangesFocus(True)
        box.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        box.setMaximumHeight(box.fontMetrics().lineSpacing() * 7 + 14)
        return box

    def _fill(self) -> None:
        self.table.setRowCount(len(self._rows))
        for row, difference in enumerate(self._rows):
            name = QTableWidgetItem(
                ("⚠ " if difference.conflicting else "") + field_label(difference)
            )
            name.setData(KEY_ROLE, difference.key)
            if difference.conflicting:
                name.setToolTip(self.tr("You both changed this field, differently."))
            elif difference.change is Change.THEIRS:
                name.setToolTip(self.tr("Only they changed this field."))
            else:
                name.setToolTip(self.tr("Only you changed this field."))
            self.table.setItem(row, FIELD_COLUMN, name)
            for side, value in ((Side.THEIRS, difference.theirs), (Side.MINE, difference.mine)):
                text = self.describe(difference.key, value)
                item = QTableWidgetItem(" ⏎ ".join(text.splitlines()) or text)
                item.setToolTip(_wrapped_tip(text))
                self.table.setItem(row, COLUMN_OF[side], item)
            self.table.setItem(row, KEEP_COLUMN, QTableWidgetItem())
            self._paint_row(row)

    def _paint_row(self, row: int) -> None:
        difference = self._rows[row]
        side = self._choices[difference.key]
        keep = self.table.item(row, KEEP_COLUMN)
        keep.setText(self.tr("Mine") if side is Side.MINE else self.tr("Theirs"))
        keep.setToolTip(self.tr("Space switches; M keeps mine, T takes theirs."))
        bold = QFont(self.table.font())
        bold.setBold(True)
        for other in Side:
            item = self.table.item(row, COLUMN_OF[other])
            chosen = other is side
            item.setFont(bold if chosen else self.table.font())
            item.setBackground(QBrush(KEPT) if chosen else QBrush())
            item.setForeground(QBrush() if chosen else QBrush(SET_ASIDE))
        background = QBrush(BOTH_CHANGED) if difference.conflicting else QBrush()
        for column in (FIELD_COLUMN, KEEP_COLUMN):
            self.table.item(row, column).setBackground(background)
        keep.setFont(bold)

    # --- values as the officer reads them ------------------------------------------------

    def describe(self, key: str, value: Any) -> str:
        """A field's value in words (names for ids, labels for enums, one line a transaction)."""
        if key == "customer":
            if value is None:
                return self.tr("No customer")
            return self.customers.get(value, self.tr("Customer {id}").format(id=value))
        if key == "category":
            category_id, subcategory_id = value
            if category_id is None:
                return self.tr("Not chosen")
            names = {o.id: o.name for o in self.reference.categories}
            subnames = {o.id: o.name for o in self.reference.subcategories}
            text = names.get(category_id, str(category_id))
            if subcategory_id is not None:
                text += " › " + subnames.get(subcategory_id, str(subcategory_id))
            return text
        if key == "mood":
            return self._mood_label(value)
        if key == "transactions":
            if not value:
                return self.tr("No transactions")
            return "\n".join(self._transaction_line(t) for t in value)
        if key == "customer_confirmed":
            return self.tr("Yes") if value else self.tr("No")
        if key == "customer_comfortable":
            if value is None:
                return self.tr("Not asked yet")
            return self.tr("Yes") if value else self.tr("No")
        if key == "resolution_method":
            return label(value) if value is not None else self.tr("Not resolved yet")
        if key in ("kind", "channel", "priority", "status"):
            return label(value) if value is not None else ""
        text = str(value or "")
        return text if text.strip() else self.tr("(empty)")

    def _mood_label(self, mood: Mood | None) -> str:
        labels = {
            Mood.CALM: self.tr("Calm"),
            Mood.ANXIOUS: self.tr("Anxious"),
            Mood.FRUSTRATED: self.tr("Frustrated"),
            Mood.ANGRY: self.tr("Angry"),
            Mood.DISTRESSED: self.tr("Distressed"),
            Mood.AGGRESSIVE: self.tr("Aggressive"),
        }
        return labels.get(mood, self.tr("Not set")) if mood is not None else self.tr("Not set")

    def _transaction_line(self, txn: TransactionReference) -> str:
        parts = [txn.reference]
        if txn.amount_minor is not None:
            currency = self.reference.currency
            parts.append(f"{to_major_text(txn.amount_minor, currency)} {currency.code}")
        if txn.occurred_on is not None:
            parts.append(txn.occurred_on.isoformat())
        return " · ".join(parts)

    # --- choosing ------------------------------------------------------------------------

    def choices(self) -> dict[str, Side]:
        """The officer's choice for every field listed."""
        return dict(self._choices)

    def merged(self) -> CaseContent:
        """The case to save, as chosen."""
        return self.conflict.merged(self._choices)

    def row_of(self, key: str) -> int:
        return [d.key for d in self._rows].index(key)

    def current_key(self) -> str | None:
        row = self.table.currentRow()
        return self._rows[row].key if 0 <= row < len(self._rows) else None

    def set_choice(self, key: str, side: Side) -> None:
        if self._choices.get(key) is side:
            return
        self._choices[key] = side
        self._paint_row(self.row_of(key))
        self._show_detail()
        self.choicesChanged.emit()

    def choose_current(self, side: Side) -> None:
        key = self.current_key()
        if key is not None:
            self.set_choice(key, side)

    def toggle_current(self) -> None:
        key = self.current_key()
        if key is not None:
            self.set_choice(key, self._choices[key].other)

    def choose_all(self, side: Side) -> None:
        for key in self._choices:
            self.set_choice(key, side)

    def _double_clicked(self, row: int, column: int) -> None:
        key = self._rows[row].key
        if column == THEIRS_COLUMN:
            self.set_choice(key, Side.THEIRS)
        elif column == MINE_COLUMN:
            self.set_choice(key, Side.MINE)
        else:
            self.toggle_current()

    def _show_detail(self) -> None:
        row = self.table.currentRow()
        has_row = 0 <= row < len(self._rows)
        for widget in (self.take_theirs_button, self.keep_mine_button):
            widget.setEnabled(has_row)
        if not has_row:
            self.detail_label.setText(self.tr("Nothing to choose: save to keep both changes."))
            self.theirs_text.clear()
            self.mine_text.clear()
            self.base_label.clear()
            return
        difference = self._rows[row]
        side = self._choices[difference.key]
        keeping = self.tr("keeping yours") if side is Side.MINE else self.tr("taking theirs")
        self.detail_label.setText(f"<b>{escape(field_label(difference))}</b> — {escape(keeping)}")
        self.theirs_text.setPlainText(self.describe(difference.key, difference.theirs))
        self.mine_text.setPlainText(self.describe(difference.key, difference.mine))
        if self.conflict.base is None:
            self.base_label.setText(
                self.tr("The version you started from is not known (a restored draft).")
            )
        else:
            before = self.describe(difference.key, difference.base)
            self.base_label.setText(
                self.tr("When you opened the case: {value}").format(
                    value=" ⏎ ".join(before.splitlines()) or before
                )
            )


def _wrapped_tip(text: str) -> str:
    """A tooltip that wraps: Qt wraps rich text, never a long plain line."""
    return "<p style='white-space:pre-wrap'>" + escape(text) + "</p>"
