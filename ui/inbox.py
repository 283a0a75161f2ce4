"""The supervisor's inbox of approval requests, worked through from the keyboard, and the
officer's view of the requests they sent for decision.

The inbox lists what waits for the logged-in person (oldest first), with counts per kind and each
item's age against the organisation's target for deciding it: a colour, an icon and words ("due
soon", "overdue"), never colour alone. Beside the list, the detail of the current item: the case,
the customer's earlier requests of that kind within the rolling window and their total, what the
authority rule says, and the case's timeline with its guided-script runs.

Keys, with the list focused: J or Down next, K or Up previous, Enter opens the case, A approves,
L approves a lower amount, R rejects, T returns to the officer, E escalates up the chain, P passes
it on to a named person. Every decision's refusal (above the authority, already decided by someone
else) is said in the pane, and the list is read again; an item decided elsewhere leaves the list on
the next ``ops.changed``. A refused pass-on is said in its dialog, beside the person chosen.
"""

from __future__ import annotations

import itertools
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desk.domain.money import AmountError, Currency, parse_amount
from desk.domain.scripts import Library
from desk.services.errors import ConflictError, NotFound
from desk.services.grants import Outcome, RequestView
from desk.services.inbox import (
    Escalated,
    InboxCounts,
    InboxFilters,
    InboxItem,
    InboxQuery,
    InboxSort,
    inbox_of,
)
from ui.inbox_common import TriageTable, caption, error_text, make_button
from ui.inbox_detail import InboxDetailPane
from ui.inbox_dialogs import Decision, DecisionDialog, PassOnDialog
from ui.inbox_model import InboxModel
from ui.inbox_sent import SentForDecisionWidget
from ui.operations import Operations, is_user_error
from ui.widgets import FieldError, set_role

TICK_MS = 60_000  # ages move on once a minute without asking the server


