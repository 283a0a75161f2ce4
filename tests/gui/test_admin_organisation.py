"""The admin console's organisation tabs (service centres, specialist teams, case categories) and
the kinds of request under the limits, driven with the keyboard on both databases: added, changed,
taken out of use; bad input shown under its field; a second admin's change reported, not
overwritten.

The PostgreSQL demo database is shared by the test run: what a test adds has a unique name and is
taken out of use again at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desk.services.admin import CentreDetails
from desk.services.grants import Outcome
from tests.gui.test_admin_console import active, press, settled
from ui.admin_console import AdminConsole
from ui.operations import Operations

NONE = Qt.KeyboardModifier.NoModifier


def tag() -> str:
    return uuid.uuid4().hex[:6]


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


def opened_dialog(qtbot: QtBot, tab: Any) -> Any:
    """The dialog a button's mnemonic opened (the click comes a moment after the key)."""
    qtbot.waitUntil(lambda: tab.dialog is not None and tab.dialog.isVisible(), timeout=5_000)
    dialog = tab.dialog
    active(qtbot, dialog)
    return dialog


def closed(qtbot: QtBot, console: AdminConsole, dialog: Any) -> None:
    """The dialog is gone, what it saved is shown, and the console is active again (the window
    manager gives it back the focus; the offscreen platform needs to be asked)."""
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    settled(qtbot, console)
    active(qtbot, console)


def cell(tab: Any, item_id: int, column: int) -> str:
    row = next(i for i, r in enumerate(tab.model.rows) if r.id == item_id)
    return str(tab.model.index(row, column).data())


# --- service centres -----------------------------------------------------------------------------


