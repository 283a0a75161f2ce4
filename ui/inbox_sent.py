"""The officer's requests sent for a decision: where each stands, the decision's reason, and
suggested words for telling the customer (``desk.domain.decision_wording``)."""

from __future__ import annotations

import itertools

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desk.domain.decision_wording import is_partial
from desk.domain.money import Currency
from desk.services.inbox import SentItem
from ui.inbox_common import TriageTable, caption, make_button, value_label
from ui.inbox_model import SentModel
from ui.labels import local_time
from ui.operations import Operations
from ui.widgets import set_role


class SentForDecisionWidget(QWidget):
    """The logged-in person's requests sent for a decision, where each stands, the decision's
    reason and suggested words for telling the customer.

    Signal: ``openCaseRequested(case_id)`` when the person opens a request's case (Enter)."""

    openCaseRequested = Signal(int)

    def __init__(
        self, ops: Operations, reference_currency: Currency, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.currency = reference_currency
        self.setObjectName("sentForDecision")
        self.setAccessibleName(self.tr("Sent for decision"))
        self.model = SentModel(ops, reference_currency, self)
        self._restore: int | None = None

        self.title = QLabel(self.tr("Sent for decision"))
        self.title.setObjectName("sentTitle")
        self.title.setProperty("role", "title")
        self.scope = QComboBox()
        self.scope.setObjectName("sentScope")
        self.scope.setAccessibleName(self.tr("Which requests"))
        self.scope.addItem(self.tr("Waiting or returned"), True)
        self.scope.addItem(self.tr("All my requests"), False)
        self.table = TriageTable(actions=False)
        self.table.setObjectName("sentTable")
        self.table.setAccessibleName(self.tr("Your requests sent for decision"))
        self.table.setModel(self.model)
        for column, width in enumerate((130, 80, 85, 140, 115, 170)):
            self.table.horizontalHeader().resizeSection(column, width)

        self.heading = QLabel()
        self.heading.setObjectName("sentHeading")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setProperty("role", "title")
        self.heading.setWordWrap(True)
        self.state = value_label("sentState", self.tr("Where it stands"))
        self.your_reason = value_label("sentReason", self.tr("Your reason"))
        self.decision_reason = value_label("sentDecisionReason", self.tr("The decision's reason"))
        self.wording = QPlainTextEdit()
        self.wording.setObjectName("sentWording")
        self.wording.setAccessibleName(self.tr("Suggested words for the customer"))
        self.wording.setReadOnly(True)
        self.wording.setTabChangesFocus(True)
        self.wording.setFixedHeight(self.wording.fontMetrics().lineSpacing() * 7 + 14)
        self.copy_button = make_button(
            self.tr("&Copy the words"), "sentCopyWording", self.tr("Copy the suggested words")
        )
        self.open_button = make_button(
            self.tr("&Open case (Enter)"), "sentOpenCase", self.tr("Open the case")
        )
        self.info = QLabel()
        self.info.setObjectName("sentInfo")
        self.info.setProperty("role", "hint")

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(caption(self.tr("Sho&w:"), self.scope))
        top.addWidget(self.scope)
        pane = QWidget()
        pane.setObjectName("sentDetail")
        pane_layout = QVBoxLayout(pane)
        pane_layout.setContentsMargins(0, 0, 0, 0)
        pane_layout.addWidget(self.heading)
        facts = QFormLayout()
        facts.addRow(self.tr("State:"), self.state)
        facts.addRow(self.tr("You asked because:"), self.your_reason)
        facts.addRow(self.tr("Decision's reason:"), self.decision_reason)
        pane_layout.addLayout(facts)
        pane_layout.addWidget(caption(self.tr("Suggested &words for the customer:"), self.wording))
        pane_layout.addWidget(self.wording)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        pane_layout.addLayout(buttons)
        pane_layout.addStretch(1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("sentSplitter")
        splitter.addWidget(self.table)
        splitter.addWidget(pane)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([760, 440])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.info)
        chain: list[QWidget] = [
            self.scope,
            self.table,
            self.wording,
            self.copy_button,
            self.open_button,
        ]
        for first, second in itertools.pairwise(chain):
            self.setTabOrder(first, second)

        self.scope.currentIndexChanged.connect(
            lambda _i: self.model.set_open_only(bool(self.scope.currentData()))
        )
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.openRequested.connect(self.open_case)
        self.open_button.clicked.connect(self.open_case)
        self.copy_button.clicked.connect(self.copy_wording)
        self.model.loaded.connect(self._loaded)
        self.model.loadFailed.connect(self.info.setText)
        ops.changed.connect(self.refresh)
        self._show(None)
        self.refresh()

    def current_item(self) -> SentItem | None:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= self.model.rowCount():
            return None
        return self.model.row_at(index.row())

    def refresh(self) -> None:
        current = self.current_item()
        self._restore = current.id if current else None
        self.model.refresh()

    def _loaded(self) -> None:
        restore, self._restore = self._restore, None
        rows = self.model.rowCount()
        if rows and not self.table.currentIndex().isValid():
            found = self.model.row_of(restore) if restore is not None else -1
            self.table.setCurrentIndex(self.model.index(max(found, 0), 0))
        elif not rows:
            self._show(None)
        waiting = sum(1 for item in self.model.rows() if item.status == "pending")
        self.info.setText(
            self.tr("{shown} shown, {waiting} waiting for a decision.").format(
                shown=rows, waiting=waiting
            )
        )

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show(self.model.row_at(current.row()) if current.isValid() else None)

    def _show(self, item: SentItem | None) -> None:
        for widget in (self.copy_button, self.open_button):
            widget.setEnabled(item is not None)
        if item is None:
            self.heading.setText(self.tr("Nothing sent for a decision here."))
            for value in (self.state, self.your_reason, self.decision_reason):
                value.clear()
            self.wording.clear()
            return
        self.heading.setText(
            self.tr("{kind} of {amount} for {customer} ({case})").format(
                kind=item.kind_label,
                amount=self.currency.format(item.amount_minor),
                customer=item.customer_name,
                case=item.case_reference,
            )
        )
        state = self.model.state_text(item)
        if item.status == "pending":
            state = self.tr("{state}: with {who}, since {when}.").format(
                state=state,
                who=item.assigned_to or self.tr("the centre's pool"),
                when=local_time(item.requested_at),
            )
        elif item.decided_by:
            state = self.tr("{state}: by {who}, {when}.").format(
                state=state, who=item.decided_by, when=local_time(item.decided_at)
            )
        self.state.setText(state)
        partial = is_partial(item.status, item.amount_minor, item.decided_amount_minor)
        set_role(
            self.state,
            "warning" if item.status in ("rejected", "returned") or partial else "hint",
        )
        self.your_reason.setText(item.reason)
        self.decision_reason.setText(item.decision_reason or self.tr("(none given)"))
        self.wording.setPlainText(item.wording)

    def open_case(self) -> None:
        item = self.current_item()
        if item is not None:
            self.openCaseRequested.emit(item.case_id)

    def copy_wording(self) -> None:
        item = self.current_item()
        if item is not None:
            QGuiApplication.clipboard().setText(item.wording)
            self.info.setText(self.tr("The suggested words are copied."))
