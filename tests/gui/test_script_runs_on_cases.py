"""Guided-script runs recorded on their case, driven with the keyboard in the real main window on
SQLite and PostgreSQL: the customer's mood on the case form (one mood, mirrored by the panel), runs
stored with the case and told in its timeline, and a safety incident that blocks resolving until
the officer has written the incident report."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox
from pytestqt.qtbot import QtBot

from desk.domain.model import CaseStatus, ResolutionMethod
from desk.domain.scripts import Mood, Outcome
from desk.drafts import DraftStore
from desk.services.dto import CaseView
from tests.gui.test_accessibility import _unnamed_controls
from tests.gui.test_case_form import type_customer
from tests.gui.test_case_form_safety import show, stored_case
from tests.gui.test_script_panel import focused, pick_script, step_forward, wait_for_scripts
from ui.case_form import CaseForm
from ui.incident_dialog import IncidentDialog
from ui.main_window import MainWindow
from ui.operations import Operations

ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def find_customer(qtbot: QtBot, form: CaseForm, customer: Any) -> None:
    """Type-ahead as in the form's own tests; the keyboard then moves on to the kind of case."""
    type_customer(qtbot, form, customer)
    qtbot.waitUntil(lambda: focused() is form.kind, timeout=5_000)


def save_by_keyboard(qtbot: QtBot, form: CaseForm) -> CaseView:
    with qtbot.waitSignal(form.saved, timeout=15_000) as saved:
        qtbot.keyClick(focused(), Qt.Key.Key_S, CTRL)
    view: CaseView = saved.args[0]
    return view


def choose_by_keyboard(qtbot: QtBot, combo: Any, value: object) -> None:
    """Arrow keys through a focused list until it shows the value."""
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    for _ in range(combo.count()):
        if combo.currentData() == value:
            return
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert combo.currentData() == value


def walk_calming_script(qtbot: QtBot, window: MainWindow) -> None:
    """Ctrl+Shift+G into the panel, pick "Calming an angry customer" and follow it, by keyboard,
    to "calmed and resolved"."""
    panel = wait_for_scripts(qtbot, window)
    qtbot.keyClick(focused(), Qt.Key.Key_G, CTRL_SHIFT)
    pick_script(qtbot, panel, "deescalate_angry")
    answers = deque(["yes", "solve_here"])
    run = panel.run
    assert run is not None
    while not run.finished:
        step_forward(qtbot, panel, answers)
    assert run.outcome is Outcome.CALMED_AND_RESOLVED


def test_the_mood_set_on_the_form_proposes_a_script_is_saved_and_comes_back(
    qtbot: QtBot, window: MainWindow, customer: Any
) -> None:
    form = window.form
    assert form is not None
    panel = wait_for_scripts(qtbot, window)
    find_customer(qtbot, form, customer)
    qtbot.keyClick(focused(), Qt.Key.Key_J, ALT)  # "Customer's mood (your &judgement)"
    assert focused() is form.mood
    choose_by_keyboard(qtbot, form.mood, Mood.ANGRY.value)
    # The panel shows the same mood and proposes the script for it.
    assert panel.current_mood() is Mood.ANGRY
    assert panel.run is not None and panel.run.script_id == "deescalate_angry"
    form.customer_words.setFocus()
    qtbot.keyClicks(form.customer_words, "Shouting that nobody ever answers the phone")

    # The officer changes it in the panel instead: the form follows, and will save it.
    qtbot.keyClick(focused(), Qt.Key.Key_G, CTRL_SHIFT)
    panel.mood.setFocus()
    qtbot.keyClick(panel.mood, Qt.Key.Key_Down)  # Angry → Distressed
    assert form.current_mood() is Mood.DISTRESSED and form.is_dirty
    assert panel.run is not None and panel.run.script_id == "distressed_customer"

    view = save_by_keyboard(qtbot, form)
    assert view.customer_mood is Mood.DISTRESSED

    qtbot.keyClick(focused(), Qt.Key.Key_N, CTRL)  # the next customer: no mood yet
    assert form.current_mood() is None and panel.current_mood() is None
    assert panel.run is None
    with qtbot.waitSignal(form.caseShown, timeout=10_000):
        window.open_case(view.id)
    assert form.current_mood() is Mood.DISTRESSED and not form.is_dirty
    assert panel.current_mood() is Mood.DISTRESSED
    assert panel.run is not None and panel.run.script_id == "distressed_customer"


