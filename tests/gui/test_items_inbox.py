"""A supervisor works through review requests, replies to vet and compliments from the keyboard on
both databases, and sees the open cases past their resolution target.

The PostgreSQL demo database is shared by the session: every test raises its items on cases of
its own, finds them by id in the inbox, and decides or withdraws each of them before it ends, so
no other test's counts move. The overdue case is made on SQLite only (its private copy).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import select, update

from desk.adapters import orm
from desk.adapters.database import make_engine
from desk.domain.model import Priority
from desk.domain.work_items import Decision, ItemKind, ItemStatus, ReviewOrigin
from tests.gui.test_accessibility import _unnamed_controls
from tests.integration.test_script_runs import new_case
from ui.inbox_dialogs import PassOnDialog
from ui.items_inbox import BREACHES, KINDS, ItemsInboxWidget
from ui.operations import Operations

CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier
Desk = Any


@pytest.fixture
def second_supervisor(database_url: str) -> str:
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


@pytest.fixture
def people(desk_factory: Callable[..., Any], second_supervisor: str) -> dict[str, Desk]:
    names = {n: n for n in ("officer", "supervisor", "senior", "manager")}
    names["other"] = second_supervisor
    return {key: desk_factory(username) for key, username in names.items()}


@pytest.fixture
def open_items(qtbot: QtBot, people: dict[str, Desk]) -> Iterator[Callable[..., ItemsInboxWidget]]:
    """The items inbox of a person over their own operations; fails on a reported bug."""
    opened: list[tuple[Operations, list[tuple[str, bool]]]] = []

    def make(who: str = "supervisor") -> ItemsInboxWidget:
        operations = Operations(people[who])
        reports: list[tuple[str, bool]] = []
        operations.errorReported.connect(lambda message, bug: reports.append((message, bug)))
        opened.append((operations, reports))
        widget = ItemsInboxWidget(operations)
        qtbot.addWidget(widget)
        widget.resize(1300, 720)
        widget.show()
        widget.activateWindow()
        qtbot.waitUntil(widget.isActiveWindow, timeout=5_000)
        qtbot.waitUntil(lambda: widget.loaded_once and not widget.loading, timeout=15_000)
        return widget

    yield make
    for operations, reports in opened:
        qtbot.waitUntil(lambda ops=operations: not ops.busy, timeout=15_000)
        operations.shutdown(close_desk=False)
        assert not [m for m, bug in reports if bug], f"unexpected errors: {reports}"


def to_kind(qtbot: QtBot, widget: ItemsInboxWidget, kind: str) -> None:
    """Alt+W to the kinds, Home, Down to the kind, Enter into its list."""
    qtbot.keyClick(widget, Qt.Key.Key_W, ALT)
    assert widget.kinds.hasFocus()
    qtbot.keyClick(widget.kinds, Qt.Key.Key_Home)
    for _ in range(KINDS.index(kind)):
        qtbot.keyClick(widget.kinds, Qt.Key.Key_Down)
    assert widget.current_kind() == kind
    qtbot.keyClick(widget.kinds, Qt.Key.Key_Return)
    assert widget.current_table().hasFocus()


def to_item(qtbot: QtBot, widget: ItemsInboxWidget, kind: ItemKind, item_id: int) -> None:
    """Into the kind's list, then J until the item is the current one."""
    to_kind(qtbot, widget, kind)
    assert widget.model.row_of(item_id) >= 0, "the item waits for this person"
    while (current := widget.current_item()) is None or current.id != item_id:
        before = widget.table.currentIndex().row()
        qtbot.keyClick(widget.table, Qt.Key.Key_J)
        assert widget.table.currentIndex().row() != before, "J moves down to the item"


def gone(widget: ItemsInboxWidget, item_id: int) -> bool:
    return widget.model.row_of(item_id) == -1 and not widget.busy


def raised(officer: Desk, item_id: int) -> Any:
    return {i.id: i for i in officer.items.raised()}[item_id]


