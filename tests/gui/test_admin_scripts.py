"""The admin console's script library and script insight tabs, and the officer's script language in
the staff editor, driven with the keyboard on the SQLite demo database: the shipped scripts listed;
a draft edited with its problems shown beside the text as they appear and go; saved and published
as version 2; files imported with each refusal's place; retire refused while other scripts lead to
a script; the moods chosen; a recorded run counted in the insight; a language saved for an officer.

These tests publish and retire scripts, so they run on a private copy of the SQLite demo database
(the PostgreSQL demo database is shared by the whole test run).
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox
from pytestqt.qtbot import QtBot

from desk.domain.case import CaseDetails
from desk.domain.customer import CustomerDetails
from desk.domain.script_run import ScriptRun
from desk.domain.scripts import Mood, StepKind, new_script_source
from desk.services.dto import ScriptRunToSave
from tests.gui.test_admin_console import active, press, settled
from ui.admin_console import AdminConsole
from ui.operations import Operations

NONE = Qt.KeyboardModifier.NoModifier
CTRL = Qt.KeyboardModifier.ControlModifier
SHIPPED = {
    "aggressive_behaviour",
    "cannot_grant",
    "deescalate_angry",
    "distressed_customer",
    "last",
    "service_recovery",
    "social_media_complaint",
    "supervisor_request",
}


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """A private SQLite copy per test: publishing and retiring must not reach other tests."""
    return str(request.param)


@pytest.fixture
def open_console(
    qtbot: QtBot, desk_factory: Callable[..., Any]
) -> Iterator[Callable[[str], AdminConsole]]:
    """Log a demo user in and open the console over their own operations; fails the test if a
    bug (not a refusal) was reported."""
    opened: list[tuple[Operations, list[tuple[str, bool]]]] = []

    def make(username: str = "admin") -> AdminConsole:
        operations = Operations(desk_factory(username))
        reports: list[tuple[str, bool]] = []
        operations.errorReported.connect(lambda message, bug: reports.append((message, bug)))
        opened.append((operations, reports))
        console = AdminConsole(operations)
        qtbot.addWidget(console)
        console.show()
        console.activateWindow()
        qtbot.waitUntil(lambda: not operations.busy and not console.loading, timeout=15_000)
        qtbot.waitUntil(console.isActiveWindow, timeout=5_000)
        return console

    yield make
    for operations, reports in opened:
        qtbot.waitUntil(lambda ops=operations: not ops.busy, timeout=15_000)
        operations.shutdown(close_desk=False)
        assert not [m for m, bug in reports if bug], f"unexpected errors: {reports}"


def scripts_tab(qtbot: QtBot, console: AdminConsole) -> Any:
    console.tabs.currentWidget().setFocus()
    press(qtbot, console, Qt.Key.Key_9)
    tab = console.tab("scripts")
    assert console.tabs.currentWidget() is tab
    settled(qtbot, console)
    return tab


def opened_dialog(qtbot: QtBot, tab: Any, kind: type | None = None) -> Any:
    """The dialog a key opened (a mnemonic clicks a moment after the key), made active."""
    qtbot.waitUntil(
        lambda: (
            tab.dialog is not None
            and tab.dialog.isVisible()
            and (kind is None or isinstance(tab.dialog, kind))
        ),
        timeout=5_000,
    )
    dialog = tab.dialog
    active(qtbot, dialog)
    return dialog


def open_editor(qtbot: QtBot, console: AdminConsole, tab: Any, script_id: str) -> Any:
    from ui.script_editor import ScriptEditor

    tab.select(script_id)
    tab.table.setFocus()
    qtbot.keyClick(tab.table, Qt.Key.Key_Return, NONE)  # Enter edits the selected script
    editor = opened_dialog(qtbot, tab, ScriptEditor)
    qtbot.waitUntil(lambda: editor.loaded and not console.ops.busy, timeout=10_000)
    active(qtbot, editor)
    return editor


def confirmed(qtbot: QtBot, tab: Any, answer: QMessageBox.StandardButton) -> None:
    qtbot.waitUntil(lambda: tab.confirm is not None and tab.confirm.isVisible(), timeout=5_000)
    box = tab.confirm
    box.button(answer).click()
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=5_000)
    active(qtbot, tab.window())  # the window manager gives the focus back; offscreen, ask


def asked(editor: Any) -> bool:
    return editor.confirm is not None and editor.confirm.isVisible()


def entry(console: AdminConsole, script_id: str) -> Any:
    return console.tab("scripts").model.find(script_id)


def put_cursor_after(editor: Any, text: str) -> None:
    source = editor.source.toPlainText()
    position = source.index(text) + len(text)
    cursor = editor.source.textCursor()
    cursor.setPosition(position)
    editor.source.setTextCursor(cursor)
    editor.source.setFocus()


# --- the list -------------------------------------------------------------------------------------


def test_the_library_lists_the_shipped_scripts_in_use(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("admin")
    tab = scripts_tab(qtbot, console)
    assert {e.script_id for e in tab.model.rows} == SHIPPED
    for script_id in SHIPPED:
        row = tab.model.rows.index(entry(console, script_id))
        cells = [tab.model.index(row, c).data() for c in range(tab.model.columnCount())]
        assert cells[1] == script_id
        assert cells[2] == "version 1" and cells[3] == "In use"
        assert cells[7].startswith("Desk (shipped), ")
    angry = tab.model.rows.index(entry(console, "deescalate_angry"))
    assert tab.model.index(angry, 5).data() == "en, es", "the languages it has"
    assert tab.current() is not None, "the first script is selected, ready for Enter"
    press(qtbot, console, Qt.Key.Key_F, CTRL)
    assert QApplication.focusWidget() is tab.filter
    qtbot.keyClicks(tab.filter, "SUPERVISOR")  # any column, any case
    shown = {tab.proxy.index(r, 1).data() for r in range(tab.proxy.rowCount())}
    assert shown == {"supervisor_request"}
    tab.filter.clear()
    assert not tab.publish_button.isEnabled() and not tab.discard_button.isEnabled()


# --- editing --------------------------------------------------------------------------------------


def test_a_bad_edit_shows_its_problem_beside_the_text_and_a_good_one_is_published_as_version_2(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("admin")
    desk = console.ops.desk
    tab = scripts_tab(qtbot, console)
    editor = open_editor(qtbot, console, tab, "cannot_grant")
    assert QApplication.focusWidget() is editor.source
    assert editor.problems == () and "No problems" in editor.problem_summary.text()
    qtbot.waitUntil(lambda: editor.preview.run is not None, timeout=5_000)
    assert editor.preview.run.script_id == "cannot_grant", "the preview runs the draft"

    # A goto to a step that does not exist: the problem appears beside the text.
    put_cursor_after(editor, 'goto = "')
    qtbot.keyClicks(editor.source, "x")
    qtbot.waitUntil(lambda: editor.problem_list.count() == 1, timeout=5_000)
    said = editor.problem_list.item(0).text()
    assert said == (
        "step 'response', field 'answers[0].goto': "
        "leads to a step 'xrecord_alternative' that does not exist"
    )
    assert "cannot be saved" in editor.problem_summary.text()
    assert editor.problem_caption.text() == "Probl&ems (1):"

    # Alt+E goes to the problems; Enter on one puts the cursor on its step's id line.
    press(qtbot, editor, Qt.Key.Key_E)
    assert QApplication.focusWidget() is editor.problem_list
    press(qtbot, editor, Qt.Key.Key_Return, NONE)
    assert QApplication.focusWidget() is editor.source
    assert editor.source.textCursor().block().text() == 'id = "response"'
    assert editor.isVisible(), "Enter on a problem neither saves nor closes"

    # Undone, the problem goes.
    qtbot.keyClick(editor.source, Qt.Key.Key_Z, CTRL)
    qtbot.waitUntil(lambda: editor.problem_list.count() == 0, timeout=5_000)
    assert "No problems" in editor.problem_summary.text()

    # A real change: the preview shows it once the text has no problems.
    put_cursor_after(editor, 'title.en = "When we cannot grant the request')
    qtbot.keyClicks(editor.source, " after all")
    qtbot.waitUntil(
        lambda: editor.preview.title.text() == "When we cannot grant the request after all",
        timeout=5_000,
    )
    assert editor.isWindowModified()

    # Ctrl+S keeps it as the draft; officers still get version 1.
    qtbot.keyClick(editor.source, Qt.Key.Key_S, CTRL)
    qtbot.waitUntil(lambda: editor.stored and not editor.busy, timeout=10_000)
    assert not editor.dirty and "version = 2" in editor.source.toPlainText()
    settled(qtbot, console)
    stored = entry(console, "cannot_grant")
    assert stored.has_draft and stored.published_version == 1
    assert desk.scripts.published()["cannot_grant"].version == 1

    # Publish (Alt+P): the editor closes; version 2 is in the list and in the library.
    active(qtbot, editor)
    press(qtbot, editor, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: not editor.isVisible(), timeout=10_000)
    settled(qtbot, console)
    published = entry(console, "cannot_grant")
    assert published.published_version == 2 and not published.has_draft
    row = tab.model.rows.index(published)
    assert tab.model.index(row, 2).data() == "version 2"
    assert tab.model.index(row, 0).data() == "When we cannot grant the request after all"
    assert "cannot_grant is published as version 2" in tab.message.text()
    library = desk.scripts.published()
    assert library["cannot_grant"].version == 2
    assert library.at_version("cannot_grant", 1) is not None, "version 1 is kept for its runs"
    assert [v.version for v in desk.scripts.history("cannot_grant")] == [2, 1]


def test_closing_with_unsaved_text_asks_and_never_drops_it_silently(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("admin")
    tab = scripts_tab(qtbot, console)
    editor = open_editor(qtbot, console, tab, "last")
    put_cursor_after(editor, 'title.en = "L.A.S.T.')
    qtbot.keyClicks(editor.source, " (new)")
    typed = editor.source.toPlainText()
    qtbot.keyClick(editor.source, Qt.Key.Key_Escape, NONE)
    qtbot.waitUntil(
        lambda: editor.confirm is not None and editor.confirm.isVisible(), timeout=5_000
    )
    assert editor.confirm.defaultButton().objectName() == "scriptKeepEditing"
    editor.confirm.defaultButton().click()
    qtbot.waitUntil(lambda: not editor.confirm.isVisible(), timeout=5_000)
    assert editor.isVisible() and editor.source.toPlainText() == typed, "nothing lost"

    # Save from the question: stored, then closed.
    active(qtbot, editor)
    qtbot.keyClick(editor.source, Qt.Key.Key_Escape, NONE)
    qtbot.waitUntil(lambda: editor.confirm.isVisible(), timeout=5_000)
    next(b for b in editor.confirm.buttons() if b.objectName() == "scriptSaveAndClose").click()
    qtbot.waitUntil(lambda: not editor.isVisible(), timeout=10_000)
    settled(qtbot, console)
    assert entry(console, "last").has_draft
    assert "L.A.S.T. (new)" in console.ops.desk.scripts.draft("last").source

    # Close without saving drops only the new typing; the stored draft stays.
    active(qtbot, console)
    editor = open_editor(qtbot, console, tab, "last")
    assert editor.stored and "L.A.S.T. (new)" in editor.source.toPlainText()
    put_cursor_after(editor, "L.A.S.T. (new")
    qtbot.keyClicks(editor.source, "er")
    press(qtbot, editor, Qt.Key.Key_Escape, NONE)
    qtbot.waitUntil(
        lambda: editor.confirm is not None and editor.confirm.isVisible(), timeout=5_000
    )
    next(
        b for b in editor.confirm.buttons() if b.objectName() == "scriptCloseWithoutSaving"
    ).click()
    qtbot.waitUntil(lambda: not editor.isVisible(), timeout=5_000)
    settled(qtbot, console)
    assert "L.A.S.T. (new)" in console.ops.desk.scripts.draft("last").source

    # The draft can be thrown away from the list, after a question.
    tab.select("last")
    tab.table.setFocus()
    active(qtbot, console)
    press(qtbot, console, Qt.Key.Key_D)
    confirmed(qtbot, tab, QMessageBox.StandardButton.Yes)
    qtbot.waitUntil(lambda: not entry(console, "last").has_draft, timeout=10_000)
    settled(qtbot, console)
    assert "was discarded" in tab.message.text()


def test_a_draft_saved_by_someone_else_meanwhile_is_reported_and_the_text_stays(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole], desk_factory: Callable[..., Any]
) -> None:
    console = open_console("admin")
    other = desk_factory("admin")
    tab = scripts_tab(qtbot, console)
    editor = open_editor(qtbot, console, tab, "supervisor_request")
    theirs = other.scripts.draft("supervisor_request").source.replace(
        "version = 1", "version = 1\n# theirs"
    )
    other.scripts.save_draft(theirs, script_id="supervisor_request")
    put_cursor_after(editor, "version = 1")
    qtbot.keyClicks(editor.source, " # mine")
    typed = editor.source.toPlainText()
    qtbot.keyClick(editor.source, Qt.Key.Key_S, CTRL)
    qtbot.waitUntil(lambda: editor.message.kind == "error", timeout=10_000)
    assert "saved this draft after you opened it" in editor.message.text()
    assert other.session.full_name in editor.message.text()
    assert editor.source.toPlainText() == typed and editor.dirty, "the text stays"
    assert "# theirs" in other.scripts.draft("supervisor_request").source, "nothing overwritten"
    editor.done(0)
    settled(qtbot, console)


def test_a_new_script_starts_from_a_valid_text_and_a_taken_id_is_a_problem(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    from ui.script_editor import ScriptEditor

    console = open_console("admin")
    tab = scripts_tab(qtbot, console)
    tab.table.setFocus()
    press(qtbot, console, Qt.Key.Key_N, CTRL)
    editor = opened_dialog(qtbot, tab, ScriptEditor)
    qtbot.waitUntil(lambda: editor.loaded and not console.ops.busy, timeout=10_000)
    assert 'id = "new_script"' in editor.source.toPlainText()
    assert editor.problems == ()
    put_cursor_after(editor, 'id = "new_script')
    for _ in "new_script":
        qtbot.keyClick(editor.source, Qt.Key.Key_Backspace, NONE)
    qtbot.keyClicks(editor.source, "last")
    qtbot.waitUntil(lambda: editor.problem_list.count() == 1, timeout=5_000)
    assert "'last' is already used by another script" in editor.problem_list.item(0).text()
    assert "field 'id'" in editor.problem_list.item(0).text()
    for _ in "last":
        qtbot.keyClick(editor.source, Qt.Key.Key_Backspace, NONE)
    qtbot.keyClicks(editor.source, "gui_new")
    qtbot.waitUntil(lambda: editor.problem_list.count() == 0, timeout=5_000)
    press(qtbot, editor, Qt.Key.Key_S, CTRL)
    qtbot.waitUntil(lambda: editor.stored and not editor.busy, timeout=10_000)
    assert editor.script_id == "gui_new"
    editor.reject()
    qtbot.waitUntil(lambda: not editor.isVisible(), timeout=5_000)
    settled(qtbot, console)
    new = entry(console, "gui_new")
    assert new is not None and new.published_version is None and new.has_draft
    row = tab.model.rows.index(new)
    assert tab.model.index(row, 3).data() == "Draft only"


# --- files ----------------------------------------------------------------------------------------


def test_importing_a_good_and_a_broken_file_lists_each_problem_with_its_place(
    qtbot: QtBot,
    open_console: Callable[[str], AdminConsole],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ui.admin_scripts import ImportResultsDialog

    good = tmp_path / "good.toml"
    good.write_text(new_script_source("gui_imported", "Imported at the counter"), "utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text(
        new_script_source("gui_broken", "Broken").replace('goto = "calmed"', 'goto = "nowhere"'),
        "utf-8",
    )
    console = open_console("admin")
    tab = scripts_tab(qtbot, console)
    monkeypatch.setattr(tab, "ask_import_paths", lambda: [str(good), str(broken)])
    tab.table.setFocus()
    press(qtbot, console, Qt.Key.Key_I)
    dialog = opened_dialog(qtbot, tab, ImportResultsDialog)
    assert dialog.lines() == [
        "good.toml: Imported as the draft of a new script (gui_imported)",
        "broken.toml: Refused: 1 problem(s)",
        "  step 'solved', field 'answers[0].goto': leads to a step 'nowhere' that does not exist",
    ]
    assert QApplication.focusWidget() is dialog.tree
    qtbot.keyClick(dialog.tree, Qt.Key.Key_Escape, NONE)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5_000)
    settled(qtbot, console)
    assert "1 imported as drafts, 0 unchanged, 1 refused" in tab.message.text()
    assert tab.message.kind == "warning"
    imported = entry(console, "gui_imported")
    assert imported is not None and imported.has_draft and imported.published_version is None
    assert entry(console, "gui_broken") is None, "a refused file changed nothing"
    assert tab.current() is not None and tab.current().script_id == "gui_imported"

    # The same file again, once published, is unchanged.
    console.ops.desk.scripts.publish(["gui_imported"])
    tab.import_files()
    dialog = opened_dialog(qtbot, tab, ImportResultsDialog)
    assert dialog.lines()[0].startswith("good.toml: Unchanged")
    dialog.reject()
    settled(qtbot, console)


def test_a_script_and_every_script_in_use_are_exported_as_toml(
    qtbot: QtBot,
    open_console: Callable[[str], AdminConsole],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    console = open_console("admin")
    tab = scripts_tab(qtbot, console)
    tab.select("last")
    target = tmp_path / "mine"
    monkeypatch.setattr(tab, "ask_export_path", lambda _script_id: str(target))
    tab.table.setFocus()
    with qtbot.waitSignal(tab.exported, timeout=10_000):
        press(qtbot, console, Qt.Key.Key_X)
    assert 'id = "last"' in (tmp_path / "mine.toml").read_text("utf-8")
    assert "Wrote version 1 of last" in tab.message.text()
    folder = tmp_path / "all"
    folder.mkdir()
    monkeypatch.setattr(tab, "ask_export_directory", lambda: str(folder))
    with qtbot.waitSignal(tab.exported, timeout=10_000):
        press(qtbot, console, Qt.Key.Key_L)
    assert {p.stem for p in folder.iterdir()} == SHIPPED
    assert "Wrote 8 script(s) in use" in tab.message.text()
    settled(qtbot, console)


# --- retiring, moods, history ---------------------------------------------------------------------


def test_retire_is_refused_for_a_script_others_lead_to_and_done_for_one_nobody_leads_to(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("admin")
    desk = console.ops.desk
    tab = scripts_tab(qtbot, console)
    tab.select("cannot_grant")
    tab.table.setFocus()
    press(qtbot, console, Qt.Key.Key_R)
    confirmed(qtbot, tab, QMessageBox.StandardButton.Yes)
    qtbot.waitUntil(lambda: tab.message.kind == "error", timeout=10_000)
    assert "Other scripts lead to this one" in tab.message.text()
    assert "Traceback" not in tab.message.text()
    assert not entry(console, "cannot_grant").retired

    tab.select("social_media_complaint")
    tab.table.setFocus()
    press(qtbot, console, Qt.Key.Key_R)
    confirmed(qtbot, tab, QMessageBox.StandardButton.Yes)
    qtbot.waitUntil(lambda: entry(console, "social_media_complaint").retired, timeout=10_000)
    settled(qtbot, console)
    row = tab.model.rows.index(entry(console, "social_media_complaint"))
    assert tab.model.index(row, 3).data() == "Retired"
    assert "social_media_complaint" not in desk.scripts.published()
    assert tab.current().script_id == "social_media_complaint"
    assert tab.retire_button.text() == "&Restore"
    press(qtbot, console, Qt.Key.Key_R)  # Restore asks nothing: it undoes
    qtbot.waitUntil(lambda: not entry(console, "social_media_complaint").retired, timeout=10_000)
    settled(qtbot, console)
    assert "social_media_complaint" in desk.scripts.published()
    assert "in use again" in tab.message.text()


def test_the_moods_dialog_chooses_the_moods_a_script_is_proposed_for(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    from ui.admin_scripts import MoodsDialog

    console = open_console("admin")
    desk = console.ops.desk
    tab = scripts_tab(qtbot, console)
    assert desk.scripts.published().propose(Mood.ANGRY).id == "deescalate_angry"
    tab.select("distressed_customer")
    tab.table.setFocus()
    press(qtbot, console, Qt.Key.Key_M)
    dialog = opened_dialog(qtbot, tab, MoodsDialog)
    assert QApplication.focusWidget() is dialog.use_file and dialog.use_file.isChecked()
    assert not dialog.boxes["angry"].isEnabled()
    qtbot.keyClick(dialog.use_file, Qt.Key.Key_Space, NONE)
    assert dialog.boxes["angry"].isEnabled()
    for mood in [m for m, box in dialog.boxes.items() if box.isChecked()]:
        dialog.boxes[mood].setFocus()
        qtbot.keyClick(dialog.boxes[mood], Qt.Key.Key_Space, NONE)
    press(qtbot, dialog, Qt.Key.Key_G)  # An&gry
    qtbot.waitUntil(lambda: dialog.boxes["angry"].isChecked(), timeout=5_000)
    assert dialog.chosen() == ["angry"]
    press(qtbot, dialog, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    settled(qtbot, console)
    chosen = entry(console, "distressed_customer")
    assert chosen.moods_assigned and chosen.proposed_for == ("angry",)
    row = tab.model.rows.index(chosen)
    assert tab.model.index(row, 4).data() == "Angry (chosen here)"
    assert desk.scripts.published().propose(Mood.ANGRY).id == "distressed_customer"
    assert "proposed first for: Angry" in tab.message.text()

    # Back to the file's moods.
    active(qtbot, console)
    tab.table.setFocus()
    press(qtbot, console, Qt.Key.Key_M)
    dialog = opened_dialog(qtbot, tab, MoodsDialog)
    assert not dialog.use_file.isChecked() and dialog.boxes["angry"].isChecked()
    press(qtbot, dialog, Qt.Key.Key_U)
    qtbot.waitUntil(dialog.use_file.isChecked, timeout=5_000)
    press(qtbot, dialog, Qt.Key.Key_Return, NONE)  # Enter saves
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    settled(qtbot, console)
    assert not entry(console, "distressed_customer").moods_assigned
    assert desk.scripts.published().propose(Mood.ANGRY).id == "deescalate_angry"


def test_the_history_lists_the_versions_and_shows_a_versions_text(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    from ui.admin_scripts import HistoryDialog

    console = open_console("admin")
    desk = console.ops.desk
    source = desk.scripts.draft("service_recovery").source
    desk.scripts.save_draft(
        source.replace("version = 1", "version = 1\n# second"),
        script_id="service_recovery",
    )
    desk.scripts.publish(["service_recovery"])
    tab = scripts_tab(qtbot, console)
    press(qtbot, console, Qt.Key.Key_F5, NONE)
    settled(qtbot, console)
    tab.select("service_recovery")
    tab.table.setFocus()
    press(qtbot, console, Qt.Key.Key_H)
    dialog = opened_dialog(qtbot, tab, HistoryDialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2, timeout=10_000)
    assert [dialog.table.item(r, 0).text() for r in range(2)] == ["2", "1"]
    assert dialog.table.item(1, 3).text() == "Desk (shipped)"
    assert dialog.table.item(0, 3).text() == desk.session.full_name
    qtbot.waitUntil(lambda: "# second" in dialog.text.toPlainText(), timeout=10_000)
    assert dialog.text.isReadOnly()
    qtbot.keyClick(dialog.table, Qt.Key.Key_Down, NONE)
    qtbot.waitUntil(
        lambda: (
            "version = 1" in dialog.text.toPlainText()
            and "# second" not in dialog.text.toPlainText()
        ),
        timeout=10_000,
    )
    dialog.reject()
    settled(qtbot, console)


# --- insight --------------------------------------------------------------------------------------


def escalated_run(library: Any, started: dt.datetime) -> ScriptRun:
    """An officer's run of "When we cannot grant the request" that ends with a supervisor's
    review: ticks, Next, and the answer "Ask for a supervisor's review"."""
    clock = (started + dt.timedelta(seconds=10 * i) for i in itertools.count())
    run = ScriptRun(library, "cannot_grant", next(clock), language="en")
    for _ in range(50):
        if run.finished:
            break
        if run.step.kind is StepKind.ASK:
            run.choose("review", next(clock))
            continue
        if run.step.kind is StepKind.CHECK:
            run.tick(True, next(clock))
        run.next(next(clock))
    assert run.finished
    return run


def test_the_insight_tab_counts_a_recorded_run_and_its_turning_point(
    qtbot: QtBot,
    open_console: Callable[[str], AdminConsole],
    desk_factory: Callable[..., Any],
) -> None:
    from ui.admin_insight import InsightTab

    officer = desk_factory("officer")
    customer = officer.customers.create(
        CustomerDetails(full_name=f"Insight {uuid.uuid4().hex[:6]}")
    )
    case = officer.cases.create(
        CaseDetails(
            customer_id=customer.id,
            customer_words="They asked for a refund the rules do not allow.",
            officer_understanding="Refund refused; wants a review",
        )
    )
    run = escalated_run(officer.scripts.published(), dt.datetime.now(dt.UTC))
    officer.cases.script_runs.save_all(case.id, [ScriptRunToSave(uuid.uuid4(), run.record())])

    console = open_console("admin")
    console.tabs.currentWidget().setFocus()
    press(qtbot, console, Qt.Key.Key_0)
    tab = console.tab("insight")
    assert isinstance(tab, InsightTab) and console.tabs.currentWidget() is tab
    settled(qtbot, console)
    assert "cases you may see" in tab.findChild(QLabel, "insightIntro").text()
    tab.select("cannot_grant")
    row = tab.current()
    assert row is not None and row.runs >= 1
    index = tab.table.currentIndex()
    cells = [index.siblingAtColumn(c).data() for c in range(tab.model.columnCount())]
    assert cells[0] == "When we cannot grant the request"
    assert cells[1] == str(row.runs)
    assert cells[3] == f"{row.escalated} ({round(100 * row.escalated / row.runs)}%)"
    assert row.escalated >= 1
    assert tab.versions.item(0, 0).text() == "1"
    lines = tab.turn_lines()
    assert lines and lines[0].startswith(
        "What would the customer like to do? → Ask for a supervisor's review: "
    )

    # All time (Alt+P, End) still counts it; the service says the same.
    press(qtbot, console, Qt.Key.Key_P)
    assert QApplication.focusWidget() is tab.period
    qtbot.keyClick(tab.period, Qt.Key.Key_End, NONE)
    assert tab.period.currentText() == "All time" and tab.since() is None
    settled(qtbot, console)
    tab.select("cannot_grant")
    service = next(r for r in console.ops.desk.scripts.insight() if r.script_id == "cannot_grant")
    assert tab.current().runs == service.runs and tab.current().escalated == service.escalated


def test_a_supervisor_sees_the_insight_but_not_the_library(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("supervisor")
    assert console.tab_visible("insight") and not console.tab_visible("scripts")
    assert console.tab("insight").model.rows


# --- the officer's script language ----------------------------------------------------------------


def test_an_officers_script_language_is_saved_and_a_bad_code_is_shown_beside_the_field(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    from ui.admin_staff import EditStaffDialog

    console = open_console("admin")
    desk = console.ops.desk
    tab = console.tab("staff")
    tab.select("officer")
    tab.table.setFocus()
    press(qtbot, console, Qt.Key.Key_C)
    dialog = opened_dialog(qtbot, tab, EditStaffDialog)
    assert dialog.language.currentText() == "Computer's language"
    press(qtbot, dialog, Qt.Key.Key_L)
    assert dialog.language.isAncestorOf(QApplication.focusWidget()) or (
        QApplication.focusWidget() is dialog.language
    )
    edit = dialog.language.lineEdit()
    edit.selectAll()
    qtbot.keyClicks(edit, "xx_YY!")
    press(qtbot, dialog, Qt.Key.Key_S)
    error = dialog.fields["language"][1]
    qtbot.waitUntil(error.isVisible, timeout=10_000)
    assert "'xx_YY!' is not a language code" in error.text()
    assert dialog.isVisible() and edit.text() == "xx_YY!", "what was typed stays"
    edit.selectAll()
    qtbot.keyClicks(edit, "es")
    press(qtbot, dialog, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    settled(qtbot, console)
    officer = next(s for s in desk.admin.staff() if s.username == "officer")
    assert officer.language == "es"

    # Opened again, it shows the code; emptied, it is the computer's language again.
    active(qtbot, console)
    tab.select("officer")
    tab.table.setFocus()
    press(qtbot, console, Qt.Key.Key_C)
    dialog = opened_dialog(qtbot, tab, EditStaffDialog)
    assert dialog.language.currentText() == "es"
    dialog.language.setCurrentIndex(0)
    press(qtbot, dialog, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    settled(qtbot, console)
    assert next(s for s in desk.admin.staff() if s.username == "officer").language == ""


# --- names ----------------------------------------------------------------------------------------


def test_every_control_of_the_script_screens_has_a_name_for_tests_and_screen_readers(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    from tests.gui.test_accessibility import _unnamed_controls
    from ui.admin_scripts import HistoryDialog, ImportResultsDialog, MoodsDialog
    from ui.script_editor import ScriptEditor

    console = open_console("admin")
    tab = scripts_tab(qtbot, console)
    tab.select("cannot_grant")
    current = tab.current()
    editor = ScriptEditor(console.ops, "cannot_grant", parent=console)
    qtbot.waitUntil(lambda: editor.loaded, timeout=10_000)
    qtbot.waitUntil(lambda: editor.preview.run is not None, timeout=5_000)
    dialogs = [
        editor,
        MoodsDialog(console.ops, current, parent=console),
        HistoryDialog(console.ops, current, parent=console),
        ImportResultsDialog([], parent=console),
    ]
    settled(qtbot, console)
    missing = [
        *_unnamed_controls(console),
        *(f"{d.objectName()}: {m}" for d in dialogs for m in _unnamed_controls(d)),
    ]
    for dialog in dialogs:
        dialog.done(0)
    assert not missing, "\n".join(missing)