def test_a_script_run_before_the_case_is_saved_is_stored_with_it_and_told_in_the_timeline(
    qtbot: QtBot, window: MainWindow, ops: Operations, gui_desk: Any, customer: Any
) -> None:
    form = window.form
    assert form is not None
    find_customer(qtbot, form, customer)
    form.customer_words.setFocus()
    qtbot.keyClicks(form.customer_words, "Angry about a parking fine issued in error")
    walk_calming_script(qtbot, window)
    assert form.view is None, "the case is not saved yet: the run waits for it"

    form.customer_words.setFocus()
    view = save_by_keyboard(qtbot, form)
    [run] = view.script_runs
    assert run.script_id == "deescalate_angry" and run.outcome is Outcome.CALMED_AND_RESOLVED
    assert run.officer_name == gui_desk.session.full_name
    assert run.last_step_id == "resolved" and not run.safety_incident

    # In the timeline, in plain words: the script, how it ended, each step and answer.
    qtbot.waitUntil(lambda: str(run.uuid) in window.timeline.run_summaries(), timeout=5_000)
    told = window.timeline.run_summaries()[str(run.uuid)]
    assert "“Calming an angry customer” (version 1)" in told
    assert "Outcome: calmed and resolved." in told
    assert told.splitlines()[1].startswith("1. Take a slow breath")
    assert "→ answered: Yes, they are calmer" in told
    assert "→ answered: I can solve it here" in told
    assert "SAFETY ALERT" not in told

    # Reopened later, it is still there, once.
    qtbot.keyClick(focused(), Qt.Key.Key_N, CTRL)
    assert window.timeline.count() == 0
    with qtbot.waitSignal(form.caseShown, timeout=10_000):
        window.open_case(view.id)
    assert list(window.timeline.run_summaries()) == [str(run.uuid)]
    qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
    assert [r.uuid for r in gui_desk.cases.script_runs.list_for_case(view.id)] == [run.uuid]


def test_a_run_of_a_case_not_saved_yet_waits_while_the_officer_looks_at_another_case(
    qtbot: QtBot, window: MainWindow, ops: Operations, gui_desk: Any, customer: Any
) -> None:
    form = window.form
    assert form is not None
    other = stored_case(gui_desk, customer, "Another case, opened in between")
    find_customer(qtbot, form, customer)
    form.customer_words.setFocus()
    qtbot.keyClicks(form.customer_words, "Fine issued while the car was parked legally")
    walk_calming_script(qtbot, window)
    unsaved_key = form.case_key
    window.open_case(other.id)  # the unsaved case goes to a draft
    qtbot.waitUntil(lambda: form.view is not None and form.view.id == other.id, timeout=10_000)
    assert window.script_panel.run is None and window.script_panel.records == []

    window.offer_draft_recovery()
    box = window.findChild(QMessageBox, "restoreDraftMessage")
    assert box is not None
    qtbot.waitUntil(box.isVisible)
    qtbot.keyClick(box, Qt.Key.Key_Return)  # Restore
    qtbot.waitUntil(lambda: form.view is None and form.is_dirty, timeout=10_000)
    assert form.case_key == unsaved_key
    window.activateWindow()  # back from the question box
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    form.customer_words.setFocus()
    view = save_by_keyboard(qtbot, form)
    assert [r.outcome for r in view.script_runs] == [Outcome.CALMED_AND_RESOLVED]
    qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
    assert gui_desk.cases.script_runs.list_for_case(other.id) == []


