"""Two officers edit the same case: the second save opens the conflict view, where the officer
decides field by field; nothing is overwritten silently and nothing typed is lost."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from desk.domain.case import CaseDetails
from desk.domain.conflict import Change, Side
from desk.domain.model import EventKind, Priority
from desk.services.dto import CaseView
from ui.case_form import CaseForm
from ui.conflict_dialog import KEEP_COLUMN, ConflictDialog
from ui.main_window import MainWindow
from ui.operations import Operations


def _case(gui_desk: Any, customer: Any) -> CaseView:
    """A case of this test's own, stored by the officer at the window."""
    view: CaseView = gui_desk.cases.create(
        CaseDetails(
            customer_id=customer.id,
            customer_words="The meter was read twice on one bill",
            customer_expectation="A corrected bill",
            officer_understanding="Two readings on the March bill",
            next_steps="Billing will review the meter reading.",
        )
    )
    return view


@pytest.fixture
def colleague(desk_factory: Callable[..., Any]) -> Any:
    """Someone else, at another counter, on the same database."""
    return desk_factory("senior")


def _colleague_saves(colleague: Any, view: CaseView, **changes: Any) -> CaseView:
    current = colleague.cases.get(view.id)
    details = dataclasses.replace(current.details, **changes)
    saved: CaseView = colleague.cases.save(view.id, details, expected_version=current.version)
    return saved


def _open(qtbot: QtBot, form: CaseForm, ops: Operations, view: CaseView) -> None:
    qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
    with qtbot.waitSignal(form.caseShown, timeout=10_000):
        form.open_case(view.id)
    assert form.view is not None and form.view.id == view.id


def _type_at_end(qtbot: QtBot, widget: QWidget, text: str) -> None:
    widget.setFocus()
    cursor = widget.textCursor()  # type: ignore[attr-defined]
    cursor.movePosition(cursor.MoveOperation.End)
    widget.setTextCursor(cursor)  # type: ignore[attr-defined]
    qtbot.keyClicks(widget, text)


