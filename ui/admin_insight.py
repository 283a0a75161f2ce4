"""The admin console's script insight tab: how the guided scripts are used and how runs end.

For a chosen period, one line per script: its runs and how they ended (calmed and resolved,
escalated, the customer left, a safety incident, or unfinished when the officer moved on before the
end). The selected script shows its runs by version, and the turning points: the questions after
whose answer runs went on to an escalation, most frequent first. The service counts the runs of
the cases the reader may see; every read runs through ``ui.operations``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desk.domain.scripts import Outcome
from ui.admin_common import MessageLine, error_text, tr
from ui.script_editor import outcome_label

if TYPE_CHECKING:
    from desk.services.script_library import ScriptInsight
    from ui.operations import Operations

_Index = QModelIndex | QPersistentModelIndex
ID_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
UNFINISHED = "unfinished"  # the service's key for runs stored before their end

# (label, days back; None: all time)
PERIODS: tuple[tuple[str, int | None], ...] = (
    ("Last 30 days", 30),
    ("Last 90 days", 90),
    ("Last 12 months", 365),
    ("All time", None),
)
OUTCOME_COLUMNS = (
    Outcome.CALMED_AND_RESOLVED.value,
    Outcome.ESCALATED.value,
    Outcome.CUSTOMER_LEFT.value,
    Outcome.SAFETY_INCIDENT.value,
    UNFINISHED,
)


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "-"


class InsightModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[ScriptInsight] = []

    def set_rows(self, rows: Sequence[ScriptInsight]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def find(self, script_id: str) -> ScriptInsight | None:
        return next((r for r in self.rows if r.script_id == script_id), None)

    def headers(self) -> list[str]:
        outcomes = [
            outcome_label(o) if o != UNFINISHED else tr("Unfinished") for o in OUTCOME_COLUMNS
        ]
        return [tr("Script"), tr("Runs"), *outcomes]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 2 + len(OUTCOME_COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers()[section]
        return None

    def title(self, row: ScriptInsight) -> str:
        return tr("{title} (retired)").format(title=row.title) if row.retired else row.title

    def cell(self, row: ScriptInsight, column: int) -> str:
        if column == 0:
            return self.title(row)
        if column == 1:
            return str(row.runs)
        count = row.outcomes.get(OUTCOME_COLUMNS[column - 2], 0)
        if OUTCOME_COLUMNS[column - 2] == Outcome.ESCALATED.value and row.runs:
            return f"{count} ({_percent(count, row.runs)})"
        return str(count)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = self.rows[index.row()], index.column()
        if role == ID_ROLE:
            return row.script_id
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell(row, column)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{self.headers()[column]}: {self.cell(row, column)}"
        if role == SORT_ROLE:
            if column == 0:
                return self.title(row).casefold()
            if column == 1:
                return row.runs
            return row.outcomes.get(OUTCOME_COLUMNS[column - 2], 0)
        if role == Qt.ItemDataRole.TextAlignmentRole and column > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and row.retired:
            return Qt.GlobalColor.darkGray
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.script_id
        return None


def _small_table(object_name: str, accessible_name: str, headers: Sequence[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(object_name)
    table.setAccessibleName(accessible_name)
    table.setHorizontalHeaderLabels(list(headers))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setTabKeyNavigation(False)
    table.setAlternatingRowColors(True)
    table.setWordWrap(True)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return table


def _item(text: str, *, number: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if number:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class InsightTab(QWidget):
    """Emits ``loadingChanged`` while its data is being read."""

    loadingChanged = Signal(bool)
    loaded = Signal()

    def __init__(
        self,
        ops: Operations,
        parent: QWidget | None = None,
        *,
        clock: Any = None,
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setObjectName("adminInsightTab")
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.loading = False
        self._reload_again = False

        intro = QLabel(
            self.tr(
                "How the guided scripts are used. It counts the runs, started in the period, of "
                "the cases you may see. Unfinished: the officer moved on before the end. A "
                "turning point is a question after whose answer runs went on to an escalation."
            )
        )
        intro.setObjectName("insightIntro")
        intro.setWordWrap(True)
        intro.setProperty("role", "hint")
        self.period = QComboBox()
        self.period.setObjectName("insightPeriod")
        self.period.setAccessibleName(self.tr("Period"))
        for label, days in PERIODS:
            self.period.addItem(tr(label), days if days is not None else 0)
        self.period.setCurrentIndex(1)  # 90 days: enough runs to say something
        self.period.currentIndexChanged.connect(lambda _i: self.reload())
        period_label = QLabel(self.tr("&Period:"))
        period_label.setBuddy(self.period)
        self.total = QLabel()
        self.total.setObjectName("insightTotal")
        self.total.setProperty("role", "hint")

        self.model = InsightModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setObjectName("insightTable")
        self.table.setAccessibleName(self.tr("Runs per script"))
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setTabKeyNavigation(False)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # the most used first
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSortIndicatorShown(True)
        table_label = QLabel(self.tr("&Runs per script:"))
        table_label.setBuddy(self.table)

        self.detail_title = QLabel()
        self.detail_title.setObjectName("insightDetailTitle")
        self.detail_title.setWordWrap(True)
        font = self.detail_title.font()
        font.setBold(True)
        self.detail_title.setFont(font)
        self.versions = _small_table(
            "insightVersions", self.tr("Runs by version"), [tr("Version"), tr("Runs")]
        )
        self.versions.horizontalHeader().setStretchLastSection(True)
        versions_label = QLabel(self.tr("Runs by &version:"))
        versions_label.setBuddy(self.versions)
        self.turns = _small_table(
            "insightTurns",
            self.tr("Escalation turning points"),
            [tr("Question"), tr("Answer"), tr("Runs")],
        )
        self.turns.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.turns.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        turns_label = QLabel(self.tr("&Turning points to an escalation (most frequent first):"))
        turns_label.setBuddy(self.turns)
        self.no_turns = QLabel()
        self.no_turns.setObjectName("insightNoTurns")
        self.no_turns.setProperty("role", "hint")
        self.no_turns.setWordWrap(True)
        self.message = MessageLine("insightMessage")

        top = QHBoxLayout()
        top.addWidget(period_label)
        top.addWidget(self.period)
        top.addSpacing(12)
        top.addWidget(self.total, 1)

        upper = QWidget()
        upper_layout = QVBoxLayout(upper)
        upper_layout.setContentsMargins(0, 0, 0, 0)
        upper_layout.addWidget(table_label)
        upper_layout.addWidget(self.table, 1)

        versions_box = QWidget()
        versions_layout = QVBoxLayout(versions_box)
        versions_layout.setContentsMargins(0, 0, 0, 0)
        versions_layout.addWidget(versions_label)
        versions_layout.addWidget(self.versions, 1)
        turns_box = QWidget()
        turns_layout = QVBoxLayout(turns_box)
        turns_layout.setContentsMargins(0, 0, 0, 0)
        turns_layout.addWidget(turns_label)
        turns_layout.addWidget(self.turns, 1)
        turns_layout.addWidget(self.no_turns)
        details = QHBoxLayout()
        details.addWidget(versions_box, 1)
        details.addWidget(turns_box, 4)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.detail_title)
        lower_layout.addLayout(details, 1)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("insightSplitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(upper)
        splitter.addWidget(lower)
        splitter.setSizes([330, 250])

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self.show_detail())
        self.show_detail()

    # --- loading -----------------------------------------------------------------------------

    def since(self) -> dt.datetime | None:
        days = int(self.period.currentData() or 0)
        return self.clock() - dt.timedelta(days=days) if days else None

    def reload(self) -> None:
        if self.loading:
            self._reload_again = True
            return
        self._set_loading(True)
        since = self.since()
        self.ops.query(
            lambda d: d.scripts.insight(since=since),
            on_success=self._loaded,
            on_error=self._load_failed,
            owner=self,
            label=self.tr("Counting the script runs…"),
        )

    def _set_loading(self, loading: bool) -> None:
        self.loading = loading
        self.loadingChanged.emit(loading)

    def _loaded(self, rows: list[ScriptInsight]) -> None:
        current = self.current()
        keep = current.script_id if current is not None else None
        self.message.clear_message()
        self.model.set_rows(rows)
        if keep is not None:
            self.select(keep)
        if not self.table.currentIndex().isValid() and self.proxy.rowCount():
            self.table.setCurrentIndex(self.proxy.index(0, 0))
        runs = sum(r.runs for r in rows)
        escalated = sum(r.escalated for r in rows)
        self.total.setText(
            self.tr("{runs} run(s) in all, {escalated} escalated ({percent}).").format(
                runs=runs, escalated=escalated, percent=_percent(escalated, runs)
            )
        )
        self.total.setAccessibleName(self.total.text())
        self.show_detail()
        self._finish_loading()
        self.loaded.emit()

    def _load_failed(self, exc: BaseException) -> None:
        self.message.error(error_text(exc))
        self._finish_loading()

    def _finish_loading(self) -> None:
        self._set_loading(False)
        if self._reload_again:
            self._reload_again = False
            self.reload()

    # --- selection ---------------------------------------------------------------------------

    def current(self) -> ScriptInsight | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.find(str(self.proxy.data(index, ID_ROLE)))

    def select(self, script_id: str) -> None:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if self.proxy.data(index, ID_ROLE) == script_id:
                self.table.setCurrentIndex(index)
                self.table.selectRow(row)
                return

    def show_detail(self) -> None:
        row = self.current()
        self.versions.setRowCount(0)
        self.turns.setRowCount(0)
        if row is None:
            self.detail_title.setText(self.tr("Select a script to see its runs by version."))
            self.no_turns.hide()
            return
        self.detail_title.setText(
            self.tr("{title}: {runs} run(s) in the period").format(
                title=self.model.title(row), runs=row.runs
            )
        )
        self.detail_title.setAccessibleName(self.detail_title.text())
        self.versions.setRowCount(len(row.by_version))
        for i, (version, runs) in enumerate(row.by_version):
            self.versions.setItem(i, 0, _item(str(version), number=True))
            self.versions.setItem(i, 1, _item(str(runs), number=True))
        titles = {r.script_id: r.title for r in self.model.rows}
        self.turns.setRowCount(len(row.turns))
        for i, turn in enumerate(row.turns):
            question = turn.question
            if turn.script_id != row.script_id:  # it turned in a script this one led to
                question = self.tr("{question} (in {script})").format(
                    question=question, script=titles.get(turn.script_id, turn.script_id)
                )
            self.turns.setItem(i, 0, _item(question))
            self.turns.setItem(i, 1, _item(turn.answer))
            self.turns.setItem(i, 2, _item(str(turn.runs), number=True))
        self.turns.resizeRowsToContents()
        if not row.turns:
            self.no_turns.setText(
                self.tr("No run of this script ended in an escalation in the period.")
                if row.escalated == 0
                else self.tr("The escalated runs ended without a question before them.")
            )
        self.no_turns.setVisible(not row.turns)

    def turn_lines(self) -> list[str]:
        """The turning points shown, as "question → answer: runs" (for tests and readers)."""
        return [
            f"{self.turns.item(i, 0).text()} → {self.turns.item(i, 1).text()}: "
            f"{self.turns.item(i, 2).text()}"
            for i in range(self.turns.rowCount())
        ]
