"""The changes made offline: what still waits to be sent, and what needs the officer.

A change that met a newer save opens the same comparison as a save at the form (theirs, mine,
field by field); a change the server refused can be sent again or dropped; one set aside because
its stored copy was damaged says where the copy is. Nothing leaves the list without the officer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desk.domain.outbox import EntryState
from ui.operations import Operations, bug_message, is_user_error
from ui.widgets import ask_yes_no

if TYPE_CHECKING:
    from desk.services.offline import OfflineConflict, PendingChange


class PendingChangesDialog(QDialog):
    openCase = Signal(int)

    def __init__(self, ops: Operations, status: QObject, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.status = status
        self.changes: list[PendingChange] = []
        self.setObjectName("pendingChangesDialog")
        self.setAccessibleName(self.tr("Changes made offline"))
        self.setWindowTitle(self.tr("Changes made offline"))
        self.setMinimumSize(820, 420)
        layout = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setObjectName("pendingSummary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("pendingTable")
        self.table.setAccessibleName(self.tr("Changes waiting to be sent"))
        self.table.setHorizontalHeaderLabels(
            [self.tr("Made at"), self.tr("Change"), self.tr("State"), self.tr("Reference")]
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.itemSelectionChanged.connect(self._selected)
        layout.addWidget(self.table, 1)
        self.detail = QPlainTextEdit()
        self.detail.setObjectName("pendingDetail")
        self.detail.setAccessibleName(self.tr("What happened to this change"))
        self.detail.setReadOnly(True)
        self.detail.setMaximumHeight(90)
        layout.addWidget(self.detail)
        buttons = QHBoxLayout()
        self.send_button = self._button("pendingSend", self.tr("&Send now"), self.send_now)
        self.compare_button = self._button("pendingCompare", self.tr("&Compare…"), self.compare)
        self.open_button = self._button("pendingOpen", self.tr("&Open case"), self.open_case)
        self.retry_button = self._button("pendingRetry", self.tr("&Try again"), self.retry)
        self.discard_button = self._button("pendingDiscard", self.tr("&Discard…"), self.discard)
        for button in (
            self.send_button,
            self.compare_button,
            self.open_button,
            self.retry_button,
            self.discard_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.setObjectName("pendingClose")
        close.rejected.connect(self.reject)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self._selected()

    def _button(self, name: str, text: str, slot: Any) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAccessibleName(text.replace("&", "").rstrip("…"))
        button.clicked.connect(slot)
        return button

    # --- the list ------------------------------------------------------------------------

    def reload(self) -> None:
        self.ops.query(lambda d: d.offline.pending(), on_success=self._fill, owner=self)

    def _fill(self, changes: list[PendingChange]) -> None:
        self.changes = changes
        labels = {
            EntryState.WAITING: self.tr("Waiting to be sent"),
            EntryState.CONFLICT: self.tr("Changed by someone else: compare"),
            EntryState.FAILED: self.tr("Refused by the server"),
            EntryState.QUARANTINED: self.tr("Damaged: set aside"),
        }
        self.table.setRowCount(len(changes))
        for row, change in enumerate(changes):
            when = change.recorded_at.astimezone().strftime("%d %b %H:%M")
            cells = [
                when,
                change.description or self.tr("A damaged change"),
                labels.get(change.state, change.state.value),
                change.reference,
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, change.seq)
                self.table.setItem(row, column, item)
        waiting = sum(1 for c in changes if c.state is EntryState.WAITING)
        attention = len(changes) - waiting
        if not changes:
            self.summary.setText(self.tr("Everything made offline is on the server."))
        else:
            self.summary.setText(
                self.tr("Waiting to be sent: {waiting}. Needing you: {attention}.").format(
                    waiting=waiting, attention=attention
                )
            )
        if changes and not self.table.selectedItems():
            first = next((i for i, c in enumerate(changes) if c.state is not EntryState.WAITING), 0)
            self.table.selectRow(first)
        self._selected()

    def current(self) -> PendingChange | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.changes):
            return None
        return self.changes[rows[0].row()]

    def _selected(self) -> None:
        change = self.current()
        state = change.state if change else None
        self.detail.setPlainText(change.error if change else "")
        self.compare_button.setEnabled(state is EntryState.CONFLICT)
        self.retry_button.setEnabled(state is EntryState.FAILED)
        self.discard_button.setEnabled(
            state in (EntryState.FAILED, EntryState.QUARANTINED, EntryState.CONFLICT)
        )
        self.open_button.setEnabled(change is not None and change.case_uuid is not None)

    # --- actions -------------------------------------------------------------------------

    def _failed(self, exc: BaseException) -> None:
        self.detail.setPlainText(str(exc) if is_user_error(exc) else bug_message())

    def send_now(self) -> None:
        replay = getattr(self.status, "replay", None)
        if replay is not None:
            replay()
        self.ops.query(lambda d: d.offline.pending(), on_success=self._fill, owner=self)

    def retry(self) -> None:
        change = self.current()
        if change is None:
            return
        seq = change.seq
        self.ops.write(
            lambda d: d.offline.retry([seq]), on_success=lambda _r: self.send_now(), owner=self
        )

    def discard(self) -> None:
        change = self.current()
        if change is None:
            return
        seq = change.seq
        note = self.tr("Discarded by you.")

        def discard() -> None:
            self.ops.write(
                lambda d: d.offline.settle([seq], EntryState.DISCARDED, note),
                on_success=lambda _r: self.reload(),
                on_error=self._failed,
                owner=self,
            )

        self.discard_box = ask_yes_no(
            self,
            "pendingDiscardQuestion",
            self.tr("Discard this change?"),
            self.tr(
                "“{what}” will not be sent to the server. It stays recorded on this computer "
                "as discarded. Discard it?"
            ).format(what=change.description or change.reference),
            discard,
        )

    def open_case(self) -> None:
        change = self.current()
        if change is None or change.case_uuid is None:
            return
        case_uuid = change.case_uuid

        def found(case_id: int | None) -> None:
            if case_id is None:
                self.detail.setPlainText(self.tr("This case is not kept on this computer."))
                return
            self.openCase.emit(case_id)
            self.accept()

        self.ops.query(lambda d: d.offline.cached_case_id(case_uuid), on_success=found, owner=self)

    def compare(self) -> None:
        change = self.current()
        if change is None:
            return
        seq = change.seq
        self.ops.query(
            lambda d: (d.offline.compare(seq, d.cases), d.reference_data()),
            on_success=lambda found: self._show_conflict(*found),
            on_error=self._failed,
            owner=self,
            label=self.tr("Fetching the newer version of the case…"),
        )

    def _show_conflict(self, conflict: OfflineConflict, reference: Any) -> None:
        from desk.domain.conflict import Conflict
        from ui.conflict_dialog import ConflictDialog

        theirs = conflict.theirs
        last = theirs.timeline[0] if theirs.timeline else None
        dialog = ConflictDialog(
            Conflict.between(conflict.base, conflict.mine, conflict.theirs_content),
            reference=reference,
            case_reference=theirs.reference,
            changed_by=last.actor_name if last else "",
            changed_at=last.at if last else None,
            customers={theirs.customer.id: theirs.customer.full_name},
            parent=self,
            offline=True,
        )
        dialog.setObjectName("pendingConflictDialog")
        dialog.finished.connect(lambda result: self._decided(dialog, conflict, result))
        self.conflict_dialog = dialog
        dialog.open()

    def _decided(self, dialog: Any, conflict: OfflineConflict, result: int) -> None:
        self.conflict_dialog = None
        dialog.deleteLater()
        if result != QDialog.DialogCode.Accepted:
            return
        merged = dialog.merged()
        self.ops.write(
            lambda d: d.offline.resolve(conflict, merged, d.cases),
            on_success=lambda view: self._merged(view.reference),
            on_error=self._failed,
            owner=self,
            label=self.tr("Saving the merged case…"),
        )

    def _merged(self, reference: str) -> None:
        self.detail.setPlainText(
            self.tr("Saved {reference} as you merged it.").format(reference=reference)
        )
        self.reload()

    conflict_dialog: Any = None
    discard_box: Any = None
