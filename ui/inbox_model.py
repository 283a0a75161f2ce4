"""Qt table models of the inbox and of the officer's requests sent for decision.

Both fetch keyset pages on demand, off the GUI thread, through the operations door (as the case
list does): a list never loads every row, so the first page of an inbox with a hundred thousand
items waiting costs the same as with ten.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QApplication, QStyle

from desk.domain.decision_wording import is_partial
from desk.domain.money import Currency
from desk.services.dto import PageCursor
from desk.services.inbox import (
    Aging,
    InboxItem,
    InboxPage,
    InboxQuery,
    SentItem,
    SentPage,
    SentQuery,
    inbox_of,
)
from ui.labels import local_time
from ui.operations import Operations, bug_message, is_user_error

_Index = QModelIndex | QPersistentModelIndex
Row = TypeVar("Row", InboxItem, SentItem)

ID_ROLE = Qt.ItemDataRole.UserRole + 1  # the request's id
CASE_ID_ROLE = Qt.ItemDataRole.UserRole + 2
AGING_ROLE = Qt.ItemDataRole.UserRole + 3  # Aging value (text) of an inbox row

# Light backgrounds with dark text: readable, and never the only sign (the text and icon say it).
AGING_BACKGROUND = {Aging.NEAR: "#fff1d6", Aging.OVERDUE: "#fddede"}
AGING_FOREGROUND = {Aging.NEAR: "#7a4600", Aging.OVERDUE: "#8f1616"}


def age_text(age: dt.timedelta) -> str:
    """A waiting time in the largest two units that matter ("3 d 4 h", "5 h 12 min")."""
    minutes = max(0, int(age.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return QApplication.translate("Inbox", "{d} d {h} h").format(d=days, h=hours)
    if hours:
        return QApplication.translate("Inbox", "{h} h {m} min").format(h=hours, m=minutes)
    return QApplication.translate("Inbox", "{m} min").format(m=minutes)


def aging_word(aging: Aging) -> str:
    return {
        Aging.WITHIN: QApplication.translate("Inbox", "within target"),
        Aging.NEAR: QApplication.translate("Inbox", "due soon"),
        Aging.OVERDUE: QApplication.translate("Inbox", "overdue"),
    }[aging]


def status_word(status: str) -> str:
    """A request's state in words."""
    words = {
        "pending": QApplication.translate("Inbox", "waiting"),
        "granted": QApplication.translate("Inbox", "granted at the counter"),
        "approved": QApplication.translate("Inbox", "approved"),
        "rejected": QApplication.translate("Inbox", "not approved"),
        "returned": QApplication.translate("Inbox", "returned for more information"),
        "withdrawn": QApplication.translate("Inbox", "withdrawn"),
    }
    return words.get(status, status.replace("_", " "))


