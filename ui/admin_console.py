"""The admin console: staff accounts, roles and permissions, authority limits (with the kinds of
request), the audit trail, the organisation's settings, its service centres, specialist teams and
case categories, the guided-script library and the script insight report, each on a tab shown
only to someone whose role has its permission.

A separate window over the same ``Operations`` as the main window: every read and write runs on
the worker thread, and the console reloads itself whenever anything is saved (``ops.changed``),
re-reading the person's permissions too, so a tab appears or goes as their role changes.
Keyboard: Alt+1…9 and Alt+0 switch tabs, Ctrl+F goes to the tab's filter, F5 reloads, Ctrl+W closes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QProgressBar,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from desk.domain.authority import PERMISSION_LABELS, Permission
from ui.admin_audit import AuditTab
from ui.admin_insight import InsightTab
from ui.admin_limits import LimitsTab
from ui.admin_organisation import CategoriesTab, CentresTab, TeamsTab
from ui.admin_roles import RolesTab
from ui.admin_scripts import ScriptsTab
from ui.admin_settings import SettingsTab
from ui.admin_staff import StaffTab

if TYPE_CHECKING:
    from desk.services.dto import StaffSession
    from ui.operations import Operations


@dataclass(frozen=True)
class _TabSpec:
    key: str
    title: str
    permissions: tuple[Permission, ...]  # any of them shows the tab


_TABS = (
    _TabSpec("staff", "&1 Staff", (Permission.MANAGE_STAFF,)),
    _TabSpec("roles", "&2 Roles and permissions", (Permission.MANAGE_ROLES,)),
    _TabSpec("limits", "&3 Authority limits", (Permission.MANAGE_LIMITS,)),
    _TabSpec("audit", "&4 Audit trail", (Permission.VIEW_AUDIT,)),
    _TabSpec("settings", "&5 Settings", (Permission.MANAGE_ORGANISATION, Permission.MANAGE_LIMITS)),
    _TabSpec("centres", "&6 Centres", (Permission.MANAGE_ORGANISATION,)),
    _TabSpec("teams", "&7 Teams", (Permission.MANAGE_ORGANISATION,)),
    _TabSpec("categories", "&8 Categories", (Permission.MANAGE_ORGANISATION,)),
    _TabSpec("scripts", "&9 Scripts", (Permission.MANAGE_SCRIPTS,)),
    _TabSpec("insight", "&0 Script insight", (Permission.VIEW_REPORTS, Permission.MANAGE_SCRIPTS)),
)
CONSOLE_PERMISSIONS = (
    Permission.MANAGE_STAFF,
    Permission.MANAGE_ROLES,
    Permission.MANAGE_LIMITS,
    Permission.VIEW_AUDIT,
    Permission.MANAGE_ORGANISATION,
    Permission.MANAGE_SCRIPTS,
    Permission.VIEW_REPORTS,
)


class AdminConsole(QMainWindow):
    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setObjectName("adminConsole")
        self.setWindowTitle(self.tr("Desk — Administration"))
        self.setAccessibleName(self.tr("Administration"))
        self.resize(1100, 720)
        self.tabs_by_key: dict[str, Any] = {}
        self._settings_flags: tuple[bool, bool] | None = None
        self._loading: set[str] = set()
        self._refreshing_session = False

        self.tabs = QTabWidget()
        self.tabs.setObjectName("adminTabs")
        self.tabs.setAccessibleName(self.tr("Administration sections"))
        self.tabs.setDocumentMode(True)
        self.nothing = QLabel()
        self.nothing.setObjectName("adminNoPermission")
        self.nothing.setWordWrap(True)
        self.nothing.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.nothing.setMargin(40)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.tabs)
        self.stack.addWidget(self.nothing)
        self.setCentralWidget(self.stack)

        self.busy = QProgressBar()
        self.busy.setObjectName("adminBusy")
        self.busy.setAccessibleName(self.tr("Loading"))
        self.busy.setRange(0, 0)  # no percentage: it says that work is under way
        self.busy.setMaximumWidth(160)
        self.busy.setTextVisible(False)
        self.busy_label = QLabel()
        self.busy_label.setObjectName("adminBusyLabel")
        self.statusBar().addPermanentWidget(self.busy_label)
        self.statusBar().addPermanentWidget(self.busy)
        self.busy.hide()
        self.busy_label.hide()

        self._shortcut(QKeySequence(QKeySequence.StandardKey.Find), self.focus_filter)
        self._shortcut(QKeySequence(Qt.Key.Key_F5), self.reload)
        if QKeySequence(QKeySequence.StandardKey.Refresh) != QKeySequence(Qt.Key.Key_F5):
            self._shortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self.reload)
        self._shortcut(QKeySequence(QKeySequence.StandardKey.Close), self.close)

        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(0)
        self._reload_timer.timeout.connect(self._changed_elsewhere)
        ops.changed.connect(self._reload_timer.start)

        session = ops.desk.session if ops.desk is not None else None
        self.apply_permissions(session)

    def _shortcut(self, keys: QKeySequence, slot: Callable[[], Any]) -> None:
        shortcut = QShortcut(keys, self)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(slot)

    # --- which tabs ------------------------------------------------------------------------

    def apply_permissions(self, session: StaffSession | None) -> None:
        """Show the tabs this person's role allows (building and loading new ones)."""
        held = set(session.permissions) if session is not None else set()
        for spec in _TABS:
            allowed = any(p.value in held for p in spec.permissions)
            tab = self.tabs_by_key.get(spec.key)
            if spec.key == "settings" and tab is not None and allowed:
                flags = self._settings_wanted(held)
                if flags != self._settings_flags:  # what it may change changed: build anew
                    self.tabs.removeTab(self.tabs.indexOf(tab))
                    tab.deleteLater()
                    del self.tabs_by_key[spec.key]
                    tab = None
            if allowed and tab is None:
                tab = self._build(spec.key, held)
                self.tabs_by_key[spec.key] = tab
                position = sum(1 for s in _TABS[: _TABS.index(spec)] if s.key in self.tabs_by_key)
                self.tabs.insertTab(position, tab, self.tr(spec.title))
                self._reload_tab(spec.key)
            if tab is not None:
                self.tabs.setTabVisible(self.tabs.indexOf(tab), allowed)
        if any(self.tab_visible(spec.key) for spec in _TABS):
            self.stack.setCurrentWidget(self.tabs)
        else:
            self.nothing.setText(self._nothing_text(session))
            self.nothing.setAccessibleName(self.nothing.text())
            self.stack.setCurrentWidget(self.nothing)

    def _settings_wanted(self, held: set[str]) -> tuple[bool, bool]:
        return (
            Permission.MANAGE_ORGANISATION.value in held,
            Permission.MANAGE_LIMITS.value in held,
        )

    def _nothing_text(self, session: StaffSession | None) -> str:
        needed = ", ".join(self.tr(PERMISSION_LABELS[p]).lower() for p in CONSOLE_PERMISSIONS)
        if session is None:
            return self.tr("Log in to use the administration console.")
        return self.tr(
            "Your role ({role}) has none of the permissions this console needs ({needed}), so "
            "there is nothing here for you to change. Ask an administrator if you need one."
        ).format(role=session.role_name, needed=needed)

    def _build(self, key: str, held: set[str]) -> QWidget:
        tab: (
            StaffTab
            | RolesTab
            | LimitsTab
            | AuditTab
            | SettingsTab
            | CentresTab
            | TeamsTab
            | CategoriesTab
            | ScriptsTab
            | InsightTab
        )
        if key == "centres":
            tab = CentresTab(self.ops)
        elif key == "teams":
            tab = TeamsTab(self.ops)
        elif key == "categories":
            tab = CategoriesTab(self.ops)
        elif key == "staff":
            tab = StaffTab(self.ops)
        elif key == "roles":
            tab = RolesTab(self.ops)
        elif key == "limits":
            tab = LimitsTab(self.ops)
        elif key == "audit":
            tab = AuditTab(self.ops)
        elif key == "scripts":
            tab = ScriptsTab(self.ops)
        elif key == "insight":
            tab = InsightTab(self.ops)
        else:
            self._settings_flags = self._settings_wanted(held)
            idle_lock, grant_window = self._settings_flags
            tab = SettingsTab(self.ops, idle_lock=idle_lock, grant_window=grant_window)
        tab.loadingChanged.connect(lambda loading, k=key: self._tab_loading(k, loading))
        return tab

    def tab(self, key: str) -> Any:
        """The tab's widget (StaffTab, RolesTab, LimitsTab, AuditTab, SettingsTab, CentresTab,
        TeamsTab, CategoriesTab, ScriptsTab, InsightTab) or None."""
        return self.tabs_by_key.get(key)

    def tab_visible(self, key: str) -> bool:
        tab = self.tabs_by_key.get(key)
        return tab is not None and self.tabs.isTabVisible(self.tabs.indexOf(tab))

    def show_tab(self, key: str) -> None:
        tab = self.tabs_by_key.get(key)
        if tab is not None:
            self.tabs.setCurrentWidget(tab)

    # --- loading -----------------------------------------------------------------------------

    def reload(self) -> None:
        """Read everything shown again (F5); unsaved work in the tabs is kept."""
        for spec in _TABS:
            if self.tab_visible(spec.key):
                self._reload_tab(spec.key)

    def _reload_tab(self, key: str) -> None:
        tab = self.tabs_by_key.get(key)
        if tab is not None:
            tab.reload()

    def _changed_elsewhere(self) -> None:
        """Something was saved: re-read the person's permissions, then what the tabs show."""
        if self.ops.desk is None or self.ops.desk.session is None:
            self.apply_permissions(None)
            return
        self._refreshing_session = True
        self.ops.query(
            lambda d: d.refresh_session(),
            on_success=self._session_refreshed,
            on_error=lambda _exc: self._session_refreshed(None, keep=True),
            owner=self,
            key=f"admin-console-session-{id(self)}",
        )

    def _session_refreshed(self, session: StaffSession | None, *, keep: bool = False) -> None:
        self._refreshing_session = False
        if not keep:
            self.apply_permissions(session)
        self.reload()

    def _tab_loading(self, key: str, loading: bool) -> None:
        if loading:
            self._loading.add(key)
        else:
            self._loading.discard(key)
        busy = bool(self._loading)
        self.busy.setVisible(busy)
        self.busy_label.setVisible(busy)
        self.busy_label.setText(self.tr("Loading…") if busy else "")
        self.busy_label.setAccessibleName(self.busy_label.text())

    @property
    def loading(self) -> bool:
        """A tab is reading, or a reload after a change is about to start."""
        return bool(self._loading) or self._reload_timer.isActive() or self._refreshing_session

    # --- keyboard ----------------------------------------------------------------------------

    def focus_filter(self) -> None:
        """Ctrl+F: the current tab's filter, if it has one."""
        tab = self.tabs.currentWidget()
        target = {
            StaffTab: lambda t: t.filter,
            RolesTab: lambda t: t.filter,
            AuditTab: lambda t: t.who,
            ScriptsTab: lambda t: t.filter,
        }.get(type(tab))
        if target is not None:
            field = target(tab)
            field.setFocus(Qt.FocusReason.ShortcutFocusReason)
            field.selectAll()
