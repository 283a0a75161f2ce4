"""The case list as a Qt table model that fetches keyset pages on demand, off the GUI thread."""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from desk.services.dto import CasePage, CaseQuery, CaseRow, CaseSort, PageCursor
from ui.labels import label, local_time
from ui.operations import Operations, bug_message, is_user_error

_Index = QModelIndex | QPersistentModelIndex

COLUMNS: tuple[tuple[str, CaseSort | None], ...] = (
    ("Reference", CaseSort.REFERENCE),
    ("Opened", CaseSort.OPENED),
    ("Customer", None),
    ("Kind", None),
    ("Channel", None),
    ("Status", CaseSort.STATUS),
    ("Priority", CaseSort.PRIORITY),
    ("Category", None),
    ("Assigned to", None),
    ("Summary", None),
)
CASE_ID_ROLE = Qt.ItemDataRole.UserRole + 1


class CaseListModel(QAbstractTableModel):
    """Rows arrive a page at a time; a list never loads every case."""

    loaded = Signal()  # a page arrived (tests and the status line wait on it)
    loadFailed = Signal(str)

    def __init__(self, ops: Operations, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.query = CaseQuery()
        self._rows: list[CaseRow] = []
        self._cursor: PageCursor | None = None
        self._more = False
        self._loading = False
        self._generation = 0
        self._started = False

    # --- the query -----------------------------------------------------------------------

    def set_query(self, query: CaseQuery) -> None:
        """Start over with a new query (search, filter or sort changed)."""
        self.query = query
        self.refresh()

    def refresh(self) -> None:
        """Reload from the first page (after a save anywhere in the application)."""
        self._started = True
        self._generation += 1
        self.beginResetModel()
        self._rows = []
        self._cursor = None
        self._more = True
        self._loading = False
        self.endResetModel()
        self._fetch()

    def rows(self) -> list[CaseRow]:
        return list(self._rows)

    def row_at(self, row: int) -> CaseRow:
        return self._rows[row]

    @property
    def loading(self) -> bool:
        return self._loading

    # --- paging --------------------------------------------------------------------------

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._started and self._more and not self._loading

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._fetch()

    def _fetch(self) -> None:
        self._loading = True
        generation, query, after = self._generation, self.query, self._cursor
        self.ops.query(
            lambda d: d.cases.list(query, after=after),
            on_success=lambda page: self._page_arrived(generation, page),
            on_error=lambda exc: self._failed(generation, exc),
            owner=self,
            key=f"case-list-{id(self)}",
            label=self.tr("Loading cases…"),
        )

    def _page_arrived(self, generation: int, page: CasePage) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._cursor = page.next_cursor
        self._more = page.next_cursor is not None
        if page.rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(page.rows) - 1)
            self._rows.extend(page.rows)
            self.endInsertRows()
        self.loaded.emit()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._more = False
        self.loadFailed.emit(str(exc) if is_user_error(exc) else bug_message())

    # --- the table -----------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.tr(COLUMNS[section][0])
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == CASE_ID_ROLE:
            return row.id
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, index.column())
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == len(COLUMNS) - 1:
            return row.summary
        return None

    @staticmethod
    def _display(row: CaseRow, column: int) -> str:
        values = (
            row.reference,
            local_time(row.opened_at),
            row.customer_name,
            label(row.kind),
            label(row.channel),
            label(row.status),
            label(row.priority),
            row.category_name,
            row.assigned_to,
            " ".join(row.summary.split())[:120],
        )
        return values[column]

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort on the server (keyset pages): only columns with an index can be sorted."""
        sort = COLUMNS[column][1]
        if sort is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if self._started and sort == self.query.sort and descending == self.query.descending:
            return
        self.query = dataclasses.replace(self.query, sort=sort, descending=descending)
        if self._started:
            self.refresh()
