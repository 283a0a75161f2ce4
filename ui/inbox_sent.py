"""The officer's requests sent for a decision: where each stands, the decision's reason, and
suggested words for telling the customer (``desk.domain.decision_wording``). A request returned
for more information is sent again from here (amount, reason and evidence edited in a small
dialog); one still open may be withdrawn, after a confirmation."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desk.domain.decision_wording import is_partial
from desk.domain.money import AmountError, Currency, parse_amount, to_major_text
from desk.services.inbox import SentItem, inbox_of
from ui.inbox_common import TriageTable, caption, error_text, make_button, value_label
from ui.inbox_model import SentModel
from ui.labels import local_time
from ui.operations import Operations
from ui.widgets import FieldError, TextBox, ask_yes_no, set_role

if TYPE_CHECKING:
    from desk.services.grants import RequestView
    from desk.services.inbox import InboxDetail


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
        self.resend_button = make_button(
            self.tr("Send a&gain…"),
            "sentSendAgain",
            self.tr("Edit the returned request and send it again"),
        )
        self.withdraw_button = make_button(
            self.tr("With&draw…"), "sentWithdraw", self.tr("Withdraw the request")
        )
        self.dialog: ResendRequestDialog | None = None
        self.confirm: QMessageBox | None = None
        self.info = QLabel()
        self.info.setObjectName("sentInfo")
        self.info.setProperty("role", "hint")
        self.message = QLabel()
        self.message.setObjectName("sentMessage")
        self.message.setAccessibleName(self.tr("Message"))
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setProperty("role", "hint")

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
        actions = QHBoxLayout()
        actions.addWidget(self.resend_button)
        actions.addWidget(self.withdraw_button)
        actions.addStretch(1)
        pane_layout.addLayout(actions)
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
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.info)
        layout.addLayout(bottom)
        chain: list[QWidget] = [
            self.scope,
            self.table,
            self.wording,
            self.copy_button,
            self.open_button,
            self.resend_button,
            self.withdraw_button,
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
        self.resend_button.clicked.connect(self.send_again)
        self.withdraw_button.clicked.connect(self.withdraw)
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
        self.resend_button.setEnabled(item is not None and item.status == "returned")
        self.withdraw_button.setEnabled(item is not None and item.status in ("pending", "returned"))
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
            if item.stand_in:
                state += " " + self.tr("{who} is away; {deputy} decides meanwhile.").format(
                    who=item.assigned_to, deputy=item.stand_in
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

    # --- the officer's own actions: send a returned request again, withdraw ------------------

    def send_again(self) -> None:
        """A request returned for more information: edit it, then send it again."""
        item = self.current_item()
        if item is None:
            return
        if item.status != "returned":
            self.say(self.tr("Only a request returned to you is sent again."), error=True)
            return
        dialog = ResendRequestDialog(self.ops, item, self.currency, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.done.connect(self._sent_again)
        self.dialog = dialog
        dialog.open()

    def _sent_again(self, view: RequestView) -> None:
        self.say(
            self.tr("Sent again to {who}.").format(
                who=view.assigned_to or self.tr("the centre's pool")
            )
        )

    def withdraw(self) -> None:
        item = self.current_item()
        if item is None or item.status not in ("pending", "returned"):
            return
        request_id, version = item.id, item.version
        self.confirm = ask_yes_no(
            self.window(),
            "sentWithdrawConfirm",
            self.tr("Withdraw the request"),
            self.tr(
                "Withdraw the {kind} of {amount} for {customer}? Nobody will need to decide it."
            ).format(
                kind=item.kind_label.lower(),
                amount=self.currency.format(item.amount_minor),
                customer=item.customer_name,
            ),
            lambda: self._withdraw(request_id, version),
        )

    def _withdraw(self, request_id: int, version: int) -> None:
        self.withdraw_button.setEnabled(False)
        self.ops.write(
            lambda d: d.grants.withdraw(request_id, expected_version=version),
            on_success=lambda _view: self.say(self.tr("The request is withdrawn.")),
            on_error=self._failed,
            owner=self,
            label=self.tr("Withdrawing the request…"),
        )

    def _failed(self, exc: BaseException) -> None:
        self.say(error_text(exc), error=True)
        self.refresh()

    def say(self, message: str, *, error: bool = False) -> None:
        """What the officer's action did, or why not, under the list."""
        self.message.setText(message)
        self.message.setAccessibleDescription(message)
        set_role(self.message, "error" if error else "hint")


