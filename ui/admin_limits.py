"""The admin console's authority-limits tab: role × kind of request → the largest amount the role
may grant on its own, in the organisation's currency.

A cell is saved when its edit is committed (Enter, or moving away). The admin service validates
the amount; a refusal keeps what was typed in the cell, marks it and says why under the table;
warnings (a limit above the next role up) are shown as warnings, the limit being saved.
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
from desk.services.admin import LimitsMatrix
from ui.admin_common import MessageLine, error_text, tr

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
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(caption)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.warnings)
        layout.addWidget(self.message)
        self._describe()

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
            lambda d: d.admin.limits(),
            on_success=self._loaded,
            on_error=self._load_failed,
            owner=self,
            label=self.tr("Loading authority limits…"),
        )

    def _loaded(self, matrix: LimitsMatrix) -> None:
        current = self.table.currentIndex()
        row, column = (current.row(), current.column()) if current.isValid() else (0, 0)
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
