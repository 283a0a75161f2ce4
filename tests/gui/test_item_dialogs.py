"""An officer raises each kind of item from the keyboard over a saved case, on both databases: a
review request (the customer asks, or the officer cannot resolve it), a reply to vet, a compliment
about a member of staff. An empty required field is refused beside it and nothing typed is lost;
a retried Send raises one item; Esc asks before throwing typed text away.

The PostgreSQL demo database is shared by the session: each test makes its own case, withdraws
whatever it raised before it ends, and asserts on its own items only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QWidget
from pytestqt.qtbot import QtBot

from desk.domain.work_items import ItemKind, ItemStatus, ReviewOrigin
from tests.integration.test_cases_service import new_customer, walk_in_case
from ui.item_dialogs import ComplimentDialog, ReplyVettingDialog, ReviewRequestDialog
from ui.operations import Operations

CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier
Desk = Any


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


@pytest.fixture
def officer(desk_factory: Callable[..., Any]) -> Desk:
    """The demo officer for the test's own reads and set-up (the dialogs go through ``ops``)."""
    return desk_factory("officer")


@pytest.fixture
def new_case(officer: Desk) -> Iterator[Callable[[], Any]]:
    """A fresh case per call; whatever is still open on it is withdrawn when the test ends."""
    made: list[Any] = []

    def make() -> Any:
        customer = new_customer(officer)
        case = officer.cases.create(walk_in_case(officer, customer.id, "The fee is not fair"))
        made.append(case)
        return case

    yield make
    for case in made:
        for item in officer.items.for_case(case.id):
            if item.is_open and item.requested_by == officer.session.full_name:
                officer.items.withdraw(item.id)


def opened(qtbot: QtBot, dialog: QDialog) -> QDialog:
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)  # shortcuts go to the active window
    return dialog


def send_by_keyboard(qtbot: QtBot, dialog: Any) -> Any:
    with qtbot.waitSignal(dialog.done, timeout=15_000) as sent:
        qtbot.keyClick(focused(), Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5_000)
    return sent.args[0]


# --- review requests -------------------------------------------------------------------------


def test_an_officer_who_cannot_resolve_a_case_asks_for_a_review_by_keyboard(
    qtbot: QtBot, ops: Operations, officer: Desk, new_case: Callable[[], Any]
) -> None:
    case = new_case()
    dialog = opened(qtbot, ReviewRequestDialog(ops, case.id, case.reference))
    assert dialog.customer_asks.isChecked(), "the customer asking is the usual case"
    assert focused() is dialog.body
    qtbot.keyClick(focused(), Qt.Key.Key_I, ALT)  # "&I cannot resolve this case"
    qtbot.waitUntil(dialog.cannot_resolve.isChecked, timeout=5_000)
    assert not dialog.customer_asks.isChecked()
    qtbot.keyClick(focused(), Qt.Key.Key_R, ALT)  # "&Reason:"
    assert focused() is dialog.body
    qtbot.keyClicks(focused(), "The bill and the meter reading disagree")
    view = send_by_keyboard(qtbot, dialog)

    assert view.kind is ItemKind.REVIEW and view.status is ItemStatus.PENDING
    assert view.origin == ReviewOrigin.CANNOT_RESOLVE.value
    assert view.case_id == case.id
    assert view.body == "The bill and the meter reading disagree"
    assert view.assigned_to, "it went to a person up the chain"
    assert [i.id for i in officer.items.for_case(case.id)] == [view.id]