def _save_into_conflict(qtbot: QtBot, form: CaseForm) -> ConflictDialog:
    """Ctrl+S on the form; the save is refused and the conflict view opens."""
    qtbot.keyClick(form.save_button, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(
        lambda: form.conflict_dialog is not None and form.conflict_dialog.isVisible(),
        timeout=10_000,
    )
    dialog = form.conflict_dialog
    assert dialog is not None
    return dialog


def _keys(dialog: ConflictDialog) -> list[str]:
    return [d.key for d in dialog.conflict.to_decide]


def _keep(dialog: ConflictDialog, key: str) -> str:
    return dialog.table.item(dialog.row_of(key), KEEP_COLUMN).text()


def test_the_second_save_opens_the_conflict_view_with_the_field_both_changed_first(
    qtbot: QtBot,
    window: MainWindow,
    ops: Operations,
    gui_desk: Any,
    customer: Any,
    colleague: Any,
) -> None:
    form = window.form
    assert form is not None
    view = _case(gui_desk, customer)
    _open(qtbot, form, ops, view)

    _type_at_end(qtbot, form.customer_expectation, " this month")
    _type_at_end(qtbot, form.next_steps, " Then we call you.")
    qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
    _colleague_saves(
        colleague,
        view,
        priority=Priority.HIGH,
        next_steps="Billing will send a meter reader.",
    )

    dialog = _save_into_conflict(qtbot, form)
    who = colleague.session.full_name
    assert who in dialog.headline.text() and view.reference in dialog.headline.text()
    assert who in form.general_error.text(), "the form says who changed the case"
    # Next steps, which both changed, comes first, although the form shows it last.
    assert _keys(dialog) == ["next_steps", "priority", "customer_expectation"]
    first = dialog.conflict.to_decide[0]
    assert first.change is Change.BOTH and first.conflicting
    assert dialog.table.item(0, 0).text().startswith("⚠")
    assert dialog.table.currentRow() == 0 and dialog.table.hasFocus()
    assert dialog.mine_text.toPlainText().endswith("Then we call you.")
    assert dialog.theirs_text.toPlainText() == "Billing will send a meter reader."
    # The window-modal view is found by its names, like every control.
    for name in ("conflictTable", "conflictSaveButton", "conflictBackButton"):
        control = dialog.findChild(QWidget, name)
        assert control is not None and control.accessibleName()

    qtbot.keyClick(dialog.table, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: form.conflict_dialog is None, timeout=5_000)


def test_keeping_a_mix_saves_exactly_that_mix(
    qtbot: QtBot,
    window: MainWindow,
    ops: Operations,
    gui_desk: Any,
    customer: Any,
    colleague: Any,
) -> None:
    form = window.form
    assert form is not None
    view = _case(gui_desk, customer)
    _open(qtbot, form, ops, view)

    _type_at_end(qtbot, form.officer_understanding, " (mine)")
    _type_at_end(qtbot, form.next_steps, " Mine too.")
    _type_at_end(qtbot, form.customer_expectation, " by Friday")
    qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
    theirs = _colleague_saves(
        colleague,
        view,
        officer_understanding="Their understanding",
        next_steps="Their next steps.",
        actions_agreed="Colleague: phoned the customer.",
    )

    dialog = _save_into_conflict(qtbot, form)
    assert _keys(dialog)[:2] == ["officer_understanding", "next_steps"]
    # Their understanding (T), my next steps (Down, M), and the rest as proposed.
    qtbot.keyClick(dialog.table, Qt.Key.Key_T)
    assert _keep(dialog, "officer_understanding") == "Theirs"
    qtbot.keyClick(dialog.table, Qt.Key.Key_Down)
    qtbot.keyClick(dialog.table, Qt.Key.Key_Space)  # switches to theirs…
    qtbot.keyClick(dialog.table, Qt.Key.Key_M)  # …and back to mine
    assert dialog.choices() == {
        "officer_understanding": Side.THEIRS,
        "next_steps": Side.MINE,
        "customer_expectation": Side.MINE,
        "actions_agreed": Side.THEIRS,
    }
    with qtbot.waitSignal(form.saved, timeout=10_000) as saved:
        qtbot.keyClick(dialog.table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)

    stored = gui_desk.cases.get(view.id)
    assert saved.args[0].version == stored.version == theirs.version + 1
    assert stored.details.officer_understanding == "Their understanding"
    assert stored.details.next_steps == "Billing will review the meter reading. Mine too."
    assert stored.details.customer_expectation == "A corrected bill by Friday"
    assert stored.details.actions_agreed == "Colleague: phoned the customer."
    assert stored.details.customer_words == view.details.customer_words
    assert form.conflict_dialog is None and not form.is_dirty
    assert form.base_version == stored.version
    assert form.officer_understanding.text() == "Their understanding"
    assert not form.general_error.isVisible()


def test_back_to_the_form_loses_nothing_typed(
    qtbot: QtBot,
    window: MainWindow,
    ops: Operations,
    gui_desk: Any,
    customer: Any,
    colleague: Any,
) -> None:
    form = window.form
    assert form is not None
    view = _case(gui_desk, customer)
    _open(qtbot, form, ops, view)

    _type_at_end(qtbot, form.officer_understanding, "; the flat was empty")
    _type_at_end(qtbot, form.root_cause, "Misread digit")
    form.transactions.add_row(["BILL-2026-03", "120.50", "2026-03-01"])
    qtbot.keyClick(form.priority, Qt.Key.Key_Down)
    typed = form.form_state()
    qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
    theirs = _colleague_saves(colleague, view, officer_understanding="Their understanding")

    dialog = _save_into_conflict(qtbot, form)
    dialog.choose_all(Side.THEIRS)  # changed their mind, then went back: nothing applies
    qtbot.mouseClick(dialog.back_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.conflict_dialog is None, timeout=5_000)
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)  # the keyboard is back on the form

    assert form.form_state() == typed, "the form is exactly as typed"
    assert form.is_dirty and form.base_version == view.version
    assert colleague.session.full_name in form.general_error.text()
    qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
    assert gui_desk.cases.get(view.id).version == theirs.version, "nothing was saved"

    # Saving again compares again, with the same proposal.
    again = _save_into_conflict(qtbot, form)
    assert again.choices()["officer_understanding"] is Side.MINE
    qtbot.keyClick(again.table, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: form.conflict_dialog is None, timeout=5_000)
    assert form.form_state() == typed


def test_a_field_only_they_changed_is_taken_into_the_proposal(
    qtbot: QtBot,
    window: MainWindow,
    ops: Operations,
    gui_desk: Any,
    customer: Any,
    colleague: Any,
) -> None:
    form = window.form
    assert form is not None
    view = _case(gui_desk, customer)
    _open(qtbot, form, ops, view)

    # A contact added on this form shows the newer case while the edits keep their base.
    _type_at_end(qtbot, form.officer_understanding, "; confirmed at the counter")
    qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
    _colleague_saves(colleague, view, actions_agreed="Colleague: sent the meter reader.")
    with qtbot.waitSignal(form.caseShown, timeout=10_000):
        form.add_entry(EventKind.NOTE, text="Customer rang again")
    assert form.view is not None and form.view.version > view.version
    assert form.actions_agreed.text() == "", "the typed form stays as it was"

    dialog = _save_into_conflict(qtbot, form)
    assert not dialog.conflict.conflicting
    [theirs_row] = [d for d in dialog.conflict.to_decide if d.change is Change.THEIRS]
    assert theirs_row.key == "actions_agreed"
    assert _keep(dialog, "actions_agreed") == "Theirs"
    assert _keep(dialog, "officer_understanding") == "Mine"

    with qtbot.waitSignal(form.saved, timeout=10_000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
    stored = gui_desk.cases.get(view.id)
    assert stored.details.actions_agreed == "Colleague: sent the meter reader."
    assert stored.details.officer_understanding.endswith("; confirmed at the counter")
