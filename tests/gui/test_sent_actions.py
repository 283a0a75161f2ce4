"""What the officer does with what they raised, from the keyboard, on both databases: send a
returned review (My raised items) and a returned approval request (Sent for decision) again,
withdraw either after a confirmation, mark a vetted reply as sent only once a supervisor approved
it (seeing the approved text first), and read a note of recognition in the green band.

The PostgreSQL demo database is shared by the session: each test makes its own case, withdraws or
decides whatever it raised before it ends, and asserts on its own items only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from desk.domain.work_items import Decision, ItemStatus
from desk.services.grants import Outcome
from desk.services.inbox import inbox_of
from desk.services.work_items import ItemRefused
from tests.integration.test_cases_service import new_customer, walk_in_case
from ui.inbox_sent import ResendRequestDialog, SentForDecisionWidget
from ui.item_dialogs import MarkSentDialog, ResubmitItemDialog
from ui.items_sent import ItemsSentWidget
from ui.operations import Operations
from ui.recognition import RecognitionBanner

CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier
Desk = Any


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def active(qtbot: QtBot, widget: QWidget) -> None:
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow, timeout=5_000)  # mnemonics go to the active window


@pytest.fixture
def people(desk_factory: Callable[..., Any]) -> dict[str, Desk]:
    """The officer for the test's own set-up and reads (widgets go through ``ops``), and the
    supervisor who decides."""
    return {name: desk_factory(name) for name in ("officer", "supervisor")}


@pytest.fixture
def new_case(people: dict[str, Desk]) -> Iterator[Callable[[], Any]]:
    """A fresh case per call; what is still open on it is withdrawn when the test ends."""
    officer = people["officer"]
    made: list[Any] = []

    def make() -> Any:
        customer = new_customer(officer)
        case = officer.cases.create(walk_in_case(officer, customer.id, "The fee is not fair"))
        made.append(case)
        return case

    yield make
    for case in made:
        for item in officer.items.for_case(case.id):
            if item.is_open:
                officer.items.withdraw(item.id)
        for request in officer.grants.for_case(case.id):
            if request.status in ("pending", "returned"):
                officer.grants.withdraw(request.id)


@pytest.fixture
def items_widget(qtbot: QtBot, ops: Operations) -> ItemsSentWidget:
    widget = ItemsSentWidget(ops)
    qtbot.addWidget(widget)
    widget.resize(1200, 650)
    widget.show()
    active(qtbot, widget)
    qtbot.waitUntil(lambda: widget.loaded_once, timeout=15_000)
    return widget


def move_to(qtbot: QtBot, widget: Any, row: int) -> None:
    """Move the list to ``row`` from the keyboard: J goes down, K goes up."""
    widget.table.setFocus()
    while (current := widget.table.currentIndex().row()) != row:
        qtbot.keyClick(widget.table, Qt.Key.Key_J if current < row else Qt.Key.Key_K)
        assert widget.table.currentIndex().row() != current, "J and K move in the list"


def choose(qtbot: QtBot, widget: ItemsSentWidget, item_id: int) -> None:
    """Read the list again and move to the item from the keyboard (J goes down)."""
    widget.refresh()
    qtbot.waitUntil(lambda: widget.model.row_of(item_id) >= 0, timeout=15_000)
    move_to(qtbot, widget, widget.model.row_of(item_id))
    assert widget.current_item() is not None and widget.current_item().id == item_id


def refreshed(qtbot: QtBot, widget: ItemsSentWidget, item_id: int, status: ItemStatus) -> Any:
    """The supervisor decided on another desk: read again until the list shows it."""
    widget.refresh()

    def shows() -> bool:
        current = widget.current_item()
        return current is not None and current.id == item_id and current.status is status

    qtbot.waitUntil(shows, timeout=15_000)
    return widget.current_item()


# --- My raised items -----------------------------------------------------------------------


def test_a_returned_review_is_sent_again_and_its_decision_comes_back_with_words(
    qtbot: QtBot,
    ops: Operations,
    people: dict[str, Desk],
    new_case: Callable[[], Any],
    items_widget: ItemsSentWidget,
) -> None:
    officer, supervisor = people["officer"], people["supervisor"]
    case = new_case()
    review = officer.items.ask_review(case.id, "The customer disputes the late fee")
    supervisor.items.decide(review.id, Decision.RETURN, "Which letter did they receive?")
    widget = items_widget
    choose(qtbot, widget, review.id)
    assert widget.model.state_text(widget.current_item()) == (
        "Returned: Which letter did they receive?"
    )
    assert widget.answer.toPlainText() == "Which letter did they receive?"
    assert widget.resubmit_button.isEnabled() and widget.withdraw_button.isEnabled()
    assert not widget.mark_sent_button.isVisible(), "a review is never sent"

    qtbot.keyClick(widget.table, Qt.Key.Key_G, ALT)  # "Send a&gain…"
    qtbot.waitUntil(lambda: isinstance(widget.dialog, ResubmitItemDialog), timeout=5_000)
    dialog = widget.dialog
    assert isinstance(dialog, ResubmitItemDialog)
    active(qtbot, dialog)
    assert "Which letter did they receive?" in dialog.findChild(QWidget, "resubmitAsked").text()
    assert focused() is dialog.body
    qtbot.keyClicks(focused(), " The letter of 3 March.")
    with qtbot.waitSignal(dialog.done, timeout=15_000) as sent:
        qtbot.keyClick(focused(), Qt.Key.Key_Return, CTRL)
    view = sent.args[0]
    assert view.id == review.id and view.status is ItemStatus.PENDING
    assert view.body == "The customer disputes the late fee The letter of 3 March."
    qtbot.waitUntil(lambda: widget.message.text().startswith("Sent again to"), timeout=5_000)
    qtbot.waitUntil(
        lambda: (
            widget.current_item() is not None and widget.current_item().status is ItemStatus.PENDING
        ),
        timeout=15_000,
    )
    assert widget.state.text().startswith("With ")

    supervisor.items.decide(review.id, Decision.UPHOLD, "The fee was set out in the letter.")
    upheld = refreshed(qtbot, widget, review.id, ItemStatus.DONE)
    assert widget.model.state_text(upheld).startswith(f"Upheld by {supervisor.session.full_name}")
    assert widget.wording.isVisible() and widget.copy_button.isEnabled()
    wording = widget.wording.toPlainText()
    assert "stays as it was" in wording and "The fee was set out in the letter." in wording
    assert not widget.resubmit_button.isEnabled() and not widget.withdraw_button.isEnabled()
    active(qtbot, widget)
    widget.table.setFocus()
    qtbot.keyClick(widget.table, Qt.Key.Key_Y, ALT)  # "Cop&y the words"
    qtbot.waitUntil(lambda: QApplication.clipboard().text() == wording, timeout=5_000)
    with qtbot.waitSignal(widget.openCaseRequested, timeout=5_000) as opened:
        qtbot.keyClick(widget.table, Qt.Key.Key_Return)
    assert opened.args == [case.id]


def test_an_item_is_withdrawn_only_after_a_confirmation(
    qtbot: QtBot,
    ops: Operations,
    people: dict[str, Desk],
    new_case: Callable[[], Any],
    items_widget: ItemsSentWidget,
) -> None:
    officer = people["officer"]
    case = new_case()
    review = officer.items.ask_review(case.id, "The customer asks for a supervisor")
    widget = items_widget
    choose(qtbot, widget, review.id)

    qtbot.keyClick(widget.table, Qt.Key.Key_D, ALT)  # "With&draw…"
    qtbot.waitUntil(
        lambda: widget.confirm is not None and widget.confirm.isVisible(), timeout=5_000
    )
    box = widget.confirm
    assert box is not None and case.reference in box.text()
    box.button(QMessageBox.StandardButton.No).click()
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=5_000)
    assert officer.items.for_case(case.id)[0].status is ItemStatus.PENDING, "No keeps it"

    active(qtbot, widget)
    widget.table.setFocus()
    qtbot.keyClick(widget.table, Qt.Key.Key_D, ALT)
    qtbot.waitUntil(lambda: widget.confirm is not box and widget.confirm.isVisible(), timeout=5_000)
    assert widget.confirm is not None
    with qtbot.waitSignal(ops.changed, timeout=15_000):
        widget.confirm.button(QMessageBox.StandardButton.Yes).click()
    assert officer.items.for_case(case.id)[0].status is ItemStatus.WITHDRAWN
    qtbot.waitUntil(lambda: widget.message.text() == "Withdrawn.", timeout=5_000)
    # Withdrawn items leave the default view; "All my items" still shows them.
    qtbot.waitUntil(lambda: widget.model.row_of(review.id) == -1, timeout=15_000)
    widget.scope.setCurrentIndex(1)
    assert widget.model.row_of(review.id) >= 0


def test_a_reply_is_marked_as_sent_only_after_approval_with_the_approved_text(
    qtbot: QtBot,
    ops: Operations,
    people: dict[str, Desk],
    new_case: Callable[[], Any],
    items_widget: ItemsSentWidget,
) -> None:
    officer, supervisor = people["officer"], people["supervisor"]
    case = new_case()
    reply = officer.items.submit_reply(case.id, "We regret the error. The fee is gone.")
    widget = items_widget
    choose(qtbot, widget, reply.id)
    assert widget.mark_sent_button.isVisible() and not widget.mark_sent_button.isEnabled()
    widget.mark_sent_current()  # asked anyway (a shortcut, a stale list): refused, in words
    assert widget.message.text().startswith("This reply is not approved yet")
    assert widget.dialog is None
    with pytest.raises(ItemRefused, match="not approved yet"):
        officer.items.mark_sent(reply.id)

    approved_text = "We are sorry for the error. The late fee is removed from your account."
    supervisor.items.decide(reply.id, Decision.APPROVE, approved_text)
    approved = refreshed(qtbot, widget, reply.id, ItemStatus.DONE)
    assert widget.model.state_text(approved) == "Reply approved — not sent yet"
    assert widget.answer.toPlainText() == approved_text
    assert widget.mark_sent_button.isEnabled()

    widget.table.setFocus()
    qtbot.keyClick(widget.table, Qt.Key.Key_E, ALT)  # "Mark as s&ent…"
    qtbot.waitUntil(lambda: isinstance(widget.dialog, MarkSentDialog), timeout=5_000)
    dialog = widget.dialog
    assert isinstance(dialog, MarkSentDialog)
    active(qtbot, dialog)
    assert dialog.text.toPlainText() == approved_text, "the approved text is shown first"
    assert "edited" in dialog.findChild(QWidget, "markSentIntro").text()
    qtbot.keyClick(focused(), Qt.Key.Key_Y, ALT)  # "Cop&y the text"
    qtbot.waitUntil(lambda: QApplication.clipboard().text() == approved_text, timeout=5_000)
    with qtbot.waitSignal(dialog.done, timeout=15_000) as marked:
        qtbot.keyClick(focused(), Qt.Key.Key_M, ALT)  # "&Mark as sent"
    assert marked.args[0].sent_at is not None
    qtbot.waitUntil(
        lambda: widget.current_item() is not None and widget.current_item().sent_at is not None,
        timeout=15_000,
    )
    assert widget.model.state_text(widget.current_item()).startswith("Reply approved and sent")
    assert not widget.mark_sent_button.isEnabled()
    events = [e.summary for e in officer.cases.get(case.id).timeline]
    assert f"Reply sent (as approved): {approved_text}" in events


def test_every_control_of_my_raised_items_and_its_dialogs_is_named(
    qtbot: QtBot,
    people: dict[str, Desk],
    new_case: Callable[[], Any],
    ops: Operations,
    items_widget: ItemsSentWidget,
) -> None:
    from tests.gui.test_accessibility import _unnamed_controls

    officer, supervisor = people["officer"], people["supervisor"]
    case = new_case()
    reply = officer.items.submit_reply(case.id, "Draft")
    supervisor.items.decide(reply.id, Decision.RETURN, "Say when")
    choose(qtbot, items_widget, reply.id)
    assert _unnamed_controls(items_widget) == []
    item = items_widget.current_item()
    for dialog in (ResubmitItemDialog(ops, item), MarkSentDialog(ops, item)):
        qtbot.addWidget(dialog)
        assert _unnamed_controls(dialog) == [], type(dialog).__name__


# --- Sent for decision: approval requests ----------------------------------------------------


@pytest.fixture
def sent_widget(qtbot: QtBot, ops: Operations, people: dict[str, Desk]) -> SentForDecisionWidget:
    widget = SentForDecisionWidget(ops, people["officer"].reference_data().currency)
    qtbot.addWidget(widget)
    widget.resize(1300, 700)
    widget.show()
    active(qtbot, widget)
    qtbot.waitUntil(lambda: widget.model.first_page_loaded, timeout=15_000)
    return widget


def choose_request(qtbot: QtBot, widget: SentForDecisionWidget, request_id: int) -> None:
    widget.refresh()
    qtbot.waitUntil(
        lambda: widget.model.first_page_loaded and widget.model.row_of(request_id) >= 0,
        timeout=15_000,
    )
    move_to(qtbot, widget, widget.model.row_of(request_id))
    assert widget.current_item() is not None and widget.current_item().id == request_id


def test_a_returned_approval_request_is_sent_again_with_a_new_amount_and_evidence(
    qtbot: QtBot,
    people: dict[str, Desk],
    new_case: Callable[[], Any],
    sent_widget: SentForDecisionWidget,
) -> None:
    officer, supervisor = people["officer"], people["supervisor"]
    case = new_case()
    request = officer.grants.request(
        case.id,
        "waiver",
        12_371,
        "Penalty after our outage",
        recommendation="Waive it",
        alternatives_offered="A payment plan",
    )
    supervisor.grants.decide(request.id, Outcome.RETURN, reason="Attach the outage notice")
    widget = sent_widget
    choose_request(qtbot, widget, request.id)
    assert widget.resend_button.isEnabled() and widget.withdraw_button.isEnabled()

    qtbot.keyClick(widget.table, Qt.Key.Key_G, ALT)  # "Send a&gain…"
    qtbot.waitUntil(lambda: isinstance(widget.dialog, ResendRequestDialog), timeout=5_000)
    dialog = widget.dialog
    assert dialog is not None
    active(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.loaded, timeout=15_000)
    assert "Attach the outage notice" in dialog.findChild(QWidget, "resendAsked").text()
    assert dialog.recommendation.text() == "Waive it", "what was sent before is kept"
    assert dialog.alternatives.text() == "A payment plan"
    assert focused() is dialog.amount and dialog.amount.text() == "123.71"

    qtbot.keyClicks(focused(), "98.765")  # replaces the selected amount
    qtbot.keyClick(focused(), Qt.Key.Key_Return, CTRL)
    assert "at most 2 decimal places" in dialog.amount_error.text()
    assert dialog.amount.text() == "98.765" and dialog.isVisible(), "nothing typed is lost"
    assert focused() is dialog.amount
    qtbot.keyClick(focused(), Qt.Key.Key_End)  # the amount is selected, to retype it
    qtbot.keyClick(focused(), Qt.Key.Key_Backspace)
    qtbot.keyClick(focused(), Qt.Key.Key_E, ALT)  # "&Evidence:"
    assert focused() is dialog.evidence
    qtbot.keyClicks(focused(), "Outage notice 2026-14 seen")
    with qtbot.waitSignal(dialog.done, timeout=15_000) as sent:
        qtbot.keyClick(focused(), Qt.Key.Key_Return, CTRL)
    view = sent.args[0]
    assert view.id == request.id and view.status == "pending"
    assert view.amount_minor == 9_876
    qtbot.waitUntil(lambda: widget.message.text().startswith("Sent again to"), timeout=5_000)
    item = inbox_of(officer).detail(request.id).item
    assert item.evidence == "Outage notice 2026-14 seen"
    assert item.recommendation == "Waive it" and item.alternatives_offered == "A payment plan"
    assert item.reason == "Penalty after our outage"


def test_a_request_waiting_for_a_decision_is_withdrawn_after_a_confirmation(
    qtbot: QtBot,
    ops: Operations,
    people: dict[str, Desk],
    new_case: Callable[[], Any],
    sent_widget: SentForDecisionWidget,
) -> None:
    officer = people["officer"]
    case = new_case()
    request = officer.grants.request(case.id, "refund", 12_372, "Charged twice")
    widget = sent_widget
    choose_request(qtbot, widget, request.id)
    assert not widget.resend_button.isEnabled(), "only a returned request is sent again"
    assert widget.withdraw_button.isEnabled()

    qtbot.keyClick(widget.table, Qt.Key.Key_D, ALT)  # "With&draw…"
    qtbot.waitUntil(
        lambda: widget.confirm is not None and widget.confirm.isVisible(), timeout=5_000
    )
    assert "$123.72" in widget.confirm.text()
    with qtbot.waitSignal(ops.changed, timeout=15_000):
        widget.confirm.button(QMessageBox.StandardButton.Yes).click()
    assert [r.status for r in officer.grants.for_case(case.id)] == ["withdrawn"]
    qtbot.waitUntil(lambda: widget.message.text() == "The request is withdrawn.", timeout=5_000)
    qtbot.waitUntil(lambda: widget.model.row_of(request.id) == -1, timeout=15_000)


# --- the note of recognition ------------------------------------------------------------------


def test_a_note_of_recognition_shows_and_thank_you_marks_it_read(
    qtbot: QtBot,
    desk_factory: Callable[..., Any],
    people: dict[str, Desk],
    new_case: Callable[[], Any],
) -> None:
    officer, supervisor = people["officer"], people["supervisor"]
    colleague = desk_factory("pjensen")
    case = new_case()
    compliment = officer.items.record_compliment(case.id, "pjensen", "Priya was patient and kind")
    supervisor.items.decide(compliment.id, Decision.ACKNOWLEDGE, "Well done, Priya: thank you.")

    operations = Operations(colleague)
    try:
        banner = RecognitionBanner(operations)
        qtbot.addWidget(banner)
        banner.resize(900, 80)
        assert not banner.isVisible()
        banner.refresh()
        qtbot.waitUntil(lambda: banner.current is not None, timeout=15_000)
        assert banner.current.id == compliment.id
        assert banner.isVisible()
        assert banner.text.text().startswith(
            f"★ {supervisor.session.full_name} passed on a compliment: Well done, Priya"
        )
        assert "Priya was patient and kind" in banner.words.text()
        active(qtbot, banner)
        with qtbot.waitSignal(banner.thanked, timeout=15_000) as thanked:
            qtbot.keyClick(banner, Qt.Key.Key_T, ALT)  # "&Thank you"
        assert thanked.args[0].id == compliment.id and thanked.args[0].seen_at is not None
        qtbot.waitUntil(lambda: not operations.busy, timeout=15_000)
        assert not banner.isVisible()
        assert compliment.id not in [n.id for n in colleague.items.recognitions()]
    finally:
        qtbot.waitUntil(lambda: not operations.busy, timeout=15_000)
        operations.shutdown(close_desk=False)
