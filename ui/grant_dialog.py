"""Grant a waiver, claim or refund at the counter, or send it to someone whose limit covers it.

While the officer types the amount the dialog asks the authority rule (on the worker thread) and
says in a sentence whether they may grant it here; when they may not, it says why and who can,
and offers to send it for a decision instead. Nothing typed is lost when the answer changes.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk.domain.money import AmountError, Currency, parse_amount
from ui.widgets import FieldError, TextBox, set_role

if TYPE_CHECKING:
    from desk.services.grants import GrantCheck, KindInfo, RequestView
    from ui.operations import Operations

CHECK_DELAY_MS = 250  # ask the rule once typing pauses, not on every key


class GrantDialog(QDialog):
    """Emits ``done(RequestView)`` after a grant or a request was saved."""

    done = Signal(object)

    def __init__(
        self,
        ops: Operations,
        case_id: int,
        currency: Currency,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.case_id = case_id
        self.currency = currency
        self.check: GrantCheck | None = None
        self._checked_for: tuple[str, int] | None = None
        # One key per attempt: a retried click never grants twice.
        self._client_uuid = uuid.uuid4()
        self.setObjectName("grantDialog")
        self.setWindowTitle(self.tr("Waiver, claim or refund"))
        self.setMinimumWidth(520)

        self.kind = QComboBox()
        self.kind.setObjectName("grantKind")
        self.kind.setAccessibleName(self.tr("Kind of request"))
        self.amount = QLineEdit()
        self.amount.setObjectName("grantAmount")
        self.amount.setAccessibleName(self.tr("Amount"))
        self.amount.setPlaceholderText(self.tr("for example 25.00"))
        self.amount_error = FieldError("grantAmountError")
        self.verdict = QLabel()
        self.verdict.setObjectName("grantVerdict")
        self.verdict.setAccessibleName(self.tr("Whether you may grant this"))
        self.verdict.setWordWrap(True)
        self.reason = TextBox("grantReason", self.tr("Reason"), lines=3)
        self.reason_error = FieldError("grantReasonError")
        self.recommendation = TextBox(
            "grantRecommendation", self.tr("Your recommendation"), lines=2
        )
        self.alternatives = TextBox(
            "grantAlternatives", self.tr("Alternatives already offered"), lines=2
        )
        self.send_error = FieldError("grantSendError")

        form = QFormLayout()
        for text, widget in (
            (self.tr("&Kind:"), self.kind),
            (self.tr("&Amount:"), self.amount),
        ):
            caption = QLabel(text)
            caption.setBuddy(widget)
            form.addRow(caption, widget)
        form.addRow("", self.amount_error)
        form.addRow("", self.verdict)
        reason_label = QLabel(self.tr("&Reason:"))
        reason_label.setBuddy(self.reason)
        form.addRow(reason_label, self.reason)
        form.addRow("", self.reason_error)
        self.request_rows: list[QWidget] = []
        for text, widget in (
            (self.tr("Reco&mmendation:"), self.recommendation),
            (self.tr("Alternatives &offered:"), self.alternatives),
        ):
            caption = QLabel(text)
            caption.setBuddy(widget)
            form.addRow(caption, widget)
            self.request_rows += [caption, widget]

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.grant_button = QPushButton(self.tr("&Grant now"))
        self.grant_button.setObjectName("grantNowButton")
        self.grant_button.setAccessibleName(self.tr("Grant now"))
        self.send_button = QPushButton(self.tr("&Send for decision"))
        self.send_button.setObjectName("grantSendButton")
        self.send_button.setAccessibleName(self.tr("Send for decision"))
        buttons.addButton(self.grant_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.send_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.grant_button.clicked.connect(self._grant)
        self.send_button.clicked.connect(self._send)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.send_error)
        layout.addWidget(buttons)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(CHECK_DELAY_MS)
        self._timer.timeout.connect(self._ask_rule)
        self.amount.textChanged.connect(self._schedule_check)
        self.kind.currentIndexChanged.connect(self._schedule_check)
        self._show_verdict(None)
        self.amount.setFocus()
        self.ops.query(lambda d: d.grants.kinds(), on_success=self._kinds_loaded, owner=self)

    # --- the rule, asked as the officer types ------------------------------------------------

    def _kinds_loaded(self, kinds: list[KindInfo]) -> None:
        current = self.kind.currentData()
        self.kind.clear()
        for kind in kinds:
            self.kind.addItem(
                self.tr("{label} (your limit {limit})").format(
                    label=kind.label, limit=self.currency.format(kind.limit_minor)
                ),
                kind.code,
            )
        if current is not None:
            self.kind.setCurrentIndex(max(0, self.kind.findData(current)))
        self._schedule_check()

    def _amount_minor(self) -> int | None:
        if not self.amount.text().strip():
            self.amount_error.clear_message()
            return None
        try:
            amount = parse_amount(self.amount.text(), self.currency)
        except AmountError as exc:
            self.amount_error.show_message(str(exc))
            return None
        self.amount_error.clear_message()
        return amount

    def _schedule_check(self, *_: Any) -> None:
        self.check = None
        self._show_verdict(None)
        self._timer.start()

    def _ask_rule(self) -> None:
        amount = self._amount_minor()
        kind = self.kind.currentData()
        if amount is None or kind is None:
            return
        asked = (str(kind), amount)
        self._checked_for = asked
        self.ops.query(
            lambda d: d.grants.check(self.case_id, asked[0], asked[1]),
            on_success=lambda check: self._checked(asked, check),
            owner=self,
            key=f"grant-check-{id(self)}",
        )

    def _checked(self, asked: tuple[str, int], check: GrantCheck) -> None:
        if asked != self._checked_for:
            return  # the officer typed on; a newer answer is coming
        self.check = check
        self._show_verdict(check)

    def _show_verdict(self, check: GrantCheck | None) -> None:
        allowed = check is not None and check.verdict.allowed
        refused = check is not None and not check.verdict.allowed
        if check is None:
            self.verdict.setText(
                self.tr("Type the amount: Desk tells you whether you may grant it.")
            )
        elif allowed:
            text = self.tr("You may grant this here.")
            if check.prior_total_minor:
                text += " " + self.tr(
                    "This customer has received {prior} of this kind in the last {days} days."
                ).format(
                    prior=self.currency.format(check.prior_total_minor), days=check.window_days
                )
            self.verdict.setText(text)
        else:
            assert check is not None
            self.verdict.setText(
                check.verdict.reason + " " + self.tr("You can send it for a decision.")
            )
        set_role(self.verdict, "warning" if refused else "hint")
        self.grant_button.setEnabled(allowed)
        self.grant_button.setDefault(allowed)
        self.send_button.setEnabled(check is not None)
        self.send_button.setDefault(refused)
        for widget in self.request_rows:
            widget.setVisible(refused)

    # --- saving -------------------------------------------------------------------------

    def _reason_text(self) -> str | None:
        reason = self.reason.text().strip()
        if not reason:
            self.reason_error.show_message(self.tr("Give a reason: it is kept with the decision."))
            self.reason.setFocus()
            return None
        self.reason_error.clear_message()
        return reason

    def _grant(self) -> None:
        amount, kind, reason = self._amount_minor(), self.kind.currentData(), self._reason_text()
        if amount is None or kind is None or reason is None or self.check is None:
            return
        key = self._client_uuid
        self._set_busy(True)
        self.ops.write(
            lambda d: d.grants.grant(self.case_id, str(kind), amount, reason, client_uuid=key),
            on_success=self._saved,
            on_error=self._failed,
            owner=self,
            label=self.tr("Granting"),
        )

    def _send(self) -> None:
        amount, kind, reason = self._amount_minor(), self.kind.currentData(), self._reason_text()
        if amount is None or kind is None or reason is None:
            return
        key = self._client_uuid
        recommendation = self.recommendation.text()
        alternatives = self.alternatives.text()
        self._set_busy(True)
        self.ops.write(
            lambda d: d.grants.request(
                self.case_id,
                str(kind),
                amount,
                reason,
                recommendation=recommendation,
                alternatives_offered=alternatives,
                client_uuid=key,
            ),
            on_success=self._saved,
            on_error=self._failed,
            owner=self,
            label=self.tr("Sending for a decision"),
        )

    def _saved(self, view: RequestView) -> None:
        self._set_busy(False)
        self.done.emit(view)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        """Keep everything typed; say what went wrong next to the buttons."""
        from ui.operations import is_user_error

        self._set_busy(False)
        if is_user_error(exc):
            self.send_error.show_message(str(exc))
        self._schedule_check()  # the limits may have changed meanwhile

    def _set_busy(self, busy: bool) -> None:
        if busy:
            self.send_error.clear_message()
        for widget in (self.grant_button, self.send_button, self.kind, self.amount):
            widget.setEnabled(not busy)
        if not busy:
            self._show_verdict(self.check)
