"""The case form driven as a counter officer drives it: with the keyboard, against real services."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from desk.domain.model import CaseKind
from desk.drafts import DraftStore
from desk.services.dto import CaseQuery, CaseScope
from ui.case_form import CaseForm
from ui.main_window import MainWindow
from ui.operations import Operations

CUSTOMER_WORDS = (
    "My water bill doubled this month although nobody lives in the flat; "
    "the hydrometer reading must be wrong."
)


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def tab_to(qtbot: QtBot, target: QWidget, *, limit: int = 25) -> None:
    """Press Tab until the target has the focus, as an officer would."""
    for _ in range(limit):
        if focused() is target:
            return
        qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is target, f"Tab never reached {target.objectName()}"


def type_customer(qtbot: QtBot, form: CaseForm, customer: Any) -> None:
    """Type the start of the name and take the first suggestion with Down and Enter."""
    form.customer_search.setFocus()
    qtbot.keyClicks(form.customer_search, customer.full_name[:5])
    popup = form.completer.popup()
    qtbot.waitUntil(popup.isVisible, timeout=5_000)
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: form.customer is not None, timeout=5_000)


def search_list(qtbot: QtBot, window: MainWindow, text: str) -> list[str]:
    """Ctrl+F, type, and wait for the list to show what the server found."""
    assert window.case_list is not None
    qtbot.keyClick(focused(), Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert focused() is window.case_list.search
    qtbot.keyClick(window.case_list.search, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    model = window.case_list.model
    with qtbot.waitSignal(model.loaded, timeout=10_000):
        qtbot.keyClicks(window.case_list.search, text)
    qtbot.waitUntil(lambda: model.query.text == text and not model.loading, timeout=10_000)
    return [row.reference for row in model.rows()]


def test_officer_records_a_walk_in_case_with_the_keyboard_only(
    qtbot: QtBot, window: MainWindow, ops: Operations, gui_desk: Any, customer: Any
) -> None:
    form = window.form
    assert form is not None
    assert focused() is form.customer_search

    # Identify the customer by type-ahead (a prefix of the name).
    prefix = customer.full_name[:5]
    qtbot.keyClicks(form.customer_search, prefix)
    popup = form.completer.popup()
    qtbot.waitUntil(popup.isVisible, timeout=5_000)
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: form.customer is not None, timeout=5_000)
    assert form.customer is not None and form.customer.full_name.startswith(prefix)
    customer = form.customer
    qtbot.waitUntil(lambda: focused() is form.kind)
    assert form.customer_search.text() == customer.full_name

    # Listen: their own words, what they expect, our understanding.
    tab_to(qtbot, form.customer_words)
    qtbot.keyClicks(form.customer_words, CUSTOMER_WORDS)
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is form.customer_expectation
    qtbot.keyClicks(form.customer_expectation, "Check the meter and correct the bill")
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is form.officer_understanding
    qtbot.keyClicks(
        form.officer_understanding, "The March bill is twice the usual for an empty flat"
    )

    # A transaction: Add transaction, then reference, amount and date in tab order.
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is form.transactions.add_button
    qtbot.keyClick(focused(), Qt.Key.Key_Space)
    row = form.transactions.rows[0]
    assert focused() is row.reference
    qtbot.keyClicks(row.reference, "BILL-2026-03")
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is row.amount
    qtbot.keyClicks(row.amount, "1,234.50")
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is row.date
    qtbot.keyClicks(row.date, "2026-03-01")

    # Confirm back: the summary is composed live from what was typed.
    summary = form.confirm_summary.text()
    assert summary.startswith(customer.full_name.split()[0])
    assert "twice the usual" in summary and "BILL-2026-03" in summary
    tab_to(qtbot, form.customer_agreed)
    qtbot.keyClick(focused(), Qt.Key.Key_Space)
    assert form.customer_agreed.isChecked()

    # Next steps from a template (filled with the customer's contact method), then comfort.
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is form.template
    qtbot.keyClick(form.template, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: form.next_steps.text() != "")
    assert "{" not in form.next_steps.text()
    assert focused() is form.next_steps
    assert not form.promise_warning.isVisible()
    assert "What happens next" in form.confirm_summary.text()
    assert form.customer_agreed.isChecked(), "next steps do not withdraw the agreement"
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is form.customer_comfortable
    qtbot.keyClick(focused(), Qt.Key.Key_Space)
    assert form.customer_comfortable.checkState() == Qt.CheckState.Checked

    # Save with Ctrl+S.
    with qtbot.waitSignal(form.saved, timeout=10_000) as saved:
        qtbot.keyClick(focused(), Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    view = saved.args[0]
    assert window.statusBar().currentMessage() == f"Saved {view.reference}"
    assert form.reference_label.text().startswith(view.reference)
    assert form.banner.isVisible() and view.reference in form.banner.text()
    assert window.timeline.count() >= 1
    assert not form.is_dirty

    # It is stored: read it back through the service.
    qtbot.waitUntil(lambda: not ops.busy)
    stored = gui_desk.cases.get(view.id)
    assert stored.customer.id == customer.id
    assert stored.details.customer_words == CUSTOMER_WORDS
    assert stored.details.customer_confirmed is True
    assert stored.details.customer_comfortable is True
    assert stored.details.transactions[0].reference == "BILL-2026-03"
    assert stored.details.transactions[0].amount_minor == 123450
    assert stored.details.kind is CaseKind.COMPLAINT

    # And the case list finds it by reference, by customer name and by a word it contains.
    assert view.reference in search_list(qtbot, window, view.reference)
    assert view.reference in search_list(qtbot, window, customer.full_name)
    assert view.reference in search_list(qtbot, window, "hydrometer")

    # Enter on the found row opens it in the form.
    assert window.case_list is not None
    table = window.case_list.table
    table.setFocus()
    rows = window.case_list.model.rows()
    table.selectRow([r.reference for r in rows].index(view.reference))
    form.new_case()
    with qtbot.waitSignal(form.caseShown, timeout=10_000):
        qtbot.keyClick(table, Qt.Key.Key_Return)
    assert form.view is not None and form.view.id == view.id


def test_empty_required_fields_and_over_precise_amounts_are_shown_beside_the_fields(
    qtbot: QtBot, window: MainWindow, customer: Any
) -> None:
    form = window.form
    assert form is not None
    form.transactions.add_row(["BILL-1", "12.345", ""])
    qtbot.keyClick(focused(), Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)

    customer_error = form.findChild(QWidget, "customerSearchRowError")
    words_error = form.findChild(QWidget, "customerWordsError")
    amount_error = form.findChild(QWidget, "transactionError0")
    assert customer_error is not None and customer_error.isVisible()
    assert "Find the customer" in customer_error.text()
    assert words_error is not None and words_error.isVisible()
    assert "own words is required" in words_error.text()
    assert amount_error is not None and amount_error.isVisible()
    assert "at most 2 decimal places" in amount_error.text()
    assert focused() is form.customer_search, "focus goes to the first field to correct"
    assert form.view is None and form.is_dirty, "nothing is sent, nothing is lost"

    # Correcting the amount and filling the fields clears the messages on the next save.
    type_customer(qtbot, form, customer)
    form.customer_words.setFocus()
    qtbot.keyClicks(form.customer_words, "The counter was closed at lunchtime")
    row = form.transactions.rows[0]
    row.amount.clear()
    qtbot.keyClicks(row.amount, "12.34")
    with qtbot.waitSignal(form.saved, timeout=10_000):
        qtbot.keyClick(focused(), Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not words_error.isVisible() and not amount_error.isVisible()


def test_promise_in_next_steps_is_warned_about_before_saving(
    qtbot: QtBot, window: MainWindow, customer: Any
) -> None:
    form = window.form
    assert form is not None
    form.next_steps.setFocus()
    qtbot.keyClicks(form.next_steps, "we guarantee a refund")
    assert form.promise_warning.isVisible()
    assert "guarantee" in form.promise_warning.text()

    type_customer(qtbot, form, customer)
    form.customer_words.setFocus()
    qtbot.keyClicks(form.customer_words, "Charged twice for one permit")
    qtbot.keyClick(focused(), Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert form.view is None, "a promise is refused before anything is sent"
    assert focused() is form.next_steps

    form.next_steps.clear()
    qtbot.keyClicks(form.next_steps, "We cannot guarantee a refund; billing will review it.")
    assert not form.promise_warning.isVisible(), "an honest 'cannot guarantee' is fine"


def test_social_media_fields_show_only_for_social_media(qtbot: QtBot, window: MainWindow) -> None:
    form = window.form
    assert form is not None
    assert not form.social_box.isVisible()
    form.channel.setFocus()
    for _ in range(4):
        qtbot.keyClick(form.channel, Qt.Key.Key_Down)
    assert form.channel.currentText() == "Social media"
    assert form.social_box.isVisible()


def test_unsaved_case_is_restored_after_the_window_is_lost(
    qtbot: QtBot,
    make_window: Callable[[], MainWindow],
    drafts: DraftStore,
    customer: Any,
) -> None:
    first = make_window()
    form = first.form
    assert form is not None
    type_customer(qtbot, form, customer)
    chosen = form.customer
    with qtbot.waitSignal(form.draftSaved, timeout=10_000):
        form.customer_words.setFocus()
        qtbot.keyClicks(form.customer_words, "The bin was not collected for three weeks")
        qtbot.keyClicks(form.customer_expectation, "Collect it this week")
        form.transactions.add_row(["REF-42", "15.00", "2026-02-01"])
    qtbot.waitUntil(lambda: bool(drafts.load_all()), timeout=5_000)
    qtbot.waitUntil(
        lambda: drafts.load_all()[0].data["customer_expectation"] == "Collect it this week",
        timeout=5_000,
    )

    # The window disappears without saving (a crash, a power cut…).
    form.stop_autosave()
    first.hide()
    first.deleteLater()
    qtbot.waitUntil(lambda: not first.isVisible())

    second = make_window()
    second.offer_draft_recovery()
    box = second.findChild(QMessageBox, "restoreDraftMessage")
    assert box is not None
    qtbot.waitUntil(box.isVisible)
    assert "Restore unsaved case from" in box.text()
    qtbot.keyClick(box, Qt.Key.Key_Return)  # Restore is the default button

    restored = second.form
    assert restored is not None
    qtbot.waitUntil(lambda: restored.customer_words.text() != "", timeout=5_000)
    assert restored.customer_words.text() == "The bin was not collected for three weeks"
    assert restored.customer_expectation.text() == "Collect it this week"
    assert restored.customer is not None and chosen is not None
    assert restored.customer.id == chosen.id
    assert restored.transactions.state() == [["REF-42", "15.00", "2026-02-01"]]
    assert drafts.load_all()[0].draft_id == restored.draft_id
    assert restored.draft_id.startswith(str(restored.client_uuid))

    # Saving the restored case discards its draft.
    with qtbot.waitSignal(restored.saved, timeout=10_000):
        restored.save()
    assert drafts.load_all() == []


def test_slip_pdf_holds_the_reference(
    qtbot: QtBot,
    window: MainWindow,
    tmp_path: Path,
    gui_desk: Any,
    ops: Operations,
    customer: Any,
) -> None:
    from desk.domain.case import CaseDetails
    from ui.slip import save_slip_pdf, slip_document, slip_html

    form = window.form
    assert form is not None and window.reference is not None
    qtbot.waitUntil(lambda: not ops.busy)
    view = gui_desk.cases.create(
        CaseDetails(
            customer_id=customer.id,
            customer_words="<b>Not bold</b> & my bill is wrong",
            officer_understanding="The bill is wrong",
            next_steps="Billing will review the meter reading.",
        )
    )
    form.show_case(view)
    path = form.save_slip_pdf(tmp_path / "slip.pdf")
    assert path is not None and path.exists()
    assert path.read_bytes().startswith(b"%PDF")
    assert path.stat().st_size > 1000

    text = slip_document(view, window.reference).toPlainText()
    assert view.reference in text
    assert customer.full_name in text
    assert "<b>Not bold</b> & my bill is wrong" in text, "user text is escaped, not markup"
    assert "&lt;b&gt;" in slip_html(view, window.reference)
    assert view.centre.name in text
    other = save_slip_pdf(view, window.reference, tmp_path / "direct.pdf")
    assert other.read_bytes()[:4] == b"%PDF"


def test_case_list_pages_and_sorts_on_the_server(
    qtbot: QtBot, make_window: Callable[[], MainWindow], gui_desk: Any
) -> None:
    gui_desk.login("manager", "demo")  # sees every centre's cases: more than one page
    window = make_window()
    case_list = window.case_list
    assert case_list is not None
    model = case_list.model
    case_list.scope.setCurrentIndex(case_list.scope.findData(CaseScope.ALL))
    qtbot.waitUntil(lambda: model.query.scope == CaseScope.ALL and not model.loading)
    first_page = model.rowCount()
    assert first_page == CaseQuery().page_size, "one page at a time"
    assert model.canFetchMore()
    with qtbot.waitSignal(model.loaded, timeout=10_000):
        model.fetchMore()
    assert model.rowCount() > first_page
    references = [r.reference for r in model.rows()]
    assert len(set(references)) == len(references), "pages do not overlap"

    header = case_list.table.horizontalHeader()
    with qtbot.waitSignal(model.loaded, timeout=10_000):
        qtbot.mouseClick(
            header.viewport(),
            Qt.MouseButton.LeftButton,
            pos=QPoint(header.sectionViewportPosition(0) + 10, 5),
        )
    assert model.query.sort.value == "reference"
    shown = [r.reference for r in model.rows()]
    assert shown == sorted(shown) or shown == sorted(shown, reverse=True)


def test_help_lists_the_standard_shortcuts(qtbot: QtBot, window: MainWindow) -> None:
    rows = dict(window.shortcut_rows())
    assert rows["New case"] == "Ctrl+N"
    assert rows["Save"] == "Ctrl+S"
    assert rows["Print slip"] == "Ctrl+P"
    window.show_shortcuts()
    dialog = window.findChild(QMessageBox, "shortcutsDialog")
    assert dialog is not None and "Ctrl+N" in dialog.text()
    dialog.close()
