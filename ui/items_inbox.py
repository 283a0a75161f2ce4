"""The supervisor's other inbox: review requests, replies to vet and compliments waiting for a
decision, and the open cases past their resolution target.

On the left the kinds, with how many wait of each; in the middle the items of the kind chosen,
oldest first, coloured (with an icon and words, never colour alone) once they have waited over a
day; on the right what was asked and the decision the kind takes:

- a review request: a reason, then Uphold, Change the decision, or Return for more information;
- a reply to vet: the officer's draft, editable (an edited text may be approved), then Approve,
  or Return with a note for the officer;
- a compliment: a note of recognition for the member of staff, then Acknowledge, or Forward up
  the chain.

Every kind may be passed on to a named person. What is typed is kept per item while the person
moves around the list, and a refused decision is said beside the field it is about, with the text
left as it was. An item decided elsewhere meanwhile says who decided it and when, and leaves the
list.

Keys: J/K or Down/Up next/previous (with the list focused), Enter or Ctrl+O opens the case,
Ctrl+Enter takes the kind's main decision (uphold, approve, acknowledge), Alt+letter the others,
F5 reads everything again. The widget reads again by itself when ``ops.changed`` fires.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from desk.domain.model import CaseStatus, Priority
from desk.domain.work_items import Decision, ItemKind, ReviewOrigin
from desk.services.errors import ConflictError, NotFound
from desk.services.inbox import Aging
from desk.services.work_items import Breach, ItemRefused, WorkItemView
from ui.inbox_common import TriageTable, caption, make_button, value_label
from ui.inbox_dialogs import PassOnDialog
from ui.inbox_model import AGING_BACKGROUND, AGING_FOREGROUND, age_text
from ui.labels import label, local_time
from ui.operations import Operations, bug_message, is_user_error
from ui.widgets import FieldError, TextBox, set_role

_Index = QModelIndex | QPersistentModelIndex

BREACHES = "breaches"  # the kind selector's entry for the overdue cases
KINDS: tuple[str, ...] = (ItemKind.REVIEW, ItemKind.REPLY, ItemKind.COMPLIMENT, BREACHES)
OVER_A_DAY = dt.timedelta(days=1)
TICK_MS = 60_000  # ages move on once a minute without asking the server
ID_ROLE = Qt.ItemDataRole.UserRole + 1
CASE_ID_ROLE = Qt.ItemDataRole.UserRole + 2
# The approvals inbox's "due soon" colours: a light background, dark text.
LONG_BACKGROUND = AGING_BACKGROUND[Aging.NEAR]
LONG_FOREGROUND = AGING_FOREGROUND[Aging.NEAR]


def _t(text: str) -> str:
    return QApplication.translate("ItemsInbox", text)


def kind_label(kind: ItemKind) -> str:
    """One item of the kind, as the list says it."""
    return {
        ItemKind.REVIEW: _t("Review request"),
        ItemKind.REPLY: _t("Reply to vet"),
        ItemKind.COMPLIMENT: _t("Compliment"),
    }[kind]


def kinds_label(kind: str) -> str:
    """The kind selector's words for a kind (plural)."""
    return {
        ItemKind.REVIEW: _t("Review requests"),
        ItemKind.REPLY: _t("Replies to vet"),
        ItemKind.COMPLIMENT: _t("Compliments"),
        BREACHES: _t("Overdue cases"),
    }[kind]


def origin_label(origin: str) -> str:
    """Why a review was asked for."""
    if origin == ReviewOrigin.CANNOT_RESOLVE:
        return _t("The officer cannot resolve it")
    if origin == ReviewOrigin.CUSTOMER_ASKED:
        return _t("The customer asked for a supervisor's review")
    return origin.replace("_", " ")


def error_text(exc: BaseException) -> str:
    """The service's own sentence (a conflict already says who decided, and when), or the
    "something went wrong" message for a bug of ours."""
    return str(exc) if is_user_error(exc) else bug_message()


def _priority_text(value: str) -> str:
    try:
        return label(Priority(value))
    except ValueError:
        return value


def _status_text(value: str) -> str:
    try:
        return label(CaseStatus(value))
    except ValueError:
        return value.replace("_", " ")


# --- the lists ------------------------------------------------------------------------------