def test_an_admin_adds_a_centre_and_a_bad_address_is_shown_beside_its_field(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("admin")
    desk = console.ops.desk
    press(qtbot, console, Qt.Key.Key_6)
    tab = console.tab("centres")
    assert console.tabs.currentWidget() is tab
    tab.table.setFocus()
    press(qtbot, console, Qt.Key.Key_A)
    dialog = opened_dialog(qtbot, tab)
    assert QApplication.focusWidget() is dialog.code
    code = f"G{tag().upper()}"
    qtbot.keyClicks(dialog.code, code.lower())
    for widget, text in (
        (dialog.name, f"Gui Centre {code}"),
        (dialog.address, "2 Test Lane"),
        (dialog.phone, "+1 555 0100 7777"),
        (dialog.email, "front desk"),
        (dialog.opening_hours, "Mon-Fri 9-5"),
    ):
        press(qtbot, dialog, Qt.Key.Key_Tab, NONE)
        assert QApplication.focusWidget() is widget, "the tab order follows the form"
        qtbot.keyClicks(widget, text)
    try:
        press(qtbot, dialog, Qt.Key.Key_A)
        email_error = dialog.fields["email"][1]
        qtbot.waitUntil(email_error.isVisible, timeout=10_000)
        assert "'front desk' is not an e-mail address" in email_error.text()
        assert QApplication.focusWidget() is dialog.email, "the field in question gets the focus"
        assert not dialog.fields["code"][1].isVisible()
        assert dialog.isVisible() and dialog.address.text() == "2 Test Lane", "nothing lost"
        dialog.email.selectAll()
        qtbot.keyClicks(dialog.email, "gui@example.org")
        press(qtbot, dialog, Qt.Key.Key_A)
        closed(qtbot, console, dialog)
        info = tab.selected()
        assert info is not None and info.code == code, "the new centre is selected"
        assert (info.name, info.email, info.active) == (
            f"Gui Centre {code}",
            "gui@example.org",
            True,
        )
        assert f"Gui Centre {code} ({code}) was added" in tab.message.text()
        assert cell(tab, info.id, 2) == "In use"
        assert console.focusWidget() is tab.table, "back in the list when the dialog closes"
    finally:
        for centre in desk.admin.service_centres():
            if centre.code == code:
                desk.admin.set_centre_active(code, False)
        settled(qtbot, console)


def test_a_second_admins_change_to_a_centre_is_reported_not_overwritten(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole], desk_factory: Callable[..., Any]
) -> None:
    console = open_console("admin")
    other = desk_factory("admin")
    code = f"C{tag().upper()}"
    added = other.admin.add_centre(CentreDetails(code, f"Conflict {code}", opening_hours="9-5"))
    try:
        console.show_tab("centres")
        tab = console.tab("centres")
        press(qtbot, console, Qt.Key.Key_F5, NONE)
        qtbot.waitUntil(lambda: tab.model.find(added.id) is not None, timeout=10_000)
        settled(qtbot, console)
        tab.select(added.id)
        tab.table.setFocus()
        press(qtbot, console, Qt.Key.Key_C)
        dialog = opened_dialog(qtbot, tab)
        assert QApplication.focusWidget() is dialog.name
        other.admin.update_centre(
            code,
            CentreDetails(code, f"Renamed {code}", opening_hours="9-5"),
            expected=added.details,
        )
        press(qtbot, dialog, Qt.Key.Key_O)
        assert QApplication.focusWidget() is dialog.opening_hours
        dialog.opening_hours.selectAll()
        qtbot.keyClicks(dialog.opening_hours, "8-6")
        press(qtbot, dialog, Qt.Key.Key_S)
        qtbot.waitUntil(lambda: "Your changes are kept" in dialog.general.text(), timeout=10_000)
        said = dialog.general.text()
        assert f"Someone else changed the centre Renamed {code}" in said
        assert f"Last changed by {other.session.full_name}" in said
        assert f"name: Renamed {code} (was Conflict {code})" in said
        assert dialog.name.text() == f"Renamed {code}", "what I left alone follows theirs"
        assert dialog.opening_hours.text() == "8-6", "my own change is kept"
        stored = next(c for c in other.admin.service_centres() if c.code == code)
        assert stored.opening_hours == "9-5", "nothing overwritten"
        press(qtbot, dialog, Qt.Key.Key_S)
        closed(qtbot, console, dialog)
        stored = next(c for c in other.admin.service_centres() if c.code == code)
        assert (stored.name, stored.opening_hours) == (f"Renamed {code}", "8-6")
        assert cell(tab, added.id, 7) == "8-6"
    finally:
        other.admin.set_centre_active(code, False)
        settled(qtbot, console)


