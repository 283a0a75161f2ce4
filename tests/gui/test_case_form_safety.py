"""The case form never loses or overwrites work: drafts stay with their database and officer,
saves are single transactions checked against the version the edits started from, typing during a
save is kept, unexpected errors leave the screens usable, and every Alt+letter is unique."""

from __future__ import annotations

import re
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from desk.domain.case import CaseDetails
from desk.domain.model import Channel, EventKind
from desk.drafts import DraftStore, database_key
from desk.services.dto import CaseView
from ui.case_form import CaseForm
from ui.main_window import MainWindow
from ui.operations import Operations


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def ctrl_s(qtbot: QtBot) -> None:
    qtbot.keyClick(focused(), Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)


def stored_case(gui_desk: Any, customer: Any, words: str = "The meter was read twice") -> CaseView:
    view: CaseView = gui_desk.cases.create(
        CaseDetails(
            customer_id=customer.id,
            customer_words=words,
            officer_understanding="Two readings on one bill",
            next_steps="Billing will review the meter reading.",
        )
    )
    return view


def show(qtbot: QtBot, form: CaseForm, ops: Operations, view: CaseView) -> None:
    qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
    with qtbot.waitSignal(form.caseShown, timeout=10_000):
        form.open_case(view.id)
    assert form.view is not None and form.view.id == view.id


def type_into(qtbot: QtBot, widget: QWidget, text: str) -> None:
    widget.setFocus()
    cursor = widget.textCursor()  # type: ignore[attr-defined]
    cursor.movePosition(cursor.MoveOperation.End)
    widget.setTextCursor(cursor)  # type: ignore[attr-defined]
    qtbot.keyClicks(widget, text)


def colleague_changes(gui_desk: Any, ops: Operations, qtbot: QtBot, view: CaseView) -> None:
    """Another officer saves the case (their own window, same database)."""
    qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
    current = gui_desk.cases.get(view.id)
    details = current.details.__class__(
        **{**current.details.__dict__, "actions_agreed": "Colleague: phoned the customer."}
    )
    gui_desk.cases.save(view.id, details, expected_version=current.version)


@pytest.fixture
def blocked(ops: Operations, qtbot: QtBot) -> Iterator[threading.Event]:
    """Keeps the worker busy until set: a save sent now waits, as on a slow network."""
    gate = threading.Event()
    ops.query(lambda _d: gate.wait(20))
    yield gate
    gate.set()


# --- 1. drafts belong to one database and one officer ------------------------------------------


def test_drafts_of_another_database_or_officer_are_never_offered(
    qtbot: QtBot, window: MainWindow, drafts: DraftStore, customer: Any, gui_desk: Any
) -> None:
    form = window.form
    assert form is not None
    username = gui_desk.session.username
    here = database_key("sqlite:///test")
    assert form.username == username and form.database_key == here
    words = {"customer_words": "Typed on another database", "case_id": 1}
    drafts.save(
        "other-db", {**words, "database": database_key("sqlite:///other"), "username": username}
    )
    drafts.save("other-user", {**words, "database": here, "username": f"not-{username}"})
    drafts.save("old-format", dict(words))
    window.offer_draft_recovery()
    assert window.findChild(QMessageBox, "restoreDraftMessage") is None

    # What the form writes says whose it is, and names the customer beyond the bare id.
    form.customer_words.setFocus()
    qtbot.keyClicks(form.customer_words, "The bin was not collected")
    form.set_customer(customer)
    state = form.form_state()
    assert state["database"] == here and state["username"] == username
    assert state["customer"] == {
        "id": customer.id,
        "full_name": customer.full_name,
        "customer_number": customer.customer_number,
    }
    form.save_draft()
    window.offer_draft_recovery()
    box = window.findChild(QMessageBox, "restoreDraftMessage")
    assert box is not None
    qtbot.waitUntil(box.isVisible)
    box.reject()


