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

    def reload(self) -> None:
        """Read the rows on show again (someone elsewhere changed cases) and change only what
        changed: rows that stay keep their selection, and the view keeps its scroll position."""
        if not self._started:
            return
        self._generation += 1
        self._loading = True
        generation = self._generation
        page_size = self.query.page_size
        pages = max(1, -(-len(self._rows) // page_size))  # as many pages as are loaded
        query = dataclasses.replace(self.query, page_size=pages * page_size)
        self.ops.query(
            lambda d: d.cases.list(query),
            on_success=lambda page: self._reloaded(generation, page),
            on_error=lambda exc: self._failed(generation, exc),
            owner=self,
            key=f"case-list-{id(self)}",
        )

    def _reloaded(self, generation: int, page: CasePage) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._cursor = page.next_cursor
        self._more = page.next_cursor is not None
        fresh = list(page.rows)
        wanted = {row.id for row in fresh}
        # Rows no longer listed go (bottom up, a run of neighbours at a time) ...
        end = len(self._rows) - 1
        while end >= 0:
            if self._rows[end].id in wanted:
                end -= 1
                continue
            start = end
            while start > 0 and self._rows[start - 1].id not in wanted:
                start -= 1
            self.beginRemoveRows(QModelIndex(), start, end)
            del self._rows[start : end + 1]
            self.endRemoveRows()
            end = start - 1
        # ... new ones come in at the end ...
        present = {row.id for row in self._rows}
        added = [row for row in fresh if row.id not in present]
        if added:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            self._rows.extend(added)
            self.endInsertRows()
        # ... and everything moves to its place, the selection following its case.
        if [row.id for row in self._rows] != [row.id for row in fresh]:
            self.layoutAboutToBeChanged.emit()
            place = {row.id: position for position, row in enumerate(fresh)}
            before = self.persistentIndexList()
            after = [self.index(place[self._rows[i.row()].id], i.column()) for i in before]
            self._rows = fresh
            self.changePersistentIndexList(before, after)
            self.layoutChanged.emit()
        else:
            self._rows = fresh
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, len(COLUMNS) - 1)
            )
        self.loaded.emit()

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
