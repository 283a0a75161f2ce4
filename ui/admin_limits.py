"""The admin console's authority-limits tab: role × kind of request → the largest amount the role
may grant on its own, in the organisation's currency.

A cell is saved when its edit is committed (Enter, or moving away). The admin service validates
the amount; a refusal keeps what was typed in the cell, marks it and says why under the table;
warnings (a limit above the next role up) are shown as warnings, the limit being saved.

Under the matrix, the kinds of request: an admin adds one (it becomes a new column, every limit 0
until set) or takes one out of use (its column goes; one with requests waiting for a decision
stays until they are decided).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desk.domain.money import Currency, to_major_text
from desk.services.admin import GRANT_PERMISSIONS, LimitsMatrix, RequestKindInfo
from ui.admin_common import MessageLine, button, error_text, retitle, tr
from ui.admin_organisation import FieldDialog, RowsModel, state_text
from ui.admin_roles import permission_label

if TYPE_CHECKING:
    from ui.operations import Operations

_Index = QModelIndex | QPersistentModelIndex
SAVING_BACKGROUND = QColor("#fff1b8")
REFUSED_BACKGROUND = QColor("#fde2e1")


@dataclass
class _Cell:
    text: str
    saving: bool
    message: str = ""


class LimitsModel(QAbstractTableModel):
    """Rows: roles by rank; columns: kinds of request."""

    commitRequested = Signal(str, str, str)  # role, kind, the text typed

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.matrix: LimitsMatrix | None = None
        self.cells: dict[tuple[str, str], _Cell] = {}

    @property
    def currency(self) -> Currency:
        matrix = self.matrix
        code, decimals = (matrix.currency_code, matrix.currency_decimals) if matrix else ("", 2)
        return Currency(code=code, symbol="", decimals=decimals)

    def set_matrix(self, matrix: LimitsMatrix) -> None:
        """Fresh limits; cells still being saved or refused keep what the admin typed."""
        self.beginResetModel()
        self.matrix = matrix
        self.cells = {
            key: cell
            for key, cell in self.cells.items()
            if key[0] in matrix.roles and key[1] in {code for code, _ in matrix.kinds}
        }
        self.endResetModel()

    def key(self, index: _Index) -> tuple[str, str] | None:
        matrix = self.matrix
        if matrix is None or not index.isValid():
            return None
        return matrix.roles[index.row()], matrix.kinds[index.column()][0]

    def index_of(self, role: str, kind: str) -> QModelIndex:
        matrix = self.matrix
        if matrix is None or role not in matrix.roles:
            return QModelIndex()
        codes = [code for code, _ in matrix.kinds]
        if kind not in codes:
            return QModelIndex()
        return self.index(matrix.roles.index(role), codes.index(kind))

    def kind_label(self, kind: str) -> str:
        labels = dict(self.matrix.kinds) if self.matrix else {}
        return labels.get(kind, kind)

    def saved(self, role: str, kind: str) -> None:
        self.cells.pop((role, kind), None)
        self._changed(role, kind)

    def refused(self, role: str, kind: str, message: str) -> None:
        cell = self.cells.get((role, kind))
        if cell is not None:
            cell.saving, cell.message = False, message
        self._changed(role, kind)

    def _changed(self, role: str, kind: str) -> None:
        index = self.index_of(role, kind)
        if index.isValid():
            self.dataChanged.emit(index, index)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.matrix is None else len(self.matrix.roles)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.matrix is None else len(self.matrix.kinds)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        matrix = self.matrix
        if matrix is None or role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Vertical:
            return matrix.roles[section]
        return f"{matrix.kinds[section][1]} ({matrix.currency_code})"

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        key = self.key(index)
        matrix = self.matrix
        if key is None or matrix is None:
            return None
        cell = self.cells.get(key)
        stored = matrix.limit(*key)
        if role == Qt.ItemDataRole.DisplayRole:
            return cell.text if cell is not None else self.currency.format(stored)
        if role == Qt.ItemDataRole.EditRole:
            return cell.text if cell is not None else to_major_text(stored, self.currency)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole and cell is not None:
            return SAVING_BACKGROUND if cell.saving else REFUSED_BACKGROUND
        if role == Qt.ItemDataRole.DecorationRole and cell is not None and not cell.saving:
            # Seen even when the cell is selected (its background then is not).
            return QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            text = tr("{role}, {kind}: {amount} {currency}").format(
                role=key[0],
                kind=self.kind_label(key[1]),
                amount=cell.text if cell is not None else self.currency.format(stored),
                currency=matrix.currency_code,
            )
            if cell is not None:
                text += " — " + (tr("saving…") if cell.saving else cell.message)
            return text
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        key = self.key(index)
        matrix = self.matrix
        if key is None or matrix is None or role != Qt.ItemDataRole.EditRole:
            return False
        text = str(value).strip()
        cell = self.cells.get(key)
        stored = matrix.limit(*key)
        unchanged_text = cell.text if cell is not None else to_major_text(stored, self.currency)
        if text == unchanged_text and (cell is None or cell.saving):
            return False  # nothing new to save
        if cell is None and text in (self.currency.format(stored), ""):
            return False
        self.cells[key] = _Cell(text, saving=True)
        self.dataChanged.emit(index, index)
        self.commitRequested.emit(key[0], key[1], text)
        return True


KIND_COLUMNS = ("Code", "Kind of request", "Granted on the spot with", "Waiting", "State")


def _kind_cells(info: RequestKindInfo) -> tuple[str, ...]:
    return (
        info.code,
        info.label,
        permission_label(info.grant_permission),
        str(info.pending),
        state_text(info.active),
    )


class _AmountDelegate(QStyledItemDelegate):
    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: _Index) -> QWidget:
        editor = QLineEdit(parent)
        editor.setObjectName("limitEditor")
        editor.setAccessibleName(tr("Limit"))
        editor.setAlignment(Qt.AlignmentFlag.AlignRight)
        return editor


class LimitsTab(QWidget):
    loadingChanged = Signal(bool)
    loaded = Signal()
    settled = Signal()  # a cell's save finished (saved or refused)

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setObjectName("adminLimitsTab")
        self.loading = False
        self._reload_again = False

        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.model = LimitsModel(self)
        self.model.commitRequested.connect(self._commit)
        self.table = QTableView()
        self.table.setObjectName("limitsTable")
        self.table.setAccessibleName(self.tr("Authority limits"))
        self.table.setModel(self.model)
        self.table.setItemDelegate(_AmountDelegate(self.table))
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.table.setTabKeyNavigation(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        caption = QLabel(self.tr("&Limits:"))
        caption.setBuddy(self.table)
        self.message = MessageLine("limitsMessage")
        self.warnings = MessageLine("limitsWarning")

        self.dialog: AddKindDialog | None = None
        self.kinds = RowsModel(KIND_COLUMNS, _kind_cells, self)
        self.kinds_table = QTableView()
        self.kinds_table.setObjectName("kindsTable")
        self.kinds_table.setAccessibleName(self.tr("Kinds of request"))
        self.kinds_table.setModel(self.kinds)
        self.kinds_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.kinds_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.kinds_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.kinds_table.setTabKeyNavigation(False)
        self.kinds_table.verticalHeader().hide()
        self.kinds_table.horizontalHeader().setStretchLastSection(True)
        self.kinds_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.kinds_table.selectionModel().currentRowChanged.connect(
            lambda *_: self._update_kind_buttons()
        )
        kinds_caption = QLabel(self.tr("&Kinds of request:"))
        kinds_caption.setBuddy(self.kinds_table)
        kinds_hint = QLabel(
            self.tr(
                "A new kind becomes a column of the limits above, every role's limit 0 until you "
                "set it. A disabled kind is no longer offered; one with requests waiting for a "
                "decision stays in use until they are decided."
            )
        )
        kinds_hint.setWordWrap(True)
        kinds_hint.setProperty("role", "hint")
        self.add_kind_button = button(
            self.tr("&Add a kind of request…"), "kindAddButton", self.tr("Add a kind of request")
        )
        self.kind_active_button = button(
            self.tr("&Disable"), "kindActiveButton", self.tr("Disable")
        )
        self.add_kind_button.clicked.connect(self.add_kind)
        self.kind_active_button.clicked.connect(self.toggle_kind)
        self.kinds_message = MessageLine("kindsMessage")
        kind_actions = QHBoxLayout()
        kind_actions.addWidget(self.add_kind_button)
        kind_actions.addWidget(self.kind_active_button)
        kind_actions.addStretch(1)
        self._select_kind_after_load = ""

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(caption)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.warnings)
        layout.addWidget(self.message)
        layout.addWidget(kinds_caption)
        layout.addWidget(kinds_hint)
        layout.addWidget(self.kinds_table, 2)
        layout.addWidget(self.kinds_message)
        layout.addLayout(kind_actions)
        self._describe()
        self._update_kind_buttons()

    def _describe(self) -> None:
        code = self.model.matrix.currency_code if self.model.matrix else ""
        self.intro.setText(
            self.tr(
                "The largest amount each role may grant on its own, per kind of request{currency}. "
                "A customer's earlier grants of the same kind within the rolling window count "
                "toward it. Type an amount in a cell and press Enter to save it; F2 edits a cell."
            ).format(currency=self.tr(", in {code}").format(code=code) if code else "")
        )

    # --- loading -----------------------------------------------------------------------------

    def reload(self) -> None:
        if self.loading:
            self._reload_again = True
            return
        self.loading = True
        self.loadingChanged.emit(True)
        self.ops.query(
            lambda d: (d.admin.limits(), d.admin.request_kinds()),
            on_success=self._loaded,
            on_error=self._load_failed,
            owner=self,
            label=self.tr("Loading authority limits…"),
        )

    def _loaded(self, data: tuple[LimitsMatrix, list[RequestKindInfo]]) -> None:
        matrix, kinds = data
        current = self.table.currentIndex()
        row, column = (current.row(), current.column()) if current.isValid() else (0, 0)
        if self._select_kind_after_load in {code for code, _ in matrix.kinds}:
            column = [code for code, _ in matrix.kinds].index(self._select_kind_after_load)
        self._show_kinds(kinds)
        self.model.set_matrix(matrix)
        if self.model.rowCount() and self.model.columnCount():
            self.table.setCurrentIndex(
                self.model.index(
                    min(row, self.model.rowCount() - 1), min(column, self.model.columnCount() - 1)
                )
            )
        self._describe()
        self._finish()
        self.loaded.emit()

    def _load_failed(self, exc: BaseException) -> None:
        self.message.error(error_text(exc))
        self._finish()

    def _finish(self) -> None:
        self.loading = False
        self.loadingChanged.emit(False)
        if self._reload_again:
            self._reload_again = False
            self.reload()

    # --- saving a cell -----------------------------------------------------------------------

    def refusals(self) -> list[str]:
        return [
            self.tr("{where}: {message}").format(where=self._where(*key), message=cell.message)
            for key, cell in self.model.cells.items()
            if not cell.saving and cell.message
        ]

    def _show_refusals(self) -> None:
        """Every refused cell says why, until it is saved: the cell is marked, this says why."""
        refusals = self.refusals()
        if refusals:
            self.message.error(
                " ".join(refusals) + " " + self.tr("What you typed is kept in the cell.")
            )

    def _commit(self, role: str, kind: str, text: str) -> None:
        self.message.clear_message()
        self.warnings.clear_message()
        self.ops.write(
            lambda d: d.admin.set_limit(role, kind, text),
            on_success=lambda warnings: self._saved(role, kind, warnings),
            on_error=lambda exc: self._refused(role, kind, exc),
            owner=self,
            label=self.tr("Saving the limit…"),
        )

    def _where(self, role: str, kind: str) -> str:
        return self.tr("{role}, {kind}").format(role=role, kind=self.model.kind_label(kind))

    def _saved(self, role: str, kind: str, warnings: list[str]) -> None:
        self.model.saved(role, kind)
        if warnings:
            self.warnings.warning(
                self.tr("{where}: saved, but note: {warnings}").format(
                    where=self._where(role, kind), warnings=" ".join(warnings)
                )
            )
        else:
            self.message.info(self.tr("{where}: saved.").format(where=self._where(role, kind)))
        self._show_refusals()
        self.settled.emit()

    def _refused(self, role: str, kind: str, exc: BaseException) -> None:
        message = error_text(exc)
        self.model.refused(role, kind, message)
        self._show_refusals()
        index = self.model.index_of(role, kind)
        if index.isValid():
            self.table.setCurrentIndex(index)
        self.settled.emit()

    # --- kinds of request --------------------------------------------------------------------

    def _show_kinds(self, kinds: list[RequestKindInfo]) -> None:
        current = self.selected_kind()
        keep = self._select_kind_after_load or (current.code if current is not None else "")
        self._select_kind_after_load = ""
        self.kinds.set_rows(kinds)
        codes = [k.code for k in kinds]
        if keep in codes:
            self.kinds_table.setCurrentIndex(self.kinds.index(codes.index(keep), 0))
        elif kinds:
            self.kinds_table.setCurrentIndex(self.kinds.index(0, 0))
        self._update_kind_buttons()

    def selected_kind(self) -> RequestKindInfo | None:
        index = self.kinds_table.currentIndex()
        return self.kinds.rows[index.row()] if index.isValid() else None

    def select_kind(self, code: str) -> None:
        for row, kind in enumerate(self.kinds.rows):
            if kind.code == code:
                self.kinds_table.setCurrentIndex(self.kinds.index(row, 0))
                return

    def _update_kind_buttons(self) -> None:
        kind = self.selected_kind()
        self.kind_active_button.setEnabled(kind is not None)
        retitle(
            self.kind_active_button,
            self.tr("&Enable") if kind is not None and not kind.active else self.tr("&Disable"),
        )

    def add_kind(self) -> None:
        dialog = AddKindDialog(self.ops, parent=self.window())
        dialog.added.connect(self._kind_added)
        dialog.finished.connect(lambda _result: self.kinds_table.setFocus())
        self.dialog = dialog
        dialog.open()
        dialog.activateWindow()

    def _kind_added(self, kind: RequestKindInfo) -> None:
        self.kinds_message.info(
            self.tr(
                "{label} was added as a new column of the limits; every role's limit for it is "
                "0 until you set it."
            ).format(label=kind.label)
        )
        self._select_kind_after_load = kind.code  # the reload after the write shows it

    def toggle_kind(self) -> None:
        kind = self.selected_kind()
        if kind is None:
            return
        code, enable = kind.code, not kind.active
        self.kind_active_button.setEnabled(False)
        self.kinds_message.clear_message()
        self.ops.write(
            lambda d: d.admin.set_request_kind_active(code, enable),
            on_success=self._kind_active_changed,
            on_error=self._kind_refused,
            owner=self,
            label=self.tr("Changing the kind of request…"),
        )

    def _kind_active_changed(self, kind: RequestKindInfo) -> None:
        if kind.active:
            text = self.tr("{label} is in use again, with the limits it had.")
        else:
            text = self.tr(
                "{label} is no longer offered and its column is hidden; Enable undoes it."
            )
        self.kinds_message.info(text.format(label=kind.label))
        self._update_kind_buttons()

    def _kind_refused(self, exc: BaseException) -> None:
        self.kinds_message.error(error_text(exc))
        self._update_kind_buttons()


class AddKindDialog(FieldDialog):
    """A new kind of request: its code, its label, and which permission grants it on the spot."""

    added = Signal(object)  # RequestKindInfo

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.setObjectName("addKindDialog")
        self.setWindowTitle(self.tr("Add a kind of request"))
        self.setMinimumWidth(520)
        self.code = QLineEdit()
        self.code.setObjectName("kindCode")
        self.code.setAccessibleName(self.tr("Code"))
        self.code.setPlaceholderText(self.tr("lower-case letters, digits and _, e.g. late_fee"))
        self.label = QLineEdit()
        self.label.setObjectName("kindLabel")
        self.label.setAccessibleName(self.tr("Label"))
        self.label.setPlaceholderText(self.tr("as staff read it, e.g. Late fee refund"))
        self.permission = QComboBox()
        self.permission.setObjectName("kindPermission")
        self.permission.setAccessibleName(self.tr("Granted on the spot with"))
        for permission in GRANT_PERMISSIONS:
            self.permission.addItem(permission_label(permission), permission)
        hint = QLabel(
            self.tr(
                "Staff whose role has this permission grant it at the counter within their "
                "limit; above it, the request goes to someone whose limit covers it."
            )
        )
        hint.setWordWrap(True)
        hint.setProperty("role", "hint")
        self.add_field("code", self.tr("&Code:"), self.code)
        self.add_field("label", self.tr("&Label:"), self.label)
        self.add_field("grant_permission", self.tr("&Granted with:"), self.permission, hint)
        self.finish_layout(self.tr("&Add"), "addKindButton")
        self.code.setFocus()

    def submit(self) -> None:
        if self.busy:
            return
        self.clear_errors()
        code, label = self.code.text(), self.label.text()
        permission = str(self.permission.currentData() or "")
        self.set_busy(True)
        self.ops.write(
            lambda d: d.admin.add_request_kind(code, label, permission),
            on_success=self._added,
            on_error=self.failed,
            owner=self,
            label=self.tr("Adding the kind of request…"),
        )

    def _added(self, kind: RequestKindInfo) -> None:
        self.set_busy(False)
        self.added.emit(kind)
        self.accept()