def test_a_review_is_upheld_with_a_reason_from_the_keyboard_and_the_officer_reads_the_outcome(
    qtbot: QtBot, open_items: Callable[..., ItemsInboxWidget], people: dict[str, Desk]
) -> None:
    officer = people["officer"]
    case = new_case(officer)
    review = officer.items.ask_review(
        case.id, "The customer says the penalty letter arrived after the due date."
    )
    widget = open_items()
    counts: list[int] = []
    widget.countsChanged.connect(counts.append)
    to_item(qtbot, widget, ItemKind.REVIEW, review.id)
    assert widget.kinds.item(0).text().startswith("Review requests (")
    assert widget.pane.heading.text() == f"Review request · {case.reference}"
    assert widget.pane.origin.text() == "The customer asked for a supervisor's review"
    assert "arrived after the due date" in widget.pane.body.text()
    assert widget.pane.assigned.text() == "You"
    assert widget.uphold_button.isVisible() and not widget.approve_button.isVisible()

    with qtbot.waitSignal(widget.openCaseRequested, timeout=5_000) as opened:
        qtbot.keyClick(widget.table, Qt.Key.Key_Return)
    assert opened.args == [case.id]
    with qtbot.waitSignal(widget.openCaseRequested, timeout=5_000) as opened:
        qtbot.keyClick(widget.table, Qt.Key.Key_O, CTRL)
    assert opened.args == [case.id]

    qtbot.keyClick(widget.table, Qt.Key.Key_Tab)
    assert widget.response.hasFocus(), "Tab goes from the list to the reason"
    qtbot.keyClicks(widget.response, "The letter was posted in time.")
    qtbot.keyClick(widget.response, Qt.Key.Key_Return, CTRL)  # the main decision: uphold
    qtbot.waitUntil(lambda: gone(widget, review.id), timeout=15_000)
    assert widget.message.text().startswith(f"Upheld: Review request on {case.reference}")
    assert widget.current_table().hasFocus(), "the keyboard goes back to the list"
    assert counts and counts[-1] == sum(widget.counts()[k] for k in KINDS[:3])

    outcome = raised(officer, review.id)
    assert (outcome.status, outcome.outcome) == (ItemStatus.DONE, Decision.UPHOLD)
    assert outcome.decided_by == people["supervisor"].session.full_name
    first_name = case.customer.full_name.split()[0]
    assert outcome.wording.startswith(f"{first_name}, a supervisor has looked at the decision")
    assert "The letter was posted in time." in outcome.wording


def test_a_reply_is_approved_as_edited_and_typing_survives_moving_around(
    qtbot: QtBot, open_items: Callable[..., ItemsInboxWidget], people: dict[str, Desk]
) -> None:
    officer = people["officer"]
    case = new_case(officer)
    draft = "Dear customer,\n\nWe have refunded the charge."
    first = officer.items.submit_reply(case.id, draft)
    second = officer.items.submit_reply(case.id, "Dear customer,\n\nYour permit is ready.")
    widget = open_items()
    to_item(qtbot, widget, ItemKind.REPLY, first.id)
    assert widget.response.text() == draft, "the draft is there to edit"
    assert not widget.pane.body.isVisible(), "the draft is said once, in the text to send"
    qtbot.keyClick(widget.table, Qt.Key.Key_Tab)
    assert widget.response.hasFocus()
    qtbot.keyClick(widget.response, Qt.Key.Key_End, CTRL)
    qtbot.keyClicks(widget.response, " It reaches you within five days.")
    edited = draft + " It reaches you within five days."
    assert widget.response.text() == edited

    # Away to the next reply and back: what was typed is still there.
    widget.table.setFocus()
    qtbot.keyClick(widget.table, Qt.Key.Key_J)
    assert widget.current_item() is not None and widget.current_item().id == second.id
    assert widget.response.text().endswith("Your permit is ready.")
    qtbot.keyClick(widget.table, Qt.Key.Key_K)
    assert widget.response.text() == edited

    # Return with nothing said: refused beside the note, and the edited reply stays.
    qtbot.keyClick(widget.table, Qt.Key.Key_T, ALT)  # "Re&turn for more information"
    qtbot.waitUntil(widget.note_error.isVisible, timeout=15_000)
    assert widget.note_error.text() == "Say what more is needed: the officer reads it."
    assert widget.note.hasFocus()
    assert widget.response.text() == edited and widget.model.row_of(first.id) >= 0

    with qtbot.waitSignal(widget.ops.changed, timeout=15_000):
        qtbot.keyClick(widget.note, Qt.Key.Key_A, ALT)  # "&Approve": the text as edited
    qtbot.waitUntil(lambda: gone(widget, first.id), timeout=15_000)
    assert widget.message.text().startswith("Reply approved as you edited it")
    assert raised(officer, first.id).outcome is Decision.APPROVE
    assert raised(officer, first.id).response == edited

    # The second: returned with a note for the officer, who withdraws it.
    qtbot.waitUntil(lambda: widget.current_item() is not None, timeout=5_000)
    to_item(qtbot, widget, ItemKind.REPLY, second.id)
    widget.note.setFocus()
    qtbot.keyClicks(widget.note, "Say which office to collect it from.")
    qtbot.keyClick(widget.note, Qt.Key.Key_T, ALT)
    qtbot.waitUntil(lambda: gone(widget, second.id), timeout=15_000)
    returned = raised(officer, second.id)
    assert returned.status is ItemStatus.RETURNED
    assert returned.response == "Say which office to collect it from."
    officer.items.withdraw(second.id)