class ResendRequestDialog(QDialog):
    """A returned request, completed: the amount, the reason and the evidence notes (and the
    recommendation and alternatives, kept as they were unless edited), sent again.

    Emits ``done(RequestView)``. Amounts are read as text into minor units, never as floats."""

    done = Signal(object)

    def __init__(
        self,
        ops: Operations,
        item: SentItem,
        currency: Currency,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.item = item
        self.currency = currency
        self.sending = False
        self.loaded = False
        self._originals = ("", "", "")  # evidence, recommendation, alternatives as read
        self.confirm: QMessageBox | None = None
        self.setObjectName("resendRequestDialog")
        self.setWindowTitle(self.tr("Send the request again"))
        self.setAccessibleName(self.windowTitle())
        self.setMinimumWidth(620)

        summary = QLabel(
            self.tr("{kind} for {customer} ({case})").format(
                kind=item.kind_label, customer=item.customer_name, case=item.case_reference
            )
        )
        summary.setObjectName("resendSummary")
        summary.setTextFormat(Qt.TextFormat.PlainText)
        summary.setProperty("role", "title")
        summary.setWordWrap(True)
        asked = QLabel(
            self.tr("{who} returned it: {what}").format(
                who=item.decided_by or self.tr("A supervisor"),
                what=item.decision_reason or self.tr("(no reason given)"),
            )
        )
        asked.setObjectName("resendAsked")
        asked.setAccessibleName(self.tr("What is needed"))
        asked.setTextFormat(Qt.TextFormat.PlainText)
        asked.setProperty("role", "warning")
        asked.setWordWrap(True)

        self.amount = QLineEdit(to_major_text(item.amount_minor, currency))
        self.amount.setObjectName("resendAmount")
        self.amount.setAccessibleName(self.tr("Amount"))
        self.amount_error = FieldError("resendAmountError")
        self.reason = TextBox("resendReason", self.tr("Reason"), lines=3)
        self.reason.setPlainText(item.reason)
        self.reason_error = FieldError("resendReasonError")
        self.evidence = TextBox(
            "resendEvidence",
            self.tr("Evidence notes"),
            placeholder=self.tr("What you saw or checked: letters, receipts, statements."),
            lines=3,
        )
        self.recommendation = TextBox(
            "resendRecommendation", self.tr("Your recommendation"), lines=2
        )
        self.alternatives = TextBox(
            "resendAlternatives", self.tr("Alternatives already offered"), lines=2
        )
        self.loading = QLabel(self.tr("Reading the request…"))
        self.loading.setObjectName("resendLoading")
        self.loading.setProperty("role", "hint")
        self.error = FieldError("resendError")

        form = QFormLayout()
        rows: tuple[tuple[str, QWidget, FieldError | None], ...] = (
            (self.tr("&Amount:"), self.amount, self.amount_error),
            (self.tr("&Reason:"), self.reason, self.reason_error),
            (self.tr("&Evidence:"), self.evidence, None),
            (self.tr("Reco&mmendation:"), self.recommendation, None),
            (self.tr("Alternatives &offered:"), self.alternatives, None),
        )
        for text, widget, error in rows:
            form.addRow(caption(text, widget), widget)
            if error is not None:
                form.addRow("", error)
        hint = QLabel(self.tr("Ctrl+Enter sends; Esc cancels."))
        hint.setProperty("role", "hint")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("resendCancel")
        cancel.setAccessibleName(self.tr("Cancel"))
        cancel.setAutoDefault(False)
        self.send_button = QPushButton(self.tr("Send a&gain"))
        self.send_button.setObjectName("resendSend")
        self.send_button.setAccessibleName(self.tr("Send the request again"))
        buttons.addButton(self.send_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.send_button.setDefault(True)
        self.send_button.setEnabled(False)
        buttons.accepted.connect(self.send)
        buttons.rejected.connect(self.reject)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self).activated.connect(self.send)

        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(asked)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.loading)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.amount.setFocus()
        self.amount.selectAll()
        # The evidence, recommendation and alternatives are not in the list's row: read them, so
        # sending again keeps them (the service replaces all five).
        request_id = item.id
        self.ops.query(
            lambda d: inbox_of(d).detail(request_id),
            on_success=self._detail_loaded,
            on_error=self._detail_failed,
            owner=self,
        )

    def _detail_loaded(self, detail: InboxDetail) -> None:
        for box, value in (
            (self.evidence, detail.item.evidence),
            (self.recommendation, detail.item.recommendation),
            (self.alternatives, detail.item.alternatives_offered),
        ):
            if not box.text().strip():  # never over what was typed meanwhile
                box.setPlainText(value)
        self._originals = (
            detail.item.evidence,
            detail.item.recommendation,
            detail.item.alternatives_offered,
        )
        self.loaded = True
        self.loading.hide()
        self.send_button.setEnabled(True)

    def _detail_failed(self, exc: BaseException) -> None:
        self.loading.hide()
        self.error.show_message(
            error_text(exc)
            + " "
            + self.tr("The evidence, recommendation and alternatives could not be read.")
        )
        self.send_button.setEnabled(True)

    def amount_minor(self) -> int | None:
        try:
            amount = parse_amount(self.amount.text(), self.currency)
        except AmountError as exc:
            self.amount_error.show_message(str(exc))
            return None
        if amount <= 0:
            self.amount_error.show_message(self.tr("Enter the amount the customer asks for."))
            return None
        self.amount_error.clear_message()
        return amount

    def send(self) -> None:
        if self.sending or not self.send_button.isEnabled():
            return
        self.error.clear_message()
        amount = self.amount_minor()
        reason = self.reason.text()
        if reason.strip():
            self.reason_error.clear_message()
        else:
            self.reason_error.show_message(self.tr("Give a reason: it is kept with the decision."))
        if amount is None:
            self.amount.setFocus()
            self.amount.selectAll()
            return
        if not reason.strip():
            self.reason.setFocus()
            return
        evidence = self.evidence.text()
        recommendation = self.recommendation.text()
        alternatives = self.alternatives.text()
        request_id, version = self.item.id, self.item.version
        self.sending = True
        self.send_button.setEnabled(False)
        self.ops.write(
            lambda d: d.grants.resubmit(
                request_id,
                amount_minor=amount,
                reason=reason,
                evidence=evidence,
                recommendation=recommendation,
                alternatives_offered=alternatives,
                expected_version=version,
            ),
            on_success=self._sent,
            on_error=self._failed,
            owner=self,
            label=self.tr("Sending the request again…"),
        )

    def _sent(self, view: RequestView) -> None:
        self.sending = False
        self.done.emit(view)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        """Keep everything typed; say what went wrong above the buttons."""
        self.sending = False
        self.send_button.setEnabled(True)
        self.error.show_message(error_text(exc))

    def has_typed(self) -> bool:
        item = self.item
        if self.amount.text().strip() != to_major_text(item.amount_minor, self.currency):
            return True
        if self.reason.text().strip() != item.reason.strip():
            return True
        now = (self.evidence.text(), self.recommendation.text(), self.alternatives.text())
        return any(a.strip() != b.strip() for a, b in zip(now, self._originals, strict=True))

    def reject(self) -> None:
        if self.sending:
            return
        if not self.has_typed() or not self.isVisible():
            super().reject()
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Discard your changes?"),
            self.tr("Close without sending? Your changes here are not kept."),
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setObjectName("resendDiscardConfirm")
        box.setAccessibleName(self.tr("Discard your changes?"))
        discard = box.addButton(self.tr("&Discard"), QMessageBox.ButtonRole.DestructiveRole)
        discard.setObjectName("resendDiscardButton")
        discard.setAccessibleName(self.tr("Discard your changes"))
        keep = box.addButton(self.tr("&Keep editing"), QMessageBox.ButtonRole.RejectRole)
        keep.setObjectName("resendKeepEditingButton")
        keep.setAccessibleName(self.tr("Keep editing"))
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.finished.connect(
            lambda _result: QDialog.reject(self) if box.clickedButton() is discard else None
        )
        self.confirm = box
        box.open()