def test_a_run_on_a_saved_case_is_stored_when_it_ends_and_the_next_save_does_not_conflict(
    qtbot: QtBot, window: MainWindow, ops: Operations, gui_desk: Any, customer: Any
) -> None:
    form = window.form
    assert form is not None
    view = stored_case(gui_desk, customer)
    show(qtbot, form, ops, view)
    form.actions_agreed.setFocus()
    qtbot.keyClicks(form.actions_agreed, "Fine cancelled")  # typing, not saved yet
    with qtbot.waitSignal(form.runsUpdated, timeout=15_000):
        walk_calming_script(qtbot, window)
    assert [r.outcome for r in gui_desk.cases.script_runs.list_for_case(view.id)] == [
        Outcome.CALMED_AND_RESOLVED
    ]
    assert len(window.timeline.run_summaries()) == 1
    assert form.is_dirty and form.actions_agreed.text() == "Fine cancelled", "typing is kept"
    form.actions_agreed.setFocus()
    saved = save_by_keyboard(qtbot, form)
    assert saved.details.actions_agreed == "Fine cancelled"
    assert len(saved.script_runs) == 1


def test_a_safety_incident_blocks_resolving_until_the_officer_writes_the_report(
    qtbot: QtBot, window: MainWindow, ops: Operations, gui_desk: Any, customer: Any
) -> None:
    form = window.form
    assert form is not None
    panel = wait_for_scripts(qtbot, window)
    view = stored_case(gui_desk, customer)
    show(qtbot, form, ops, view)
    assert not form.safety_box.isVisible()

    # The alert key, with no script on show: the safety script starts and records the alert.
    form.customer_words.setFocus()
    with qtbot.waitSignal(form.runsUpdated, timeout=15_000):
        qtbot.keyClick(focused(), Qt.Key.Key_A, CTRL_SHIFT)
    assert panel.run is not None and panel.run.script_id == "aggressive_behaviour"
    assert form.safety_box.isVisible() and form.report_incident_button.isVisible()
    assert not _unnamed_controls(window)
    assert "has not been reported yet" in form.incident_warning.text()
    told = next(iter(window.timeline.run_summaries().values()))
    assert "SAFETY ALERT raised at" in told and "⚠ Safety incident: not reported yet." in told

    # The officer settles the case and tries to resolve it: refused, with the reason.
    form.resolution.setFocus()
    qtbot.keyClicks(form.resolution, "Explained the fine; it stands.")
    form.resolution_method.setFocus()
    choose_by_keyboard(qtbot, form.resolution_method, ResolutionMethod.FIRST_CONTACT.value)
    qtbot.keyClick(focused(), Qt.Key.Key_T, ALT)
    assert focused() is form.status
    choose_by_keyboard(qtbot, form.status, CaseStatus.RESOLVED.value)
    assert "not been reported yet" in form.general_error.text()
    qtbot.keyClick(focused(), Qt.Key.Key_S, CTRL)
    assert not form.is_saving, "nothing is sent: the rule is asked first"
    assert focused() is form.report_incident_button
    assert gui_desk.cases.get(view.id).status is CaseStatus.NEW

    # The report, in its small dialog: an empty one is refused there, with the text kept.
    qtbot.keyClick(focused(), Qt.Key.Key_Space)
    dialog = form.findChild(IncidentDialog, "incidentDialog")
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    summary = dialog.findChild(QLabel, "incidentSummary")
    assert summary is not None and "Aggressive or abusive behaviour, started" in summary.text()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.text, timeout=5_000)
    assert not _unnamed_controls(dialog)
    qtbot.keyClick(dialog.text, Qt.Key.Key_S, ALT)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=5_000)
    assert "Write what happened" in dialog.error.text() and dialog.isVisible()
    qtbot.keyClicks(dialog.text, "Shouted and threatened me at the counter. Security came.")
    with qtbot.waitSignal(dialog.reported, timeout=15_000):
        qtbot.keyClick(dialog.text, Qt.Key.Key_S, ALT)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5_000)
    assert not form.safety_box.isVisible()
    told = next(iter(window.timeline.run_summaries().values()))
    assert "Safety incident reported" in told and "Security came." in told

    # Now resolving works, with the choices still on the form and the keyboard back on it.
    qtbot.waitUntil(lambda: focused() is form.status, timeout=5_000)
    assert form.status.currentData() == CaseStatus.RESOLVED.value
    resolved = save_by_keyboard(qtbot, form)
    assert resolved.status is CaseStatus.RESOLVED
    [run] = resolved.script_runs
    assert run.incident_reported_at is not None and run.incident_report.startswith("Shouted")


