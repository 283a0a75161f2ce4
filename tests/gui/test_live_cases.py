"""Cases changed by someone else reach an open window without any user action: the open case
shows the newer version (or, with unsaved edits, keeps them and says the case changed
elsewhere), and the case list shows a case recorded at another counter, keeping its selection."""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from desk.domain.model import Channel, EventKind
from tests.integration.test_cases_service import new_customer, walk_in_case
from ui.main_window import MainWindow

LIVE_MS = 15_000  # the news arrives within moments; a loaded test machine gets some slack


def _open(qtbot: QtBot, window: MainWindow, case_id: int) -> None:
    window.open_case(case_id)
    qtbot.waitUntil(
        lambda: (
            window.form is not None
            and window.form.view is not None
            and window.form.view.id == case_id
        ),
        timeout=10_000,
    )
    assert window.form is not None and not window.form.is_dirty


def _notice(window: MainWindow) -> QLabel | None:
    assert window.form is not None
    return window.form.findChild(QLabel, "caseChangedElsewhere")


def test_the_open_case_shows_a_colleagues_save_by_itself(
    qtbot: QtBot, window: MainWindow, desk_factory: Any
) -> None:
    colleague = desk_factory("officer")
    customer = new_customer(colleague)
    case = colleague.cases.create(walk_in_case(colleague, customer.id, "Meter read twice"))
    _open(qtbot, window, case.id)
    form = window.form
    assert form is not None

    details = dataclasses.replace(case.details, next_steps="We call you back on Friday.")
    saved = colleague.cases.update(case.id, details, expected_version=case.version)

    qtbot.waitUntil(
        lambda: form.view is not None and form.view.version == saved.version, timeout=LIVE_MS
    )
    assert form.next_steps.text() == "We call you back on Friday."
    assert form.base_version == saved.version and not form.is_dirty
    assert "changed this case" in window.statusBar().currentMessage()
    notice = _notice(window)
    assert notice is None or not notice.isVisible()

    # A contact added elsewhere shows on the timeline beside the case.
    colleague.cases.add_entry(
        case.id, kind=EventKind.CONTACT, text="Called back at noon", channel=Channel.PHONE
    )
    qtbot.waitUntil(
        lambda: (
            form.view is not None
            and any(e.summary == "Called back at noon" for e in form.view.timeline)
        ),
        timeout=LIVE_MS,
    )
    texts = [window.timeline.item(i).text() for i in range(window.timeline.count())]
    assert any("Called back at noon" in t for t in texts)


def test_unsaved_edits_stay_and_the_form_says_the_case_changed_elsewhere(
    qtbot: QtBot, window: MainWindow, desk_factory: Any
) -> None:
    colleague = desk_factory("officer")
    customer = new_customer(colleague)
    case = colleague.cases.create(walk_in_case(colleague, customer.id, "Letter never arrived"))
    _open(qtbot, window, case.id)
    form = window.form
    assert form is not None
    form.customer_expectation.setFocus()
    qtbot.keyClicks(form.customer_expectation, " by post")
    assert form.is_dirty
    typed = form.customer_expectation.text()
    assert "by post" in typed

    details = dataclasses.replace(case.details, next_steps="Soon.")
    saved = colleague.cases.update(case.id, details, expected_version=case.version)

    qtbot.waitUntil(
        lambda: (notice := _notice(window)) is not None and notice.isVisible(), timeout=LIVE_MS
    )
    notice = _notice(window)
    assert notice is not None
    assert case.reference in notice.text() and "changed elsewhere" in notice.text()
    assert notice.accessibleName()
    # Nothing typed was touched; Save still starts from the version the edits were made on.
    assert form.customer_expectation.text() == typed
    assert form.next_steps.text() == case.details.next_steps
    assert form.is_dirty and form.base_version == case.version != saved.version

    # Opening another case leaves the notice behind.
    form.save_draft()
    other = colleague.cases.create(walk_in_case(colleague, customer.id, "Another matter"))
    _open(qtbot, window, other.id)
    assert not notice.isVisible()


def test_the_case_list_shows_a_case_recorded_at_another_counter(
    qtbot: QtBot, window: MainWindow, desk_factory: Any
) -> None:
    case_list = window.case_list
    assert case_list is not None
    window.show_list()
    qtbot.waitUntil(lambda: case_list.model.rowCount() > 2 and not case_list.model.loading)
    case_list.table.selectRow(1)
    chosen = case_list.selected_case_id()
    assert chosen is not None
    bar = case_list.table.verticalScrollBar()
    bar.setValue(min(3, bar.maximum()))
    scrolled = bar.value()

    colleague = desk_factory("officer")
    customer = new_customer(colleague)
    case = colleague.cases.create(walk_in_case(colleague, customer.id, "Recorded next door"))

    qtbot.waitUntil(lambda: case.id in [row.id for row in case_list.model.rows()], timeout=LIVE_MS)
    assert case_list.model.rows()[0].id == case.id, "the newest case comes first"
    assert case_list.selected_case_id() == chosen, "the selection stays on its case"
    assert bar.value() == scrolled, "the list stays where it was scrolled to"