def test_draft_of_a_case_with_another_uuid_comes_back_as_a_new_case(
    qtbot: QtBot, window: MainWindow, ops: Operations, gui_desk: Any, customer: Any
) -> None:
    form = window.form
    assert form is not None
    view = stored_case(gui_desk, customer)
    show(qtbot, form, ops, view)
    type_into(qtbot, form.officer_understanding, " and a late fee")
    state = form.form_state()
    assert state["case_uuid"] == str(view.uuid) and state["base_version"] == view.version
    state["case_uuid"] = str(uuid.uuid4())  # the same id is another case on that database
    form.new_case()

    form.restore_state(state)
    qtbot.waitUntil(lambda: form.officer_understanding.text().endswith("late fee"), timeout=10_000)
    assert form.view is None, "another case's id is never reused"
    assert form.is_dirty
    assert "restored as a new case" in form.general_error.text()
    assert form.customer is not None and form.customer.id == customer.id


def test_draft_customer_whose_name_differs_is_left_out_with_a_message(
    qtbot: QtBot, window: MainWindow, customer: Any
) -> None:
    form = window.form
    assert form is not None
    form.customer_words.setFocus()
    qtbot.keyClicks(form.customer_words, "My permit never arrived")
    form.set_customer(customer)
    state = form.form_state()
    state["customer"]["full_name"] = "Somebody Else Entirely"
    form.new_case()

    form.restore_state(state)
    qtbot.waitUntil(lambda: form.customer_words.text() != "", timeout=10_000)
    assert form.customer_words.text() == "My permit never arrived"
    assert form.customer is None
    message = form.field_errors["customer"]
    assert message.isVisible() and "Somebody Else Entirely" in message.text()


# --- 2. one transaction ------------------------------------------------------------------------


