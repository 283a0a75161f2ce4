"""The admin console, driven with the keyboard on both databases: staff accounts, the permission
grid, authority limits, the audit trail and the settings; a second admin's change is reported,
never overwritten silently; tabs follow the person's permissions."""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from desk.services.admin import NewStaff
from desk.services.audit import AuditFilter
from ui.admin_console import AdminConsole
from ui.operations import Operations

GOOD_PASSWORD = "correct horse battery"
ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier


def unique(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:8]


@pytest.fixture
def open_console(
    qtbot: QtBot, desk_factory: Callable[..., Any]
) -> Iterator[Callable[[str], AdminConsole]]:
    """Log a demo user in and open the console over their own operations."""
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


def settled(qtbot: QtBot, console: AdminConsole) -> None:
    """Wait until every read and write the console asked for is done."""
    qtbot.waitUntil(lambda: not console.ops.busy and not console.loading, timeout=15_000)


def press(qtbot: QtBot, window: QWidget, key: Qt.Key, modifier: Any = ALT) -> None:
    """A key as the person presses it: to whatever has the focus in the active window."""
    target = QApplication.focusWidget() or window
    qtbot.keyClick(target, key, modifier)


def active(qtbot: QtBot, dialog: QWidget) -> None:
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)  # mnemonics go to the active window


# --- staff ---------------------------------------------------------------------------------------


