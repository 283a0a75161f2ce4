"""My raised items: the review requests, replies to vet and compliments the logged-in officer
raised, newest first, and where each stands in words ("With Leila Tanaka since 10:02",
"Returned: …", "Upheld by …", "Reply approved — not sent yet").

Beside the list: what the officer wrote, the supervisor's answer, the words for telling the
customer the outcome of a review (with Copy), and what the officer may do next: send a returned
item again, withdraw one still open, mark an approved reply as sent (after seeing the approved
text), open the case.

Keys, with the list focused: J/K or Down/Up move, Enter opens the case.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desk.domain.work_items import Decision, ItemKind, ItemStatus, ReviewOrigin
from ui.inbox_common import TriageTable, caption, error_text, make_button, value_label
from ui.item_dialogs import MarkSentDialog, ResubmitItemDialog
from ui.labels import local_time
from ui.widgets import ask_yes_no, set_role

if TYPE_CHECKING:
    from desk.services.work_items import WorkItemView
    from ui.operations import Operations

_Index = QModelIndex | QPersistentModelIndex
REFRESH_DELAY_MS = 300  # several changes in a row read the list once
RECENT = dt.timedelta(days=7)  # decided items stay in the default view this long


def when_text(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """A time today as "10:02", another day as "3 Mar 10:02"."""
    if value is None:
        return ""
    local = value.astimezone()
    today = (now or dt.datetime.now(dt.UTC)).astimezone().date()
    if local.date() == today:
        return local.strftime("%H:%M")
    return local_time(value)


def needs_the_officer(item: WorkItemView) -> bool:
    """Returned for more, or an approved reply still to send."""
    return item.status is ItemStatus.RETURNED or (
        item.outcome is Decision.APPROVE and item.sent_at is None
    )


class RaisedModel(QAbstractTableModel):
    """The officer's raised items (at most the service's 200 newest)."""

    columns = ("Raised", "Kind", "Case", "Customer", "Where it stands")
    RAISED, KIND, CASE, CUSTOMER, STATE = range(5)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[WorkItemView] = []

    def set_rows(self, rows: list[WorkItemView]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[WorkItemView]:
        return list(self._rows)

    def row_at(self, row: int) -> WorkItemView | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, item_id: int) -> int:
        return next((i for i, item in enumerate(self._rows) if item.id == item_id), -1)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.tr(self.columns[section])
        return None

    def state_text(self, item: WorkItemView) -> str:
        """Where it stands, in a short phrase for the list."""
        if item.status is ItemStatus.PENDING:
            return self.tr("With {who} since {when}").format(
                who=item.assigned_to or self.tr("the centre's supervisors"),
                when=when_text(item.requested_at),
            )
        if item.status is ItemStatus.RETURNED:
            return self.tr("Returned: {what}").format(what=" ".join(item.response.split()))
        if item.status is ItemStatus.WITHDRAWN:
            return self.tr("Withdrawn")
        who = item.decided_by or self.tr("a supervisor")
        if item.outcome is Decision.UPHOLD:
            return self.tr("Upheld by {who}").format(who=who)
        if item.outcome is Decision.CHANGE:
            return self.tr("Changed by {who}").format(who=who)
        if item.outcome is Decision.APPROVE:
            if item.sent_at is None:
                return self.tr("Reply approved — not sent yet")
            return self.tr("Reply approved and sent {when}").format(when=when_text(item.sent_at))
        if item.outcome is Decision.ACKNOWLEDGE:
            return self.tr("Acknowledged by {who}").format(who=who)
        return self.tr("Decided by {who}").format(who=who)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        item = self._rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            values = (
                when_text(item.requested_at),
                kind_text(item),
                item.case_reference,
                item.customer_name,
                self.state_text(item),
            )
            return values[column]
        if role == Qt.ItemDataRole.FontRole and column == self.STATE and needs_the_officer(item):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and column == self.STATE:
            if needs_the_officer(item):
                return QColor("#8a5300")
            if not item.is_open:
                return QColor("#4a5566")
        return None


def kind_text(item: WorkItemView) -> str:
    tr = QGuiApplication.translate
    if item.kind is ItemKind.REVIEW:
        if item.origin == ReviewOrigin.CANNOT_RESOLVE.value:
            return tr("ItemsSent", "Review (I cannot resolve)")
        return tr("ItemsSent", "Review (customer asks)")
    if item.kind is ItemKind.REPLY:
        return tr("ItemsSent", "Reply to vet")
    return tr("ItemsSent", "Compliment about {who}").format(who=item.subject)


class ItemsSentWidget(QWidget):
    """The logged-in officer's raised items and what to do with each.

    Signal: ``openCaseRequested(case_id)`` when the person opens an item's case (Enter)."""

    openCaseRequested = Signal(int)

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setObjectName("itemsSent")
        self.setAccessibleName(self.tr("My raised items"))
        self.model = RaisedModel(self)
        self.all_items: list[WorkItemView] = []
        self.loaded_once = False
        self.dialog: QDialog | None = None
        self.confirm: QMessageBox | None = None
        self._restore: int | None = None

        self.title = QLabel(self.tr("My raised items"))
        self.title.setObjectName("itemsTitle")
        self.title.setProperty("role", "title")
        self.scope = QComboBox()
        self.scope.setObjectName("itemsScope")
        self.scope.setAccessibleName(self.tr("Which items"))
        self.scope.addItem(self.tr("Open, to send, or decided this week"), True)
        self.scope.addItem(self.tr("All my items"), False)
        self.table = TriageTable(actions=False)
        self.table.setObjectName("itemsTable")
        self.table.setAccessibleName(self.tr("Items you raised"))
        self.table.setModel(self.model)
        for column, width in enumerate((60, 160, 115, 130)):
            self.table.horizontalHeader().resizeSection(column, width)

        self.heading = QLabel()
        self.heading.setObjectName("itemsHeading")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setProperty("role", "title")
        self.heading.setWordWrap(True)
        self.state = value_label("itemsState", self.tr("Where it stands"))
        self.body = self._reader("itemsBody", self.tr("What you wrote"), lines=4)
        self.answer_caption = QLabel(self.tr("Their answer:"))
        self.answer = self._reader("itemsAnswer", self.tr("The supervisor's answer"), lines=4)
        self.answer_caption.setBuddy(self.answer)
        self.wording_caption = QLabel(self.tr("Words for the customer:"))
        self.wording = self._reader("itemsWording", self.tr("Words for the customer"), lines=5)
        self.wording_caption.setBuddy(self.wording)
        self.copy_button = make_button(
            self.tr("Cop&y the words"),
            "itemsCopyWording",
            self.tr("Copy the words for the customer"),
        )
        self.resubmit_button = make_button(
            self.tr("Send a&gain…"), "itemsResubmit", self.tr("Edit and send the item again")
        )
        self.withdraw_button = make_button(
            self.tr("With&draw…"), "itemsWithdraw", self.tr("Withdraw the item")
        )
        self.mark_sent_button = make_button(
            self.tr("Mark as s&ent…"), "itemsMarkSent", self.tr("Mark the approved reply as sent")
        )
        self.open_button = make_button(
            self.tr("&Open case (Enter)"), "itemsOpenCase", self.tr("Open the case")
        )
        self.info = QLabel()
        self.info.setObjectName("itemsInfo")
        self.info.setProperty("role", "hint")
        self.message = QLabel()
        self.message.setObjectName("itemsMessage")
        self.message.setAccessibleName(self.tr("Message"))
        self.message.setProperty("role", "hint")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(caption(self.tr("Sho&w:"), self.scope))
        top.addWidget(self.scope)
        pane = QWidget()
        pane.setObjectName("itemsDetail")
        pane_layout = QVBoxLayout(pane)
        pane_layout.setContentsMargins(0, 0, 0, 0)
        pane_layout.addWidget(self.heading)
        facts = QFormLayout()
        facts.addRow(self.tr("Where it stands:"), self.state)
        pane_layout.addLayout(facts)
        pane_layout.addWidget(caption(self.tr("What you wrote:"), self.body))
        pane_layout.addWidget(self.body, 1)
        pane_layout.addWidget(self.answer_caption)
        pane_layout.addWidget(self.answer, 2)
        pane_layout.addWidget(self.wording_caption)
        pane_layout.addWidget(self.wording, 2)
        copy_row = QHBoxLayout()
        copy_row.addWidget(self.copy_button)
        copy_row.addStretch(1)
        pane_layout.addLayout(copy_row)
        actions = QHBoxLayout()
        for button in (
            self.resubmit_button,
            self.withdraw_button,
            self.mark_sent_button,
            self.open_button,
        ):
            actions.addWidget(button)
        actions.addStretch(1)
        pane_layout.addLayout(actions)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("itemsSplitter")
        splitter.addWidget(self.table)
        splitter.addWidget(pane)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([720, 480])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.info)
        layout.addLayout(bottom)
        chain: list[QWidget] = [
            self.scope,
            self.table,
            self.body,
            self.answer,
            self.wording,
            self.copy_button,
            self.resubmit_button,
            self.withdraw_button,
            self.mark_sent_button,
            self.open_button,
        ]
        for first, second in itertools.pairwise(chain):
            self.setTabOrder(first, second)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self.scope.currentIndexChanged.connect(lambda _i: self._show_rows())
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.openRequested.connect(self.open_case)
        self.open_button.clicked.connect(self.open_case)
        self.copy_button.clicked.connect(self.copy_wording)
        self.resubmit_button.clicked.connect(self.resubmit_current)
        self.withdraw_button.clicked.connect(self.withdraw_current)
        self.mark_sent_button.clicked.connect(self.mark_sent_current)
        ops.changed.connect(self._timer.start)
        self._show(None)
        self.refresh()

    def _reader(self, object_name: str, accessible: str, *, lines: int) -> QPlainTextEdit:
        """Read-only text that grows with the pane (at least ``lines`` high)."""
        box = QPlainTextEdit()
        box.setObjectName(object_name)
        box.setAccessibleName(accessible)
        box.setReadOnly(True)
        box.setTabChangesFocus(True)
        box.setMinimumHeight(box.fontMetrics().lineSpacing() * lines + 14)
        return box

    # --- reading ------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the raised items again (keeps the current one chosen)."""
        self._timer.stop()
        if self.ops.desk is None:
            return  # logged out or closing: nothing to read
        self.ops.query(
            lambda d: d.items.raised(),
            on_success=self._loaded,
            on_error=lambda exc: self.say(error_text(exc), error=True),
            owner=self,
            key=f"items-raised-{id(self)}",
        )

    def current_item(self) -> WorkItemView | None:
        index = self.table.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def _loaded(self, items: list[WorkItemView]) -> None:
        self.all_items = list(items)
        self.loaded_once = True
        self._show_rows()

    def _shown_items(self) -> list[WorkItemView]:
        if not self.scope.currentData():
            return list(self.all_items)
        since = dt.datetime.now(dt.UTC) - RECENT
        return [
            item
            for item in self.all_items
            if item.is_open
            or needs_the_officer(item)
            or (item.decided_at is not None and item.decided_at >= since)
        ]

    def _show_rows(self) -> None:
        current = self.current_item()
        restore = current.id if current is not None else self._restore
        self._restore = None
        had_focus = self.table.hasFocus()
        self.model.set_rows(self._shown_items())
        rows = self.model.rowCount()
        if rows:
            found = self.model.row_of(restore) if restore is not None else -1
            self.table.setCurrentIndex(self.model.index(max(found, 0), 0))
            if had_focus:
                self.table.setFocus()
        else:
            self._show(None)
        waiting = sum(1 for item in self.all_items if item.status is ItemStatus.PENDING)
        to_do = sum(1 for item in self.all_items if needs_the_officer(item))
        self.info.setText(
            self.tr("{shown} shown; {waiting} waiting for a supervisor, {to_do} for you.").format(
                shown=rows, waiting=waiting, to_do=to_do
            )
        )

    def select_item(self, item_id: int) -> bool:
        """Make the item with this id current (False: it is not in the list shown)."""
        row = self.model.row_of(item_id)
        if row < 0:
            return False
        self.table.setCurrentIndex(self.model.index(row, 0))
        return True

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show(self.model.row_at(current.row()) if current.isValid() else None)

    def state_in_full(self, item: WorkItemView) -> str:
        """Where it stands, in a sentence for the detail pane."""
        if item.status is ItemStatus.PENDING:
            who = item.assigned_to or self.tr("the centre's supervisors")
            return self.tr("With {who} since {when}; waiting for a decision.").format(
                who=who, when=when_text(item.requested_at)
            )
        if item.status is ItemStatus.RETURNED:
            return self.tr(
                "Returned to you by {who} at {when}: add what is needed and send it again."
            ).format(who=item.decided_by, when=when_text(item.decided_at))
        if item.status is ItemStatus.WITHDRAWN:
            return self.tr("Withdrawn: nobody needs to decide it.")
        who = item.decided_by or self.tr("a supervisor")
        when = when_text(item.decided_at)
        if item.outcome is Decision.APPROVE:
            if item.sent_at is None:
                return self.tr(
                    "Approved by {who} at {when}; not sent yet. Send the approved text, then "
                    "mark it as sent."
                ).format(who=who, when=when)
            return self.tr("Approved by {who} at {when}; sent at {sent}.").format(
                who=who, when=when, sent=when_text(item.sent_at)
            )
        done = {
            Decision.UPHOLD: self.tr("Upheld by {who} at {when}: the decision stands."),
            Decision.CHANGE: self.tr("Changed by {who} at {when}: tell the customer how."),
            Decision.ACKNOWLEDGE: self.tr("Acknowledged by {who} at {when}."),
        }
        sentence = done.get(item.outcome or Decision.RETURN, self.tr("Decided by {who} at {when}."))
        return sentence.format(who=who, when=when)

    def _show(self, item: WorkItemView | None) -> None:
        buttons = (
            self.copy_button,
            self.resubmit_button,
            self.withdraw_button,
            self.mark_sent_button,
            self.open_button,
        )
        if item is None:
            for button in buttons:
                button.setEnabled(False)
            self.heading.setText(self.tr("Nothing raised here."))
            self.state.clear()
            for box in (self.body, self.answer, self.wording):
                box.clear()
            for widget in (self.answer_caption, self.answer, self.wording_caption, self.wording):
                widget.hide()
            self.copy_button.hide()
            return
        self.heading.setText(
            self.tr("{kind} · {case} · {customer}").format(
                kind=kind_text(item), case=item.case_reference, customer=item.customer_name
            )
        )
        self.state.setText(self.state_in_full(item))
        set_role(self.state, "warning" if needs_the_officer(item) else "hint")
        self.body.setPlainText(item.body)
        answer_caption = ""
        if item.status is ItemStatus.RETURNED:
            answer_caption = self.tr("What is needed:")
        elif item.status is ItemStatus.DONE:
            answer_caption = {
                Decision.UPHOLD: self.tr("The reason it stands:"),
                Decision.CHANGE: self.tr("How the decision changed:"),
                Decision.APPROVE: self.tr("The approved text:"),
                Decision.ACKNOWLEDGE: self.tr("Their note of recognition:"),
            }.get(item.outcome or Decision.RETURN, self.tr("Their answer:"))
        self.answer_caption.setText(answer_caption)
        self.answer.setPlainText(item.response if answer_caption else "")
        for widget in (self.answer_caption, self.answer):
            widget.setVisible(bool(answer_caption))
        has_wording = bool(item.wording)
        self.wording.setPlainText(item.wording)
        for widget in (self.wording_caption, self.wording, self.copy_button):
            widget.setVisible(has_wording)
        self.copy_button.setEnabled(has_wording)
        self.resubmit_button.setEnabled(item.status is ItemStatus.RETURNED)
        self.withdraw_button.setEnabled(item.is_open)
        self.mark_sent_button.setEnabled(
            item.kind is ItemKind.REPLY
            and item.outcome is Decision.APPROVE
            and item.sent_at is None
        )
        self.mark_sent_button.setVisible(item.kind is ItemKind.REPLY)
        self.open_button.setEnabled(True)

    # --- acting -------------------------------------------------------------------------

    def open_case(self) -> None:
        item = self.current_item()
        if item is not None:
            self.openCaseRequested.emit(item.case_id)

    def copy_wording(self) -> None:
        item = self.current_item()
        if item is not None and item.wording:
            QGuiApplication.clipboard().setText(item.wording)
            self.say(self.tr("The words for the customer are copied."))

    def resubmit_current(self) -> None:
        item = self.current_item()
        if item is None:
            return
        if item.status is not ItemStatus.RETURNED:
            self.say(self.tr("Only an item returned to you is sent again."), error=True)
            return
        dialog = ResubmitItemDialog(self.ops, item, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.done.connect(
            lambda view: self._acted(
                view,
                self.tr("Sent again to {who}.").format(
                    who=view.assigned_to or self.tr("the centre's supervisors")
                ),
            )
        )
        self.dialog = dialog
        dialog.open()

    def mark_sent_current(self) -> None:
        item = self.current_item()
        if item is None:
            return
        if item.kind is not ItemKind.REPLY:
            self.say(self.tr("Only a reply is marked as sent."), error=True)
            return
        if item.outcome is not Decision.APPROVE:
            self.say(
                self.tr(
                    "This reply is not approved yet: it cannot be marked as sent until a "
                    "supervisor approves it."
                ),
                error=True,
            )
            return
        dialog = MarkSentDialog(self.ops, item, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.done.connect(
            lambda view: self._acted(
                view, self.tr("Marked as sent; the case shows the approved text.")
            )
        )
        self.dialog = dialog
        dialog.open()

    def withdraw_current(self) -> None:
        item = self.current_item()
        if item is None or not item.is_open:
            return
        item_id, version = item.id, item.version
        self.confirm = ask_yes_no(
            self.window(),
            "itemsWithdrawConfirm",
            self.tr("Withdraw"),
            self.tr("Withdraw the {kind} on {case}? Nobody will need to decide it.").format(
                kind=item.label.lower(), case=item.case_reference
            ),
            lambda: self._withdraw(item_id, version),
        )

    def _withdraw(self, item_id: int, version: int) -> None:
        self.withdraw_button.setEnabled(False)
        self.ops.write(
            lambda d: d.items.withdraw(item_id, expected_version=version),
            on_success=lambda view: self._acted(view, self.tr("Withdrawn.")),
            on_error=self._failed,
            owner=self,
            label=self.tr("Withdrawing…"),
        )

    def say(self, message: str, *, error: bool = False) -> None:
        """What happened, or why not, under the list."""
        self.message.setText(message)
        self.message.setAccessibleDescription(message)
        set_role(self.message, "error" if error else "hint")

    def _acted(self, view: WorkItemView, message: str) -> None:
        self._restore = view.id
        self.say(message)
        self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self.say(error_text(exc), error=True)
        self.refresh()
