"""The guided script panel, driven with the keyboard only, as an officer at the counter would.

Every built-in script is walked to each of its outcomes (Alt+digit answers a question, Space ticks
or presses the focused control, Alt+Right is Next). The panel-only tests run in a bare main window
without a database (loading scripts needs none); the tests of how the panel works with the case
form use the real main window on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QWidget
from pytestqt.qtbot import QtBot

from desk.domain.scripts import Library, Mood, Outcome, Script, StepKind, load_builtin_library
from ui.main_window import MainWindow
from ui.operations import Operations
from ui.script_panel import ScriptPanel

LIBRARY = load_builtin_library()
ALT = Qt.KeyboardModifier.AltModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def paths_to_each_end(script: Script) -> Iterator[tuple[str, list[str]]]:
    """(end step id, the answers to give on the way) for every end of the script, shortest
    first; branches to other scripts are not followed."""
    first = script.first.id
    came_from: dict[str, tuple[str, str | None]] = {}
    queue = deque([first])
    seen = {first}
    while queue:
        current = queue.popleft()
        step = script.step(current)
        moves: list[tuple[str, str | None]] = []
        if step.next is not None:
            moves.append((step.next, None))
        moves += [(a.goto, a.id) for a in step.answers if a.goto is not None]
        for target, answer in moves:
            if target not in seen:
                seen.add(target)
                came_from[target] = (current, answer)
                queue.append(target)
    for end in (s for s in script.steps if s.kind is StepKind.END):
        answers: list[str] = []
        node = end.id
        while node != first:
            node, answer = came_from[node]
            if answer is not None:
                answers.append(answer)
        yield end.id, list(reversed(answers))


CASES = [
    pytest.param(script.id, end, answers, id=f"{script.id}-{end}")
    for script in LIBRARY
    for end, answers in paths_to_each_end(script)
]


@pytest.fixture
def bare_ops(qtbot: QtBot) -> Iterator[Operations]:
    operations = Operations(None)
    yield operations
    qtbot.waitUntil(lambda: not operations.busy, timeout=10_000)
    operations.shutdown(close_desk=False)


@pytest.fixture
def panel(qtbot: QtBot, bare_ops: Operations) -> Iterator[ScriptPanel]:
    """The panel docked in a bare window, its library loaded, the keyboard in it."""
    host = QMainWindow()
    qtbot.addWidget(host)
    panel = ScriptPanel(bare_ops, officer_name="Olga Officer", language="en")
    panel.context = lambda: {"customer_name": "Ana García", "case_ref": "C-2026-000042"}
    dock = QDockWidget("Guided script", host)
    dock.setObjectName("scriptDock")
    dock.setWidget(panel)
    host.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    host.setCentralWidget(QLabel("the case form"))
    host.resize(900, 700)
    host.show()
    host.activateWindow()
    qtbot.waitUntil(lambda: panel.library is not None, timeout=10_000)
    qtbot.waitUntil(host.isActiveWindow, timeout=5_000)
    panel.mood.setFocus()
    yield panel  # (the window stays referenced until the test is over)
    host.close()


def pick_script(qtbot: QtBot, panel: ScriptPanel, script_id: str) -> None:
    """Alt+S goes to the script list; arrow keys pick the script, which starts it."""
    qtbot.keyClick(focused(), Qt.Key.Key_S, ALT)
    assert focused() is panel.script_choice
    qtbot.keyClick(panel.script_choice, Qt.Key.Key_Home)
    for _ in range(panel.script_choice.count()):
        if panel.script_choice.currentData() == script_id:
            break
        qtbot.keyClick(panel.script_choice, Qt.Key.Key_Down)
    if not script_id:
        assert panel.run is None
        return
    assert panel.run is not None and panel.run.script_id == script_id
    qtbot.keyClick(panel.script_choice, Qt.Key.Key_Tab)
    assert panel.isAncestorOf(focused())


def control(panel: ScriptPanel, name: str) -> QWidget:
    """A control of the step on show (the last step's are only deleted later)."""
    found = [w for w in panel._step_controls if w.objectName() == name]
    assert found, f"the step shows no {name}"
    return found[0]


def step_forward(qtbot: QtBot, panel: ScriptPanel, answers: deque[str]) -> None:
    """One move by keyboard: answer with Alt+digit, or do the step's control and Alt+Right."""
    run = panel.run
    assert run is not None
    step = run.step
    shown = run.position
    assert panel.progress.text().startswith(f"Step {shown} of about ")
    if step.kind is StepKind.ASK:
        answer = answers.popleft()
        index = [a.id for a in step.answers].index(answer)
        control(panel, f"scriptAnswer_{answer}")
        assert focused() is panel._step_controls[0]
        qtbot.keyClick(focused(), Qt.Key(Qt.Key.Key_1 + index), ALT)
        # A mnemonic "clicks" the button a moment after the key, as Qt shows the press.
        qtbot.waitUntil(lambda: run.position == shown + 1, timeout=5_000)
    else:
        if step.kind is StepKind.CHECK:
            box = control(panel, "scriptCheck")
            assert focused() is box
            qtbot.keyClick(box, Qt.Key.Key_Space)
            assert run.frame.ticked
        elif step.kind is StepKind.ACTION:
            assert focused().objectName() == "scriptActionButton"
            qtbot.keyClick(focused(), Qt.Key.Key_Space)
        elif step.kind is StepKind.SAY:
            assert focused().objectName() == "insertPhraseButton0"
        qtbot.keyClick(focused(), Qt.Key.Key_Right, ALT)
    assert run.position == shown + 1, f"no move from {step.id}"


@pytest.mark.parametrize(("script_id", "end", "answers"), CASES)
def test_every_built_in_script_reaches_each_of_its_outcomes_by_keyboard(
    qtbot: QtBot, panel: ScriptPanel, script_id: str, end: str, answers: list[str]
) -> None:
    finished: list[Any] = []
    panel.runFinished.connect(finished.append)
    pick_script(qtbot, panel, script_id)
    assert panel.run is not None
    pending = deque(answers)
    for _ in range(60):
        if panel.run.finished:
            break
        step_forward(qtbot, panel, pending)
    assert panel.run.step.id == end and not pending
    outcome = panel.run.outcome
    assert outcome is not None
    assert control(panel, "scriptOutcome").isVisible()
    assert panel.progress.text().startswith("Finished after")
    [record] = finished
    assert record.script_id == script_id and record.outcome is outcome
    assert [s for _, s, _ in record.steps_shown][-1] == end
    assert focused().objectName() == "scriptRestartButton"


def test_every_outcome_is_reached_by_some_built_in_script() -> None:
    reached = {LIBRARY[s].step(e).outcome for s, e, _ in (c.values for c in CASES)}
    assert reached == set(Outcome)


def test_the_mood_proposes_a_script_and_the_officer_may_take_another_or_none(
    qtbot: QtBot, panel: ScriptPanel
) -> None:
    assert panel.run is None and panel.title.text() == "No script running"
    assert focused() is panel.mood
    for _ in range(4):  # Not set → Calm → Anxious → Frustrated → Angry
        qtbot.keyClick(panel.mood, Qt.Key.Key_Down)
    assert panel.mood.currentData() == Mood.ANGRY.value
    assert panel.run is not None and panel.run.script_id == "deescalate_angry"
    assert panel.title.text() == "Calming an angry customer"
    assert panel.progress.text() == "Step 1 of about 9"
    qtbot.keyClick(panel.mood, Qt.Key.Key_Down)  # Distressed
    assert panel.run.script_id == "distressed_customer"
    pick_script(qtbot, panel, "cannot_grant")
    assert panel.mood.currentData() == Mood.DISTRESSED.value
    pick_script(qtbot, panel, "")  # "No script"
    assert panel.run is None


def test_back_returns_to_the_previous_step_and_forgets_the_answer(
    qtbot: QtBot, panel: ScriptPanel
) -> None:
    pick_script(qtbot, panel, "cannot_grant")
    run = panel.run
    assert run is not None
    answers: deque[str] = deque(["review"])
    while run.step.kind is not StepKind.ASK:
        step_forward(qtbot, panel, answers)
    step_forward(qtbot, panel, answers)
    assert run.step.id == "request_review"
    qtbot.keyClick(focused(), Qt.Key.Key_Left, ALT)
    assert run.step.id == "response" and run.frame.answer_id is None
    assert focused().objectName() == "scriptAnswer_alternative"
    qtbot.keyClick(focused(), Qt.Key.Key_B, ALT)  # the Back button's mnemonic
    qtbot.waitUntil(lambda: run.step.id == "right_to_review", timeout=5_000)


def test_phrases_are_filled_with_the_customer_officer_and_case(
    qtbot: QtBot, panel: ScriptPanel
) -> None:
    inserted: list[str] = []
    panel.insertPhrase.connect(inserted.append)
    pick_script(qtbot, panel, "last")
    for _ in range(3):  # listen, listened (ticked), apologise
        step_forward(qtbot, panel, deque())
    phrase = control(panel, "scriptPhrase0")
    assert isinstance(phrase, QLabel)
    assert "{" not in phrase.text() and "I'm Olga Officer" in phrase.text()
    qtbot.keyClick(focused(), Qt.Key.Key_I, ALT)  # "&Insert into notes"
    qtbot.waitUntil(lambda: bool(inserted), timeout=5_000)
    assert inserted == [
        "I'm Olga Officer, and I'll look after this with you. Let me check I've understood it "
        "right."
    ]


def test_the_panel_shows_the_officers_language_and_falls_back_to_the_default(
    qtbot: QtBot, panel: ScriptPanel
) -> None:
    panel.set_language("es")
    pick_script(qtbot, panel, "deescalate_angry")
    assert panel.title.text() == "Calmar a un cliente enfadado"
    assert panel.step_text.text().startswith("Respire despacio.")
    assert panel.script_choice.currentText() == "Calmar a un cliente enfadado"
    pick_script(qtbot, panel, "cannot_grant")  # no Spanish: the default language
    assert panel.title.text() == "When we cannot grant the request"
    assert panel.step_text.text().startswith("I have checked the rule")
    panel.set_language("es_ES")  # the system's locale name works too
    pick_script(qtbot, panel, "last")
    assert panel.step_text.text().startswith("Escuche.")


def test_the_customer_left_button_ends_the_run_early(qtbot: QtBot, panel: ScriptPanel) -> None:
    pick_script(qtbot, panel, "social_media_complaint")
    step_forward(qtbot, panel, deque())
    panel.left_button.setFocus()
    qtbot.keyClick(panel.left_button, Qt.Key.Key_Space)
    assert panel.run is not None and panel.run.outcome is Outcome.CUSTOMER_LEFT
    assert panel.run.record().ended_at is not None


def test_a_refused_script_file_is_reported_and_the_rest_still_load(
    qtbot: QtBot, bare_ops: Operations, tmp_path: Any
) -> None:
    source = LIBRARY["distressed_customer"].source  # it leads to no other script
    from desk.domain.scripts import builtin_directory

    (tmp_path / source).write_bytes((builtin_directory() / source).read_bytes())
    (tmp_path / "broken.toml").write_text('id = "broken"\nversion = [', encoding="utf-8")
    panel = ScriptPanel(bare_ops, directory=tmp_path, language="en")
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.libraryLoaded, timeout=10_000) as loaded:
        pass
    library: Library = loaded.args[0]
    assert list(library.scripts) == ["distressed_customer"]
    assert "could not be loaded" in panel.library_message.text()
    assert "broken.toml: is not valid TOML" in panel.library_message.toolTip()


