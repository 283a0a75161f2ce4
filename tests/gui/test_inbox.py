"""A supervisor works through the inbox from the keyboard on both databases: next and previous,
approve, approve a lower amount, reject and return with a reason, escalate, pass on to a named
person; a refusal (above the authority, or decided by someone else meanwhile) is said in the pane
and the list is read again, a refused pass-on beside the person chosen.
An officer sees what they sent, the decision's reason and words for telling the customer.

The PostgreSQL demo database is shared by the session, so each test filters the inbox to amounts
no other test asks for, with the inbox's own amount filter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot
from sqlalchemy import select, update

from desk.adapters import orm
from desk.adapters.database import make_engine
from desk.services.grants import Outcome
from desk.services.inbox import Escalated, InboxQuery, inbox_of
from tests.gui.test_accessibility import _unnamed_controls
from tests.integration.test_cases_service import new_customer, walk_in_case
from ui.inbox import InboxWidget, SentForDecisionWidget
from ui.inbox_dialogs import DecisionDialog, PassOnDialog
from ui.operations import Operations

CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier
Desk = Any


@pytest.fixture
def people(desk_factory: Callable[..., Any]) -> dict[str, Desk]:
    return {name: desk_factory(name) for name in ("officer", "supervisor", "manager")}


@pytest.fixture
def open_inbox(qtbot: QtBot, people: dict[str, Desk]) -> Iterator[Callable[[], InboxWidget]]:
    """The supervisor's inbox over their own operations; fails the test if a bug was reported."""
    opened: list[tuple[Operations, list[tuple[str, bool]]]] = []

    def make() -> InboxWidget:
        desk = people["supervisor"]
        operations = Operations(desk)
        reports: list[tuple[str, bool]] = []
        operations.errorReported.connect(lambda message, bug: reports.append((message, bug)))
        opened.append((operations, reports))
        widget = InboxWidget(operations, desk.reference_data().currency)
        qtbot.addWidget(widget)
        widget.resize(1300, 700)
        widget.show()
        widget.activateWindow()
        qtbot.waitUntil(widget.isActiveWindow, timeout=5_000)
        qtbot.waitUntil(lambda: widget.model.first_page_loaded, timeout=15_000)
        return widget

    yield make
    for operations, reports in opened:
        qtbot.waitUntil(lambda ops=operations: not ops.busy, timeout=15_000)
        operations.shutdown(close_desk=False)
        assert not [m for m, bug in reports if bug], f"unexpected errors: {reports}"