def test_runs_of_a_case_not_saved_yet_survive_a_lost_window_in_its_draft(
    qtbot: QtBot,
    make_window: Callable[[], MainWindow],
    drafts: DraftStore,
    customer: Any,
) -> None:
    first = make_window()
    form = first.form
    assert form is not None
    find_customer(qtbot, form, customer)
    form.customer_words.setFocus()
    qtbot.keyClicks(form.customer_words, "Parking fine for a car sold last year")
    walk_calming_script(qtbot, first)

    def draft_runs() -> list[Any]:
        kept = drafts.load_all()
        return list(kept[0].data.get("script_runs") or []) if kept else []

    qtbot.waitUntil(
        lambda: [r["record"]["outcome"] for r in draft_runs()] == ["calmed_and_resolved"],
        timeout=10_000,
    )
    form.stop_autosave()
    first.close()  # lost before the case was ever saved

    second = make_window()
    second.offer_draft_recovery()
    box = second.findChild(QMessageBox, "restoreDraftMessage")
    assert box is not None
    qtbot.waitUntil(box.isVisible)
    qtbot.keyClick(box, Qt.Key.Key_Return)  # Restore
    restored = second.form
    assert restored is not None
    qtbot.waitUntil(lambda: restored.customer_words.text() != "", timeout=10_000)
    [waiting] = second.script_panel.unsaved_runs(restored.case_key)
    assert waiting.record.outcome is Outcome.CALMED_AND_RESOLVED
    second.activateWindow()
    qtbot.waitUntil(second.isActiveWindow, timeout=5_000)
    restored.customer_words.setFocus()
    view = save_by_keyboard(qtbot, restored)
    assert [(r.uuid, r.outcome) for r in view.script_runs] == [
        (waiting.uuid, Outcome.CALMED_AND_RESOLVED)
    ]


def test_a_new_case_with_an_unreported_incident_is_not_settled_at_first_contact(
    qtbot: QtBot, window: MainWindow, ops: Operations, customer: Any
) -> None:
    form = window.form
    assert form is not None
    find_customer(qtbot, form, customer)
    form.customer_words.setFocus()
    qtbot.keyClicks(form.customer_words, "Threw the leaflet stand at the window")
    qtbot.keyClick(focused(), Qt.Key.Key_A, CTRL_SHIFT)  # the alert, before the case is saved
    qtbot.waitUntil(form.safety_box.isVisible, timeout=5_000)
    assert "Save the case, then report the incident" in form.incident_warning.text()
    assert not form.report_incident_button.isVisible()
    form.resolution.setFocus()
    qtbot.keyClicks(form.resolution, "Explained the rule")
    form.resolution_method.setFocus()
    choose_by_keyboard(qtbot, form.resolution_method, ResolutionMethod.FIRST_CONTACT.value)
    qtbot.keyClick(focused(), Qt.Key.Key_S, CTRL)
    assert not form.is_saving and form.view is None
    assert "Save the case without settling it at first contact" in form.general_error.text()

    # Saved as an open case, the incident can be reported.
    choose_by_keyboard(qtbot, form.resolution_method, None)
    form.resolution.setFocus()
    form.resolution.setPlainText("")
    view = save_by_keyboard(qtbot, form)
    assert view.status is CaseStatus.NEW
    assert [r.safety_incident for r in view.script_runs] == [True]
    assert form.report_incident_button.isVisible()
