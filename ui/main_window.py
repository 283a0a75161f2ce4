"""The main window: the case list, the case form with its timeline, menus and the status bar."""

from __future__ import annotations

import datetime as dt
import html
import weakref
from collections.abc import Callable

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desk import config
from desk.drafts import Draft, DraftStore, database_key
from desk.services.dto import CaseView, ReferenceData, StaffSession
from ui.case_form import CaseForm
from ui.case_list import CaseListWidget
from ui.labels import label, local_time
from ui.operations import Operations
from ui.script_panel import ScriptPanel
from ui.timeline import TimelineWidget


class MainWindow(QMainWindow):
    """Shown after login. Reference data is loaded first (off-thread), then the screens."""

    logoutRequested = Signal()
    quitRequested = Signal()
    ready = Signal()

    def __init__(
        self,
        ops: Operations,
        *,
        database_url: str = "",
        drafts: DraftStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.database_url = database_url
        # Drafts belong to one database: its URL without the password, hashed.
        self.database_key = database_key(database_url)
        self.drafts = drafts if drafts is not None else DraftStore(config.drafts_dir())
        self.setObjectName("mainWindow")
        self.setWindowTitle(self.tr("Desk"))
        self.resize(1280, 860)
        self.form: CaseForm | None = None
        self.case_list: CaseListWidget | None = None
        self.reference: ReferenceData | None = None
        self.session: StaffSession | None = ops.desk.session if ops.desk else None
        self._for_logout = False
        self._offer_drafts_when_ready = False

        loading = QLabel(self.tr("Loading…"))
        loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCentralWidget(loading)

        self.who = QLabel()
        self.who.setObjectName("statusWho")
        self.where = QLabel()
        self.where.setObjectName("statusDatabase")
        self.busy = QLabel()
        self.busy.setObjectName("statusBusy")
        self.busy.setMinimumWidth(150)
        bar = self.statusBar()
        bar.addPermanentWidget(self.busy)
        bar.addPermanentWidget(self.who)
        bar.addPermanentWidget(self.where)
        ops.busyChanged.connect(self._busy_changed)
        self._update_status_labels()
        self._build_menus()

        ops.query(
            lambda d: d.reference_data(),
            on_success=self._build_screens,
            owner=self,
            label=self.tr("Loading lists…"),
        )

    # --- menus ---------------------------------------------------------------------------

    def _action(
        self,
        text: str,
        name: str,
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None,
        slot: Callable[[], object],
    ) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        keys = QKeySequence.StandardKey
        self.new_action = self._action(
            self.tr("&New case"), "newCaseAction", keys.New, self.new_case
        )
        self.save_action = self._action(self.tr("&Save"), "saveAction", keys.Save, self.save)
        self.find_action = self._action(
            self.tr("&Find cases"), "findAction", keys.Find, self.find_cases
        )
        self.print_action = self._action(
            self.tr("&Print slip…"), "printSlipAction", keys.Print, self.print_slip
        )
        self.pdf_action = self._action(
            self.tr("Save slip as P&DF…"), "pdfSlipAction", None, self.save_slip_pdf
        )
        self.list_action = self._action(
            self.tr("Case &list"), "caseListAction", "Ctrl+L", self.show_list
        )
        self.logout_action = self._action(
            self.tr("&Log out"), "logoutAction", None, self.logoutRequested.emit
        )
        self.quit_action = self._action(self.tr("&Quit"), "quitAction", keys.Quit, self.close)
        if self.quit_action.shortcut().isEmpty():
            self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        for action in (self.new_action, self.save_action, self.find_action, self.list_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.print_action)
        file_menu.addAction(self.pdf_action)
        file_menu.addSeparator()
        file_menu.addAction(self.logout_action)
        file_menu.addAction(self.quit_action)
        self._build_view_menu()
        self._build_help_menu()
        for action in (self.new_action, self.save_action, self.find_action, self.print_action):
            action.setEnabled(False)

    def _build_view_menu(self) -> None:
        """The guided script panel, docked beside the case form, and the safety alert key."""
        self.script_panel = ScriptPanel(
            self.ops, officer_name=self.session.full_name if self.session else ""
        )
        # Weakly: a reference cycle window → panel → window would keep the window's wrapper
        # alive after Qt deleted it (automatic garbage collection is off, see operations.py).
        context = weakref.WeakMethod(self._script_context)
        self.script_panel.context = lambda: (context() or dict)()
        self.script_dock = QDockWidget(self.tr("Guided script"), self)
        self.script_dock.setObjectName("scriptDock")
        self.script_dock.setAccessibleName(self.tr("Guided script panel"))
        self.script_dock.setWidget(self.script_panel)
        self.script_dock.setMinimumWidth(300)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.script_dock)
        self.script_panel_action = self._action(
            self.tr("Guided &script panel"),
            "scriptPanelAction",
            "Ctrl+Shift+G",
            self.toggle_script_panel,
        )
        self.script_panel_action.setCheckable(True)
        self.script_panel_action.setChecked(True)
        self.script_dock.visibilityChanged.connect(self._script_dock_visibility)
        self.safety_alert_action = self._action(
            self.tr("Safety &alert"), "safetyAlertAction", "Ctrl+Shift+A", self.safety_alert
        )
        # A floating panel is a window of its own: the alert key must work there too.
        self.script_dock.addAction(self.safety_alert_action)
        self.script_panel.safetyAlertRaised.connect(self._safety_alert_raised)
        self.script_panel.actionRequested.connect(self._script_action)
        view_menu = self.menuBar().addMenu(self.tr("&View"))
        view_menu.setObjectName("viewMenu")
        view_menu.addAction(self.script_panel_action)
        view_menu.addAction(self.safety_alert_action)

    def _script_dock_visibility(self, visible: bool) -> None:
        # visibilityChanged also reports a dock tabbed behind another; the action follows the
        # dock's own state.
        self.script_panel_action.setChecked(not self.script_dock.isHidden())

    def toggle_script_panel(self) -> None:
        """Ctrl+Shift+G: show the panel and go into it; from inside it, hide it again."""
        focus = QApplication.focusWidget()
        inside = focus is not None and self.script_dock.isAncestorOf(focus)
        self.show_script_panel(self.script_dock.isHidden() or not inside)

    def show_script_panel(self, show: bool = True) -> None:
        """Show the panel with the keyboard in it, or hide it and go back to the case form."""
        if show:
            self.script_dock.show()
            self.script_dock.raise_()
            self.script_panel.focus_step()
        else:
            self.script_dock.hide()
            if self.form is not None:
                self.form.customer_words.setFocus()
        self.script_panel_action.setChecked(show)

    def safety_alert(self) -> None:
        if self.script_dock.isHidden():
            self.script_dock.show()
        self.script_panel.raise_safety_alert()

    def _script_context(self) -> dict[str, str]:
        form = self.form
        if form is None:
            return {}
        return {
            "customer_name": form.customer.full_name if form.customer else "",
            "case_ref": form.view.reference if form.view else "",
        }

    def _safety_alert_raised(self, _when: object) -> None:
        self.statusBar().showMessage(
            self.tr("Safety alert raised: get your supervisor or security now."), 15000
        )

    def _script_action(self, action: str, text: str) -> None:
        self.statusBar().showMessage(
            self.tr("From the script: {what} Complete it in the case form.").format(what=text),
            15000,
        )

    def _build_help_menu(self) -> None:
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        help_menu.setObjectName("helpMenu")
        self.shortcuts_action = self._action(
            self.tr("&Keyboard shortcuts"),
            "shortcutsAction",
            QKeySequence.StandardKey.HelpContents,
            self.show_shortcuts,
        )
        self.log_folder_action = self._action(
            self.tr("Open the &log folder"), "logFolderAction", None, self.open_log_folder
        )
        self.about_action = self._action(self.tr("&About Desk"), "aboutAction", None, self.about)
        for action in (self.shortcuts_action, self.log_folder_action, self.about_action):
            help_menu.addAction(action)

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(action, keys) for every menu action that has a shortcut, as the user sees them."""
        rows = []
        for action in self.actions():
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys:
                rows.append((action.text().replace("&", "").rstrip("…"), keys))
        rows.append((self.tr("Next field / previous field"), "Tab / Shift+Tab"))
        rows.append((self.tr("Jump to a labelled field"), self.tr("Alt + underlined letter")))
        return rows

    def show_shortcuts(self) -> None:
        rows = "".join(
            f"<tr><td>{html.escape(name)}</td><td><b>{html.escape(keys)}</b></td></tr>"
            for name, keys in self.shortcut_rows()
        )
        box = QMessageBox(self)
        box.setObjectName("shortcutsDialog")
        box.setWindowTitle(self.tr("Keyboard shortcuts"))
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(f"<table cellspacing='6'>{rows}</table>")
        box.open()

    def open_log_folder(self) -> None:
        folder = config.log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def about(self) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            desk_version = version("desk")
        except PackageNotFoundError:
            desk_version = "development"
        QMessageBox.about(
            self,
            self.tr("About Desk"),
            self.tr(
                "Desk {version}\nA service desk for walk-in public-service centres.\n\nLogs: {logs}"
            ).format(version=desk_version, logs=config.log_dir()),
        )

    # --- screens -------------------------------------------------------------------------

    def _build_screens(self, reference: ReferenceData) -> None:
        self.reference = reference
        self.session = self.ops.desk.session if self.ops.desk else self.session
        self.case_list = CaseListWidget(self.ops, reference)
        self.form = CaseForm(
            self.ops,
            reference,
            self.session,
            drafts=self.drafts,
            database_key=self.database_key,
        )
        self.timeline = TimelineWidget()
        self.timeline_title = QLabel(self.tr("Timeline"))
        self.timeline_title.setProperty("role", "hint")
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.timeline_title)
        side_layout.addWidget(self.timeline, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("caseSplitter")
        self.splitter.addWidget(self.form)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([800, 460])
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.tabs.addTab(self.splitter, self.tr("&Case"))
        self.tabs.addTab(self.case_list, self.tr("Case &list"))
        self.setCentralWidget(self.tabs)

        self.case_list.openRequested.connect(self.open_case)
        self.form.caseShown.connect(self._case_shown)
        self.form.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.script_panel.insertPhrase.connect(self.form.append_to_understanding)
        self.form.caseShown.connect(self.script_panel.refresh)
        self.case_list.model.set_query(self.case_list.current_query())
        for action in (self.new_action, self.save_action, self.find_action, self.print_action):
            action.setEnabled(True)
        self.form.customer_search.setFocus()
        self.ready.emit()
        if self._offer_drafts_when_ready:
            self.offer_draft_recovery()

    def _case_shown(self, view: CaseView | None) -> None:
        if view is None:
            self.timeline.clear()
            self.timeline_title.setText(self.tr("Timeline (the case is not saved yet)"))
            self.setWindowTitle(self.tr("Desk — new case"))
        else:
            self.timeline.show_entries(view.timeline)
            self.timeline_title.setText(
                self.tr("Timeline of {reference} · {status}").format(
                    reference=view.reference, status=label(view.status)
                )
            )
            self.setWindowTitle(self.tr("Desk — {reference}").format(reference=view.reference))

    def _update_status_labels(self) -> None:
        session = self.session
        if session is not None:
            self.who.setText(
                self.tr("{name} ({role}, {centre})").format(
                    name=session.full_name, role=session.role_name, centre=session.centre_name
                )
            )
        desk = self.ops.desk
        if desk is not None:
            kind = self.tr("SQLite") if desk.backend == "sqlite" else self.tr("Server")
            self.where.setText(f"{kind}: {desk.display_url}")

    def _busy_changed(self, busy: bool) -> None:
        if busy:
            self.busy.setText(self.ops.current_label or self.tr("Working…"))
        else:
            self.busy.clear()
        self._update_status_labels()

    # --- actions -------------------------------------------------------------------------

    def new_case(self) -> None:
        if self.form is None:
            return
        self.tabs.setCurrentIndex(0)
        self.form.request_new_case()

    def save(self) -> None:
        if self.form is not None:
            self.tabs.setCurrentIndex(0)
            self.form.save()

    def find_cases(self) -> None:
        if self.case_list is None:
            return
        self.tabs.setCurrentWidget(self.case_list)
        self.case_list.focus_search()

    def show_list(self) -> None:
        if self.case_list is not None:
            self.tabs.setCurrentWidget(self.case_list)
            self.case_list.table.setFocus()

    def print_slip(self) -> None:
        if self.form is not None:
            self.form.print_slip()

    def save_slip_pdf(self) -> None:
        if self.form is not None:
            self.form.save_slip_pdf()

    def open_case(self, case_id: int) -> None:
        if self.form is None:
            return
        if self.form.is_dirty:
            self.form.save_draft()
            self.statusBar().showMessage(self.tr("The unsaved case was kept as a draft."), 8000)
        self.tabs.setCurrentIndex(0)
        self.form.open_case(case_id)
        self.form.customer_words.setFocus()

    # --- drafts --------------------------------------------------------------------------

    def offer_draft_recovery(self) -> None:
        """After login: offer to put back what was typed but never saved."""
        if self.form is None:
            self._offer_drafts_when_ready = True
            return
        self._offer_drafts_when_ready = False
        # Only this database's drafts, and only this officer's: ids mean nothing elsewhere.
        drafts = self.drafts.load_for(database=self.database_key, username=self.form.username)
        if not drafts:
            return
        self.ask_restore(drafts[0], remaining=len(drafts) - 1)

    def ask_restore(self, draft: Draft, *, remaining: int = 0) -> QMessageBox:
        box = QMessageBox(self)
        box.setObjectName("restoreDraftMessage")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Unsaved case"))
        what = draft.data.get("reference") or self.tr("a new case")
        customer = (draft.data.get("customer") or {}).get("full_name", "")
        text = self.tr("Restore unsaved case from {time}?").format(
            time=local_time(draft.saved_at.astimezone(dt.UTC))
        )
        details = self.tr("It was {what}").format(what=what)
        if customer:
            details += self.tr(" for {customer}").format(customer=customer)
        if remaining:
            details += self.tr(" ({n} more drafts are kept)").format(n=remaining)
        box.setText(text)
        box.setInformativeText(details + ".")
        restore = box.addButton(self.tr("&Restore"), QMessageBox.ButtonRole.AcceptRole)
        restore.setObjectName("restoreButton")
        discard = box.addButton(self.tr("&Discard"), QMessageBox.ButtonRole.DestructiveRole)
        discard.setObjectName("discardButton")
        later = box.addButton(self.tr("&Later"), QMessageBox.ButtonRole.RejectRole)
        later.setObjectName("laterButton")
        box.setDefaultButton(restore)

        def done() -> None:
            clicked = box.clickedButton()
            if clicked is restore and self.form is not None:
                self.tabs.setCurrentIndex(0)
                self.form.restore_state(draft.data, draft_id=draft.draft_id)
            elif clicked is discard:
                self.drafts.discard(draft.draft_id)

        box.finished.connect(lambda _r: done())
        box.open()
        return box

    # --- closing -------------------------------------------------------------------------

    def close_for_logout(self) -> None:
        self._for_logout = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.form is not None:
            if self.form.is_dirty:
                self.form.save_draft()
            self.form.stop_autosave()
        event.accept()
        if not self._for_logout:
            self.quitRequested.emit()