def test_a_compliment_acknowledged_with_a_note_reaches_the_person_it_is_about(
    qtbot: QtBot, open_items: Callable[..., ItemsInboxWidget], people: dict[str, Desk]
) -> None:
    officer, senior = people["officer"], people["senior"]
    case = new_case(officer)
    compliment = officer.items.record_compliment(
        case.id, "senior", "He explained the permit process clearly and kindly."
    )
    widget = open_items()
    to_item(qtbot, widget, ItemKind.COMPLIMENT, compliment.id)
    assert widget.pane.subject.text() == senior.session.full_name
    assert senior.session.full_name in widget.response_hint.text()
    qtbot.keyClick(widget.table, Qt.Key.Key_Tab)
    qtbot.keyClick(widget.response, Qt.Key.Key_Return, CTRL)  # no note yet
    qtbot.waitUntil(widget.response_error.isVisible, timeout=15_000)
    assert "note of recognition" in widget.response_error.text()
    assert widget.response.hasFocus()
    qtbot.keyClicks(widget.response, "Thank you for your patience with Mr Kelly.")
    qtbot.keyClick(widget.response, Qt.Key.Key_K, ALT)  # "Ac&knowledge"
    qtbot.waitUntil(lambda: gone(widget, compliment.id), timeout=15_000)
    assert widget.message.text().startswith(
        f"Acknowledged; the note reaches {senior.session.full_name}"
    )

    notes = {n.id: n for n in senior.items.recognitions()}
    assert notes[compliment.id].response == "Thank you for your patience with Mr Kelly."
    senior.items.mark_seen(compliment.id)


def test_an_empty_reason_is_refused_beside_the_field_and_the_text_stays(
    qtbot: QtBot, open_items: Callable[..., ItemsInboxWidget], people: dict[str, Desk]
) -> None:
    officer = people["officer"]
    case = new_case(officer)
    review = officer.items.ask_review(
        case.id, "I cannot find who owns this road.", origin=ReviewOrigin.CANNOT_RESOLVE
    )
    widget = open_items()
    to_item(qtbot, widget, ItemKind.REVIEW, review.id)
    assert widget.pane.origin.text() == "The officer cannot resolve it"
    qtbot.keyClick(widget.table, Qt.Key.Key_Tab)
    qtbot.keyClicks(widget.response, "   ")
    qtbot.keyClick(widget.response, Qt.Key.Key_G, ALT)  # "Chan&ge the decision"
    qtbot.waitUntil(widget.response_error.isVisible, timeout=15_000)
    assert widget.response_error.text() == "Give the reason: the officer tells the customer."
    assert widget.response.hasFocus() and widget.response.text() == "   "
    assert widget.model.row_of(review.id) >= 0, "still waiting"
    with qtbot.waitSignal(widget.countsChanged, timeout=15_000):
        widget.ops.changed.emit()  # news from elsewhere: the list is read again
    assert widget.response_error.isVisible() and widget.response.text() == "   "

    qtbot.keyClicks(widget.response, "Highways own it; I referred it.")
    assert not widget.response_error.isVisible(), "typing clears the message"
    qtbot.keyClick(widget.response, Qt.Key.Key_G, ALT)
    qtbot.waitUntil(lambda: gone(widget, review.id), timeout=15_000)
    changed = raised(officer, review.id)
    assert changed.outcome is Decision.CHANGE
    assert changed.response == "Highways own it; I referred it."