def test_an_empty_reason_is_refused_beside_it_and_nothing_is_raised(
    qtbot: QtBot, ops: Operations, officer: Desk, new_case: Callable[[], Any]
) -> None:
    case = new_case()
    dialog = opened(qtbot, ReviewRequestDialog(ops, case.id, case.reference))
    qtbot.keyClicks(focused(), "   ")
    qtbot.keyClick(focused(), Qt.Key.Key_Return, CTRL)
    assert dialog.body_error.isVisible()
    assert dialog.body_error.text() == "Say what should be reviewed, and why."
    assert focused() is dialog.body and dialog.isVisible()

    # The service's own refusal lands beside the field too, with the text kept as typed.
    too_long = "word " * 4_100
    dialog.body.setPlainText(too_long)
    dialog.body.setFocus()
    qtbot.keyClick(focused(), Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: "Keep it under" in dialog.body_error.text(), timeout=15_000)
    assert dialog.body_error.isVisible() and dialog.isVisible()
    assert dialog.body.toPlainText() == too_long, "nothing typed is lost"
    assert dialog.send_button.isEnabled()
    assert officer.items.for_case(case.id) == []


def test_sending_twice_raises_one_item(
    qtbot: QtBot, ops: Operations, officer: Desk, new_case: Callable[[], Any]
) -> None:
    case = new_case()
    dialog = opened(qtbot, ReviewRequestDialog(ops, case.id, case.reference))
    qtbot.keyClicks(focused(), "The customer disputes the late fee")
    with qtbot.waitSignal(dialog.done, timeout=15_000) as first:
        dialog.send()
        dialog.send()  # a second click while the first is on its way
    with qtbot.waitSignal(dialog.done, timeout=15_000) as again:
        dialog.send()  # a retry after the answer was lost: the same key
    assert again.args[0].id == first.args[0].id
    assert [i.id for i in officer.items.for_case(case.id)] == [first.args[0].id]


def test_escape_asks_before_throwing_typed_text_away(
    qtbot: QtBot, ops: Operations, officer: Desk, new_case: Callable[[], Any]
) -> None:
    case = new_case()
    dialog = opened(qtbot, ReviewRequestDialog(ops, case.id, case.reference))
    qtbot.keyClicks(focused(), "Half a thought")
    qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    qtbot.waitUntil(
        lambda: dialog.confirm is not None and dialog.confirm.isVisible(), timeout=5_000
    )
    box = dialog.confirm
    assert box is not None
    qtbot.keyClick(box, Qt.Key.Key_Escape)  # Esc again: keep editing
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=5_000)
    assert dialog.isVisible() and dialog.body.toPlainText() == "Half a thought"

    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: dialog.confirm is not box and dialog.confirm.isVisible(), timeout=5_000)
    again = dialog.confirm
    assert again is not None
    again.activateWindow()
    qtbot.waitUntil(again.isActiveWindow, timeout=5_000)
    with qtbot.waitSignal(dialog.rejected, timeout=5_000):
        qtbot.keyClick(again, Qt.Key.Key_D, ALT)  # "&Discard"
    assert not dialog.isVisible()
    assert officer.items.for_case(case.id) == []

    untouched = opened(qtbot, ReviewRequestDialog(ops, case.id, case.reference))
    with qtbot.waitSignal(untouched.rejected, timeout=5_000):
        qtbot.keyClick(focused(), Qt.Key.Key_Escape)  # nothing typed: nothing to ask


# --- replies to vet ---------------------------------------------------------------------------


def test_an_officer_sends_a_reply_for_vetting_by_keyboard(
    qtbot: QtBot, ops: Operations, officer: Desk, new_case: Callable[[], Any]
) -> None:
    case = new_case()
    dialog = opened(
        qtbot, ReplyVettingDialog(ops, case.id, case.reference, prefill="Dear customer,\n")
    )
    assert (
        "cannot be sent to the customer until" in dialog.findChild(QWidget, "replyExplain").text()
    )
    assert focused() is dialog.body
    assert dialog.body.toPlainText() == "Dear customer,\n", "the case form's draft is kept"
    view = send_by_keyboard(qtbot, dialog)
    assert view.kind is ItemKind.REPLY and view.body == "Dear customer,"
    assert [i.id for i in officer.items.for_case(case.id)] == [view.id]

    second = opened(qtbot, ReplyVettingDialog(ops, case.id, case.reference))
    qtbot.keyClick(focused(), Qt.Key.Key_Return, CTRL)
    assert second.body_error.text() == "Write the reply to vet."
    qtbot.keyClicks(focused(), "We are sorry. The charge is removed.")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)  # Enter is a new line in the draft
    qtbot.keyClicks(focused(), "Kind regards")
    other = send_by_keyboard(qtbot, second)
    assert other.kind is ItemKind.REPLY and other.id != view.id
    assert other.body == "We are sorry. The charge is removed.\nKind regards"