# --- in the main window --------------------------------------------------------------------


def wait_for_scripts(qtbot: QtBot, window: MainWindow) -> ScriptPanel:
    panel = window.script_panel
    qtbot.waitUntil(lambda: panel.library is not None, timeout=10_000)
    return panel


def test_the_panel_is_docked_beside_the_case_form_and_toggled_from_the_keyboard(
    qtbot: QtBot, window: MainWindow
) -> None:
    panel = wait_for_scripts(qtbot, window)
    assert window.form is not None
    assert window.script_dock.isVisible() and window.form.isVisible()
    assert window.dockWidgetArea(window.script_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    qtbot.keyClick(focused(), Qt.Key.Key_G, CTRL_SHIFT)  # into the panel
    assert panel.isAncestorOf(focused())
    qtbot.keyClick(focused(), Qt.Key.Key_G, CTRL_SHIFT)  # from inside it: hide it
    assert window.script_dock.isHidden() and not window.script_panel_action.isChecked()
    assert window.form.isAncestorOf(focused()), "the keyboard goes back to the case form"
    qtbot.keyClick(focused(), Qt.Key.Key_G, CTRL_SHIFT)
    assert window.script_dock.isVisible() and window.script_panel_action.isChecked()
    assert panel.isAncestorOf(focused())


def test_the_safety_alert_is_one_key_away_from_a_middle_step(
    qtbot: QtBot, window: MainWindow
) -> None:
    panel = wait_for_scripts(qtbot, window)
    assert window.form is not None
    qtbot.keyClick(focused(), Qt.Key.Key_G, CTRL_SHIFT)
    pick_script(qtbot, panel, "deescalate_angry")
    for _ in range(3):
        step_forward(qtbot, panel, deque())
    run = panel.run
    assert run is not None and run.step.id == "calming"
    window.form.customer_words.setFocus()  # even while typing in the case form
    qtbot.keyClick(focused(), Qt.Key.Key_A, CTRL_SHIFT)
    assert panel.alert_confirmation.isVisible()
    assert "Safety alert raised at" in panel.alert_confirmation.text()
    assert "Safety alert raised" in window.statusBar().currentMessage()
    qtbot.waitUntil(
        lambda: "supervisors have it on their screens" in panel.alert_confirmation.text(),
        timeout=10_000,
    )
    assert [(s, p) for s, p, _ in run.record().safety_alerts] == [("deescalate_angry", "calming")]
    assert window.form.customer_words.text() == "", "the key typed nothing into the form"
    assert run.step.id == "calming", "the alert does not move the script"


def test_insert_into_notes_adds_the_phrase_to_the_case_form(
    qtbot: QtBot, window: MainWindow, customer: Any
) -> None:
    panel = wait_for_scripts(qtbot, window)
    form = window.form
    assert form is not None
    form.set_customer(customer)
    form.officer_understanding.setText("The bill is wrong.")
    qtbot.keyClick(focused(), Qt.Key.Key_G, CTRL_SHIFT)
    pick_script(qtbot, panel, "service_recovery")
    phrase = control(panel, "scriptPhrase0")
    assert isinstance(phrase, QLabel) and customer.full_name in phrase.text()
    qtbot.keyClick(focused(), Qt.Key.Key_I, ALT)
    qtbot.waitUntil(lambda: "\n" in form.officer_understanding.text(), timeout=5_000)
    expected = f"You're right, {customer.full_name}: we got this wrong, and I'm sorry."
    assert form.officer_understanding.text().startswith("The bill is wrong.\n" + expected)
    assert form.is_dirty
    assert panel.isAncestorOf(focused()), "the officer stays in the panel"


def test_every_control_of_every_kind_of_step_has_both_names(
    qtbot: QtBot, window: MainWindow
) -> None:
    from tests.gui.test_accessibility import _unnamed_controls

    panel = wait_for_scripts(qtbot, window)
    qtbot.keyClick(focused(), Qt.Key.Key_G, CTRL_SHIFT)
    pick_script(qtbot, panel, "supervisor_request")
    seen = set()
    answers = deque(["supervisor_now", "yes"])
    while panel.run is not None and not panel.run.finished:
        seen.add(panel.run.step.kind)
        assert not _unnamed_controls(window), panel.run.step.id
        step_forward(qtbot, panel, answers)
    assert not _unnamed_controls(window)
    assert seen == {StepKind.SAY, StepKind.ASK, StepKind.CHECK, StepKind.ACTION}


# --- what the panel keeps for the case ---------------------------------------------------------


def test_the_safety_alert_with_no_script_on_show_starts_the_safety_script_and_records_it(
    qtbot: QtBot, panel: ScriptPanel
) -> None:
    assert panel.run is None
    panel.alert_button.setFocus()
    qtbot.keyClick(panel.alert_button, Qt.Key.Key_Space)
    assert panel.run is not None and panel.run.script_id == "aggressive_behaviour"
    assert panel.title.text() == "Aggressive or abusive behaviour"
    [record] = panel.records
    assert [(s, p) for s, p, _ in record.safety_alerts] == [
        ("aggressive_behaviour", "safety_first")
    ]
    assert panel.standalone_alerts == []


def test_runs_are_kept_for_their_case_and_only_what_is_not_stored_is_handed_over(
    qtbot: QtBot, panel: ScriptPanel
) -> None:
    import uuid

    first_case, second_case = uuid.uuid4(), uuid.uuid4()
    panel.set_case(first_case, None, Mood.ANGRY)
    assert panel.run is not None and panel.run.script_id == "deescalate_angry"
    assert panel.unsaved_runs() == [], "a script only proposed is not a run yet"
    panel.focus_step()
    step_forward(qtbot, panel, deque())
    [run] = panel.unsaved_runs()
    assert run.uuid == panel.run_uuid and run.record.steps_shown[-1][1] == "acknowledge"

    panel.set_case(second_case, None, None)  # another case on the form
    assert panel.run is None and panel.current_mood() is None and panel.records == []
    assert panel.unsaved_runs(first_case) == [run]

    panel.set_case(first_case, None, Mood.ANGRY)  # back to the first (its draft restored)
    assert panel.unsaved_runs() == [run]
    panel.runs_stored([run])
    assert panel.unsaved_runs() == [] and panel.case_runs() == [run]
    panel.focus_step()
    step_forward(qtbot, panel, deque())  # a new run of the proposed script goes on
    [newer] = panel.unsaved_runs()
    assert newer.uuid != run.uuid


def test_choosing_the_mood_in_the_panel_is_reported_for_the_case_form(
    qtbot: QtBot, panel: ScriptPanel
) -> None:
    chosen: list[Any] = []
    panel.moodChosen.connect(chosen.append)
    panel.set_mood(Mood.CALM)  # shown from the case: not a choice of the officer
    assert chosen == []
    qtbot.keyClick(panel.mood, Qt.Key.Key_Down)
    assert chosen == [Mood.ANXIOUS]