class ItemsModel(QAbstractTableModel):
    """The items of one kind waiting for the logged-in person, oldest first."""

    columns = ("Kind", "Case", "Customer", "From", "Waiting since")
    KIND, CASE, CUSTOMER, FROM, WAITING = range(5)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[WorkItemView] = []
        self.now = dt.datetime.now(dt.UTC)
        self._icon = QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)

    def set_rows(self, rows: list[WorkItemView], now: dt.datetime) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.now = now
        self.endResetModel()

    def tick(self) -> None:
        self.now = dt.datetime.now(dt.UTC)
        if self._rows:
            last = self.index(len(self._rows) - 1, len(self.columns) - 1)
            self.dataChanged.emit(self.index(0, 0), last)

    def rows(self) -> list[WorkItemView]:
        return list(self._rows)

    def row_at(self, row: int) -> WorkItemView:
        return self._rows[row]

    def row_of(self, item_id: int) -> int:
        return next((i for i, r in enumerate(self._rows) if r.id == item_id), -1)

    def remove(self, item_id: int) -> None:
        row = self.row_of(item_id)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()

    def waited_long(self, item: WorkItemView) -> bool:
        return self.now - item.requested_at > OVER_A_DAY

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

    def waiting_text(self, item: WorkItemView, *, words: bool = False) -> str:
        """When it was raised and how long ago; ``words``: "over a day" said too (the list
        shows an icon and a colour for it, a screen reader and the tooltip say it)."""
        age = age_text(self.now - item.requested_at)
        when = item.requested_at.astimezone().strftime("%d %b %H:%M")
        text = self.tr("{when} · {age}").format(when=when, age=age)
        if words and self.waited_long(item):
            text += " · " + self.tr("over a day")
        return text

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self._rows[index.row()]
        column = index.column()
        if role == ID_ROLE:
            return item.id
        if role == CASE_ID_ROLE:
            return item.case_id
        long = self.waited_long(item)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            values = (
                kind_label(item.kind),
                item.case_reference,
                item.customer_name,
                item.requested_by,
                self.waiting_text(item, words=role == Qt.ItemDataRole.AccessibleTextRole),
            )
            return values[column]
        if role == Qt.ItemDataRole.DecorationRole and column == self.WAITING and long:
            return self._icon
        if role == Qt.ItemDataRole.BackgroundRole and long:
            return QBrush(QColor(LONG_BACKGROUND))
        if role == Qt.ItemDataRole.ForegroundRole and column == self.WAITING and long:
            return QBrush(QColor(LONG_FOREGROUND))
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.WAITING:
                return self.tr("Raised {when}; waiting {age}{long}.").format(
                    when=local_time(item.requested_at),
                    age=age_text(self.now - item.requested_at),
                    long=self.tr(", over a day") if long else "",
                )
            return " ".join(item.body.split())[:300]
        return None