def test_the_second_of_two_supervisors_is_told_who_decided_and_the_item_leaves(
    qtbot: QtBot, open_items: Callable[..., ItemsInboxWidget], people: dict[str, Desk]
) -> None:
    # The manager has nobody above: the review waits in the centre's pool, for both supervisors.
    officer, other = people["manager"], people["other"]
    case = new_case(officer)
    review = officer.items.ask_review(case.id, "The customer wants the refusal looked at.")
    assert review.assigned_to_id is None
    widget = open_items()
    to_item(qtbot, widget, ItemKind.REVIEW, review.id)
    qtbot.keyClick(widget.table, Qt.Key.Key_Tab)
    qtbot.keyClicks(widget.response, "The refusal stands.")
    other.items.decide(review.id, Decision.UPHOLD, "It was right.")  # another desk, first

    qtbot.keyClick(widget.response, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: gone(widget, review.id), timeout=15_000)
    assert widget.message.text().startswith(f"{other.session.full_name} already decided this at ")
    assert widget.message.text().endswith("their decision stands.")
    assert widget.message.property("role") == "error"
    qtbot.waitUntil(lambda: not widget.loading, timeout=15_000)
    assert widget.model.row_of(review.id) == -1, "read again: still gone"
    assert raised(officer, review.id).decided_by == other.session.full_name


def test_an_item_is_passed_on_to_a_named_person(
    qtbot: QtBot, open_items: Callable[..., ItemsInboxWidget], people: dict[str, Desk]
) -> None:
    officer, other = people["officer"], people["other"]
    case = new_case(officer)
    review = officer.items.ask_review(case.id, "The customer asks for a second look.")
    widget = open_items()
    to_item(qtbot, widget, ItemKind.REVIEW, review.id)
    qtbot.keyClick(widget.table, Qt.Key.Key_P, ALT)  # "&Pass on to…"
    qtbot.waitUntil(
        lambda: widget.pass_dialog is not None and widget.pass_dialog.loaded, timeout=15_000
    )
    dialog = widget.pass_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)
    assert _unnamed_controls(dialog) == []
    assert dialog.person.findData("supervisor") == -1, "not oneself"
    qtbot.keyClick(dialog.person, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(dialog.person_error.isVisible, timeout=5_000)
    assert dialog.person_error.text() == "Choose the person to pass it on to."
    type_person(qtbot, dialog, other)
    with qtbot.waitSignal(dialog.finished, timeout=15_000):
        qtbot.keyClick(dialog.person, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: gone(widget, review.id), timeout=15_000)
    assert widget.message.text().startswith(f"Passed on to {other.session.full_name}")
    assert review.id in {i.id for i in other.items.waiting(ItemKind.REVIEW)}
    other.items.decide(review.id, Decision.UPHOLD, "Looked again; it stands.")


def type_person(qtbot: QtBot, dialog: PassOnDialog, person: Desk) -> None:
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


def test_overdue_cases_are_listed_and_enter_opens_one(
    qtbot: QtBot,
    open_items: Callable[..., ItemsInboxWidget],
    people: dict[str, Desk],
    backend: str,
    database_url: str,
) -> None:
    officer, supervisor = people["officer"], people["supervisor"]
    target_case: int | None = None
    if backend == "sqlite":  # a private copy: an urgent case opened ten hours ago (target 8 h)
        case = new_case(officer, details={"priority": Priority.URGENT})
        engine = make_engine(database_url)
        try:
            with engine.begin() as conn:
                conn.execute(
                    update(orm.Case)
                    .where(orm.Case.id == case.id)
                    .values(opened_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=10))
                )
        finally:
            engine.dispose()
        target_case = case.id
    expected = supervisor.items.breaches()
    assert expected, "the demo has open cases past their target"
    widget = open_items()
    assert widget.kinds.item(KINDS.index(BREACHES)).text() == f"Overdue cases ({len(expected)})"
    to_kind(qtbot, widget, BREACHES)
    assert widget.breach_table.hasFocus() and widget.breach_table.isVisible()
    assert not widget.decision_area.isVisible(), "nothing to decide on a case"
    assert [b.case_id for b in widget.breach_model.rows()] == [b.case_id for b in expected]
    if target_case is None:
        target_case = expected[0].case_id
    while (breach := widget.current_breach()) is None or breach.case_id != target_case:
        qtbot.keyClick(widget.breach_table, Qt.Key.Key_J)
    if backend == "sqlite":
        assert breach.priority == "urgent"
        assert widget.pane.priority.text() == "Urgent (target 8 h)"
        assert widget.pane.overdue.text().startswith("2 h")
    model = widget.breach_model
    row = model.row_of(target_case)
    assert model.index(row, model.CASE).data() == breach.reference
    with qtbot.waitSignal(widget.openCaseRequested, timeout=5_000) as opened:
        qtbot.keyClick(widget.breach_table, Qt.Key.Key_Return)
    assert opened.args == [target_case]


