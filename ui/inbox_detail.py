"""The detail of one inbox item: everything needed to decide it.

The list's own facts show at once; the case, the customer's earlier requests of the kind within the
rolling window (and their total, including what was received on cases the decider may not open),
what the authority rule says, and the case's timeline with its guided-script runs follow when the
detail arrives from the worker.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QLabel,
    QListWidget,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desk.domain.money import Currency
from desk.services.inbox import Aging, InboxDetail, InboxItem
from ui.inbox_common import value_label
from ui.inbox_model import age_text, aging_word, status_word
from ui.labels import label, local_time
from ui.timeline import TimelineWidget
from ui.widgets import set_role


class InboxDetailPane(QScrollArea):
    """Everything needed to decide the current item. The list's own facts are shown at once;
    the case, the history and the authority follow when the detail arrives."""

    def __init__(
        self, currency: Currency, *, me: int | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.currency = currency
        self.me = me  # the logged-in person's staff id: their own items say "You"
        self.item: InboxItem | None = None
        self.detail: InboxDetail | None = None
        self.setObjectName("inboxDetail")
        self.setAccessibleName(self.tr("Detail of the item"))
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        body.setObjectName("inboxDetailBody")
        self.setWidget(body)

        self.heading = QLabel()
        self.heading.setObjectName("inboxDetailHeading")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setProperty("role", "title")
        self.heading.setWordWrap(True)
        self.aging = value_label("inboxDetailAging", self.tr("Waiting time"))
        self.state = value_label("inboxDetailState", self.tr("State of the request"))
        self.state.hide()

        self.customer = value_label("inboxDetailCustomer", self.tr("Customer"))
        self.case = value_label("inboxDetailCase", self.tr("Case"))
        self.requested = value_label("inboxDetailRequested", self.tr("Requested by"))
        self.assigned = value_label("inboxDetailAssigned", self.tr("Waiting for"))
        self.reason = value_label("inboxDetailReason", self.tr("Reason"))
        self.recommendation = value_label(
            "inboxDetailRecommendation", self.tr("The officer's recommendation")
        )
        self.alternatives = value_label(
            "inboxDetailAlternatives", self.tr("Alternatives already offered")
        )
        self.evidence = value_label("inboxDetailEvidence", self.tr("Evidence"))
        facts = QFormLayout()
        facts.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for caption, value in (
            (self.tr("Customer:"), self.customer),
            (self.tr("Case:"), self.case),
            (self.tr("Requested by:"), self.requested),
            (self.tr("Waiting for:"), self.assigned),
            (self.tr("Reason:"), self.reason),
            (self.tr("Recommendation:"), self.recommendation),
            (self.tr("Alternatives offered:"), self.alternatives),
            (self.tr("Evidence:"), self.evidence),
        ):
            facts.addRow(caption, value)

        self.authority = value_label("inboxAuthority", self.tr("Your authority"))
        self.history_title = QLabel()
        self.history_title.setObjectName("inboxHistoryTitle")
        self.history_title.setTextFormat(Qt.TextFormat.PlainText)
        self.history_title.setProperty("role", "hint")
        self.history = QListWidget()
        self.history.setObjectName("inboxHistory")
        self.history.setAccessibleName(self.tr("The customer's earlier requests of this kind"))
        self.history.setMaximumHeight(96)
        self.history.setWordWrap(True)
        self.history_total = value_label("inboxHistoryTotal", self.tr("Total in the period"))

        self.case_title = QLabel(self.tr("The case"))
        self.case_title.setTextFormat(Qt.TextFormat.PlainText)
        self.case_title.setProperty("role", "hint")
        self.case_words = value_label("inboxCaseWords", self.tr("The customer's words"))
        self.case_expectation = value_label(
            "inboxCaseExpectation", self.tr("What the customer expects")
        )
        self.runs = value_label("inboxScriptRuns", self.tr("Guided-script runs"))
        self.timeline = TimelineWidget()
        self.timeline.setObjectName("inboxTimeline")
        self.timeline.setAccessibleName(self.tr("Timeline of the case"))
        self.timeline.setMinimumHeight(160)

        layout = QVBoxLayout(body)
        layout.addWidget(self.heading)
        layout.addWidget(self.aging)
        layout.addWidget(self.state)
        layout.addLayout(facts)
        layout.addWidget(self.authority)
        layout.addWidget(self.history_title)
        layout.addWidget(self.history)
        layout.addWidget(self.history_total)
        layout.addWidget(self.case_title)
        layout.addWidget(self.case_words)
        layout.addWidget(self.case_expectation)
        layout.addWidget(self.runs)
        layout.addWidget(self.timeline, 1)
        self.clear(self.tr("Nothing is waiting for you."))

    def clear(self, message: str) -> None:
        self.item = None
        self.detail = None
        self.heading.setText(message)
        for widget in self._detail_widgets() + self._item_widgets():
            widget.hide()

    def _item_widgets(self) -> list[QWidget]:
        return [
            self.aging,
            self.customer,
            self.case,
            self.requested,
            self.assigned,
            self.reason,
            self.recommendation,
            self.alternatives,
            self.evidence,
        ]

    def _detail_widgets(self) -> list[QWidget]:
        return [
            self.state,
            self.authority,
            self.history_title,
            self.history,
            self.history_total,
            self.case_title,
            self.case_words,
            self.case_expectation,
            self.runs,
            self.timeline,
        ]

    def show_item(self, item: InboxItem, now: dt.datetime) -> None:
        """The facts the list already holds; the rest says it is loading."""
        same = self.item is not None and self.item.id == item.id
        self.item = item
        self.heading.setText(
            self.tr("{kind} of {amount}").format(
                kind=item.kind_label, amount=self.currency.format(item.amount_minor)
            )
        )
        self.update_aging(now)
        self.customer.setText(item.customer_name)
        self.case.setText(item.case_reference)
        self.requested.setText(
            self.tr("{who}, {when}").format(
                who=item.requested_by, when=local_time(item.requested_at)
            )
        )
        if item.in_pool:
            waiting_for = self.tr("The centre's pool ({centre})").format(centre=item.centre_name)
        elif item.assigned_to_id == self.me:
            waiting_for = self.tr("You ({centre})").format(centre=item.centre_name)
        else:
            waiting_for = self.tr("{who} ({centre})").format(
                who=item.assigned_to, centre=item.centre_name
            )
        self.assigned.setText(waiting_for)
        self.reason.setText(item.reason)
        self.recommendation.setText(item.recommendation or self.tr("(none given)"))
        self.alternatives.setText(item.alternatives_offered or self.tr("(none given)"))
        self.evidence.setText(item.evidence or self.tr("(none given)"))
        for widget in self._item_widgets():
            widget.show()
        if not same:
            self.detail = None
            for widget in self._detail_widgets():
                widget.hide()
            self.authority.setText(self.tr("Loading the case and the customer's history…"))
            self.authority.show()

    def update_aging(self, now: dt.datetime) -> None:
        item = self.item
        if item is None:
            return
        aging = item.aging_at(max(now, item.requested_at))
        self.aging.setText(
            self.tr("Waiting {age} · target {hours} h · {state}").format(
                age=age_text(now - item.requested_at),
                hours=item.target_hours,
                state=aging_word(aging),
            )
        )
        set_role(self.aging, "warning" if aging is not Aging.WITHIN else "hint")

    def show_detail(self, detail: InboxDetail) -> None:
        if self.item is None or self.item.id != detail.item.id:
            return
        self.detail = detail
        fmt = self.currency.format
        kind = detail.item.kind_label
        if detail.item.status != "pending":
            self.state.setText(
                self.tr("No longer waiting: {status} by {who} {when}.").format(
                    status=status_word(detail.item.status),
                    who=detail.decided_by or self.tr("someone else"),
                    when=local_time(detail.decided_at),
                )
            )
            set_role(self.state, "warning")
            self.state.show()
        else:
            self.state.hide()
        lines = [
            self.tr("Your limit for this kind ({kind}): {limit}.").format(
                kind=kind, limit=fmt(detail.limit_minor)
            )
        ]
        if detail.may_approve:
            lines.append(self.tr("You may approve the whole amount."))
        elif detail.max_approvable_minor > 0:
            lines.append(detail.verdict)
            lines.append(
                self.tr("You may approve up to {most}.").format(
                    most=fmt(detail.max_approvable_minor)
                )
            )
        else:
            lines.append(detail.verdict)
        self.authority.setText(" ".join(lines))
        set_role(self.authority, "hint" if detail.may_approve else "warning")

        title = self.tr("The customer's earlier requests of this kind, last {days} days:").format(
            days=detail.window_days
        )
        if not detail.history:
            title += " " + self.tr("none.")
        self.history_title.setText(title)
        self.history.clear()
        for entry in detail.history:
            if entry.decided_amount_minor is not None and entry.status in ("approved", "granted"):
                amount = fmt(entry.decided_amount_minor)
                if entry.decided_amount_minor != entry.amount_minor:
                    amount = self.tr("{granted} of {asked}").format(
                        granted=amount, asked=fmt(entry.amount_minor)
                    )
            else:
                amount = fmt(entry.amount_minor)
            who = entry.decided_by or entry.requested_by
            self.history.addItem(
                self.tr("{when} · {status} · {amount} · {case} · {who}").format(
                    when=local_time(entry.decided_at or entry.requested_at, with_time=False),
                    status=status_word(entry.status),
                    amount=amount,
                    case=entry.case_reference,
                    who=who,
                )
            )
        total = self.tr("Received in the period: {total}.").format(
            total=fmt(detail.history_total_minor)
        )
        if detail.hidden_total_minor:
            total += " " + self.tr("Of that, {hidden} on cases you may not open.").format(
                hidden=fmt(detail.hidden_total_minor)
            )
        self.history_total.setText(total)

        case = detail.case
        self.case.setText(
            self.tr("{reference} · {status} · opened {when}").format(
                reference=case.reference,
                status=label(case.status),
                when=local_time(case.opened_at, with_time=False),
            )
        )
        self.case_words.setText(
            self.tr("In the customer's words: {words}").format(words=case.details.customer_words)
        )
        self.case_expectation.setText(
            self.tr("They expect: {what}").format(
                what=case.details.customer_expectation or self.tr("(not recorded)")
            )
        )
        count = len(case.script_runs)
        self.runs.setText(
            self.tr("Guided-script runs on this case: {count} (in the timeline below).").format(
                count=count
            )
            if count
            else self.tr("No guided script was run on this case.")
        )
        self.timeline.show_case(case)
        for widget in self._detail_widgets():
            if widget is not self.state:
                widget.show()
        self.history.setVisible(bool(detail.history))