# --- compliments ------------------------------------------------------------------------------


def test_an_officer_records_a_compliment_about_a_colleague_by_keyboard(
    qtbot: QtBot, ops: Operations, officer: Desk, new_case: Callable[[], Any]
) -> None:
    case = new_case()
    dialog = opened(qtbot, ComplimentDialog(ops, case.id, case.reference))
    qtbot.waitUntil(lambda: dialog.choices is not None, timeout=10_000)
    assert dialog.staff.hasFocus()
    assert dialog.staff.findText("Priya Jensen — Central Service Centre") >= 0
    qtbot.keyClicks(focused(), "jensen")  # completion over the names, any part of them
    qtbot.keyClick(dialog, Qt.Key.Key_W, ALT)  # "&What the customer said:"
    assert focused() is dialog.body
    qtbot.keyClicks(focused(), "Priya explained everything so patiently")
    view = send_by_keyboard(qtbot, dialog)
    assert view.kind is ItemKind.COMPLIMENT
    assert view.subject == "Priya Jensen"
    assert view.body == "Priya explained everything so patiently"
    assert [i.id for i in officer.items.for_case(case.id)] == [view.id]


def test_a_compliment_needs_a_known_person_and_words_and_keeps_what_was_typed(
    qtbot: QtBot, ops: Operations, officer: Desk, new_case: Callable[[], Any]
) -> None:
    case = new_case()
    dialog = opened(qtbot, ComplimentDialog(ops, case.id, case.reference))
    qtbot.waitUntil(lambda: dialog.choices is not None, timeout=10_000)
    qtbot.keyClick(focused(), Qt.Key.Key_Return, CTRL)
    assert dialog.staff_error.text() == "Choose whom the compliment is about."
    assert dialog.body_error.text() == "Write what the customer said."
    assert dialog.staff.hasFocus()

    qtbot.keyClicks(focused(), "Nobody Atall")
    qtbot.keyClick(dialog, Qt.Key.Key_W, ALT)
    qtbot.keyClicks(focused(), "Very kind")
    qtbot.keyClick(focused(), Qt.Key.Key_Return, CTRL)
    assert dialog.staff_error.text() == "Nobody on the staff list matches “Nobody Atall”."
    assert not dialog.body_error.isVisible()
    assert dialog.staff.currentText() == "Nobody Atall" and dialog.body.text() == "Very kind"

    dialog.staff.setEditText("Bianca")  # two people share the name
    qtbot.keyClick(dialog.body, Qt.Key.Key_Return, CTRL)
    assert "Several people match" in dialog.staff_error.text()

    # Had the list not loaded, the service looks the name up and refuses beside the field.
    dialog.choices = None
    dialog.staff.setEditText("nobody-atall")
    qtbot.keyClick(dialog.body, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: "no member of staff" in dialog.staff_error.text(), timeout=15_000)
    assert dialog.body.text() == "Very kind" and dialog.isVisible()
    assert officer.items.for_case(case.id) == []


def test_every_control_of_the_item_dialogs_is_named(
    qtbot: QtBot, ops: Operations, new_case: Callable[[], Any]
) -> None:
    from tests.gui.test_accessibility import _unnamed_controls

    case = new_case()
    for make in (ReviewRequestDialog, ReplyVettingDialog, ComplimentDialog):
        dialog = opened(qtbot, make(ops, case.id, case.reference))
        assert _unnamed_controls(dialog) == [], make.__name__
        assert case.reference in dialog.windowTitle()
        dialog.reject()