def test_a_centre_with_active_staff_stays_in_use_and_an_empty_one_is_disabled(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("admin")
    desk = console.ops.desk
    code = f"E{tag().upper()}"
    empty = desk.admin.add_centre(CentreDetails(code, f"Empty {code}"))
    try:
        console.show_tab("centres")
        tab = console.tab("centres")
        tab.reload()
        qtbot.waitUntil(lambda: tab.model.find(empty.id) is not None, timeout=10_000)
        settled(qtbot, console)
        central = next(c for c in tab.model.rows if c.code == "CEN")
        tab.select(central.id)
        tab.table.setFocus()
        press(qtbot, console, Qt.Key.Key_D)
        qtbot.waitUntil(lambda: tab.message.kind == "error", timeout=10_000)
        assert "Central Service Centre is still the centre of" in tab.message.text()
        assert "move them to another centre" in tab.message.text()
        settled(qtbot, console)
        assert tab.model.find(central.id).active

        tab.select(empty.id)
        press(qtbot, console, Qt.Key.Key_D)
        qtbot.waitUntil(lambda: not tab.model.find(empty.id).active, timeout=10_000)
        settled(qtbot, console)
        assert "no longer offered" in tab.message.text() and tab.message.kind == "hint"
        assert cell(tab, empty.id, 2) == "Disabled"
        assert tab.active_button.text() == "&Enable"
        assert code not in {c.code for c in desk.admin.centres()}
        press(qtbot, console, Qt.Key.Key_E)
        qtbot.waitUntil(lambda: tab.model.find(empty.id).active, timeout=10_000)
        settled(qtbot, console)
        assert code in {c.code for c in desk.admin.centres()}
    finally:
        desk.admin.set_centre_active(code, False)
        settled(qtbot, console)


# --- specialist teams ----------------------------------------------------------------------------


def test_a_team_is_added_renamed_and_disabled_with_the_keyboard(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("admin")
    desk = console.ops.desk
    press(qtbot, console, Qt.Key.Key_7)
    tab = console.tab("teams")
    assert console.tabs.currentWidget() is tab
    tab.table.setFocus()
    press(qtbot, console, Qt.Key.Key_A)
    dialog = opened_dialog(qtbot, tab)
    assert QApplication.focusWidget() is dialog.name
    qtbot.keyClicks(dialog.name, "billing")
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)  # the default button
    name_error = dialog.fields["name"][1]
    qtbot.waitUntil(name_error.isVisible, timeout=10_000)
    assert "There is already a team called 'Billing'" in name_error.text()
    name = f"Gui team {tag()}"
    dialog.name.selectAll()
    qtbot.keyClicks(dialog.name, name)
    press(qtbot, dialog, Qt.Key.Key_E)
    qtbot.keyClicks(dialog.email, "gui-team@example.org")
    press(qtbot, dialog, Qt.Key.Key_A)
    closed(qtbot, console, dialog)
    team = tab.selected()
    assert team is not None and (team.name, team.email) == (name, "gui-team@example.org")
    try:
        assert name in {t.name for t in desk.reference_data().teams}
        press(qtbot, console, Qt.Key.Key_R)
        dialog = opened_dialog(qtbot, tab)
        assert QApplication.focusWidget() is dialog.name and dialog.name.selectedText() == name
        qtbot.keyClicks(dialog.name, name + " renamed")
        qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
        closed(qtbot, console, dialog)
        assert tab.model.find(team.id).name == name + " renamed"
        assert f"now called {name} renamed" in tab.message.text()

        press(qtbot, console, Qt.Key.Key_D)
        qtbot.waitUntil(lambda: not tab.model.find(team.id).active, timeout=10_000)
        settled(qtbot, console)
        assert cell(tab, team.id, 2) == "Disabled"
        assert "takes no new referrals" in tab.message.text()
        assert name + " renamed" not in {t.name for t in desk.reference_data().teams}
    finally:
        desk.admin.set_team_active(team.id, False)
        settled(qtbot, console)


# --- case categories -----------------------------------------------------------------------------


def test_categories_are_added_moved_renamed_and_disabled_in_the_tree(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("admin")
    desk = console.ops.desk
    press(qtbot, console, Qt.Key.Key_8)
    tab = console.tab("categories")
    assert console.tabs.currentWidget() is tab
    tab.tree.setFocus()
    press(qtbot, console, Qt.Key.Key_N)
    dialog = opened_dialog(qtbot, tab)
    assert dialog.under.currentData() == 0, "a main category"
    name = f"Gui category {tag()}"
    qtbot.keyClicks(dialog.name, name)
    press(qtbot, dialog, Qt.Key.Key_A)
    closed(qtbot, console, dialog)
    main = tab.selected()
    assert main is not None and main.name == name and main.parent_id is None
    try:
        assert tab.tree.indexOfTopLevelItem(tab.item_of(main.id)) == len(tab.categories) - 1
        assert "added at the end of the categories" in tab.message.text()

        for sub in ("First", "Second"):
            press(qtbot, console, Qt.Key.Key_S)
            dialog = opened_dialog(qtbot, tab)
            assert dialog.under.currentData() == main.id, "under the current category"
            if sub == "First":  # an empty name is refused under the field
                press(qtbot, dialog, Qt.Key.Key_A)
                qtbot.waitUntil(dialog.fields["name"][1].isVisible, timeout=10_000)
                assert "cannot be empty" in dialog.fields["name"][1].text()
            qtbot.keyClicks(dialog.name, sub)
            press(qtbot, dialog, Qt.Key.Key_A)
            closed(qtbot, console, dialog)
            assert tab.selected().name == sub and tab.selected().parent_id == main.id
        item = tab.item_of(main.id)
        assert [item.child(i).text(0) for i in range(item.childCount())] == ["First", "Second"]
        assert tab.down_button.isEnabled() is False, "Second is last"

        press(qtbot, console, Qt.Key.Key_U)
        qtbot.waitUntil(lambda: "moved up" in tab.message.text(), timeout=10_000)
        settled(qtbot, console)
        item = tab.item_of(main.id)
        assert [item.child(i).text(0) for i in range(item.childCount())] == ["Second", "First"]
        assert tab.selected().name == "Second" and not tab.up_button.isEnabled()
        reference = desk.reference_data()
        assert [s.name for s in reference.subcategories if s.parent_id == main.id] == [
            "Second",
            "First",
        ]

        qtbot.keyClick(tab.tree, Qt.Key.Key_Down)
        assert tab.selected().name == "First"
        press(qtbot, console, Qt.Key.Key_R)
        dialog = opened_dialog(qtbot, tab)
        qtbot.keyClicks(dialog.name, "second")  # taken by its sibling, in any case
        press(qtbot, dialog, Qt.Key.Key_R)
        qtbot.waitUntil(dialog.fields["name"][1].isVisible, timeout=10_000)
        assert "already a subcategory of this category called 'Second'" in (
            dialog.fields["name"][1].text()
        )
        dialog.name.selectAll()
        qtbot.keyClicks(dialog.name, "Later")
        press(qtbot, dialog, Qt.Key.Key_R)
        closed(qtbot, console, dialog)
        assert tab.selected().name == "Later"

        tab.select(main.id)
        press(qtbot, console, Qt.Key.Key_D)
        qtbot.waitUntil(lambda: not tab.info(main.id).active, timeout=10_000)
        settled(qtbot, console)
        item = tab.item_of(main.id)
        assert item.text(1) == "Disabled"
        assert {item.child(i).text(1) for i in range(item.childCount())} == {
            "Disabled with its category"
        }
        assert not tab.new_sub_button.isEnabled(), "nothing is added under a disabled one"
        assert main.id not in {c.id for c in desk.reference_data().categories}
    finally:
        desk.admin.set_category_active(main.id, False)
        settled(qtbot, console)


# --- kinds of request ----------------------------------------------------------------------------


def test_a_kind_of_request_is_added_as_a_column_of_the_limits_and_disabled(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("admin")
    desk = console.ops.desk
    press(qtbot, console, Qt.Key.Key_3)
    tab = console.tab("limits")
    assert console.tabs.currentWidget() is tab
    columns = tab.model.columnCount()
    press(qtbot, console, Qt.Key.Key_K)
    assert QApplication.focusWidget() is tab.kinds_table
    press(qtbot, console, Qt.Key.Key_A)
    dialog = opened_dialog(qtbot, tab)
    assert QApplication.focusWidget() is dialog.code
    qtbot.keyClicks(dialog.code, "Late Fee")
    press(qtbot, dialog, Qt.Key.Key_Tab, NONE)
    qtbot.keyClicks(dialog.label, "Late fee refund")
    press(qtbot, dialog, Qt.Key.Key_G)
    assert QApplication.focusWidget() is dialog.permission
    qtbot.keyClick(dialog.permission, Qt.Key.Key_Down)
    assert dialog.permission.currentData() == "grant_claims"
    press(qtbot, dialog, Qt.Key.Key_A)
    code_error = dialog.fields["code"][1]
    qtbot.waitUntil(code_error.isVisible, timeout=10_000)
    assert "lower-case letters" in code_error.text()
    assert QApplication.focusWidget() is dialog.code
    code = f"late_fee_{tag()}"
    dialog.code.selectAll()
    qtbot.keyClicks(dialog.code, code)
    press(qtbot, dialog, Qt.Key.Key_A)
    try:
        closed(qtbot, console, dialog)
        assert tab.model.columnCount() == columns + 1
        column = tab.model.index_of("Senior Officer", code).column()
        header = tab.model.headerData(column, Qt.Orientation.Horizontal)
        assert header == "Late fee refund (USD)"
        assert tab.table.currentIndex().column() == column, "the new column is shown"
        assert tab.model.data(tab.model.index_of("Manager", code)) == "0.00"
        assert "new column of the limits" in tab.kinds_message.text()
        kind = tab.selected_kind()
        assert kind is not None and kind.code == code and kind.grant_permission == "grant_claims"

        tab.kinds_table.setFocus()
        press(qtbot, console, Qt.Key.Key_D)
        qtbot.waitUntil(lambda: not tab.model.index_of("Manager", code).isValid(), timeout=10_000)
        settled(qtbot, console)
        assert tab.model.columnCount() == columns
        assert tab.selected_kind().code == code and not tab.selected_kind().active
        assert "no longer offered" in tab.kinds_message.text()
        assert tab.kind_active_button.text() == "&Enable"
    finally:
        desk.admin.set_request_kind_active(code, False)
        settled(qtbot, console)


def test_a_kind_still_waiting_for_decisions_is_not_disabled_and_the_tab_says_why(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole], desk_factory: Callable[..., Any]
) -> None:
    from tests.integration.test_grants import fresh_case

    console = open_console("admin")
    desk = console.ops.desk
    officer = desk_factory("officer")
    code = f"wait_{tag()}"
    desk.admin.add_request_kind(code, f"Waiting {code}", "grant_waivers")
    desk.admin.set_limit("Manager", code, "100")
    request = officer.grants.request(fresh_case(officer).id, code, 5_000, "Needs a decision")
    try:
        console.show_tab("limits")
        tab = console.tab("limits")
        tab.reload()
        qtbot.waitUntil(lambda: code in {k.code for k in tab.kinds.rows}, timeout=10_000)
        settled(qtbot, console)
        tab.select_kind(code)
        assert tab.kinds.index(tab.kinds_table.currentIndex().row(), 3).data() == "1"
        tab.kinds_table.setFocus()
        press(qtbot, console, Qt.Key.Key_D)
        qtbot.waitUntil(lambda: tab.kinds_message.kind == "error", timeout=10_000)
        assert "still has 1 request waiting for a decision" in tab.kinds_message.text()
        assert tab.model.index_of("Manager", code).isValid(), "its column stays"
        assert tab.selected_kind().active
    finally:
        decider = next(
            d
            for d in (desk_factory(u) for u in ("senior", "supervisor", "manager"))
            if any(r.id == request.id for r in d.grants.awaiting_me())
        )
        decider.grants.decide(request.id, Outcome.REJECT, reason="Not this time")
        desk.admin.set_request_kind_active(code, False)
        settled(qtbot, console)


# --- who sees them -------------------------------------------------------------------------------


def test_the_organisation_tabs_need_the_permission(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    manager = open_console("manager")
    assert not [k for k in ("centres", "teams", "categories") if manager.tab_visible(k)]
    admin = open_console("admin")
    assert all(admin.tab_visible(k) for k in ("centres", "teams", "categories"))


def test_every_control_of_the_organisation_tabs_has_a_name(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    from tests.gui.test_accessibility import _unnamed_controls

    console = open_console("admin")
    dialogs = []
    for key, opener in (
        ("centres", "add_centre"),
        ("centres", "edit_selected"),
        ("teams", "add_team"),
        ("teams", "edit_selected"),
        ("categories", "new_category"),
        ("categories", "rename_selected"),
        ("limits", "add_kind"),
    ):
        tab = console.tab(key)
        getattr(tab, opener)()
        dialogs.append(tab.dialog)
    missing = [
        *_unnamed_controls(console),
        *(f"{d.objectName()}: {m}" for d in dialogs for m in _unnamed_controls(d)),
    ]
    for dialog in dialogs:
        dialog.reject()
    assert not missing, "\n".join(missing)
