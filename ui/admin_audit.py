"""The admin console's audit-trail tab: the trail newest first, a page at a time, with filters;
checking the hash chain; exporting it as CSV (the export is itself audited by the service)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QDir,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desk.services.audit import AuditFacets, AuditFilter, AuditPage, AuditRow
from ui.admin_common import MessageLine, button, error_text, tr
from ui.labels import local_time

if TYPE_CHECKING:
    from desk.domain.audit import BrokenLink
    from ui.operations import Operations

_Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("When", "Who", "Action", "Entity", "Id or reference", "Details")
PAGE_SIZE = 200
FILTER_DELAY_MS = 300
NO_DATE = QDate(2000, 1, 1)  # the date edits' "any" value


def details_text(details: str) -> str:
    """The stored JSON as ``key: value`` pairs, on one line."""
    try:
        value = json.loads(details)
    except ValueError:
        return details
    if not isinstance(value, dict):
        return details
    return "; ".join(
        f"{key}: {json.dumps(item, ensure_ascii=False) if isinstance(item, list | dict) else item}"
        for key, item in value.items()
    )


class AuditModel(QAbstractTableModel):
    """Pages arrive newest first as the view scrolls; the trail is never loaded whole."""

    loaded = Signal()
    loadFailed = Signal(str)
    loadingChanged = Signal(bool)

    def __init__(self, ops: Operations, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.wanted = AuditFilter()
        self.rows: list[AuditRow] = []
        self._before: int | None = None
        self._more = False
        self.loading = False
        self._generation = 0
        self._started = False

    def set_filter(self, wanted: AuditFilter) -> None:
        self.wanted = wanted
        self.refresh()

    def refresh(self) -> None:
        self._started = True
        self._generation += 1
        self.beginResetModel()
        self.rows = []
        self._before = None
        self._more = True
        self.endResetModel()
        self._fetch()

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._started and self._more and not self.loading

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._fetch()

    def _set_loading(self, loading: bool) -> None:
        self.loading = loading
        self.loadingChanged.emit(loading)

    def _fetch(self) -> None:
        self._set_loading(True)
        generation, wanted, before = self._generation, self.wanted, self._before
        self.ops.query(
            lambda d: d.admin.audit_entries(wanted, before_id=before, limit=PAGE_SIZE),
            on_success=lambda page: self._arrived(generation, page),
            on_error=lambda exc: self._failed(generation, exc),
            owner=self,
            key=f"audit-page-{id(self)}",
            label=tr("Loading the audit trail…"),
        )

    def _arrived(self, generation: int, page: AuditPage) -> None:
        if generation != self._generation:
            return  # a newer filter superseded this page (its own load is under way)
        self._before = page.next_before_id
        self._more = page.next_before_id is not None
        if page.rows:
            first = len(self.rows)
            self.beginInsertRows(QModelIndex(), first, first + len(page.rows) - 1)
            self.rows.extend(page.rows)
            self.endInsertRows()
        self._set_loading(False)
        self.loaded.emit()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._more = False
        self._set_loading(False)
        self.loadFailed.emit(error_text(exc))

    @property
    def more(self) -> bool:
        return self._more

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr(COLUMNS[section])
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return (
                local_time(row.at),
                row.actor_name,
                row.action,
                row.entity,
                row.entity_id,
                details_text(row.details),
            )[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            if index.column() == 0:
                return tr("Entry #{id}, {at} UTC").format(
                    id=row.id, at=row.at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
                )
            if index.column() == len(COLUMNS) - 1:
                return details_text(row.details)
        return None


def _date_edit(object_name: str, accessible_name: str) -> QDateEdit:
    edit = QDateEdit()
    edit.setObjectName(object_name)
    edit.setAccessibleName(accessible_name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setMinimumDate(NO_DATE)
    edit.setSpecialValueText(tr("any"))
    edit.setDate(NO_DATE)
    edit.setMinimumWidth(130)
    return edit


def _combo(object_name: str, accessible_name: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(object_name)
    combo.setAccessibleName(accessible_name)
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.setMinimumContentsLength(14)
    combo.addItem("")
    return combo


class AuditTab(QWidget):
    loadingChanged = Signal(bool)
    verified = Signal()
    exported = Signal()

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setObjectName("adminAuditTab")
        self.busy_actions = 0

        self.since = _date_edit("auditSince", self.tr("From date"))
        self.until = _date_edit("auditUntil", self.tr("To date"))
        self.action = _combo("auditAction", self.tr("Action"))
        self.who = QLineEdit()
        self.who.setObjectName("auditWho")
        self.who.setAccessibleName(self.tr("Who"))
        self.who.setPlaceholderText(self.tr("part of a name (Ctrl+F)"))
        self.who.setClearButtonEnabled(True)
        self.entity = _combo("auditEntity", self.tr("Entity"))
        self.entity_id = QLineEdit()
        self.entity_id.setObjectName("auditEntityId")
        self.entity_id.setAccessibleName(self.tr("Id or reference"))
        self.entity_id.setPlaceholderText(self.tr("e.g. C-2026-000123"))
        self.entity_id.setClearButtonEnabled(True)
        self.clear_button = button(
            self.tr("Clea&r filters"), "auditClearButton", self.tr("Clear filters")
        )
        self.clear_button.clicked.connect(self.clear_filters)

        filters = QVBoxLayout()
        rows = (
            (
                (self.tr("&From:"), self.since, 0),
                (self.tr("&To:"), self.until, 0),
                (self.tr("&Action:"), self.action, 1),
            ),
            (
                (self.tr("&Who:"), self.who, 1),
                (self.tr("&Entity:"), self.entity, 1),
                (self.tr("&Id or reference:"), self.entity_id, 1),
            ),
        )
        lines = []
        for fields in rows:
            line = QHBoxLayout()
            lines.append(line)
            for text, widget, stretch in fields:
                caption = QLabel(text)
                caption.setBuddy(widget)
                line.addWidget(caption)
                line.addWidget(widget, stretch)
                line.addSpacing(8)
            filters.addLayout(line)
        lines[1].addWidget(self.clear_button)

        self.model = AuditModel(ops, self)
        self.model.loadingChanged.connect(self._loading_changed)
        self.model.loaded.connect(self._update_count)
        self.model.loadFailed.connect(lambda message: self.message.error(message))
        self.table = QTableView()
        self.table.setObjectName("auditTable")
        self.table.setAccessibleName(self.tr("Audit trail entries"))
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for column, width in enumerate((140, 170, 150, 110, 150)):
            header.resizeSection(column, width)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

        self.count = QLabel()
        self.count.setObjectName("auditCount")
        self.count.setProperty("role", "hint")
        self.verify_button = button(
            self.tr("&Verify the trail"), "auditVerifyButton", self.tr("Verify the trail")
        )
        self.export_button = button(
            self.tr("E&xport CSV…"), "auditExportButton", self.tr("Export CSV")
        )
        self.verify_button.clicked.connect(self.verify)
        self.export_button.clicked.connect(self.export)
        self.message = MessageLine("auditMessage")

        actions = QHBoxLayout()
        actions.addWidget(self.count, 1)
        actions.addWidget(self.verify_button)
        actions.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(actions)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FILTER_DELAY_MS)
        self._timer.timeout.connect(self.apply_filter)
        for edit in (self.since, self.until):
            edit.dateChanged.connect(lambda _d: self._timer.start())
        for combo in (self.action, self.entity):
            combo.currentTextChanged.connect(lambda _t: self._timer.start())
        for line in (self.who, self.entity_id):
            line.textChanged.connect(lambda _t: self._timer.start())
            line.returnPressed.connect(self.apply_filter)

    # --- loading -----------------------------------------------------------------------------

    @property
    def loading(self) -> bool:
        return self.model.loading or self.busy_actions > 0

    def _loading_changed(self, _loading: bool) -> None:
        self.loadingChanged.emit(self.loading)

    def reload(self) -> None:
        self.ops.query(
            lambda d: d.admin.audit_facets(),
            on_success=self._facets,
            on_error=lambda exc: self.message.error(error_text(exc)),
            owner=self,
            key=f"audit-facets-{id(self)}",
        )
        self.apply_filter()

    def _facets(self, facets: AuditFacets) -> None:
        for combo, values in ((self.action, facets.actions), (self.entity, facets.entities)):
            text = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("")
            combo.addItems(list(values))
            combo.setEditText(text)
            combo.blockSignals(False)

    def current_filter(self) -> AuditFilter:
        def instant(edit: QDateEdit, *, next_day: bool) -> dt.datetime | None:
            date = edit.date()
            if date == NO_DATE:
                return None
            day = dt.date(date.year(), date.month(), date.day())
            if next_day:
                day += dt.timedelta(days=1)
            # Midnight where the admin is, as an aware instant.
            return dt.datetime.combine(day, dt.time()).astimezone()

        return AuditFilter(
            since=instant(self.since, next_day=False),
            until=instant(self.until, next_day=True),
            action=self.action.currentText().strip(),
            actor=self.who.text().strip(),
            entity=self.entity.currentText().strip(),
            entity_id=self.entity_id.text().strip(),
        )

    def apply_filter(self) -> None:
        self._timer.stop()
        self.model.set_filter(self.current_filter())

    def clear_filters(self) -> None:
        for widget in (self.since, self.until):
            widget.setDate(NO_DATE)
        for combo in (self.action, self.entity):
            combo.setEditText("")
        self.who.clear()
        self.entity_id.clear()
        self.apply_filter()

    def _update_count(self) -> None:
        shown = len(self.model.rows)
        if self.model.more:
            text = self.tr("{count} newest entries shown; scroll down for older ones.")
        else:
            text = self.tr("{count} entries.") if shown != 1 else self.tr("{count} entry.")
        self.count.setText(text.format(count=f"{shown:,}"))

    # --- verify and export -------------------------------------------------------------------

    def _begin(self) -> None:
        self.busy_actions += 1
        self.loadingChanged.emit(True)

    def _end(self) -> None:
        self.busy_actions -= 1
        self.loadingChanged.emit(self.loading)

    def verify(self) -> None:
        self.verify_button.setEnabled(False)
        self.message.info(self.tr("Checking every entry's hash and link…"))
        self._begin()
        self.ops.query(
            lambda d: d.verify_audit_trail(),
            on_success=self._verified,
            on_error=self._verify_failed,
            owner=self,
            label=self.tr("Verifying the audit trail…"),
        )

    def _verified(self, result: tuple[int, BrokenLink | None]) -> None:
        self._end()
        checked, broken = result
        self.verify_button.setEnabled(True)
        if broken is None:
            self.message.info(
                self.tr("The audit trail is whole: {count} entries checked.").format(
                    count=f"{checked:,}"
                )
            )
        else:
            self.message.error(
                self.tr("The audit trail is broken after {good} good entries. {link}").format(
                    good=f"{checked - 1:,}", link=str(broken)
                )
            )
        self.verified.emit()

    def _verify_failed(self, exc: BaseException) -> None:
        self._end()
        self.verify_button.setEnabled(True)
        self.message.error(error_text(exc))
        self.verified.emit()

    def ask_export_path(self) -> str:
        """Where to write the copy (a file dialog; tests replace it)."""
        suggested = str(Path(QDir.homePath()) / f"audit-{dt.date.today():%Y-%m-%d}.csv")
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Export the audit trail"), suggested, self.tr("CSV files (*.csv)")
        )
        return path

    def export(self) -> None:
        path = self.ask_export_path()
        if not path:
            return
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(".csv")
        self.export_button.setEnabled(False)
        self.message.info(self.tr("Writing {path}…").format(path=target))
        self._begin()
        self.ops.write(
            lambda d: d.admin.export_audit(target),
            on_success=lambda count: self._exported(target, count),
            on_error=self._export_failed,
            owner=self,
            label=self.tr("Exporting the audit trail…"),
        )

    def _exported(self, target: Path, count: int) -> None:
        self._end()
        self.export_button.setEnabled(True)
        self.message.info(
            self.tr(
                "Wrote {count} entries to {path}. The export itself is recorded in the trail."
            ).format(count=f"{count:,}", path=target)
        )
        self.exported.emit()

    def _export_failed(self, exc: BaseException) -> None:
        self._end()
        self.export_button.setEnabled(True)
        self.message.error(error_text(exc))
        self.exported.emit()