def test_saving_an_existing_case_is_one_service_call(
    qtbot: QtBot,
    window: MainWindow,
    ops: Operations,
    gui_desk: Any,
    customer: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    form = window.form
    assert form is not None
    view = stored_case(gui_desk, customer)
    show(qtbot, form, ops, view)
    calls: list[str] = []
    real_save = gui_desk.cases.save

    def save(*args: Any, **kwargs: Any) -> Any:
        calls.append("save")
        return real_save(*args, **kwargs)

    def three_steps(*_a: Any, **_k: Any) -> Any:
        calls.append("three-step")
        raise AssertionError("the form saves fields, status and referral in one call")

    monkeypatch.setattr(gui_desk.cases, "save", save)
    for name in ("update", "change_status", "refer"):
        monkeypatch.setattr(gui_desk.cases, name, three_steps)

    type_into(qtbot, form.officer_understanding, "; billing to check")
    form.referral_team.setFocus()
    qtbot.keyClick(form.referral_team, Qt.Key.Key_Down)
    team = form.referral_team.currentData()
    assert team is not None
    form.referral_reason.setFocus()
    qtbot.keyClicks(form.referral_reason, "Billing decides on meter disputes")
    with qtbot.waitSignal(form.saved, timeout=10_000) as saved:
        ctrl_s(qtbot)
    assert calls == ["save"]
    assert saved.args[0].assigned_team_id == team
    assert saved.args[0].details.officer_understanding.endswith("billing to check")


# --- 3. one save at a time; typing during it is kept -------------------------------------------


def test_save_runs_once_and_what_is_typed_meanwhile_is_kept(
    qtbot: QtBot,
    window: MainWindow,
    ops: Operations,
    gui_desk: Any,
    customer: Any,
    drafts: DraftStore,
    blocked: threading.Event,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    form = window.form
    assert form is not None
    creates: list[Any] = []
    real_create = gui_desk.cases.create

    def create(*args: Any, **kwargs: Any) -> Any:
        creates.append(args)
        return real_create(*args, **kwargs)

    monkeypatch.setattr(gui_desk.cases, "create", create)
    form.set_customer(customer)
    form.customer_words.setFocus()
    qtbot.keyClicks(form.customer_words, "The streetlight is out")

    ctrl_s(qtbot)
    assert form.is_saving and not form.save_button.isEnabled()
    ctrl_s(qtbot)  # impatient: ignored while the first save runs
    qtbot.keyClick(form.customer_expectation, Qt.Key.Key_Tab)
    form.customer_expectation.setFocus()
    qtbot.keyClicks(form.customer_expectation, "Fix it this week")

    with qtbot.waitSignal(form.saved, timeout=10_000) as saved:
        blocked.set()
    qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
    view = saved.args[0]
    assert len(creates) == 1, "one case, not two"
    assert view.details.customer_expectation == ""
    assert form.view is not None and form.view.id == view.id
    assert form.customer_expectation.text() == "Fix it this week", "nothing typed is lost"
    assert form.customer_words.text() == "The streetlight is out"
    assert form.is_dirty and form.base_version == view.version
    kept = drafts.load(form.draft_id)
    assert kept is not None and kept.data["customer_expectation"] == "Fix it this week"

    with qtbot.waitSignal(form.saved, timeout=10_000) as again:
        ctrl_s(qtbot)
    assert again.args[0].id == view.id
    assert again.args[0].details.customer_expectation == "Fix it this week"
    assert not form.is_dirty


# --- 4. edits are checked against the version they started from --------------------------------


def test_adding_a_note_keeps_unsaved_edits_and_a_colleagues_change_then_conflicts(
    qtbot: QtBot, window: MainWindow, ops: Operations, gui_desk: Any, customer: Any
) -> None:
    form = window.form
    assert form is not None
    view = stored_case(gui_desk, customer)
    show(qtbot, form, ops, view)

    # Own note while typing: no conflict, the edits save.
    type_into(qtbot, form.officer_understanding, "; first edit")
    with qtbot.waitSignal(form.caseShown, timeout=10_000):
        form.add_entry(EventKind.NOTE, text="Called the meter team")
    assert form.officer_understanding.text().endswith("first edit") and form.is_dirty
    with qtbot.waitSignal(form.saved, timeout=10_000) as saved:
        ctrl_s(qtbot)
    started_from = saved.args[0].version

    # A colleague saves in between; adding a note must not make the old edits look new.
    type_into(qtbot, form.officer_understanding, "; second edit")
    colleague_changes(gui_desk, ops, qtbot, view)
    with qtbot.waitSignal(form.caseShown, timeout=10_000):
        form.add_entry(EventKind.NOTE, text="Customer rang again")
    assert form.view is not None and form.view.version > started_from
    assert form.base_version == started_from
    ctrl_s(qtbot)
    qtbot.waitUntil(lambda: form.general_error.isVisible(), timeout=10_000)
    assert "after you opened it" in form.general_error.text()
    assert form.officer_understanding.text().endswith("second edit"), "everything stays"
    assert form.save_button.isEnabled() and form.is_dirty
    qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
    stored = gui_desk.cases.get(view.id)
    assert stored.details.actions_agreed == "Colleague: phoned the customer."
    assert not stored.details.officer_understanding.endswith("second edit")


def test_restored_draft_over_a_case_changed_since_conflicts_on_save(
    qtbot: QtBot, window: MainWindow, ops: Operations, gui_desk: Any, customer: Any
) -> None:
    form = window.form
    assert form is not None
    view = stored_case(gui_desk, customer)
    show(qtbot, form, ops, view)
    type_into(qtbot, form.officer_understanding, "; from the draft")
    state = form.form_state()
    form.new_case()
    colleague_changes(gui_desk, ops, qtbot, view)

    form.restore_state(state)
    qtbot.waitUntil(
        lambda: form.view is not None and form.officer_understanding.text().endswith("draft"),
        timeout=10_000,
    )
    assert form.view is not None and form.view.version > view.version
    assert form.base_version == view.version
    ctrl_s(qtbot)
    qtbot.waitUntil(lambda: form.general_error.isVisible(), timeout=10_000)
    assert "after you opened it" in form.general_error.text()
    assert form.officer_understanding.text().endswith("from the draft")
    qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
    assert gui_desk.cases.get(view.id).details.actions_agreed.startswith("Colleague")


# --- 5. unexpected errors reach the screen that asked -------------------------------------------


def _expect_bug_reports(ops: Operations) -> list[tuple[str, bool]]:
    """These tests cause a bug on purpose: record the reports instead of failing on them."""
    ops.errorReported.disconnect()
    reports: list[tuple[str, bool]] = []
    ops.errorReported.connect(lambda message, bug: reports.append((message, bug)))
    return reports


def test_a_bug_while_saving_leaves_save_usable_and_the_form_intact(
    qtbot: QtBot,
    window: MainWindow,
    ops: Operations,
    gui_desk: Any,
    customer: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    form = window.form
    assert form is not None
    reports = _expect_bug_reports(ops)

    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(gui_desk.cases, "create", broken)
    form.set_customer(customer)
    form.customer_words.setFocus()
    qtbot.keyClicks(form.customer_words, "Water is brown since Monday")
    ctrl_s(qtbot)
    qtbot.waitUntil(lambda: not form.is_saving, timeout=10_000)
    assert form.save_button.isEnabled()
    assert "Something went wrong" in form.general_error.text()
    assert form.customer_words.text() == "Water is brown since Monday" and form.is_dirty
    assert reports and reports[0][1] is True


def test_a_bug_while_loading_the_case_list_ends_the_loading_state(
    qtbot: QtBot,
    window: MainWindow,
    ops: Operations,
    gui_desk: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert window.case_list is not None
    model = window.case_list.model
    qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
    _expect_bug_reports(ops)

    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(gui_desk.cases, "list", broken)
    with qtbot.waitSignal(model.loadFailed, timeout=10_000) as failed:
        model.refresh()
    assert not model.loading
    assert failed.args[0].startswith("Something went wrong")


# --- 6. every Alt+letter of the main window is unique --------------------------------------------

_MNEMONIC = re.compile(r"&([^&])")


def _mnemonic(text: str) -> str | None:
    found = _MNEMONIC.search(text.replace("&&", ""))
    return found.group(1).upper() if found else None


def _mnemonics(window: MainWindow) -> list[tuple[str, str]]:
    form = window.form
    assert form is not None
    texts: list[str] = [a.text() for a in window.menuBar().actions()]
    texts += [window.tabs.tabText(i) for i in range(window.tabs.count())]
    for root in (form, window.script_dock):
        for widget in root.findChildren(QLabel) + root.findChildren(QAbstractButton):
            if widget.isVisibleTo(window):
                texts.append(widget.text())
    return [(letter, text) for text in texts if (letter := _mnemonic(text)) is not None]


def test_every_alt_letter_of_the_main_window_is_used_once(qtbot: QtBot, window: MainWindow) -> None:
    form = window.form
    assert form is not None
    for channel in (Channel.WALK_IN, Channel.SOCIAL_MEDIA):  # social fields show for one
        form.channel.setCurrentIndex(form.channel.findData(channel))
        found = _mnemonics(window)
        counts = Counter(letter for letter, _text in found)
        twice = {
            letter: [t for k, t in found if k == letter] for letter, n in counts.items() if n > 1
        }
        assert not twice, f"Alt+letter used more than once: {twice}"

    # And the letters work from the keyboard: Alt+O is the root cause, Alt+E the resolution.
    labels = {lab.text(): lab for lab in form.findChildren(QLabel)}
    assert _mnemonic(labels["R&oot cause:"].text()) == "O"
    for key, target in (
        (Qt.Key.Key_O, form.root_cause),
        (Qt.Key.Key_E, form.resolution),
        (Qt.Key.Key_M, form.referral_team),
        (Qt.Key.Key_A, form.channel),
        (Qt.Key.Key_T, form.status),
        (Qt.Key.Key_U, form.customer_search),
    ):
        if not target.isEnabled():
            continue
        qtbot.keyClick(focused(), key, Qt.KeyboardModifier.AltModifier)
        assert focused() is target, f"Alt+{key.name} went to {focused().objectName()}"