class BreachModel(QAbstractTableModel):
    """Open cases past the resolution target of their priority, longest overdue first."""

    columns = ("Case", "Customer", "Priority", "Status", "Officer", "Opened", "Overdue by")
    CASE, CUSTOMER, PRIORITY, STATUS, OFFICER, OPENED, OVERDUE = range(7)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Breach] = []

    def set_rows(self, rows: list[Breach]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[Breach]:
        return list(self._rows)

    def row_at(self, row: int) -> Breach:
        return self._rows[row]

    def row_of(self, case_id: int) -> int:
        return next((i for i, r in enumerate(self._rows) if r.case_id == case_id), -1)

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

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        breach = self._rows[index.row()]
        column = index.column()
        if role in (ID_ROLE, CASE_ID_ROLE):
            return breach.case_id
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            values = (
                breach.reference,
                breach.customer_name,
                _priority_text(breach.priority),
                _status_text(breach.status),
                breach.officer or self.tr("(nobody)"),
                local_time(breach.opened_at, with_time=False),
                age_text(breach.overdue_by),
            )
            return values[column]
        if role == Qt.ItemDataRole.ForegroundRole and column == self.OVERDUE:
            return QBrush(QColor(LONG_FOREGROUND))
        if role == Qt.ItemDataRole.ToolTipRole and column == self.OVERDUE:
            return self.tr("The target for {priority} cases is {hours} h.").format(
                priority=_priority_text(breach.priority).lower(), hours=breach.target_hours
            )
        return None


# --- the detail -------------------------------------------------------------------------------


class ItemDetailPane(QScrollArea):
    """What was asked, or the overdue case, with its case reference and "Open case"."""

    def __init__(self, *, me: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.me = me
        self.setObjectName("itemsDetail")
        self.setAccessibleName(self.tr("Detail of the item"))
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        body.setObjectName("itemsDetailBody")
        self.setWidget(body)

        self.heading = QLabel()
        self.heading.setObjectName("itemsDetailHeading")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setProperty("role", "title")
        self.heading.setWordWrap(True)
        self.aging = value_label("itemsDetailAging", self.tr("Waiting time"))

        self.case = value_label("itemsDetailCase", self.tr("Case"))
        self.open_button = make_button(
            self.tr("&Open case (Ctrl+O)"), "itemsOpenCase", self.tr("Open the case")
        )
        case_row = QWidget()
        case_layout = QHBoxLayout(case_row)
        case_layout.setContentsMargins(0, 0, 0, 0)
        case_layout.addWidget(self.case, 1)
        case_layout.addWidget(self.open_button)
        self.customer = value_label("itemsDetailCustomer", self.tr("Customer"))
        self.origin = value_label("itemsDetailOrigin", self.tr("Why a review"))
        self.subject = value_label("itemsDetailSubject", self.tr("Whom it is about"))
        self.requested = value_label("itemsDetailFrom", self.tr("From"))
        self.assigned = value_label("itemsDetailWaitingFor", self.tr("Waiting for"))
        self.priority = value_label("itemsDetailPriority", self.tr("Priority"))
        self.status = value_label("itemsDetailStatus", self.tr("State of the case"))
        self.officer = value_label("itemsDetailOfficer", self.tr("Officer"))
        self.opened = value_label("itemsDetailOpened", self.tr("Opened"))
        self.overdue = value_label("itemsDetailOverdue", self.tr("Overdue by"))
        self.facts = QFormLayout()
        self.facts.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._rows: dict[QWidget, QLabel] = {}
        for text, value in (
            (self.tr("Case:"), case_row),
            (self.tr("Customer:"), self.customer),
            (self.tr("Asked because:"), self.origin),
            (self.tr("About:"), self.subject),
            (self.tr("From:"), self.requested),
            (self.tr("Waiting for:"), self.assigned),
            (self.tr("Priority:"), self.priority),
            (self.tr("State:"), self.status),
            (self.tr("Officer:"), self.officer),
            (self.tr("Opened:"), self.opened),
            (self.tr("Overdue by:"), self.overdue),
        ):
            caption_label = QLabel(text)
            self.facts.addRow(caption_label, value)
            self._rows[value] = caption_label
        self.case_row = case_row

        self.body_title = QLabel()
        self.body_title.setObjectName("itemsDetailBodyTitle")
        self.body_title.setTextFormat(Qt.TextFormat.PlainText)
        self.body_title.setProperty("role", "hint")
        self.body = value_label("itemsDetailAsked", self.tr("What was asked"))

        layout = QVBoxLayout(body)
        layout.addWidget(self.heading)
        layout.addWidget(self.aging)
        layout.addLayout(self.facts)
        layout.addSpacing(6)
        layout.addWidget(self.body_title)
        layout.addWidget(self.body)
        layout.addStretch(1)
        self.clear(self.tr("Nothing is waiting for you here."))

    def _show_rows(self, shown: set[QWidget]) -> None:
        for value, caption_label in self._rows.items():
            value.setVisible(value in shown)
            caption_label.setVisible(value in shown)

    def clear(self, message: str) -> None:
        self.heading.setText(message)
        self._show_rows(set())
        for widget in (self.aging, self.body_title, self.body):
            widget.hide()

    def show_item(self, item: WorkItemView, now: dt.datetime) -> None:
        self.heading.setText(
            self.tr("{kind} · {case}").format(kind=kind_label(item.kind), case=item.case_reference)
        )
        self.update_aging(item, now)
        self.case.setText(item.case_reference)
        self.customer.setText(item.customer_name)
        self.origin.setText(origin_label(item.origin))
        self.subject.setText(item.subject)
        self.requested.setText(
            self.tr("{who}, {when}").format(
                who=item.requested_by, when=local_time(item.requested_at)
            )
        )
        if not item.assigned_to:
            self.assigned.setText(self.tr("The centre's supervisors"))
        elif item.assigned_to_id == self.me:
            self.assigned.setText(self.tr("You"))
        else:
            self.assigned.setText(item.assigned_to)
        shown: set[QWidget] = {self.case_row, self.customer, self.requested, self.assigned}
        if item.kind is ItemKind.REVIEW:
            shown.add(self.origin)
            self.body_title.setText(self.tr("What should be reviewed, in the officer's words:"))
        elif item.kind is ItemKind.COMPLIMENT:
            shown.add(self.subject)
            self.body_title.setText(self.tr("What the customer said:"))
        self._show_rows(shown)
        self.aging.show()
        # A reply's draft is in the editable text below; shown here too it would be said twice.
        self.body.setText(item.body)
        self.body_title.setVisible(item.kind is not ItemKind.REPLY)
        self.body.setVisible(item.kind is not ItemKind.REPLY)

    def update_aging(self, item: WorkItemView, now: dt.datetime) -> None:
        age = now - item.requested_at
        text = self.tr("Waiting {age}").format(age=age_text(age))
        if age > OVER_A_DAY:
            text += " · " + self.tr("over a day")
        self.aging.setText(text)
        set_role(self.aging, "warning" if age > OVER_A_DAY else "hint")

    def show_breach(self, breach: Breach) -> None:
        self.heading.setText(self.tr("Overdue case · {case}").format(case=breach.reference))
        self.case.setText(breach.reference)
        self.customer.setText(breach.customer_name)
        self.priority.setText(
            self.tr("{priority} (target {hours} h)").format(
                priority=_priority_text(breach.priority), hours=breach.target_hours
            )
        )
        self.status.setText(_status_text(breach.status))
        self.officer.setText(breach.officer or self.tr("(nobody is assigned)"))
        self.opened.setText(local_time(breach.opened_at))
        self.overdue.setText(age_text(breach.overdue_by))
        self._show_rows(
            {
                self.case_row,
                self.customer,
                self.priority,
                self.status,
                self.officer,
                self.opened,
                self.overdue,
            }
        )
        for widget in (self.aging, self.body_title, self.body):
            widget.hide()


# --- the inbox --------------------------------------------------------------------------------


class ItemsInboxWidget(QWidget):
    """Review requests, replies to vet, compliments and overdue cases for the logged-in person.

    Signals: ``openCaseRequested(case_id)`` when the person opens an item's case;
    ``countsChanged(total)`` with how many items wait (the overdue cases are not counted: they
    are not waiting for a decision) whenever the list is read again or an item leaves it."""

    openCaseRequested = Signal(int)
    countsChanged = Signal(int)

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setObjectName("itemsInbox")
        self.setAccessibleName(self.tr("Reviews, replies and compliments waiting for you"))
        session = ops.desk.session if ops.desk is not None else None
        self.me: int | None = session.staff_id if session is not None else None
        self.items: list[WorkItemView] = []  # everything waiting, every kind
        self.breaches: list[Breach] = []
        self.loaded_once = False
        self.loading = False
        self.busy = False
        self.pass_dialog: PassOnDialog | None = None
        self._typed: dict[tuple[int, str], str] = {}  # (item id, field): what was typed
        self._shown_id: int | None = None  # the item whose texts are in the fields
        self._filling = False

        self.title = QLabel(self.tr("Reviews, replies and compliments"))
        self.title.setObjectName("itemsTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setProperty("role", "title")

        # --- the kinds, on the left
        self.kinds = QListWidget()
        self.kinds.setObjectName("itemsKinds")
        self.kinds.setAccessibleName(self.tr("Kind of item"))
        for kind in KINDS:
            entry = QListWidgetItem(kinds_label(kind))
            entry.setData(Qt.ItemDataRole.UserRole, str(kind))
            self.kinds.addItem(entry)
        self.kinds.setCurrentRow(0)
        self.kinds.setSpacing(3)
        self.kinds.setMinimumWidth(160)
        self.kinds.setMaximumWidth(220)
        kinds_caption = caption(self.tr("Sho&w:"), self.kinds)

        # --- the lists
        self.model = ItemsModel(self)
        self.table = TriageTable(actions=False)
        self.table.setObjectName("itemsTable")
        self.table.setAccessibleName(self.tr("Items waiting for your decision"))
        self.table.setModel(self.model)
        for column, width in enumerate((100, 112, 130, 115)):
            self.table.horizontalHeader().resizeSection(column, width)
        self.breach_model = BreachModel(self)
        self.breach_table = TriageTable(actions=False)
        self.breach_table.setObjectName("itemsBreachTable")
        self.breach_table.setAccessibleName(self.tr("Open cases past their resolution target"))
        self.breach_table.setModel(self.breach_model)
        for column, width in enumerate((115, 130, 65, 125, 120, 95)):
            self.breach_table.horizontalHeader().resizeSection(column, width)
        for table in (self.table, self.breach_table):
            table.setTabKeyNavigation(False)  # Tab leaves the list, for the decision
        self.lists = QStackedWidget()
        self.lists.setObjectName("itemsLists")
        self.lists.addWidget(self.table)
        self.lists.addWidget(self.breach_table)

        # --- the detail and the decision
        self.pane = ItemDetailPane(me=self.me)
        self.open_button = self.pane.open_button
        self.decision_area = QWidget()
        self.decision_area.setObjectName("itemsDecisionArea")
        self.response = TextBox("itemsResponse", self.tr("Reason"), lines=4)
        self.response_caption = caption(self.tr("&Reason:"), self.response)
        self.response_error = FieldError("itemsResponseError")
        self.response_hint = QLabel()
        self.response_hint.setObjectName("itemsResponseHint")
        self.response_hint.setProperty("role", "hint")
        self.response_hint.setWordWrap(True)
        self.note = TextBox("itemsReturnNote", self.tr("What more is needed"), lines=2)
        self.note_caption = caption(self.tr("What is &missing (to return it):"), self.note)
        self.note_error = FieldError("itemsReturnNoteError")

        self.uphold_button = make_button(
            self.tr("&Uphold (Ctrl+Enter)"), "itemsUphold", self.tr("Uphold the decision")
        )
        self.change_button = make_button(
            self.tr("Chan&ge the decision"), "itemsChange", self.tr("Change the decision")
        )
        self.approve_button = make_button(
            self.tr("&Approve (Ctrl+Enter)"), "itemsApprove", self.tr("Approve the reply")
        )
        self.acknowledge_button = make_button(
            self.tr("Ac&knowledge (Ctrl+Enter)"),
            "itemsAcknowledge",
            self.tr("Acknowledge the compliment"),
        )
        self.return_button = make_button(
            self.tr("Re&turn for more information"),
            "itemsReturn",
            self.tr("Return for more information"),
        )
        self.forward_button = make_button(
            self.tr("Forwar&d up the chain"), "itemsForward", self.tr("Forward up the chain")
        )
        self.pass_button = make_button(
            self.tr("&Pass on to…"), "itemsPassOn", self.tr("Pass on to a named person")
        )
        self.decision_buttons: dict[Decision, QPushButton] = {
            Decision.UPHOLD: self.uphold_button,
            Decision.CHANGE: self.change_button,
            Decision.APPROVE: self.approve_button,
            Decision.ACKNOWLEDGE: self.acknowledge_button,
            Decision.RETURN: self.return_button,
        }
        self.message = QLabel()
        self.message.setObjectName("itemsMessage")
        self.message.setAccessibleName(self.tr("Message"))
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.hide()
        self.info = QLabel()
        self.info.setObjectName("itemsInfo")
        self.info.setTextFormat(Qt.TextFormat.PlainText)
        self.info.setProperty("role", "hint")
        self.info.setWordWrap(True)

        # --- layout
        decision_layout = QVBoxLayout(self.decision_area)
        decision_layout.setContentsMargins(0, 0, 0, 0)
        decision_layout.addWidget(self.response_caption)
        decision_layout.addWidget(self.response)
        decision_layout.addWidget(self.response_error)
        decision_layout.addWidget(self.response_hint)
        decision_layout.addWidget(self.note_caption)
        decision_layout.addWidget(self.note)
        decision_layout.addWidget(self.note_error)
        first_row = QHBoxLayout()
        for button in (
            self.uphold_button,
            self.approve_button,
            self.acknowledge_button,
            self.change_button,
            self.forward_button,
        ):
            first_row.addWidget(button)
        first_row.addStretch(1)
        second_row = QHBoxLayout()
        second_row.addWidget(self.return_button)
        second_row.addWidget(self.pass_button)
        second_row.addStretch(1)
        decision_layout.addLayout(first_row)
        decision_layout.addLayout(second_row)

        side = QWidget()
        side.setObjectName("itemsSide")
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.pane, 1)
        side_layout.addWidget(self.decision_area)
        left = QWidget()
        left.setObjectName("itemsKindsColumn")
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(kinds_caption)
        left_layout.addWidget(self.kinds, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("itemsSplitter")
        splitter.addWidget(left)
        splitter.addWidget(self.lists)
        splitter.addWidget(side)
        # The list takes more of any extra width than the detail: its columns are many.
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 2)
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        self._sized = False
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.info)

        chain: list[QWidget] = [
            self.kinds,
            self.table,
            self.breach_table,
            self.response,
            self.note,
            self.uphold_button,
            self.approve_button,
            self.acknowledge_button,
            self.change_button,
            self.forward_button,
            self.return_button,
            self.pass_button,
            self.open_button,
        ]
        for first, second in itertools.pairwise(chain):
            self.setTabOrder(first, second)

        # --- behaviour
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(300)
        self._debounce.timeout.connect(self.refresh)
        ops.changed.connect(self._debounce.start)
        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self._on_tick)
        self._tick.start()

        self.kinds.currentRowChanged.connect(lambda _row: self._kind_changed())
        self.kinds.itemActivated.connect(lambda _entry: self.current_table().setFocus())
        self.table.selectionModel().currentRowChanged.connect(
            lambda _current, _previous: self._show_current()
        )
        self.breach_table.selectionModel().currentRowChanged.connect(
            lambda _current, _previous: self._show_current()
        )
        self.table.openRequested.connect(self.open_case)
        self.breach_table.openRequested.connect(self.open_case)
        self.open_button.clicked.connect(self.open_case)
        for decision, button in self.decision_buttons.items():
            button.clicked.connect(lambda _checked=False, d=decision: self.decide(d))
        self.forward_button.clicked.connect(self.forward)
        self.pass_button.clicked.connect(self.pass_on)
        self.response.textChanged.connect(lambda: self._remember("response"))
        self.note.textChanged.connect(lambda: self._remember("note"))
        shortcuts: tuple[tuple[QKeySequence, Any], ...] = (
            (QKeySequence("Ctrl+Return"), self.primary),
            (QKeySequence("Ctrl+Enter"), self.primary),
            (QKeySequence("Ctrl+O"), self.open_case),
            (QKeySequence(Qt.Key.Key_F5), self.refresh),
        )
        for keys, slot in shortcuts:
            shortcut = QShortcut(keys, self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self._kind_changed()
        self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        """The first time it is shown, at its real width: the list gets the larger share."""
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            margins = self.layout().contentsMargins()
            width = max(self.width() - margins.left() - margins.right(), 900)
            kinds = 170
            rest = width - kinds - 2 * self.splitter.handleWidth()
            self.splitter.setSizes([kinds, rest * 3 // 5, rest - rest * 3 // 5])

    # --- reading ----------------------------------------------------------------------------

    def current_kind(self) -> str:
        entry = self.kinds.currentItem()
        return str(entry.data(Qt.ItemDataRole.UserRole)) if entry is not None else ItemKind.REVIEW

    def choose_kind(self, kind: str) -> None:
        self.kinds.setCurrentRow(KINDS.index(kind))

    def current_table(self) -> TriageTable:
        return self.breach_table if self.current_kind() == BREACHES else self.table

    def current_item(self) -> WorkItemView | None:
        if self.current_kind() == BREACHES:
            return None
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= self.model.rowCount():
            return None
        return self.model.row_at(index.row())

    def current_breach(self) -> Breach | None:
        if self.current_kind() != BREACHES:
            return None
        index = self.breach_table.currentIndex()
        if not index.isValid() or index.row() >= self.breach_model.rowCount():
            return None
        return self.breach_model.row_at(index.row())

    def refresh(self) -> None:
        """Read what waits (every kind) and the overdue cases again, keeping the place."""
        self._debounce.stop()
        if self.ops.desk is None:  # logged out or closing: nothing to read
            return
        self.loading = True
        self._update_info()
        self.ops.query(
            lambda d: (d.items.waiting(), d.items.breaches()),
            on_success=self._arrived,
            on_error=self._load_failed,
            owner=self,
            key=f"items-inbox-{id(self)}",
            label=self.tr("Loading…"),
        )

    def _arrived(self, result: tuple[list[WorkItemView], list[Breach]]) -> None:
        self.loading = False
        self.items, self.breaches = list(result[0]), list(result[1])
        first = not self.loaded_once
        self.loaded_once = True
        waiting = {item.id for item in self.items}
        self._typed = {key: text for key, text in self._typed.items() if key[0] in waiting}
        if first and self.current_kind() != BREACHES:  # start where something waits
            counts = self.counts()
            busy = next((k for k in KINDS[:3] if counts[k]), None)
            if busy is not None and busy != self.current_kind():
                self.choose_kind(busy)
        self._fill_lists()
        self._show_counts()

    def _load_failed(self, exc: BaseException) -> None:
        self.loading = False
        self.loaded_once = True
        self._say(error_text(exc), "error")
        self._update_info()

    def counts(self) -> dict[str, int]:
        found: Counter[str] = Counter(str(item.kind) for item in self.items)
        result = {str(kind): found.get(str(kind), 0) for kind in KINDS[:3]}
        result[BREACHES] = len(self.breaches)
        return result

    def _show_counts(self) -> None:
        counts = self.counts()
        for row, kind in enumerate(KINDS):
            text = self.tr("{kind} ({count})").format(kind=kinds_label(kind), count=counts[kind])
            entry = self.kinds.item(row)
            entry.setText(text)
            entry.setData(Qt.ItemDataRole.AccessibleTextRole, text)
        self.countsChanged.emit(sum(counts[k] for k in KINDS[:3]))
        self._update_info()

    def _fill_lists(self) -> None:
        """Put the rows of the kind chosen in the list, keeping the current one (or its row)."""
        kind = self.current_kind()
        now = dt.datetime.now(dt.UTC)
        if kind == BREACHES:
            current = self.current_breach()
            row = max(self.breach_table.currentIndex().row(), 0)
            self.breach_model.set_rows(self.breaches)
            found = self.breach_model.row_of(current.case_id) if current else -1
            self._select(self.breach_table, self.breach_model.rowCount(), found, row)
        else:
            current = self.current_item()
            row = max(self.table.currentIndex().row(), 0)
            self.model.set_rows([i for i in self.items if i.kind == kind], now)
            found = self.model.row_of(current.id) if current else -1
            self._select(self.table, self.model.rowCount(), found, row)
        self._show_current()

    def _select(self, table: TriageTable, rows: int, found: int, row: int) -> None:
        if not rows:
            return
        target = found if found >= 0 else min(row, rows - 1)
        table.setCurrentIndex(table.model().index(target, 0))

    def _kind_changed(self) -> None:
        breaches = self.current_kind() == BREACHES
        self.lists.setCurrentWidget(self.breach_table if breaches else self.table)
        if self.table.hasFocus() or self.breach_table.hasFocus():
            self.current_table().setFocus()
        self.table.setCurrentIndex(QModelIndex())
        self.breach_table.setCurrentIndex(QModelIndex())
        self._fill_lists()
        self._update_info()

    def _show_current(self) -> None:
        """The detail and the decision area for the current row; the fields get back what
        was typed for that item (and a refusal said beside it stays while it is the same one)."""
        kind = self.current_kind()
        breach = self.current_breach()
        item = self.current_item()
        if breach is not None:
            self.pane.show_breach(breach)
        elif item is not None:
            self.pane.show_item(item, self.model.now)
        elif not self.loaded_once:
            self.pane.clear(self.tr("Loading…"))
        elif kind == BREACHES:
            self.pane.clear(self.tr("No open case is past its target."))
        else:
            self.pane.clear(
                self.tr("No {kind} waiting for you.").format(kind=kinds_label(kind).lower())
            )
        self._fill_fields(item)
        self._update_buttons()

    def _fill_fields(self, item: WorkItemView | None) -> None:
        if item is None or item.id != self._shown_id:
            self._clear_errors()
        self._filling = True
        try:
            self._shown_id = item.id if item is not None else None
            self.decision_area.setVisible(item is not None)
            if item is None:
                self.response.setPlainText("")
                self.note.setPlainText("")
                return
            kind = item.kind
            line = self.response.fontMetrics().lineSpacing()
            if kind is ItemKind.REVIEW:
                self.response_caption.setText(self.tr("&Reason:"))
                self.response.setAccessibleName(self.tr("Reason"))
                self.response_hint.setText(
                    self.tr(
                        "Uphold or change: the officer tells the customer this reason. Return: "
                        "say what more is needed."
                    )
                )
                self.response.setFixedHeight(line * 4 + 14)
                self.response.setPlaceholderText("")
            elif kind is ItemKind.REPLY:
                self.response_caption.setText(
                    self.tr("Te&xt to send (the officer's draft; edit it if needed):")
                )
                self.response.setAccessibleName(self.tr("The reply to send"))
                self.response_hint.setText(
                    self.tr("What you approve is what the case shows as sent.")
                )
                self.response.setFixedHeight(line * 9 + 14)
                self.response.setPlaceholderText("")
            else:
                self.response_caption.setText(self.tr("&Note of recognition:"))
                self.response.setAccessibleName(self.tr("Note of recognition"))
                self.response_hint.setText(
                    self.tr(
                        "Acknowledge: the note reaches {who}. Forward: the note (optional) goes "
                        "up with it."
                    ).format(who=item.subject or self.tr("the member of staff"))
                )
                self.response.setFixedHeight(line * 3 + 14)
                self.response.setPlaceholderText(self.tr("Thank you for…"))
            default = item.body if kind is ItemKind.REPLY else ""
            self.response.setText(self._typed.get((item.id, "response"), default))
            self.note.setText(self._typed.get((item.id, "note"), ""))
            for widget in (self.note_caption, self.note):
                widget.setVisible(kind is ItemKind.REPLY)
            visible = {
                ItemKind.REVIEW: {self.uphold_button, self.change_button, self.return_button},
                ItemKind.REPLY: {self.approve_button, self.return_button},
                ItemKind.COMPLIMENT: {self.acknowledge_button, self.forward_button},
            }[kind]
            for button in (*self.decision_buttons.values(), self.forward_button):
                button.setVisible(button in visible)
        finally:
            self._filling = False

    def _remember(self, field: str) -> None:
        """Keep what is typed for the item shown, so moving around the list loses nothing."""
        if self._filling or self._shown_id is None:
            return
        box = self.response if field == "response" else self.note
        self._typed[(self._shown_id, field)] = box.text()
        (self.response_error if field == "response" else self.note_error).clear_message()

    def _clear_errors(self) -> None:
        self.response_error.clear_message()
        self.note_error.clear_message()

    def _update_buttons(self) -> None:
        has_item = self.current_item() is not None
        for button in (*self.decision_buttons.values(), self.forward_button, self.pass_button):
            button.setEnabled(has_item and not self.busy)
        self.open_button.setEnabled(
            (has_item or self.current_breach() is not None) and not self.busy
        )

    def _update_info(self) -> None:
        kind = self.current_kind()
        shown = self.breach_model.rowCount() if kind == BREACHES else self.model.rowCount()
        if self.loading and not self.loaded_once:
            text = self.tr("Loading…")
        else:
            text = self.tr("{shown} shown.").format(shown=shown)
        if kind == BREACHES:
            keys = self.tr(
                "Keys: J/K next/previous · Enter or Ctrl+O open the case · F5 read again"
            )
        else:
            primary = {
                ItemKind.REVIEW: self.tr("uphold"),
                ItemKind.REPLY: self.tr("approve"),
                ItemKind.COMPLIMENT: self.tr("acknowledge"),
            }[ItemKind(kind)]
            keys = self.tr(
                "Keys: J/K next/previous · Enter or Ctrl+O open the case · Ctrl+Enter {primary} "
                "· Alt+P pass on · F5 read again"
            ).format(primary=primary)
        self.info.setText(f"{text}  {keys}")

    def _on_tick(self) -> None:
        self.model.tick()
        item = self.current_item()
        if item is not None:
            self.pane.update_aging(item, self.model.now)

    # --- acting -----------------------------------------------------------------------------

    def open_case(self) -> None:
        item, breach = self.current_item(), self.current_breach()
        if item is not None:
            self.openCaseRequested.emit(item.case_id)
        elif breach is not None:
            self.openCaseRequested.emit(breach.case_id)

    def primary(self) -> None:
        """Ctrl+Enter: the kind's main decision."""
        item = self.current_item()
        if item is None:
            return
        self.decide(
            {
                ItemKind.REVIEW: Decision.UPHOLD,
                ItemKind.REPLY: Decision.APPROVE,
                ItemKind.COMPLIMENT: Decision.ACKNOWLEDGE,
            }[item.kind]
        )

    def decide(self, decision: Decision) -> None:
        """Send the decision with what is in its field; a refusal is said beside the field."""
        item = self.current_item()
        if item is None or self.busy:
            return
        returning_reply = item.kind is ItemKind.REPLY and decision is Decision.RETURN
        box = self.note if returning_reply else self.response
        error = self.note_error if returning_reply else self.response_error
        text = box.text()
        self._clear_errors()
        self._set_busy(True)
        self._say("", "hint")
        self.ops.write(
            lambda d: d.items.decide(item.id, decision, text, expected_version=item.version),
            on_success=lambda view: self._decided(decision, item, view),
            on_error=lambda exc: self._refused(item, exc, box, error),
            owner=self,
            label=self.tr("Recording the decision"),
        )

    def forward(self) -> None:
        """A compliment goes up the chain, with the note (optional) if one was written."""
        item = self.current_item()
        if item is None or self.busy or item.kind is not ItemKind.COMPLIMENT:
            return
        note = self.response.text()
        self._clear_errors()
        self._set_busy(True)
        self._say("", "hint")
        self.ops.write(
            lambda d: d.items.forward(item.id, note, expected_version=item.version),
            on_success=lambda view: self._moved_on(item, view, forwarded=True),
            on_error=lambda exc: self._refused(item, exc, self.response, self.response_error),
            owner=self,
            label=self.tr("Forwarding the compliment"),
        )

    def pass_on(self) -> None:
        """Pass the item to a named person who may decide it; a refusal is said in the
        dialog, beside the person."""
        item = self.current_item()
        if item is None or self.busy:
            return
        dialog = PassOnDialog(
            self._what(item),
            with_reason=False,
            hint=self.tr("They must be allowed to decide a {kind}.").format(
                kind=kind_label(item.kind).lower()
            ),
            parent=self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.submitted.connect(
            lambda username, _reason: self._send_pass_on(item, dialog, username)
        )
        dialog.finished.connect(lambda _result: self._pass_dialog_closed(dialog))
        self.pass_dialog = dialog
        dialog.open()
        self.ops.query(
            lambda d: d.leave.deputies(),
            on_success=dialog.set_choices,
            on_error=lambda exc: dialog.refused(error_text(exc)),
            owner=dialog,
            key=f"items-pass-on-people-{id(self)}",
        )

    def _pass_dialog_closed(self, dialog: PassOnDialog) -> None:
        if self.pass_dialog is dialog:
            self.pass_dialog = None
        self.table.setFocus()

    def _send_pass_on(self, item: WorkItemView, dialog: PassOnDialog, username: str) -> None:
        self._set_busy(True)
        self._say("", "hint")
        self.ops.write(
            lambda d: d.items.reassign(item.id, username, expected_version=item.version),
            on_success=lambda view: self._passed_on(item, dialog, view),
            on_error=lambda exc: self._pass_on_refused(item, dialog, exc),
            owner=self,
            label=self.tr("Passing the item on"),
        )

    def _passed_on(self, item: WorkItemView, dialog: PassOnDialog, view: WorkItemView) -> None:
        if dialog is self.pass_dialog:
            dialog.set_busy(False)
            dialog.accept()
        self._moved_on(item, view, forwarded=False)

    def _pass_on_refused(
        self, item: WorkItemView, dialog: PassOnDialog, exc: BaseException
    ) -> None:
        gone = isinstance(exc, (ConflictError, NotFound))
        if dialog is self.pass_dialog and not gone and is_user_error(exc):
            self._set_busy(False)
            dialog.refused(error_text(exc))
            return
        if dialog is self.pass_dialog:
            dialog.set_busy(False)
            dialog.reject()
        self._refused(item, exc, self.response, self.response_error)

    # --- outcomes ---------------------------------------------------------------------------

    def _what(self, item: WorkItemView) -> str:
        return self.tr("{kind} on {case} for {customer}").format(
            kind=kind_label(item.kind), case=item.case_reference, customer=item.customer_name
        )

    def _decided(self, decision: Decision, item: WorkItemView, view: WorkItemView) -> None:
        texts = {
            Decision.UPHOLD: self.tr("Upheld: {what}."),
            Decision.CHANGE: self.tr("Decision changed: {what}."),
            Decision.APPROVE: self.tr("Reply approved: {what}."),
            Decision.ACKNOWLEDGE: self.tr("Acknowledged; the note reaches {who}: {what}."),
            Decision.RETURN: self.tr("Returned to {officer} for more information: {what}."),
        }
        text = texts[decision].format(
            what=self._what(item), who=item.subject, officer=item.requested_by
        )
        if decision is Decision.APPROVE and view.response != item.body.strip():
            text = self.tr("Reply approved as you edited it: {what}.").format(what=self._what(item))
        self._leaves(item, text, "hint")

    def _moved_on(self, item: WorkItemView, view: WorkItemView, *, forwarded: bool) -> None:
        who = view.assigned_to or self.tr("the centre's supervisors")
        if forwarded:
            text = self.tr("Forwarded up the chain to {who}: {what}.")
        else:
            text = self.tr("Passed on to {who}: {what}.")
        self._leaves(item, text.format(who=who, what=self._what(item)), "hint")

    def _leaves(self, item: WorkItemView, text: str, role: str) -> None:
        """The item is no longer this person's: out of the list (the next one becomes
        current), its typed texts forgotten, the keyboard back on the list."""
        self._set_busy(False)
        self._say(text, role)
        self.items = [i for i in self.items if i.id != item.id]
        for field in ("response", "note"):
            self._typed.pop((item.id, field), None)
        row = self.model.row_of(item.id)
        if row >= 0:
            self.model.remove(item.id)
            if self.model.rowCount():
                target = min(row, self.model.rowCount() - 1)
                self.table.setCurrentIndex(self.model.index(target, 0))
        self._show_current()
        self._show_counts()
        self.current_table().setFocus()

    def _refused(
        self, item: WorkItemView, exc: BaseException, box: TextBox, error: FieldError
    ) -> None:
        """Someone else decided it, or it went: say who and when, and the item leaves. The
        decision itself was refused: say why beside the field, keeping what was typed."""
        if isinstance(exc, (ConflictError, NotFound)):
            self._leaves(item, error_text(exc), "error")
            self.refresh()
            return
        self._set_busy(False)
        shown = self.current_item()
        if (isinstance(exc, ItemRefused) or is_user_error(exc)) and (
            shown is not None and shown.id == item.id
        ):
            error.show_message(error_text(exc))
            box.setFocus()
            return
        # A bug, or the person moved on to another item meanwhile: said below the panes.
        self._say(
            self.tr("{what}: {message}").format(what=self._what(item), message=error_text(exc)),
            "error",
        )

    def _say(self, text: str, role: str) -> None:
        self.message.setText(text)
        self.message.setAccessibleName(text or self.tr("Message"))
        set_role(self.message, role)
        self.message.setVisible(bool(text))

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self._update_buttons()


__all__ = ["ItemsInboxWidget"]