class _PagedModel(QAbstractTableModel, Generic[Row]):
    """Rows arrive a page at a time; ``refresh`` starts again from the first page."""

    loaded = Signal()  # a page arrived (tests and the screen wait on it)
    loadFailed = Signal(str)

    columns: tuple[str, ...] = ()

    def __init__(self, ops: Operations, currency: Currency, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.currency = currency
        self._rows: list[Row] = []
        self._cursor: PageCursor | None = None
        self._more = False
        self._loading = False
        self._generation = 0
        self._started = False
        self.first_page_loaded = False

    # --- paging --------------------------------------------------------------------------

    def _page_call(self, after: PageCursor | None) -> Callable[[Any], Any]:
        raise NotImplementedError

    def refresh(self) -> None:
        self._started = True
        self._generation += 1
        self.first_page_loaded = False
        self.beginResetModel()
        self._rows = []
        self._cursor = None
        self._more = True
        self._loading = False
        self.endResetModel()
        self._fetch()

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._started and self._more and not self._loading

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._fetch()

    def _fetch(self) -> None:
        self._loading = True
        generation = self._generation
        self.ops.query(
            self._page_call(self._cursor),
            on_success=lambda page: self._page_arrived(generation, page),
            on_error=lambda exc: self._failed(generation, exc),
            owner=self,
            key=f"{type(self).__name__}-{id(self)}",
            label=self.tr("Loading…"),
        )

    def _page_arrived(self, generation: int, page: InboxPage | SentPage) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._cursor = page.next_cursor
        self._more = page.next_cursor is not None
        rows: list[Any] = list(page.items)
        if rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()
        self.first_page_loaded = True
        self.loaded.emit()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._more = False
        self.first_page_loaded = True
        self.loadFailed.emit(str(exc) if is_user_error(exc) else bug_message())

    @property
    def loading(self) -> bool:
        return self._loading

    # --- rows ------------------------------------------------------------------------------

    def rows(self) -> list[Row]:
        return list(self._rows)

    def row_at(self, row: int) -> Row:
        return self._rows[row]

    def row_of(self, request_id: int) -> int:
        """The row showing this request, or -1."""
        return next((i for i, r in enumerate(self._rows) if r.id == request_id), -1)

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


class InboxModel(_PagedModel[InboxItem]):
    """The items waiting for the logged-in person, with their age against the target."""

    columns = (
        "Waiting",
        "Kind",
        "Amount",
        "Customer",
        "Case",
        "Requested by",
        "Centre",
        "For",
        "Reason",
    )
    AGE, KIND, AMOUNT, CUSTOMER, CASE, REQUESTER, CENTRE, FOR, REASON = range(9)

    def __init__(self, ops: Operations, currency: Currency, parent: QObject | None = None) -> None:
        super().__init__(ops, currency, parent)
        self.query = InboxQuery()
        self.now = dt.datetime.now(dt.UTC)
        style = QApplication.style()
        self._icons = {
            Aging.NEAR: style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning),
            Aging.OVERDUE: style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical),
        }

    def set_query(self, query: InboxQuery) -> None:
        self.query = query
        self.refresh()

    def refresh(self) -> None:
        self.now = dt.datetime.now(dt.UTC)
        super().refresh()

    def tick(self) -> None:
        """Time passed: ages and their colours move on without asking the server."""
        self.now = dt.datetime.now(dt.UTC)
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, len(self.columns) - 1)
            )

    def _page_call(self, after: PageCursor | None) -> Callable[[Any], Any]:
        query = self.query
        return lambda d: inbox_of(d).page(query, after=after)

    def aging(self, item: InboxItem) -> Aging:
        return item.aging_at(max(self.now, item.requested_at))

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self._rows[index.row()]
        column = index.column()
        if role == ID_ROLE:
            return item.id
        if role == CASE_ID_ROLE:
            return item.case_id
        aging = self.aging(item)
        if role == AGING_ROLE:
            return aging.value
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(item, column, aging)
        if role == Qt.ItemDataRole.DecorationRole and column == self.AGE:
            return self._icons.get(aging)
        if role == Qt.ItemDataRole.BackgroundRole and aging in AGING_BACKGROUND:
            return QBrush(QColor(AGING_BACKGROUND[aging]))
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and column == self.AGE
            and aging in AGING_FOREGROUND
        ):
            return QBrush(QColor(AGING_FOREGROUND[aging]))
        if role == Qt.ItemDataRole.TextAlignmentRole and column == self.AMOUNT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.AGE:
                return self.tr("Asked {when}; the target for {kind} is {hours} h.").format(
                    when=local_time(item.requested_at),
                    kind=item.kind_label.lower(),
                    hours=item.target_hours,
                )
            if column == self.REASON:
                return item.reason
        if role == Qt.ItemDataRole.AccessibleTextRole and column == self.AGE:
            return self._display(item, column, aging)
        return None

    def _display(self, item: InboxItem, column: int, aging: Aging) -> str:
        if column == self.AGE:
            waited = age_text(self.now - item.requested_at)
            if aging is Aging.WITHIN:
                return waited
            return self.tr("{age} · {state}").format(age=waited, state=aging_word(aging))
        if column == self.KIND:
            return item.kind_label
        if column == self.AMOUNT:
            return self.currency.format(item.amount_minor)
        if column == self.CUSTOMER:
            return item.customer_name
        if column == self.CASE:
            return item.case_reference
        if column == self.REQUESTER:
            return item.requested_by
        if column == self.CENTRE:
            return item.centre_name
        if column == self.FOR:
            return self.tr("Centre's pool") if item.in_pool else self.tr("You")
        return " ".join(item.reason.split())[:120]


class SentModel(_PagedModel[SentItem]):
    """The logged-in person's requests sent for a decision, newest first."""

    columns = ("Sent", "Kind", "Amount", "Customer", "Case", "State", "With / decided by")
    SENT, KIND, AMOUNT, CUSTOMER, CASE, STATE, WHO = range(7)

    def __init__(self, ops: Operations, currency: Currency, parent: QObject | None = None) -> None:
        super().__init__(ops, currency, parent)
        self.query = SentQuery(open_only=True)

    def set_open_only(self, open_only: bool) -> None:
        self.query = dataclasses.replace(self.query, open_only=open_only)
        self.refresh()

    def _page_call(self, after: PageCursor | None) -> Callable[[Any], Any]:
        query = self.query
        return lambda d: inbox_of(d).sent(query, after=after)

    def state_text(self, item: SentItem) -> str:
        if item.status == "pending":
            return self.tr("Waiting for a decision")
        if is_partial(item.status, item.amount_minor, item.decided_amount_minor):
            return self.tr("Approved in part: {amount}").format(
                amount=self.currency.format(item.decided_amount_minor or 0)
            )
        return {
            "approved": self.tr("Approved"),
            "rejected": self.tr("Not approved"),
            "returned": self.tr("Returned to you"),
            "withdrawn": self.tr("Withdrawn"),
            "granted": self.tr("Granted"),
        }.get(item.status, item.status.replace("_", " ").capitalize())

    def who_text(self, item: SentItem) -> str:
        if item.decided_by:
            return item.decided_by
        return item.assigned_to or self.tr("The centre's pool")

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self._rows[index.row()]
        column = index.column()
        if role == ID_ROLE:
            return item.id
        if role == CASE_ID_ROLE:
            return item.case_id
        if role == Qt.ItemDataRole.DisplayRole:
            values = (
                local_time(item.requested_at),
                item.kind_label,
                self.currency.format(item.amount_minor),
                item.customer_name,
                item.case_reference,
                self.state_text(item),
                self.who_text(item),
            )
            return values[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column == self.AMOUNT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and column == self.STATE and item.is_open:
            font = QFont()
            font.setBold(True)
            return font
        return None