def test_a_day_old_item_is_coloured_with_an_icon_and_words_and_f5_reads_again(
    qtbot: QtBot,
    open_items: Callable[..., ItemsInboxWidget],
    people: dict[str, Desk],
    database_url: str,
) -> None:
    officer = people["officer"]
    case = new_case(officer)
    old = officer.items.ask_review(case.id, "Looked at again, please.")
    owner = make_engine(database_url)
    try:
        with owner.begin() as conn:  # raised thirty hours ago (this test's own item)
            conn.execute(
                update(orm.WorkItem)
                .where(orm.WorkItem.id == old.id)
                .values(requested_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=30))
            )
    finally:
        owner.dispose()
    widget = open_items()
    to_item(qtbot, widget, ItemKind.REVIEW, old.id)
    model = widget.model
    waiting = model.index(model.row_of(old.id), model.WAITING)
    assert "1 d 6 h" in waiting.data()
    assert waiting.data(Qt.ItemDataRole.DecorationRole) is not None, "an icon, not colour alone"
    assert waiting.data(Qt.ItemDataRole.BackgroundRole) is not None
    assert waiting.data(Qt.ItemDataRole.AccessibleTextRole).endswith("over a day")
    assert widget.pane.aging.text() == "Waiting 1 d 6 h · over a day"

    fresh = officer.items.submit_reply(case.id, "Dear customer, it is done.")
    with qtbot.waitSignal(widget.countsChanged, timeout=15_000):
        qtbot.keyClick(widget.table, Qt.Key.Key_F5)
    assert widget.counts()[ItemKind.REPLY] >= 1
    assert fresh.id in {i.id for i in widget.items}
    officer.items.withdraw(fresh.id)
    widget.ops.changed.emit()  # as the window does when the database reports a change
    qtbot.waitUntil(lambda: fresh.id not in {i.id for i in widget.items}, timeout=15_000)
    officer.items.withdraw(old.id)


def test_every_control_of_the_items_inbox_is_named(
    qtbot: QtBot, open_items: Callable[..., ItemsInboxWidget], people: dict[str, Desk]
) -> None:
    officer = people["officer"]
    case = new_case(officer)
    reply = officer.items.submit_reply(case.id, "Dear customer, here is the answer.")
    widget = open_items()
    to_item(qtbot, widget, ItemKind.REPLY, reply.id)
    assert _unnamed_controls(widget) == []
    to_kind(qtbot, widget, BREACHES)
    assert _unnamed_controls(widget) == []
    assert QApplication.focusWidget() is widget.breach_table
    officer.items.withdraw(reply.id)