def colleague_of_supervisor(database_url: str) -> str:
    """Another supervisor of the demo supervisor's centre (the demo names them at random)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            me = conn.execute(select(orm.Staff).where(orm.Staff.username == "supervisor")).one()
            username = conn.scalar(
                select(orm.Staff.username)
                .join(orm.Role, orm.Role.id == orm.Staff.role_id)
                .where(
                    orm.Role.name == "Supervisor",
                    orm.Staff.centre_id == me.centre_id,
                    orm.Staff.id != me.id,
                    orm.Staff.active,
                )
                .order_by(orm.Staff.id)
                .limit(1)
            )
    finally:
        engine.dispose()
    assert username, "the demo has two supervisors per centre"
    return str(username)


def choose_person(qtbot: QtBot, dialog: PassOnDialog, person: Desk) -> None:
    """Choose a person in a pass-on dialog from the keyboard: Home, then Down until it is
    them (typing a name with a space in it would open the list)."""
    username = person.session.username
    dialog.person.setFocus()
    qtbot.keyClick(dialog.person, Qt.Key.Key_Home)
    for _ in range(dialog.person.count()):
        if dialog.person.currentData() == username:
            break
        qtbot.keyClick(dialog.person, Qt.Key.Key_Down)
    assert dialog.person.currentData() == username


def ask(officer: Desk, kind: str, amount: int, reason: str = "Penalty after our outage") -> Any:
    customer = new_customer(officer)
    case = officer.cases.create(walk_in_case(officer, customer.id, "The fee is not fair"))
    return officer.grants.request(
        case.id, kind, amount, reason, recommendation="Waive it", alternatives_offered="A plan"
    )


def only_amounts(qtbot: QtBot, widget: InboxWidget, low: str, high: str, rows: int) -> None:
    """Type an amount range into the filters, then Tab on into the list."""
    qtbot.keyClicks(widget.min_amount, low)
    qtbot.keyClicks(widget.max_amount, high)
    qtbot.keyClick(widget.max_amount, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: (
            widget.model.query.min_amount_minor is not None
            and widget.model.first_page_loaded
            and widget.model.rowCount() == rows
        ),
        timeout=15_000,
    )
    widget.max_amount.setFocus()
    qtbot.keyClick(widget.max_amount, Qt.Key.Key_Tab)  # the order
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)  # the list
    assert QApplication.focusWidget() is widget.table


def current_id(widget: InboxWidget) -> int | None:
    item = widget.current_item()
    return item.id if item is not None else None


def open_dialog(qtbot: QtBot, widget: InboxWidget, key: Qt.Key) -> DecisionDialog:
    qtbot.keyClick(widget.table, key)
    qtbot.waitUntil(lambda: widget.dialog is not None and widget.dialog.isVisible(), timeout=5_000)
    dialog = widget.dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)  # shortcuts go to the active window
    return dialog


def test_next_previous_approve_and_approve_a_lower_amount(
    qtbot: QtBot, open_inbox: Callable[[], InboxWidget], people: dict[str, Desk]
) -> None:
    officer = people["officer"]
    first = ask(officer, "waiver", 12_301)
    second = ask(officer, "waiver", 12_302)
    widget = open_inbox()
    only_amounts(qtbot, widget, "123.01", "123.02", rows=2)

    assert current_id(widget) == first.id, "oldest first, and the first one is chosen"
    qtbot.waitUntil(lambda: widget.pane.detail is not None, timeout=10_000)
    assert widget.pane.heading.text() == "Fee waiver of $123.01"
    assert widget.pane.recommendation.text() == "Waive it"
    assert widget.pane.assigned.text().startswith("You (")
    qtbot.keyClick(widget.table, Qt.Key.Key_J)
    assert current_id(widget) == second.id
    qtbot.keyClick(widget.table, Qt.Key.Key_K)
    assert current_id(widget) == first.id
    qtbot.keyClick(widget.table, Qt.Key.Key_Down)
    assert current_id(widget) == second.id
    qtbot.keyClick(widget.table, Qt.Key.Key_Up)
    assert current_id(widget) == first.id

    # A: approve as asked; the note is optional and Enter confirms.
    dialog = open_dialog(qtbot, widget, Qt.Key.Key_A)
    assert dialog.note.hasFocus()
    with qtbot.waitSignal(widget.decided, timeout=15_000) as approved:
        qtbot.keyClick(dialog.note, Qt.Key.Key_Return)
    assert approved.args[0].status == "approved" and approved.args[0].id == first.id
    assert approved.args[0].decided_amount_minor == 12_301
    assert widget.message.text().startswith("Approved: Fee waiver of $123.01")
    qtbot.waitUntil(lambda: widget.model.rowCount() == 1, timeout=15_000)
    qtbot.waitUntil(lambda: current_id(widget) == second.id, timeout=5_000)
    assert widget.focusWidget() is widget.table, "the keyboard goes back to the list"

    # L: a lower amount, checked before anything is sent.
    dialog = open_dialog(qtbot, widget, Qt.Key.Key_L)
    assert dialog.amount.hasFocus()
    for typed, problem in (
        ("200", "cannot be more than the $123.02 asked"),
        ("123.02", "use Approve instead"),
        ("-5", "cannot be negative"),
        ("12.345", "at most 2 decimal places"),
    ):
        dialog.amount.selectAll()
        qtbot.keyClicks(dialog.amount, typed)
        qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
        qtbot.waitUntil(dialog.amount_error.isVisible, timeout=5_000)
        assert problem in dialog.amount_error.text(), typed
        assert dialog.isVisible() and widget.model.rowCount() == 1
    dialog.amount.selectAll()
    qtbot.keyClicks(dialog.amount, "100")
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
    qtbot.waitUntil(dialog.reason_error.isVisible, timeout=5_000)
    assert dialog.reason_box.hasFocus(), "a lower amount needs a reason"
    qtbot.keyClicks(dialog.reason_box, "Only the late fee was ours")
    with qtbot.waitSignal(widget.decided, timeout=15_000) as lowered:
        qtbot.keyClick(dialog.reason_box, Qt.Key.Key_Return, CTRL)
    view = lowered.args[0]
    assert (view.id, view.status, view.decided_amount_minor) == (second.id, "approved", 10_000)
    assert view.decision_reason == "Only the late fee was ours"
    assert widget.message.text().startswith("Approved $100.00 of the Fee waiver of $123.02")
    qtbot.waitUntil(lambda: widget.model.rowCount() == 0, timeout=15_000)
    qtbot.waitUntil(lambda: widget.pane.heading.text() == "Nothing is waiting for you.")
    assert not widget.approve_button.isEnabled()


def test_reject_and_return_need_a_reason(
    qtbot: QtBot, open_inbox: Callable[[], InboxWidget], people: dict[str, Desk]
) -> None:
    officer = people["officer"]
    first = ask(officer, "claim", 12_311)
    second = ask(officer, "claim", 12_312)
    widget = open_inbox()
    only_amounts(qtbot, widget, "123.11", "123.12", rows=2)

    dialog = open_dialog(qtbot, widget, Qt.Key.Key_R)
    assert dialog.reason_box.hasFocus()
    qtbot.keyClick(dialog.reason_box, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(dialog.reason_error.isVisible, timeout=5_000)
    assert "Give a reason" in dialog.reason_error.text() and dialog.isVisible()
    qtbot.keyClicks(dialog.reason_box, "The charge was correct")
    with qtbot.waitSignal(widget.decided, timeout=15_000) as rejected:
        qtbot.keyClick(dialog.reason_box, Qt.Key.Key_Return, CTRL)
    assert (rejected.args[0].id, rejected.args[0].status) == (first.id, "rejected")
    assert widget.message.text().startswith("Rejected: Claim of $123.11")
    qtbot.waitUntil(lambda: current_id(widget) == second.id, timeout=15_000)

    dialog = open_dialog(qtbot, widget, Qt.Key.Key_T)
    qtbot.keyClick(dialog.reason_box, Qt.Key.Key_T, ALT)  # the mnemonic of "Return"
    qtbot.waitUntil(dialog.reason_error.isVisible, timeout=5_000)
    assert "Say what is missing" in dialog.reason_error.text()
    qtbot.keyClicks(dialog.reason_box, "Please attach the repair invoice")
    with qtbot.waitSignal(widget.decided, timeout=15_000) as returned:
        qtbot.keyClick(dialog.reason_box, Qt.Key.Key_T, ALT)
    assert (returned.args[0].id, returned.args[0].status) == (second.id, "returned")
    assert widget.message.text() == (
        f"Returned to {officer.session.full_name}: Claim of $123.12 for "
        f"{second_customer(officer, second)} ({second_reference(officer, second)})."
    )
    qtbot.waitUntil(lambda: widget.model.rowCount() == 0, timeout=15_000)
    stored = {r.id: r for r in officer.grants.for_case(second.case_id)}
    assert stored[second.id].decision_reason == "Please attach the repair invoice"


def second_customer(officer: Desk, request: Any) -> str:
    return str(officer.cases.get(request.case_id).customer.full_name)


def second_reference(officer: Desk, request: Any) -> str:
    return str(officer.cases.get(request.case_id).reference)


def test_escalate_passes_the_item_up_and_enter_opens_the_case(
    qtbot: QtBot, open_inbox: Callable[[], InboxWidget], people: dict[str, Desk]
) -> None:
    request = ask(people["officer"], "refund", 12_321)
    widget = open_inbox()
    only_amounts(qtbot, widget, "123.21", "123.21", rows=1)
    with qtbot.waitSignal(widget.openCaseRequested, timeout=5_000) as opened:
        qtbot.keyClick(widget.table, Qt.Key.Key_Return)
    assert opened.args == [request.case_id]

    dialog = open_dialog(qtbot, widget, Qt.Key.Key_E)
    qtbot.keyClicks(dialog.reason_box, "The customer complained about me before")
    with qtbot.waitSignal(widget.decided, timeout=15_000) as escalated:
        qtbot.keyClick(dialog.reason_box, Qt.Key.Key_Return, CTRL)
    result = escalated.args[0]
    manager = people["manager"]
    assert isinstance(result, Escalated) and result.assigned_to == manager.session.full_name
    assert widget.message.text().startswith(f"Passed up to {manager.session.full_name}")
    qtbot.waitUntil(lambda: widget.model.rowCount() == 0, timeout=15_000)
    waiting = inbox_of(manager).page(InboxQuery(min_amount_minor=12_321, max_amount_minor=12_321))
    assert request.id in {i.id for i in waiting.items}


def test_a_decision_taken_elsewhere_meanwhile_says_who_took_it(
    qtbot: QtBot, open_inbox: Callable[[], InboxWidget], people: dict[str, Desk]
) -> None:
    request = ask(people["officer"], "waiver", 12_331)
    widget = open_inbox()
    only_amounts(qtbot, widget, "123.31", "123.31", rows=1)
    manager = people["manager"]
    manager.grants.decide(request.id, Outcome.APPROVE)  # another desk, a moment earlier

    dialog = open_dialog(qtbot, widget, Qt.Key.Key_A)
    qtbot.keyClick(dialog.note, Qt.Key.Key_Return)
    qtbot.waitUntil(widget.message.isVisible, timeout=15_000)
    assert widget.message.text().startswith(
        f"{manager.session.full_name} already decided this request (approved)."
    )
    assert widget.message.property("role") == "error"
    qtbot.waitUntil(lambda: widget.model.rowCount() == 0, timeout=15_000)
    assert widget.message.isVisible(), "the message stays while the list is read again"


def test_above_the_authority_is_explained_and_nothing_changes(
    qtbot: QtBot, open_inbox: Callable[[], InboxWidget], people: dict[str, Desk]
) -> None:
    officer, supervisor = people["officer"], people["supervisor"]
    customer = new_customer(officer)
    case = officer.cases.create(walk_in_case(officer, customer.id, "Two penalties"))
    officer.grants.request(case.id, "waiver", 91_234, "First penalty")
    small = officer.grants.request(case.id, "waiver", 30_000, "Second penalty")
    supervisor.grants.decide(small.id, Outcome.APPROVE)  # now 30,000 + 91,234 is above 100,000
    widget = open_inbox()
    only_amounts(qtbot, widget, "912.34", "912.34", rows=1)
    qtbot.waitUntil(lambda: widget.pane.detail is not None, timeout=10_000)
    assert "You may approve up to $700.00" in widget.pane.authority.text()

    dialog = open_dialog(qtbot, widget, Qt.Key.Key_A)
    qtbot.keyClick(dialog.note, Qt.Key.Key_Return)
    qtbot.waitUntil(widget.message.isVisible, timeout=15_000)
    assert widget.message.text() == (
        "Your limit for fee waivers is $1,000.00 and this customer has already received $300.00 "
        "in the period; a Manager must decide this."
    )
    qtbot.waitUntil(lambda: not widget.busy and widget.model.first_page_loaded, timeout=15_000)
    assert widget.model.rowCount() == 1, "still waiting"
    assert [r.status for r in officer.grants.for_case(case.id)] == ["pending", "approved"]

    # What the authority covers is offered when approving less.
    qtbot.waitUntil(lambda: widget.pane.detail is not None, timeout=10_000)
    dialog = open_dialog(qtbot, widget, Qt.Key.Key_L)
    assert dialog.amount.text() == "700.00"
    hint = dialog.findChild(QLabel, "decisionAmountHint")
    assert hint is not None and "Your authority covers up to $700.00" in hint.text()
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.reason_box, "The rest needs a manager")
    with qtbot.waitSignal(widget.decided, timeout=15_000) as lowered:
        qtbot.keyClick(dialog.reason_box, Qt.Key.Key_Return, CTRL)
    assert lowered.args[0].decided_amount_minor == 70_000


def test_an_item_decided_elsewhere_leaves_on_the_next_change_and_aging_is_in_words(
    qtbot: QtBot,
    open_inbox: Callable[[], InboxWidget],
    people: dict[str, Desk],
    database_url: str,
) -> None:
    officer = people["officer"]
    late = ask(officer, "claim", 12_341)
    gone = ask(officer, "claim", 12_342)
    owner = make_engine(database_url)
    try:
        with owner.begin() as conn:  # asked 30 hours ago: past the 24-hour target
            conn.execute(
                update(orm.ApprovalRequest)
                .where(orm.ApprovalRequest.id == late.id)
                .values(requested_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=30))
            )
    finally:
        owner.dispose()
    widget = open_inbox()
    counts: list[tuple[int, int]] = []
    widget.countsChanged.connect(lambda waiting, overdue: counts.append((waiting, overdue)))
    only_amounts(qtbot, widget, "123.41", "123.42", rows=2)
    model = widget.model
    age = model.index(model.row_of(late.id), model.AGE)
    assert age.data().startswith("1 d 6 h") and age.data().endswith("overdue")
    assert age.data(Qt.ItemDataRole.DecorationRole) is not None, "an icon, not colour alone"
    assert age.data(Qt.ItemDataRole.BackgroundRole) is not None
    fresh = model.index(model.row_of(gone.id), model.AGE)
    assert "overdue" not in fresh.data() and fresh.data(Qt.ItemDataRole.DecorationRole) is None
    qtbot.waitUntil(lambda: bool(counts) and counts[-1][1] >= 1, timeout=10_000)
    assert "overdue" in widget.count_buttons["claim"].text()

    people["manager"].grants.decide(gone.id, Outcome.REJECT, reason="Not ours")
    widget.ops.changed.emit()  # as the window does when the database reports a change
    qtbot.waitUntil(lambda: model.first_page_loaded and model.rowCount() == 1, timeout=15_000)
    assert model.row_of(gone.id) == -1 and model.row_of(late.id) == 0


def test_pass_on_to_a_named_person_whose_limit_covers_it(
    qtbot: QtBot,
    open_inbox: Callable[[], InboxWidget],
    people: dict[str, Desk],
    desk_factory: Callable[..., Any],
    database_url: str,
) -> None:
    officer, supervisor, manager = people["officer"], people["supervisor"], people["manager"]
    colleague = desk_factory(colleague_of_supervisor(database_url))
    customer = new_customer(officer)
    case = officer.cases.create(walk_in_case(officer, customer.id, "Two penalties"))
    request = officer.grants.request(case.id, "waiver", 91_271, "First penalty")
    small = officer.grants.request(case.id, "waiver", 30_000, "Second penalty")
    supervisor.grants.decide(small.id, Outcome.APPROVE)  # now 300.00 + 912.71 is above 1,000
    widget = open_inbox()
    only_amounts(qtbot, widget, "912.71", "912.71", rows=1)

    qtbot.keyClick(widget.table, Qt.Key.Key_P)
    qtbot.waitUntil(
        lambda: widget.pass_dialog is not None and widget.pass_dialog.loaded, timeout=15_000
    )
    dialog = widget.pass_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)
    assert _unnamed_controls(dialog) == []
    assert dialog.person.findData("supervisor") == -1, "not oneself"
    assert dialog.person.hasFocus()
    qtbot.keyClick(dialog.person, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(dialog.person_error.isVisible, timeout=5_000)
    assert dialog.person_error.text() == "Choose the person to pass it on to."
    choose_person(qtbot, dialog, colleague)
    qtbot.keyClick(dialog.person, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(dialog.reason_error.isVisible, timeout=5_000)
    assert dialog.reason_error.text() == "Give a reason: they read it first."
    assert dialog.reason_box.hasFocus()
    qtbot.keyClicks(dialog.reason_box, "I am away this afternoon")

    # Their limit does not cover it with the customer's earlier grant: said beside the person.
    qtbot.keyClick(dialog.reason_box, Qt.Key.Key_A, ALT)  # "P&ass on"
    qtbot.waitUntil(lambda: dialog.person_error.isVisible() and not widget.busy, timeout=15_000)
    refusal = dialog.person_error.text()
    assert refusal.startswith(f"{colleague.session.full_name}'s limit for fee waiver")
    assert refusal.endswith(
        "is $1,000.00, and this needs $1,212.71 with the customer's earlier grants; pass it up "
        "the chain instead."
    )
    assert dialog.isVisible() and dialog.person.hasFocus()
    assert dialog.reason_box.text() == "I am away this afternoon", "nothing typed is lost"
    assert widget.model.rowCount() == 1

    choose_person(qtbot, dialog, manager)
    with qtbot.waitSignal(widget.decided, timeout=15_000) as passed:
        qtbot.keyClick(dialog.person, Qt.Key.Key_Return, CTRL)
    result = passed.args[0]
    assert isinstance(result, Escalated) and result.assigned_to == manager.session.full_name
    assert not dialog.isVisible()
    assert widget.message.text().startswith(f"Passed on to {manager.session.full_name}: ")
    qtbot.waitUntil(lambda: widget.model.rowCount() == 0, timeout=15_000)
    assert widget.focusWidget() is widget.table, "the keyboard goes back to the list"
    waiting = inbox_of(manager).page(InboxQuery(min_amount_minor=91_271, max_amount_minor=91_271))
    assert request.id in {i.id for i in waiting.items}
    events = [e.summary for e in officer.cases.get(case.id).timeline]
    assert any(
        f"passed to {manager.session.full_name}: I am away this afternoon" in e for e in events
    )
    manager.grants.decide(request.id, Outcome.REJECT, reason="Both penalties were ours to keep")


# --- the officer's side --------------------------------------------------------------------------


def test_an_officer_reads_the_decision_and_the_words_for_the_customer(
    qtbot: QtBot, ops: Operations, people: dict[str, Desk]
) -> None:
    officer, supervisor = people["officer"], people["supervisor"]
    request = ask(officer, "waiver", 12_351, "Penalty after the bank lost the payment")
    supervisor.grants.decide(request.id, Outcome.REJECT, reason="the payment arrived late")
    case = officer.cases.get(request.case_id)
    widget = SentForDecisionWidget(ops, officer.reference_data().currency)
    qtbot.addWidget(widget)
    widget.show()
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow, timeout=5_000)
    qtbot.waitUntil(lambda: widget.model.first_page_loaded, timeout=15_000)
    assert widget.model.row_of(request.id) == -1, "decided: not among the open ones"

    qtbot.keyClick(widget, Qt.Key.Key_W, ALT)  # "Sho&w"
    assert widget.scope.hasFocus()
    qtbot.keyClick(widget.scope, Qt.Key.Key_Down)
    qtbot.waitUntil(
        lambda: widget.model.first_page_loaded and widget.model.row_of(request.id) >= 0,
        timeout=15_000,
    )
    qtbot.keyClick(widget.scope, Qt.Key.Key_Tab)
    assert widget.table.hasFocus()
    while widget.current_item() is None or widget.current_item().id != request.id:
        before = widget.table.currentIndex().row()
        qtbot.keyClick(widget.table, Qt.Key.Key_J)
        assert widget.table.currentIndex().row() != before, "J moves down to the request"
    assert widget.state.text().startswith(f"Not approved: by {supervisor.session.full_name}")
    assert widget.decision_reason.text() == "the payment arrived late"
    first_name = case.customer.full_name.split()[0]
    wording = widget.wording.toPlainText()
    assert wording.startswith(f"{first_name}, I am sorry, your request for a fee waiver")
    assert "The reason: The payment arrived late." in wording
    with qtbot.waitSignal(widget.openCaseRequested, timeout=5_000) as opened:
        qtbot.keyClick(widget.table, Qt.Key.Key_Return)
    assert opened.args == [request.case_id]
    qtbot.keyClick(widget.table, Qt.Key.Key_C, ALT)  # "&Copy the words"
    qtbot.waitUntil(lambda: QApplication.clipboard().text() == wording, timeout=5_000)


def test_every_control_of_the_inbox_and_its_dialogs_is_named(
    qtbot: QtBot, open_inbox: Callable[[], InboxWidget], people: dict[str, Desk], ops: Operations
) -> None:
    from ui.inbox_dialogs import Decision

    ask(people["officer"], "refund", 12_361)
    widget = open_inbox()
    only_amounts(qtbot, widget, "123.61", "123.61", rows=1)
    qtbot.waitUntil(lambda: widget.pane.detail is not None, timeout=10_000)
    assert _unnamed_controls(widget) == []
    item = widget.current_item()
    assert item is not None
    for decision in Decision:
        dialog = DecisionDialog(decision, item, widget.currency, parent=widget)
        assert _unnamed_controls(dialog) == [], decision
        dialog.deleteLater()
    sent = SentForDecisionWidget(ops, widget.currency)
    qtbot.addWidget(sent)
    qtbot.waitUntil(lambda: sent.model.first_page_loaded, timeout=15_000)
    assert _unnamed_controls(sent) == []