def test_an_admin_adds_a_staff_member_with_the_keyboard(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("admin")
    desk = console.ops.desk
    tab = console.tab("staff")
    boss = next(s for s in desk.admin.staff() if s.username == "supervisor")
    assert boss.full_name.isascii(), "QTest types ASCII only"
    tab.table.setFocus()
    press(qtbot, console, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: tab.dialog is not None and tab.dialog.isVisible(), timeout=5_000)
    dialog = tab.dialog
    active(qtbot, dialog)
    assert QApplication.focusWidget() is dialog.username
    qtbot.keyClicks(dialog.username, "bad__name")
    for widget, text in (
        (dialog.full_name, "Nadia Newcomer"),
        (dialog.role, ""),
        (dialog.centre, ""),
        (dialog.supervisor, boss.full_name.split()[0]),  # Space would open the list
        (dialog.email, "nadia@example.org"),
        (dialog.password, GOOD_PASSWORD),
        (dialog.repeat, GOOD_PASSWORD),
    ):
        press(qtbot, dialog, Qt.Key.Key_Tab, Qt.KeyboardModifier.NoModifier)
        assert QApplication.focusWidget() is widget, "the tab order follows the form"
        if text:
            qtbot.keyClicks(widget, text)
        if widget is dialog.supervisor:
            for _ in range(20):  # the first name may be shared: step on to the person
                if dialog.supervisor.currentData() == "supervisor":
                    break
                qtbot.keyClick(dialog.supervisor, Qt.Key.Key_Down)
    assert dialog.supervisor.currentData() == "supervisor"
    press(qtbot, dialog, Qt.Key.Key_A)
    username_error = dialog.fields["username"][1]
    qtbot.waitUntil(username_error.isVisible, timeout=10_000)
    assert "A user name starts with a letter" in username_error.text()
    assert QApplication.focusWidget() is dialog.username, "the field in question gets the focus"
    assert not dialog.fields["full_name"][1].isVisible()
    assert dialog.isVisible() and dialog.full_name.text() == "Nadia Newcomer"
    assert dialog.password.text() == GOOD_PASSWORD, "nothing typed is lost"

    username = unique("n")
    dialog.username.selectAll()
    qtbot.keyClicks(dialog.username, username)
    press(qtbot, dialog, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    qtbot.waitUntil(lambda: tab.info(username) is not None, timeout=10_000)
    settled(qtbot, console)
    info = tab.info(username)
    assert info.full_name == "Nadia Newcomer" and info.supervisor == "supervisor"
    assert info.role == "Counter Officer" and info.email == "nadia@example.org"
    assert tab.selected() is not None and tab.selected().username == username
    row = tab.proxy.mapFromSource(tab.model.index(tab.model.rows.index(info), 5))
    assert "must change password" in tab.proxy.data(row)
    assert "can log in now" in tab.message.text()


def test_the_two_passwords_must_match_and_the_message_sits_under_the_second(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("admin")
    tab = console.tab("staff")
    tab.add_staff()
    dialog = tab.dialog
    active(qtbot, dialog)
    qtbot.keyClicks(dialog.username, unique("m"))
    qtbot.keyClicks(dialog.full_name, "Mo Mismatch")
    qtbot.keyClicks(dialog.password, GOOD_PASSWORD)
    qtbot.keyClicks(dialog.repeat, GOOD_PASSWORD + "!")
    press(qtbot, dialog, Qt.Key.Key_A)
    repeat_error = dialog.fields["repeat"][1]
    qtbot.waitUntil(repeat_error.isVisible, timeout=5_000)
    assert "not the same" in repeat_error.text()
    assert not console.ops.busy, "nothing was sent"
    dialog.reject()


def test_a_second_admins_change_to_an_account_is_reported_not_overwritten(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole], desk_factory: Callable[..., Any]
) -> None:
    console = open_console("admin")
    other = desk_factory("admin")
    username = unique("c")
    other.admin.add_staff(
        NewStaff(username, "Cleo Conflict", "Counter Officer", "CEN"), GOOD_PASSWORD
    )
    tab = console.tab("staff")
    press(qtbot, console, Qt.Key.Key_F5, Qt.KeyboardModifier.NoModifier)
    qtbot.waitUntil(lambda: tab.info(username) is not None, timeout=10_000)
    settled(qtbot, console)
    tab.select(username)
    tab.table.setFocus()
    press(qtbot, console, Qt.Key.Key_C)
    qtbot.waitUntil(lambda: tab.dialog is not None and tab.dialog.isVisible(), timeout=5_000)
    dialog = tab.dialog
    active(qtbot, dialog)
    assert QApplication.focusWidget() is dialog.role
    stale = other.admin.staff()
    mine = next(s for s in stale if s.username == username)
    other.admin.update_staff(username, expected_version=mine.version, full_name="Cleo Changed")
    qtbot.keyClicks(dialog.role, "Senior")
    assert dialog.role.currentData() == "Senior Officer"
    press(qtbot, dialog, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: "Your choices are kept" in dialog.general.text(), timeout=10_000)
    said = dialog.general.text()
    assert "Someone else changed Cleo Changed's account" in said
    assert f"Last changed by {other.session.full_name}" in said
    assert "name: Cleo Changed (was Cleo Conflict)" in said
    assert dialog.role.currentData() == "Senior Officer", "the admin's choice is kept"
    now = next(s for s in other.admin.staff() if s.username == username)
    assert now.role == "Counter Officer" and now.full_name == "Cleo Changed", "nothing overwritten"
    press(qtbot, dialog, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    now = next(s for s in other.admin.staff() if s.username == username)
    assert now.role == "Senior Officer" and now.full_name == "Cleo Changed"
    settled(qtbot, console)


def test_disable_and_enable_an_account_and_reset_its_password(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole], desk_factory: Callable[..., Any]
) -> None:
    console = open_console("admin")
    username = unique("d")
    console.ops.desk.admin.add_staff(
        NewStaff(username, "Dee Disable", "Counter Officer", "CEN"), GOOD_PASSWORD
    )
    tab = console.tab("staff")
    tab.reload()
    qtbot.waitUntil(lambda: tab.info(username) is not None, timeout=10_000)
    settled(qtbot, console)
    tab.select(username)
    tab.table.setFocus()
    assert tab.active_button.text() == "&Disable"
    press(qtbot, console, Qt.Key.Key_D)
    qtbot.waitUntil(lambda: not tab.info(username).active, timeout=10_000)
    settled(qtbot, console)
    assert tab.active_button.text() == "&Enable" and "no longer log in" in tab.message.text()
    press(qtbot, console, Qt.Key.Key_E)
    qtbot.waitUntil(lambda: tab.info(username).active, timeout=10_000)
    settled(qtbot, console)

    press(qtbot, console, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: tab.dialog is not None and tab.dialog.isVisible(), timeout=5_000)
    dialog = tab.dialog
    active(qtbot, dialog)
    qtbot.keyClicks(dialog.password, f"{username}-secret-123")
    qtbot.keyClicks(dialog.repeat, f"{username}-secret-123")
    press(qtbot, dialog, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: dialog.fields["password"][1].isVisible(), timeout=10_000)
    assert "user name" in dialog.fields["password"][1].text()
    for field in (dialog.password, dialog.repeat):
        field.clear()
        qtbot.keyClicks(field, "another long temporary one")
    press(qtbot, dialog, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    settled(qtbot, console)
    assert tab.info(username).must_change_password
    actions = [
        r.action
        for r in console.ops.desk.admin.audit_entries(AuditFilter(entity="staff"), limit=20).rows
        if r.action in ("staff_disabled", "staff_enabled", "password_reset")
    ]
    assert actions[:3] == ["password_reset", "staff_enabled", "staff_disabled"]


# --- roles and permissions -----------------------------------------------------------------------


def _role_column(tab: Any, name: str) -> int:
    return [r.name for r in tab.model.roles].index(name)


def _permission_row(tab: Any, permission: str) -> int:
    return tab.model.permissions.index(permission)


def test_a_permission_is_ticked_in_the_grid_and_saved(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("admin")
    desk = console.ops.desk
    name = unique("Trainee ")
    desk.admin.create_role(name, rank=0, permissions=["create_cases"])
    console.show_tab("roles")
    tab = console.tab("roles")
    press(qtbot, console, Qt.Key.Key_F5, Qt.KeyboardModifier.NoModifier)
    qtbot.waitUntil(lambda: tab.model.role(name) is not None, timeout=10_000)
    settled(qtbot, console)
    column = _role_column(tab, name)
    grid = tab.grid
    grid.setFocus()
    grid.setCurrentIndex(tab.model.index(_permission_row(tab, "view_centre_cases"), column))
    qtbot.keyClick(grid, Qt.Key.Key_Space)
    assert tab.model.is_pending(name) and tab.unsaved.isVisible()
    header = tab.model.headerData(column, Qt.Orientation.Horizontal)
    assert header == f"{name} *", "an unsaved role is marked"
    qtbot.keyClick(grid, Qt.Key.Key_Down)  # to "View all cases"
    qtbot.keyClick(grid, Qt.Key.Key_Space)

    # A reload (F5, or another screen's save) shows fresh data and keeps the unsaved ticks.
    press(qtbot, console, Qt.Key.Key_F5, Qt.KeyboardModifier.NoModifier)
    settled(qtbot, console)
    assert tab.model.wanted(name) == {"create_cases", "view_centre_cases", "view_all_cases"}
    assert tab.current_role() is not None and tab.current_role().name == name

    assert tab.save_button.isEnabled() and tab.save_button.text() == f"&Save {name}"
    press(qtbot, console, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: not tab.model.is_pending(name), timeout=10_000)
    settled(qtbot, console)
    saved = next(r for r in desk.admin.roles() if r.name == name)
    assert saved.permissions == {"create_cases", "view_centre_cases", "view_all_cases"}
    assert "are saved" in tab.message.text() and not tab.unsaved.isVisible()

    # Ticking back to what is stored leaves nothing unsaved.
    qtbot.keyClick(grid, Qt.Key.Key_Space)
    assert tab.model.is_pending(name)
    qtbot.keyClick(grid, Qt.Key.Key_Space)
    assert not tab.model.is_pending(name) and not tab.save_button.isEnabled()

    # Delete it: asked first, then gone.
    press(qtbot, console, Qt.Key.Key_D)
    qtbot.waitUntil(lambda: tab.confirm is not None and tab.confirm.isVisible(), timeout=5_000)
    tab.confirm.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: tab.model.role(name) is None, timeout=10_000)
    settled(qtbot, console)
    assert name not in {r.name for r in desk.admin.roles()}


def test_a_role_in_use_is_not_deleted_and_the_service_says_why(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("admin")
    console.show_tab("roles")
    tab = console.tab("roles")
    tab.grid.setCurrentIndex(tab.model.index(0, _role_column(tab, "Counter Officer")))
    tab.grid.setFocus()
    press(qtbot, console, Qt.Key.Key_D)
    qtbot.waitUntil(lambda: tab.confirm is not None and tab.confirm.isVisible(), timeout=5_000)
    tab.confirm.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: "still held by" in tab.message.text(), timeout=10_000)
    assert tab.message.kind == "error"
    assert tab.model.role("Counter Officer") is not None


def test_a_new_role_with_a_taken_name_is_refused_beside_the_name(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("admin")
    console.show_tab("roles")
    tab = console.tab("roles")
    tab.grid.setFocus()
    press(qtbot, console, Qt.Key.Key_N)
    qtbot.waitUntil(lambda: tab.dialog is not None and tab.dialog.isVisible(), timeout=5_000)
    dialog = tab.dialog
    active(qtbot, dialog)
    qtbot.keyClicks(dialog.name, "Supervisor")
    press(qtbot, dialog, Qt.Key.Key_D)
    assert QApplication.focusWidget() is dialog.description
    qtbot.keyClicks(dialog.description, "Keeps an eye on things")
    press(qtbot, dialog, Qt.Key.Key_C)
    qtbot.waitUntil(dialog.name_error.isVisible, timeout=10_000)
    assert "already a role called 'Supervisor'" in dialog.name_error.text()
    assert QApplication.focusWidget() is dialog.name
    assert dialog.description.text() == "Keeps an eye on things", "nothing typed is lost"
    name = unique("Greeter ")
    dialog.name.selectAll()
    qtbot.keyClicks(dialog.name, name)
    press(qtbot, dialog, Qt.Key.Key_C)
    qtbot.waitUntil(lambda: tab.model.role(name) is not None, timeout=10_000)
    settled(qtbot, console)
    assert "was created" in tab.message.text()
    console.ops.desk.admin.delete_role(name)


def test_a_second_admin_changing_the_same_role_is_told_and_nothing_is_lost(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole], desk_factory: Callable[..., Any]
) -> None:
    console = open_console("admin")
    other = desk_factory("admin")
    name = unique("Clerk ")
    role = other.admin.create_role(name, rank=0, permissions=["create_cases"])
    console.show_tab("roles")
    tab = console.tab("roles")
    tab.reload()
    qtbot.waitUntil(lambda: tab.model.role(name) is not None, timeout=10_000)
    settled(qtbot, console)
    grid = tab.grid
    grid.setFocus()
    grid.setCurrentIndex(tab.model.index(_permission_row(tab, "reassign"), _role_column(tab, name)))
    qtbot.keyClick(grid, Qt.Key.Key_Space)  # I allow "Reassign cases"...
    other.admin.set_permissions(  # ...while the other admin allows viewing the centre's cases
        name, ["create_cases", "view_centre_cases"], expected_version=role.version
    )
    press(qtbot, console, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: "They allowed" in tab.message.text(), timeout=10_000)
    said = tab.message.text()
    assert f"Another admin changed the role {name}" in said
    assert f"Last changed by {other.session.full_name}" in said
    assert "They allowed: View the centre's cases." in said
    assert "save again" in said and tab.model.is_pending(name)
    stored = next(r for r in other.admin.roles() if r.name == name)
    assert stored.permissions == {"create_cases", "view_centre_cases"}, "nothing overwritten"
    assert tab.model.wanted(name) == {"create_cases", "view_centre_cases", "reassign"}
    press(qtbot, console, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: not tab.model.is_pending(name), timeout=10_000)
    settled(qtbot, console)
    stored = next(r for r in other.admin.roles() if r.name == name)
    assert stored.permissions == {"create_cases", "view_centre_cases", "reassign"}
    other.admin.delete_role(name)


# --- authority limits ----------------------------------------------------------------------------


def _type_limit(qtbot: QtBot, tab: Any, role: str, kind: str, text: str) -> None:
    index = tab.model.index_of(role, kind)
    tab.table.setFocus()
    tab.table.setCurrentIndex(index)
    qtbot.keyClick(tab.table, Qt.Key.Key_F2)
    editor = tab.table.findChild(QLineEdit, "limitEditor")
    assert editor is not None and editor.isVisible()
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)


def test_limits_are_set_refused_and_warned_about_in_the_matrix(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("admin")
    desk = console.ops.desk
    console.show_tab("limits")
    tab = console.tab("limits")
    assert "in USD" in tab.intro.text()
    try:
        _type_limit(qtbot, tab, "Counter Officer", "waiver", "12.345")
        qtbot.waitUntil(lambda: tab.message.kind == "error", timeout=10_000)
        assert "at most 2 decimal places" in tab.message.text()
        assert "Counter Officer, Fee waiver" in tab.message.text()
        index = tab.model.index_of("Counter Officer", "waiver")
        assert tab.model.data(index, Qt.ItemDataRole.EditRole) == "12.345", "typed text is kept"
        assert "decimal places" in tab.model.data(index, Qt.ItemDataRole.ToolTipRole)
        assert desk.admin.limits().limit("Counter Officer", "waiver") == 5_000

        _type_limit(qtbot, tab, "Counter Officer", "waiver", "60")
        qtbot.waitUntil(lambda: "saved" in tab.message.text(), timeout=10_000)
        settled(qtbot, console)
        assert tab.message.kind == "hint" and not tab.warnings.isVisible()
        assert desk.admin.limits().limit("Counter Officer", "waiver") == 6_000
        assert tab.model.data(index, Qt.ItemDataRole.DisplayRole) == "60.00"

        _type_limit(qtbot, tab, "Counter Officer", "waiver", "250")
        qtbot.waitUntil(tab.warnings.isVisible, timeout=10_000)
        settled(qtbot, console)
        assert tab.warnings.kind == "warning", "a warning, not an error"
        assert "above that of Senior Officer" in tab.warnings.text()
        assert desk.admin.limits().limit("Counter Officer", "waiver") == 25_000
        assert tab.model.data(index, Qt.ItemDataRole.DisplayRole) == "250.00"
    finally:
        desk.admin.set_limit("Counter Officer", "waiver", "50")
        settled(qtbot, console)


# --- the audit trail -----------------------------------------------------------------------------


def test_the_audit_trail_is_filtered_verified_and_exported(
    qtbot: QtBot,
    open_console: Callable[[str], AdminConsole],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    console = open_console("admin")
    me = console.ops.desk.session
    console.show_tab("audit")
    tab = console.tab("audit")
    assert tab.model.rows, "the newest entries show at once"
    press(qtbot, console, Qt.Key.Key_F, CTRL)
    assert QApplication.focusWidget() is tab.who, "Ctrl+F goes to the filter"
    qtbot.keyClicks(tab.who, me.full_name.upper()[:-1])  # any case, any part
    tab.action.setEditText("login")
    qtbot.waitUntil(
        lambda: bool(tab.model.wanted.actor) and tab.model.wanted.action == "login",
        timeout=5_000,
    )
    settled(qtbot, console)
    assert tab.model.rows
    assert {(r.action, r.actor_name) for r in tab.model.rows} == {("login", me.full_name)}
    today = QDate.currentDate()
    tab.since.setDate(today)
    qtbot.waitUntil(lambda: tab.model.wanted.since is not None, timeout=5_000)
    settled(qtbot, console)
    midnight = dt.datetime.combine(dt.date.today(), dt.time()).astimezone()
    assert tab.model.rows and all(r.at >= midnight for r in tab.model.rows)
    tab.until.setDate(today.addDays(-1))
    qtbot.waitUntil(lambda: tab.model.wanted.until is not None, timeout=5_000)
    settled(qtbot, console)
    assert tab.model.rows == [] and tab.count.text() == "0 entries."

    tab.clear_filters()
    settled(qtbot, console)
    tab.table.setFocus()
    press(qtbot, console, Qt.Key.Key_V)
    qtbot.waitUntil(lambda: "entries checked" in tab.message.text(), timeout=20_000)
    assert tab.message.text().startswith("The audit trail is whole:")

    target = tmp_path / "trail"
    monkeypatch.setattr(tab, "ask_export_path", lambda: str(target))
    with qtbot.waitSignal(tab.exported, timeout=20_000):
        press(qtbot, console, Qt.Key.Key_X)
    written = target.with_suffix(".csv")
    assert "Wrote" in tab.message.text() and str(written) in tab.message.text()
    with written.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and rows[0]["prev_hash"] == "0" * 64
    settled(qtbot, console)  # the export was a write: the trail reloads and shows it on top
    newest = tab.model.rows[0]
    assert (newest.action, newest.actor_name) == ("audit_export", me.full_name)
    assert '"file":"trail.csv"' in newest.details
    assert f'"entries":{len(rows)}' in newest.details


# --- settings, tabs and keyboard -----------------------------------------------------------------


def test_the_rolling_window_is_changed_in_the_settings(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("admin")
    desk = console.ops.desk
    before = desk.admin.settings()
    console.show_tab("settings")
    tab = console.tab("settings")
    assert tab.window_days.text() == str(before.grant_window_days)
    assert tab.idle_lock.text() == str(before.idle_lock_minutes)
    days = 200 if before.grant_window_days != 200 else 201
    try:
        tab.idle_lock.setFocus()
        press(qtbot, console, Qt.Key.Key_R)
        assert QApplication.focusWidget() is tab.window_days
        tab.window_days.selectAll()
        qtbot.keyClicks(tab.window_days, "4000")
        press(qtbot, console, Qt.Key.Key_S)
        error = tab.window_days_error
        qtbot.waitUntil(error.isVisible, timeout=10_000)
        assert "whole number of days from 1 to 3650" in error.text()
        assert tab.window_days.text() == "4000", "what was typed stays to be corrected"
        assert desk.admin.settings() == before
        tab.window_days.selectAll()
        qtbot.keyClicks(tab.window_days, str(days))
        qtbot.keyClick(tab.window_days, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: "saved" in tab.message.text(), timeout=10_000)
        settled(qtbot, console)
        assert not error.isVisible()
        assert desk.admin.settings() == type(before)(before.idle_lock_minutes, days)
        newest = desk.admin.audit_entries(AuditFilter(entity_id="grant_window_days"), limit=1)
        assert newest.rows[0].details == f'{{"from":"{before.grant_window_days}","to":"{days}"}}'
    finally:
        desk.admin.set_grant_window_days(before.grant_window_days)
        settled(qtbot, console)


def test_someone_without_admin_permissions_is_told_so(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("officer")
    assert console.stack.currentWidget() is console.nothing
    assert console.nothing.text().startswith("Your role (Counter Officer) has none")
    assert not [
        key for key in ("staff", "roles", "limits", "audit", "settings") if console.tab(key)
    ]


def test_a_manager_sees_only_the_audit_trail(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("manager")
    shown = [k for k in ("staff", "roles", "limits", "audit", "settings") if console.tab_visible(k)]
    assert shown == ["audit"]
    assert console.tab("audit").model.rows


def test_alt_and_a_number_switch_tabs_and_ctrl_f_finds_staff(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("admin")
    console.tab("staff").table.setFocus()
    for key, name in ((Qt.Key.Key_3, "limits"), (Qt.Key.Key_2, "roles"), (Qt.Key.Key_1, "staff")):
        press(qtbot, console, key)
        assert console.tabs.currentWidget() is console.tab(name)
    tab = console.tab("staff")
    press(qtbot, console, Qt.Key.Key_F, CTRL)
    assert QApplication.focusWidget() is tab.filter
    qtbot.keyClicks(tab.filter, "administrator")  # any column, any case
    shown = {tab.proxy.index(row, 0).data() for row in range(tab.proxy.rowCount())}
    assert "admin" in shown and "officer" not in shown


def test_every_control_has_a_name_for_tests_and_screen_readers(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    from tests.gui.test_accessibility import _unnamed_controls

    console = open_console("admin")
    staff = console.tab("staff")
    staff.add_staff()
    add = staff.dialog
    staff.edit_selected()
    edit = staff.dialog
    staff.reset_password()
    password = staff.dialog
    console.tab("roles").new_role()
    new_role = console.tab("roles").dialog
    missing = [
        *_unnamed_controls(console),
        *(
            f"{d.objectName()}: {m}"
            for d in (add, edit, password, new_role)
            for m in _unnamed_controls(d)
        ),
    ]
    for dialog in (add, edit, password, new_role):
        dialog.reject()
    assert not missing, "\n".join(missing)


def test_enter_in_a_field_submits_the_dialog_and_never_throws_away_what_was_typed(
    qtbot: QtBot, open_console: Callable[[str], AdminConsole]
) -> None:
    console = open_console("admin")
    tab = console.tab("staff")
    tab.table.setFocus()
    press(qtbot, console, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: tab.dialog is not None and tab.dialog.isVisible(), timeout=5_000)
    dialog = tab.dialog
    active(qtbot, dialog)
    qtbot.keyClicks(dialog.username, "bad__name")
    qtbot.keyClick(dialog.username, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier)
    qtbot.waitUntil(lambda: not console.ops.busy, timeout=10_000)
    assert dialog.isVisible(), "Enter submitted (and the service refused), it did not cancel"
    assert dialog.username.text() == "bad__name"
    dialog.reject()
