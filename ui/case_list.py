"""The case list screen: scope, search, filters and a table that pages in cases as you scroll."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desk.domain.authority import Permission
from desk.domain.model import OPEN_STATUSES, CaseKind, CaseStatus, Channel
from desk.services.dto import CaseQuery, CaseScope, ReferenceData
from ui.case_list_model import CASE_ID_ROLE, COLUMNS, CaseListModel
from ui.labels import label
from ui.operations import Operations
from ui.widgets import enum_data

_NO_DATE = QDate(2000, 1, 1)
_OPEN = "open"


class CaseTable(QTableView):
    """Enter opens the selected case (as double-click does)."""

    openRequested = Signal(int)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self._open(self.currentIndex())
            return
        super().keyPressEvent(event)

    def _open(self, index: QModelIndex) -> None:
        case_id = index.siblingAtColumn(0).data(CASE_ID_ROLE)
        if case_id is not None:
            self.openRequested.emit(int(case_id))


class CaseListWidget(QWidget):
    """Finds cases; emits ``openRequested(case_id)`` when the officer opens one."""

    openRequested = Signal(int)

    def __init__(
        self, ops: Operations, reference: ReferenceData, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setObjectName("caseList")
        self.model = CaseListModel(ops, self)

        self.scope = QComboBox()
        self.scope.setObjectName("caseScope")
        self.scope.setAccessibleName(self.tr("Which cases"))
        self.scope.addItem(self.tr("My open cases"), CaseScope.MINE)
        self.scope.addItem(self.tr("My centre"), CaseScope.CENTRE)
        session = ops.desk.session if ops.desk else None
        if session is None or session.can(Permission.VIEW_ALL_CASES):
            self.scope.addItem(self.tr("All cases"), CaseScope.ALL)
        else:  # the role sees its centre's cases and its own: "all" would say more than it shows
            self.scope.addItem(self.tr("All I may see"), CaseScope.ALL)
        self.scope.setCurrentIndex(1)

        self.search = QLineEdit()
        self.search.setObjectName("caseSearch")
        self.search.setAccessibleName(self.tr("Search cases"))
        self.search.setPlaceholderText(
            self.tr("Reference, customer name or number, words of the description… (Ctrl+F)")
        )
        self.search.setClearButtonEnabled(True)

        self.status = QComboBox()
        self.status.setObjectName("statusFilter")
        self.status.setAccessibleName(self.tr("Status filter"))
        self.status.addItem(self.tr("Any status"), None)
        self.status.addItem(self.tr("Open"), _OPEN)
        for status in CaseStatus:
            self.status.addItem(label(status), status)

        self.category = QComboBox()
        self.category.setObjectName("categoryFilter")
        self.category.setAccessibleName(self.tr("Category filter"))
        self.category.addItem(self.tr("Any category"), None)
        for option in reference.categories:
            self.category.addItem(option.name, option.id)

        self.channel = QComboBox()
        self.channel.setObjectName("channelFilter")
        self.channel.setAccessibleName(self.tr("Channel filter"))
        self.channel.addItem(self.tr("Any channel"), None)
        for channel in Channel:
            self.channel.addItem(label(channel), channel)

        self.kind = QComboBox()
        self.kind.setObjectName("kindFilter")
        self.kind.setAccessibleName(self.tr("Kind filter"))
        self.kind.addItem(self.tr("Any kind"), None)
        for kind in CaseKind:
            self.kind.addItem(label(kind), kind)

        self.date_from = self._date_edit("dateFrom", self.tr("Opened from"))
        self.date_to = self._date_edit("dateTo", self.tr("Opened until"))

        self.table = CaseTable()
        self.table.setObjectName("caseTable")
        self.table.setAccessibleName(self.tr("Cases"))
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((130, 125, 160, 90, 90, 120, 70, 120, 130)):
            header.resizeSection(column, width)
        header.setSortIndicator(1, Qt.SortOrder.DescendingOrder)
        header.setSortIndicatorShown(True)
        header.setSectionsClickable(True)
        header.sectionClicked.connect(self._header_clicked)
        self.table.doubleClicked.connect(self.table._open)
        self.table.openRequested.connect(self.openRequested)

        self.info = QLabel()
        self.info.setObjectName("caseListInfo")
        self.info.setProperty("role", "hint")

        search_label = QLabel(self.tr("Sea&rch:"))
        search_label.setBuddy(self.search)
        scope_label = QLabel(self.tr("Sh&ow:"))
        scope_label.setBuddy(self.scope)
        top = QHBoxLayout()
        top.addWidget(scope_label)
        top.addWidget(self.scope)
        top.addWidget(search_label)
        top.addWidget(self.search, 1)
        filters = QHBoxLayout()
        for widget in (self.status, self.category, self.channel, self.kind):
            filters.addWidget(widget)
        from_label = QLabel(self.tr("Opened fro&m:"))
        from_label.setBuddy(self.date_from)
        to_label = QLabel(self.tr("&until:"))
        to_label.setBuddy(self.date_to)
        filters.addWidget(from_label)
        filters.addWidget(self.date_from)
        filters.addWidget(to_label)
        filters.addWidget(self.date_to)
        filters.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.info)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self.apply_query)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.search.returnPressed.connect(self._search_now)
        for combo in (self.scope, self.status, self.category, self.channel, self.kind):
            combo.currentIndexChanged.connect(lambda _i: self.apply_query())
        for edit in (self.date_from, self.date_to):
            edit.dateChanged.connect(lambda _d: self._debounce.start())
        self.model.loaded.connect(self._update_info)
        self.model.loadFailed.connect(self._show_failure)
        ops.changed.connect(self.model.refresh)

        self.setTabOrder(self.scope, self.search)
        self.setTabOrder(self.search, self.status)
        self.setTabOrder(self.status, self.category)
        self.setTabOrder(self.category, self.channel)
        self.setTabOrder(self.channel, self.kind)
        self.setTabOrder(self.kind, self.date_from)
        self.setTabOrder(self.date_from, self.date_to)
        self.setTabOrder(self.date_to, self.table)

    def _date_edit(self, name: str, accessible: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setObjectName(name)
        edit.setAccessibleName(accessible)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("dd MMM yyyy")
        edit.setMinimumDate(_NO_DATE)
        edit.setSpecialValueText(self.tr("any date"))
        edit.setDate(_NO_DATE)
        return edit

    @staticmethod
    def _date_value(edit: QDateEdit) -> dt.date | None:
        value = edit.date()
        if value == _NO_DATE:
            return None
        return dt.date(value.year(), value.month(), value.day())

    def current_query(self) -> CaseQuery:
        status = self.status.currentData()
        if status == _OPEN:
            statuses: tuple[CaseStatus, ...] = tuple(sorted(OPEN_STATUSES))
        elif status:
            statuses = (CaseStatus(status),)
        else:
            statuses = ()
        return CaseQuery(
            scope=enum_data(self.scope, CaseScope) or CaseScope.CENTRE,
            text=self.search.text().strip(),
            statuses=statuses,
            category_id=self.category.currentData(),
            channel=enum_data(self.channel, Channel),
            kind=enum_data(self.kind, CaseKind),
            opened_from=self._date_value(self.date_from),
            opened_to=self._date_value(self.date_to),
            sort=self.model.query.sort,
            descending=self.model.query.descending,
        )

    def apply_query(self) -> None:
        self._debounce.stop()
        self.info.setText(self.tr("Searching…"))
        self.model.set_query(self.current_query())

    def _search_now(self) -> None:
        self.apply_query()
        self.table.setFocus()
        if self.model.rowCount():
            self.table.selectRow(0)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _header_clicked(self, column: int) -> None:
        if COLUMNS[column][1] is None:
            # Only indexed columns sort on the server; put the indicator back.
            header = self.table.horizontalHeader()
            current = next(i for i, (_n, s) in enumerate(COLUMNS) if s == self.model.query.sort)
            order = (
                Qt.SortOrder.DescendingOrder
                if self.model.query.descending
                else Qt.SortOrder.AscendingOrder
            )
            header.blockSignals(True)
            header.setSortIndicator(current, order)
            header.blockSignals(False)
            self.info.setText(self.tr("This column cannot be sorted."))
            return
        header = self.table.horizontalHeader()
        self.model.sort(column, header.sortIndicatorOrder())

    def _update_info(self) -> None:
        count = self.model.rowCount()
        more = self.model.canFetchMore()
        if count == 0:
            self.info.setText(self.tr("No cases match."))
        elif more:
            self.info.setText(self.tr("{n} cases shown; scroll for more.").format(n=count))
        else:
            self.info.setText(self.tr("{n} cases.").format(n=count))
        if self.table.currentIndex().row() < 0 and count and self.table.hasFocus():
            self.table.selectRow(0)

    def _show_failure(self, message: str) -> None:
        self.info.setText(message)

    def selected_case_id(self) -> int | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        value = index.siblingAtColumn(0).data(CASE_ID_ROLE)
        return int(value) if value is not None else None