class InboxWidget(QWidget):
    """The decisions waiting for the logged-in person.

    Signals: ``openCaseRequested(case_id)`` when the person opens an item's case (Enter);
    ``countsChanged(waiting, overdue)`` whenever the counts are read again (for a badge);
    ``decided(result)`` after a decision (a RequestView) or an escalation (an Escalated)."""

    openCaseRequested = Signal(int)
    countsChanged = Signal(int, int)
    decided = Signal(object)

    def __init__(
        self, ops: Operations, reference_currency: Currency, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.currency = reference_currency
        self.setObjectName("inbox")
        self.setAccessibleName(self.tr("Decisions waiting for you"))
        self.model = InboxModel(ops, reference_currency, self)
        self.counts: InboxCounts | None = None
        self.dialog: DecisionDialog | None = None
        self.pass_dialog: PassOnDialog | None = None
        self.busy = False
        self._restore: tuple[int | None, int] | None = None  # (request id, row) after a reload

        self.title = QLabel(self.tr("Decisions waiting for you"))
        self.title.setObjectName("inboxTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setProperty("role", "title")
        self.counts_bar = QHBoxLayout()
        self.counts_bar.setSpacing(6)
        self.count_buttons: dict[str, QPushButton] = {}
        self._countbutton("", self.tr("All"))

        self.kind = QComboBox()
        self.kind.setObjectName("inboxKindFilter")
        self.kind.setAccessibleName(self.tr("Kind filter"))
        self.kind.addItem(self.tr("Any kind"), "")
        self.centre = QComboBox()
        self.centre.setObjectName("inboxCentreFilter")
        self.centre.setAccessibleName(self.tr("Centre filter"))
        self.centre.addItem(self.tr("Any centre"), None)
        self.officer = QComboBox()
        self.officer.setObjectName("inboxOfficerFilter")
        self.officer.setAccessibleName(self.tr("Officer filter"))
        self.officer.addItem(self.tr("Any officer"), None)
        self.min_amount = QLineEdit()
        self.min_amount.setObjectName("inboxMinAmount")
        self.min_amount.setAccessibleName(self.tr("Smallest amount"))
        self.min_amount.setPlaceholderText(self.tr("any"))
        self.min_amount.setMaximumWidth(110)
        self.max_amount = QLineEdit()
        self.max_amount.setObjectName("inboxMaxAmount")
        self.max_amount.setAccessibleName(self.tr("Largest amount"))
        self.max_amount.setPlaceholderText(self.tr("any"))
        self.max_amount.setMaximumWidth(110)
        self.amount_error = FieldError("inboxAmountError")
        self.sort = QComboBox()
        self.sort.setObjectName("inboxSort")
        self.sort.setAccessibleName(self.tr("Order"))
        self.sort.addItem(self.tr("Oldest first"), InboxSort.OLDEST.value)
        self.sort.addItem(self.tr("Newest first"), InboxSort.NEWEST.value)
        self.sort.addItem(self.tr("Largest amount first"), InboxSort.LARGEST.value)

        self.table = TriageTable(actions=True)
        self.table.setObjectName("inboxTable")
        self.table.setAccessibleName(self.tr("Items waiting for your decision"))
        self.table.setModel(self.model)
        for column, width in enumerate((175, 85, 90, 140, 120, 120, 150, 70)):
            self.table.horizontalHeader().resizeSection(column, width)

        session = ops.desk.session if ops.desk is not None else None
        self.pane = InboxDetailPane(
            reference_currency, me=session.staff_id if session is not None else None
        )
        self.message = QLabel()
        self.message.setObjectName("inboxMessage")
        self.message.setAccessibleName(self.tr("Message"))
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.hide()
        self.approve_button = make_button(
            self.tr("&Approve (A)"), "inboxApprove", self.tr("Approve")
        )
        self.lower_button = make_button(
            self.tr("Approve &less… (L)"), "inboxApproveLower", self.tr("Approve a lower amount")
        )
        self.reject_button = make_button(self.tr("&Reject… (R)"), "inboxReject", self.tr("Reject"))
        self.return_button = make_button(
            self.tr("Re&turn… (T)"), "inboxReturn", self.tr("Return to the officer")
        )
        self.escalate_button = make_button(
            self.tr("&Escalate… (E)"), "inboxEscalate", self.tr("Escalate up the chain")
        )
        self.pass_button = make_button(
            self.tr("&Pass on to… (P)"), "inboxPassOn", self.tr("Pass on to a named person")
        )
        self.open_button = make_button(
            self.tr("&Open case (Enter)"), "inboxOpenCase", self.tr("Open the case")
        )
        self.action_buttons = {
            Decision.APPROVE: self.approve_button,
            Decision.APPROVE_LOWER: self.lower_button,
            Decision.REJECT: self.reject_button,
            Decision.RETURN: self.return_button,
            Decision.ESCALATE: self.escalate_button,
        }
        self.info = QLabel()
        self.info.setObjectName("inboxInfo")
        self.info.setTextFormat(Qt.TextFormat.PlainText)
        self.info.setProperty("role", "hint")
        self.info.setWordWrap(True)

        # --- layout
        filters = QHBoxLayout()
        for text, widget in (
            (self.tr("&Kind:"), self.kind),
            (self.tr("Ce&ntre:"), self.centre),
            (self.tr("Offi&cer:"), self.officer),
            (self.tr("Amount fro&m:"), self.min_amount),
            (self.tr("&up to:"), self.max_amount),
            (self.tr("&Sort:"), self.sort),
        ):
            filters.addWidget(caption(text, widget))
            filters.addWidget(widget)
        filters.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addSpacing(12)
        top.addLayout(self.counts_bar)
        top.addStretch(1)
        buttons = QHBoxLayout()
        for button in (*self.action_buttons.values(), self.pass_button, self.open_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.pane, 1)
        side_layout.addWidget(self.message)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("inboxSplitter")
        splitter.addWidget(self.table)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([720, 600])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.amount_error)
        layout.addWidget(splitter, 1)
        # Under both panes: a row of six buttons beside the detail would squeeze the list.
        layout.addLayout(buttons)
        layout.addWidget(self.info)

        chain: list[QWidget] = [
            self.kind,
            self.centre,
            self.officer,
            self.min_amount,
            self.max_amount,
            self.sort,
            self.table,
            *self.action_buttons.values(),
            self.pass_button,
            self.open_button,
        ]
        for first, second in itertools.pairwise(chain):
            self.setTabOrder(first, second)

        # --- behaviour
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(300)
        self._debounce.timeout.connect(self.apply_filters)
        for combo in (self.kind, self.centre, self.officer, self.sort):
            combo.currentIndexChanged.connect(lambda _i: self.apply_filters())
        for edit in (self.min_amount, self.max_amount):
            edit.textEdited.connect(lambda _t: self._debounce.start())
            edit.returnPressed.connect(self.apply_filters)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.actionRequested.connect(lambda value: self.act(Decision(value)))
        self.table.openRequested.connect(self.open_case)
        for decision, button in self.action_buttons.items():
            button.clicked.connect(lambda _checked=False, d=decision: self.act(d))
        self.open_button.clicked.connect(self.open_case)
        self.pass_button.clicked.connect(self.pass_on)
        # P, like the triage table's own letters: only while the list has the focus.
        pass_key = QShortcut(QKeySequence(Qt.Key.Key_P), self.table)
        pass_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        pass_key.activated.connect(self.pass_on)
        self.model.loaded.connect(self._loaded)
        self.model.loadFailed.connect(lambda message: self._say(message, "error"))
        self.model.modelReset.connect(self._update_buttons)
        ops.changed.connect(self.refresh)
        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self._on_tick)
        self._tick.start()
        self._update_buttons()
        self.refresh()

    # --- reading ----------------------------------------------------------------------------

    def set_library(self, library: Library | None) -> None:
        """The script library, so guided-script runs read in the officer's words."""
        self.pane.timeline.set_library(library)

    def current_item(self) -> InboxItem | None:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= self.model.rowCount():
            return None
        return self.model.row_at(index.row())

    def refresh(self) -> None:
        """Read the list (keeping the place in it) and the counts again."""
        current = self.current_item()
        row = self.table.currentIndex().row()
        self._restore = (current.id if current else None, max(row, 0))
        self.model.refresh()
        query = self.model.query
        self.ops.query(
            lambda d: (inbox_of(d).counts(query), inbox_of(d).filters()),
            on_success=self._counts_arrived,
            on_error=lambda exc: self._say(error_text(exc), "error"),
            owner=self,
            key=f"inbox-counts-{id(self)}",
        )

    def query_from_filters(self) -> InboxQuery | None:
        """The filters as a query, or None (with the reason shown) when an amount is not one."""
        amounts: list[int | None] = []
        for edit in (self.min_amount, self.max_amount):
            if not edit.text().strip():
                amounts.append(None)
                continue
            try:
                amounts.append(parse_amount(edit.text(), self.currency))
            except AmountError as exc:
                self.amount_error.show_message(str(exc))
                return None
        self.amount_error.clear_message()
        return InboxQuery(
            kind=self.kind.currentData() or None,
            centre_id=self.centre.currentData(),
            officer_id=self.officer.currentData(),
            min_amount_minor=amounts[0],
            max_amount_minor=amounts[1],
            sort=InboxSort(self.sort.currentData()),
        )

    def apply_filters(self) -> None:
        self._debounce.stop()
        query = self.query_from_filters()
        if query is None or query == self.model.query:
            return
        self.model.query = query
        self.refresh()

    def _loaded(self) -> None:
        restore, self._restore = self._restore, None
        rows = self.model.rowCount()
        if restore is not None and rows:
            request_id, row = restore
            found = self.model.row_of(request_id) if request_id is not None else -1
            target = found if found >= 0 else min(row, rows - 1)
            self.table.setCurrentIndex(self.model.index(target, 0))
        elif restore is not None:
            self.pane.clear(self.tr("Nothing is waiting for you."))
        self._update_info()
        self._update_buttons()

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._update_buttons()
        if not current.isValid():
            return
        item = self.model.row_at(current.row())
        self.pane.show_item(item, self.model.now)
        if self.pane.detail is not None and self.pane.detail.item.id == item.id:
            return
        request_id = item.id
        self.ops.query(
            lambda d: inbox_of(d).detail(request_id),
            on_success=self.pane.show_detail,
            on_error=lambda exc: self._detail_failed(request_id, exc),
            owner=self,
            key=f"inbox-detail-{id(self)}",
        )

    def _detail_failed(self, request_id: int, exc: BaseException) -> None:
        if self.pane.item is not None and self.pane.item.id == request_id:
            self.pane.authority.setText(error_text(exc))
            set_role(self.pane.authority, "error")

    def _counts_arrived(self, result: tuple[InboxCounts, InboxFilters]) -> None:
        counts, filters = result
        self.counts = counts
        self._fill(self.kind, [(k.code, k.label) for k in filters.kinds], "")
        self._fill(self.centre, [(c.id, c.name) for c in filters.centres], None)
        self._fill(self.officer, [(o.id, o.name) for o in filters.officers], None)
        self._show_counts(counts)
        self._update_info()
        self.countsChanged.emit(counts.total, counts.overdue)

    def _fill(self, combo: QComboBox, options: list[tuple[Any, str]], anything: Any) -> None:
        """Offer these options (after "any"), keeping the current choice even if it has gone."""
        current = combo.currentData()
        wanted = [(anything, combo.itemText(0)), *options]
        if current not in {value for value, _ in wanted}:
            wanted.append((current, combo.currentText()))
        have = [(combo.itemData(i), combo.itemText(i)) for i in range(combo.count())]
        if have == wanted:
            return
        combo.blockSignals(True)
        combo.clear()
        for value, text in wanted:
            combo.addItem(text, value)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        combo.blockSignals(False)

    def _countbutton(self, code: str, text: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(f"inboxCount_{code or 'all'}")
        button.setAccessibleName(text)
        button.setFlat(True)
        button.setAutoDefault(False)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the kind filter is the keyboard's way
        button.clicked.connect(lambda _checked=False, c=code: self._choose_kind(c))
        self.counts_bar.addWidget(button)
        self.count_buttons[code] = button
        return button

    def _choose_kind(self, code: str) -> None:
        self.kind.setCurrentIndex(max(0, self.kind.findData(code)))

    def _show_counts(self, counts: InboxCounts) -> None:
        for kind in counts.kinds:
            button = self.count_buttons.get(kind.code) or self._countbutton(kind.code, "")
            text = self.tr("{kind}: {count}").format(kind=kind.label, count=kind.count)
            if kind.overdue:
                text += " " + self.tr("({overdue} overdue)").format(overdue=kind.overdue)
            button.setText(text)
            button.setAccessibleName(text)
        everything = self.tr("All: {count}").format(count=counts.total)
        if counts.overdue:
            everything += " " + self.tr("({overdue} overdue)").format(overdue=counts.overdue)
        self.count_buttons[""].setText(everything)
        self.count_buttons[""].setAccessibleName(everything)

    def _update_info(self) -> None:
        shown = self.model.rowCount()
        if self.model.loading and not shown:
            text = self.tr("Loading…")
        elif not shown:
            text = self.tr("Nothing is waiting for you with these filters.")
        else:
            more = self.tr(" (more as you scroll)") if self.model.canFetchMore() else ""
            text = self.tr("{shown} shown{more}.").format(shown=shown, more=more)
        keys = self.tr(
            "Keys: J/K next/previous · Enter open the case · A approve · L approve less · "
            "R reject · T return to the officer · E escalate · P pass on to someone"
        )
        self.info.setText(f"{text}  {keys}")

    def _update_buttons(self) -> None:
        has_item = self.current_item() is not None
        for button in (*self.action_buttons.values(), self.pass_button, self.open_button):
            button.setEnabled(has_item and not self.busy)

    def _on_tick(self) -> None:
        self.model.tick()
        self.pane.update_aging(self.model.now)

    # --- acting -----------------------------------------------------------------------------

    def open_case(self) -> None:
        item = self.current_item()
        if item is not None:
            self.openCaseRequested.emit(item.case_id)

    def act(self, decision: Decision) -> None:
        """Ask what the decision needs (a dialog), then send it."""
        item = self.current_item()
        if item is None or self.busy:
            return
        detail = self.pane.detail
        most = (
            detail.max_approvable_minor
            if detail is not None and detail.item.id == item.id
            else None
        )
        dialog = DecisionDialog(
            decision, item, self.currency, max_approvable_minor=most, parent=self
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._send(decision, item, dialog))
        dialog.finished.connect(lambda _result: self.table.setFocus())
        self.dialog = dialog
        dialog.open()

    def _send(self, decision: Decision, item: InboxItem, dialog: DecisionDialog) -> None:
        reason, amount = dialog.reason, dialog.amount_minor
        self.dialog = None
        self._set_busy(True)
        self._say("", "hint")
        if decision is Decision.ESCALATE:

            def work(d: Any) -> Any:
                return inbox_of(d).escalate(item.id, reason, expected_version=item.version)
        else:
            outcome = {
                Decision.APPROVE: Outcome.APPROVE,
                Decision.APPROVE_LOWER: Outcome.APPROVE,
                Decision.REJECT: Outcome.REJECT,
                Decision.RETURN: Outcome.RETURN,
            }[decision]

            def work(d: Any) -> Any:
                return d.grants.decide(
                    item.id,
                    outcome,
                    reason=reason,
                    amount_minor=amount,
                    expected_version=item.version,
                )

        self.ops.write(
            work,
            on_success=lambda result: self._done(decision, item, result),
            on_error=lambda exc: self._failed(exc),
            owner=self,
            label=self.tr("Recording the decision"),
        )

    def pass_on(self) -> None:
        """Pass the current item to a named person who may decide it, with a reason. The
        dialog stays open until the service answers, so a refusal is said beside the person."""
        item = self.current_item()
        if item is None or self.busy:
            return
        dialog = PassOnDialog(
            self._what(item),
            with_reason=True,
            hint=self.tr(
                "Choose someone whose limit covers it, with the customer's earlier grants; "
                "they read the reason first."
            ),
            parent=self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.submitted.connect(
            lambda username, reason: self._send_pass_on(item, dialog, username, reason)
        )
        dialog.finished.connect(lambda _result: self._pass_dialog_closed(dialog))
        self.pass_dialog = dialog
        dialog.open()
        self.ops.query(
            lambda d: d.leave.deputies(),
            on_success=dialog.set_choices,
            on_error=lambda exc: dialog.refused(error_text(exc)),
            owner=dialog,
            key=f"inbox-pass-on-people-{id(self)}",
        )

    def _pass_dialog_closed(self, dialog: PassOnDialog) -> None:
        if self.pass_dialog is dialog:
            self.pass_dialog = None
        self.table.setFocus()

    def _send_pass_on(
        self, item: InboxItem, dialog: PassOnDialog, username: str, reason: str
    ) -> None:
        self._set_busy(True)
        self._say("", "hint")
        self.ops.write(
            lambda d: inbox_of(d).reassign(
                item.id, username, reason, expected_version=item.version
            ),
            on_success=lambda result: self._passed_on(item, dialog, result),
            on_error=lambda exc: self._pass_on_refused(dialog, exc),
            owner=self,
            label=self.tr("Passing the item on"),
        )

    def _passed_on(self, item: InboxItem, dialog: PassOnDialog, result: Escalated) -> None:
        self._set_busy(False)
        if dialog is self.pass_dialog:
            dialog.set_busy(False)
            dialog.accept()
        self._say(
            self.tr("Passed on to {who}: {what}.").format(
                who=result.assigned_to, what=self._what(item)
            ),
            "hint",
        )
        self.decided.emit(result)
        self.table.setFocus()

    def _pass_on_refused(self, dialog: PassOnDialog, exc: BaseException) -> None:
        """The person cannot take it: said in the dialog. The item has gone (decided or passed
        on by someone else): the dialog closes, the pane says why and the list is read again."""
        self._set_busy(False)
        gone = isinstance(exc, (ConflictError, NotFound))
        if dialog is self.pass_dialog and not gone and is_user_error(exc):
            dialog.refused(error_text(exc))
            return
        if dialog is self.pass_dialog:
            dialog.set_busy(False)
            dialog.reject()
        self._failed(exc)

    def _what(self, item: InboxItem) -> str:
        return self.tr("{kind} of {amount} for {customer} ({case})").format(
            kind=item.kind_label,
            amount=self.currency.format(item.amount_minor),
            customer=item.customer_name,
            case=item.case_reference,
        )

    def _done(self, decision: Decision, item: InboxItem, result: RequestView | Escalated) -> None:
        self._set_busy(False)
        what = self._what(item)
        if isinstance(result, Escalated):
            text = self.tr("Passed up to {who}: {what}.").format(who=result.assigned_to, what=what)
        elif decision is Decision.APPROVE_LOWER:
            text = self.tr("Approved {granted} of the {what}.").format(
                granted=self.currency.format(result.decided_amount_minor or 0), what=what
            )
        else:
            text = {
                Decision.APPROVE: self.tr("Approved: {what}."),
                Decision.REJECT: self.tr("Rejected: {what}."),
                Decision.RETURN: self.tr("Returned to {officer}: {what}."),
            }[decision].format(what=what, officer=item.requested_by)
        self._say(text, "hint")
        self.decided.emit(result)
        self.table.setFocus()

    def _failed(self, exc: BaseException) -> None:
        """Say why in the pane, and read the list again: the item may have gone."""
        self._set_busy(False)
        self._say(error_text(exc), "error")
        self.refresh()
        self.table.setFocus()

    def _say(self, text: str, role: str) -> None:
        self.message.setText(text)
        self.message.setAccessibleName(text or self.tr("Message"))
        set_role(self.message, role)
        self.message.setVisible(bool(text))

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self._update_buttons()


__all__ = ["InboxWidget", "SentForDecisionWidget"]
