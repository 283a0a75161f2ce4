"""The main window: the case list, the case form with its timeline, menus and the status bar."""

from __future__ import annotations

import datetime as dt
import html
import uuid
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QLocale, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desk import config
from desk.drafts import Draft, DraftStore, database_key
from desk.services.dto import CaseView, ReferenceData, StaffSession
from ui.case_form import CaseForm
from ui.case_list import CaseListWidget
from ui.idle_lock import IdleWatcher
from ui.inbox import InboxWidget
from ui.inbox_sent import SentForDecisionWidget
from ui.items_inbox import ItemsInboxWidget
from ui.items_sent import ItemsSentWidget
from ui.labels import label, local_time
from ui.lock_screen import LockScreen, UnlockDialog, WindowCovers
from ui.notifier import INBOX, SAFETY, Notifier, desk_icon
from ui.offline_status import OfflineStatus
from ui.operations import Operations, bug_message, is_user_error
from ui.recognition import RecognitionBanner
from ui.safety_banner import SafetyBanner
from ui.script_panel import ScriptPanel
from ui.timeline import TimelineWidget

if TYPE_CHECKING:
    from desk.services.safety_alerts import SafetyAlertView


# An alert the database did not take is sent again this often, until it is.
ALERT_RETRY_MS = 5000
# News of cases arriving within this long (a save writes the case and its timeline) is read once.
CASE_NEWS_MS = 300


class _NewsBridge(QObject):
    """Carries news from the listener's thread to the window's (a queued signal)."""

    arrived = Signal(str, object)  # the channel (desk.adapters.notifications), its payload


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
        self.setWindowIcon(desk_icon())
        self.resize(1280, 860)
        self.form: CaseForm | None = None
        self.case_list: CaseListWidget | None = None
        self.reference: ReferenceData | None = None
        self.session: StaffSession | None = ops.desk.session if ops.desk else None
        self._for_logout = False
        self._offer_drafts_when_ready = False
        self._locked = False
        self.inbox: InboxWidget | None = None  # for roles that decide approvals
        self.sent: SentForDecisionWidget | None = None
        # Tells a decider whose window is not in front what arrived (made with the inbox).
        self.notifier: Notifier | None = None
        self.offline_status: OfflineStatus | None = None
        self.items_inbox: ItemsInboxWidget | None = None  # reviews, replies, compliments
        self.items_sent: ItemsSentWidget | None = None
        self._approvals_waiting = 0
        self._items_waiting = 0

        loading = QLabel(self.tr("Loading…"))
        loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # The central pages: "loading", then the screens; the lock screen while locked.
        self.pages = QStackedWidget()
        self.pages.setObjectName("mainPages")
        self.pages.addWidget(loading)
        # A safety alert for a supervisor shows above every screen.
        self.safety_banner = SafetyBanner(ops)
        self.safety_banner.openCaseRequested.connect(self.open_case)
        self.safety_banner.alertsArrived.connect(self._safety_alerts_arrived)
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        central_layout.addWidget(self.safety_banner)
        self.recognition_banner = RecognitionBanner(ops)
        central_layout.addWidget(self.recognition_banner)
        central_layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        self._alerts_unsent: dict[uuid.UUID, dict[str, Any]] = {}
        self._my_alerts: dict[int, SafetyAlertView] = {}  # raised here, by id

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
        self._build_lock()

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
        self.lock_action = self._action(
            self.tr("Loc&k now"), "lockAction", "Ctrl+Shift+L", self.lock_now
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
        # Beside the case's other actions: every free Alt+letter of the window is taken by the
        # form's fields and the script panel, so these get no menu of their own.
        self._build_case_actions()
        file_menu.addSeparator()
        file_menu.addAction(self.grant_action)
        file_menu.addAction(self.review_action)
        file_menu.addAction(self.reply_action)
        file_menu.addAction(self.compliment_action)
        file_menu.addSeparator()
        file_menu.addAction(self.inbox_action)
        file_menu.addAction(self.items_action)
        file_menu.addAction(self.sent_action)
        file_menu.addAction(self.leave_action)
        file_menu.addAction(self.admin_action)
        file_menu.addSeparator()
        file_menu.addAction(self.lock_action)
        file_menu.addAction(self.logout_action)
        file_menu.addAction(self.quit_action)
        self._build_view_menu()
        self._build_help_menu()
        for action in (
            self.new_action,
            self.save_action,
            self.find_action,
            self.print_action,
            self.grant_action,
            self.review_action,
            self.reply_action,
            self.compliment_action,
        ):
            action.setEnabled(False)

    def _build_view_menu(self) -> None:
        """The guided script panel, docked beside the case form, and the safety alert key."""
        self.script_panel = ScriptPanel(
            self.ops,
            officer_name=self.session.full_name if self.session else "",
            language=(self.session.language if self.session else "") or None,
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

    def _safety_alert_raised(self, when: dt.datetime) -> None:
        """Send the alert to the centre's supervisors; retried (same UUID, so never twice) until
        the database takes it."""
        self.statusBar().showMessage(
            self.tr("Safety alert raised: your supervisors are being told. Stay out of reach."),
            15000,
        )
        form, run = self.form, self.script_panel.run
        alert = {
            "alert_uuid": uuid.uuid4(),
            "raised_at": when,
            "case_id": form.view.id if form is not None and form.view is not None else None,
            "case_reference": form.view.reference if form is not None and form.view else "",
            "script_id": run.script_id if run is not None else None,
            "step_id": run.step.id if run is not None else None,
        }
        self._alerts_unsent[alert["alert_uuid"]] = alert
        self._send_alert(alert["alert_uuid"])

    def _send_alert(self, alert_uuid: uuid.UUID) -> None:
        alert = self._alerts_unsent.get(alert_uuid)
        if alert is None or self.ops.desk is None or self.ops.desk.session is None:
            return
        self.ops.write(
            lambda d: d.safety.raise_alert(**alert),
            on_success=lambda view: self._alert_sent(alert_uuid, view),
            on_error=lambda exc: self._alert_failed(alert_uuid, exc),
            owner=self,
            label=self.tr("Sending the safety alert…"),
        )

    def _alert_sent(self, alert_uuid: uuid.UUID, view: SafetyAlertView) -> None:
        self._alerts_unsent.pop(alert_uuid, None)
        self._my_alerts[view.id] = view
        self.script_panel.alert_delivered()

    def _alert_failed(self, alert_uuid: uuid.UUID, exc: BaseException) -> None:
        reason = str(exc) if is_user_error(exc) else self.tr("an error, logged")
        self.script_panel.alert_not_delivered(reason)
        QTimer.singleShot(ALERT_RETRY_MS, self, lambda: self._send_alert(alert_uuid))

    def _check_my_alerts(self) -> None:
        """Tell the officer when a supervisor acknowledged their alert."""
        waiting = [i for i, v in self._my_alerts.items() if v.acknowledged_at is None]
        if not waiting:
            return
        self.ops.query(
            lambda d: d.safety.alerts(waiting),
            on_success=self._my_alerts_read,
            owner=self,
            key="my-safety-alerts",
        )

    def _my_alerts_read(self, views: list[SafetyAlertView]) -> None:
        for view in views:
            before = self._my_alerts.get(view.id)
            self._my_alerts[view.id] = view
            if view.acknowledged_at is not None and before and before.acknowledged_at is None:
                self.script_panel.alert_acknowledged(view.acknowledged_by)
                self.statusBar().showMessage(
                    self.tr("{name} acknowledged your safety alert.").format(
                        name=view.acknowledged_by
                    ),
                    15000,
                )

    def _script_action(self, action: str, text: str) -> None:
        """An action step of the guided script opens what it names, prefilled."""
        from desk.domain.scripts import ActionKind

        form = self.form
        if action == ActionKind.APPROVAL_REQUEST.value:
            self.grant()
            return
        if action == ActionKind.ESCALATION.value and form is not None and form.view is not None:
            self.raise_item("review", prefill=text)
            return
        if action == ActionKind.REFERRAL.value and form is not None:
            form.prepare_referral(text)
            self.statusBar().showMessage(
                self.tr("From the script: choose the team, then save the case."), 15000
            )
            return
        self.statusBar().showMessage(
            self.tr("From the script: {what} Complete it in the case form.").format(what=text),
            15000,
        )

    def _share_case_with_script_panel(self) -> None:
        """One mood, the case's: the form's and the panel's lists mirror each other. The panel
        keeps the case's runs (the form saves them with the case) and the timeline tells them."""
        form, panel = self.form, self.script_panel
        assert form is not None
        form.run_source = panel
        form.moodChanged.connect(panel.set_mood)
        panel.moodChosen.connect(form.set_mood)
        form.caseShown.connect(self._script_case_shown)
        panel.runsChanged.connect(form.runs_changed)
        panel.runsStored.connect(form.update_runs)
        form.runsUpdated.connect(self.timeline.show_case)
        panel.libraryLoaded.connect(self.timeline.set_library)
        self.timeline.set_library(panel.library)
        self._script_case_shown(form.view)

    def _script_case_shown(self, view: CaseView | None) -> None:
        form = self.form
        if form is not None:
            self.script_panel.set_case(
                form.case_key, view.id if view is not None else None, form.current_mood()
            )

    def _build_case_actions(self) -> None:
        """What the officer may grant or must ask for, and (for admins) the admin console."""
        self.grant_action = self._action(
            self.tr("&Waiver, claim or refund…"), "grantAction", "Ctrl+Shift+W", self.grant
        )
        self.admin_action = self._action(
            self.tr("&Admin console…"), "adminConsoleAction", "Ctrl+Shift+M", self.open_admin
        )
        self.admin_console: QWidget | None = None
        self.inbox_action = self._action(
            self.tr("&Decisions waiting for me"), "inboxAction", "Ctrl+Shift+D", self.show_inbox
        )
        self.sent_action = self._action(
            self.tr("Sent for d&ecision"), "sentAction", "Ctrl+Shift+E", self.show_sent
        )
        self.inbox_action.setEnabled(False)
        self.sent_action.setEnabled(False)
        self.leave_action = self._action(
            self.tr("My lea&ve…"), "myLeaveAction", None, self.my_leave
        )
        self.items_action = self._action(
            self.tr("Re&views, replies and compliments"),
            "itemsInboxAction",
            "Ctrl+Shift+V",
            self.show_items,
        )
        self.items_action.setEnabled(False)
        self.items_action.setVisible(False)
        self.review_action = self._action(
            self.tr("Ask for a supervisor's &review…"),
            "askReviewAction",
            "Ctrl+Shift+R",
            lambda: self.raise_item("review"),
        )
        self.reply_action = self._action(
            self.tr("Send a reply for vetting…"),
            "replyVettingAction",
            "Ctrl+Shift+Y",
            lambda: self.raise_item("reply"),
        )
        self.compliment_action = self._action(
            self.tr("Record a c&ompliment about staff…"),
            "complimentAction",
            "Ctrl+Shift+O",
            lambda: self.raise_item("compliment"),
        )
        self._show_admin_for(self.session)

    def _show_admin_for(self, session: StaffSession | None) -> None:
        """The console is offered to people whose role may configure something."""
        from desk.domain.authority import Permission
        from ui.admin_console import CONSOLE_PERMISSIONS as admin

        allowed = session is not None and any(session.can(p) for p in admin)
        self.admin_action.setVisible(allowed)
        self.admin_action.setEnabled(allowed and not self._locked)
        decides = session is not None and session.can(Permission.DECIDE_APPROVALS)
        self.leave_action.setVisible(decides)
        self.leave_action.setEnabled(decides and not self._locked)

    def my_leave(self) -> None:
        """File → My leave…: a decider's days away and the deputy who decides meanwhile."""
        from ui.leave_dialog import LeaveDialog

        dialog = LeaveDialog(self.ops, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(
            lambda info: self.statusBar().showMessage(
                self.tr("Your leave is saved; your deputy sees what waits for you meanwhile.")
                if getattr(info, "away_from", None)
                else self.tr("No leave is set: what waits for you comes to you."),
                10000,
            )
        )
        dialog.open()

    def grant(self) -> None:
        """Ctrl+Shift+W: grant at the counter within the officer's limit, or ask who can."""
        from ui.grant_dialog import GrantDialog

        form = self.form
        if form is None or self.reference is None:
            return
        if form.view is None:
            self.statusBar().showMessage(
                self.tr("Save the case first: a waiver or claim belongs to a saved case."), 8000
            )
            return
        dialog = GrantDialog(self.ops, form.view.id, self.reference.currency, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.done.connect(self._granted)
        dialog.open()

    def raise_item(self, kind: str, prefill: str = "") -> None:
        """Ctrl+Shift+R / Y / O: a review request, a reply to vet, a compliment about staff, on
        the case on show (saved first)."""
        from ui.item_dialogs import ComplimentDialog, ReplyVettingDialog, ReviewRequestDialog

        form = self.form
        if form is None:
            return
        if form.view is None:
            self.statusBar().showMessage(
                self.tr("Save the case first: this belongs to a saved case."), 8000
            )
            return
        dialog_class = {
            "review": ReviewRequestDialog,
            "reply": ReplyVettingDialog,
            "compliment": ComplimentDialog,
        }[kind]
        dialog = dialog_class(self.ops, form.view.id, form.view.reference, self, prefill=prefill)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.done.connect(self._item_raised)
        dialog.open()
        self._item_dialog = dialog

    def _item_raised(self, view: object) -> None:
        to = getattr(view, "assigned_to", "") or self.tr("the centre's supervisors")
        self.statusBar().showMessage(self.tr("Sent to {who}.").format(who=to), 8000)
        case_id = getattr(view, "case_id", None)
        if self.form is not None and case_id is not None:
            self.form.open_case(case_id)

    def _granted(self, view: object) -> None:
        status = getattr(view, "status", "")
        if status == "granted":
            self.statusBar().showMessage(self.tr("Granted and recorded on the case."), 8000)
        else:
            to = getattr(view, "assigned_to", None) or self.tr("the supervisors")
            self.statusBar().showMessage(
                self.tr("Sent for a decision to {who}.").format(who=to), 8000
            )
        if self.form is not None and self.form.view is not None:
            self.form.open_case(self.form.view.id)

    def open_admin(self) -> None:
        from ui.admin_console import AdminConsole

        if self.admin_console is None or not shiboken6.isValid(self.admin_console):
            console = AdminConsole(self.ops, self)
            console.setWindowFlag(Qt.WindowType.Window, True)
            console.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.admin_console = console
        self.admin_console.show()
        self.admin_console.raise_()
        self.admin_console.activateWindow()

    # --- news from elsewhere -------------------------------------------------------------

    def _start_listening(self) -> None:
        """Requests, cases and configuration changed by others reach this window within
        moments."""
        from desk.adapters.notifications import Listener

        desk = self.ops.desk
        if desk is None or desk.session is None:
            return
        # Case news comes in bursts (a save writes the case and its timeline): read once.
        self._cases_changed: set[int] = set()
        self._cases_resync = False
        self._case_news_timer = QTimer(self)
        self._case_news_timer.setSingleShot(True)
        self._case_news_timer.setInterval(CASE_NEWS_MS)
        self._case_news_timer.timeout.connect(self._read_case_news)
        bridge = _NewsBridge(self)
        bridge.arrived.connect(self._news)
        listener = Listener(
            desk.engine,
            lambda note: (
                bridge.arrived.emit(note.channel, note.payload)
                if shiboken6.isValid(bridge)
                else None
            ),
        )
        self._listener: Listener | None = listener.start()
        # However the window goes (closed, deleted with its parent), the listening stops.
        self.destroyed.connect(lambda *_: listener.stop(timeout=2.0))

    def _news(self, channel: str, payload: dict[str, Any] | None = None) -> None:
        from desk.adapters.notifications import CASES, CONFIGURATION, SAFETY, SCRIPTS

        if self.ops.desk is None or self.ops.desk.session is None:
            return  # logged out or closing: the news is for nobody
        if channel == CASES:
            self._case_news(payload or {})
        elif channel == CONFIGURATION:
            self.ops.query(
                lambda d: d.refresh_session(), on_success=self._session_refreshed, owner=self
            )
        elif channel == SCRIPTS:
            self.script_panel.reload_library()
        elif channel == SAFETY:
            self.safety_banner.refresh()
            self._check_my_alerts()
        else:
            self.ops.changed.emit()

    def _case_news(self, payload: dict[str, Any]) -> None:
        """A case was saved or added to elsewhere (or, after a lost connection, anything may
        have been): gathered for a moment, then read once."""
        case_id = payload.get("case")
        if isinstance(case_id, int):
            self._cases_changed.add(case_id)
        else:  # {"resync": True}, or news that does not say which case
            self._cases_resync = True
        if not self._case_news_timer.isActive():
            self._case_news_timer.start()

    def _read_case_news(self) -> None:
        changed, self._cases_changed = self._cases_changed, set()
        everything, self._cases_resync = self._cases_resync, False
        if self.ops.desk is None or self.ops.desk.session is None:
            return
        if self.case_list is not None:
            self.case_list.model.reload()  # the selection and the scroll position stay
        form = self.form
        if form is None or form.view is None:
            return
        case_id = form.view.id
        if not everything and case_id not in changed:
            return
        self.ops.query(
            lambda d: d.cases.get(case_id),
            on_success=self._open_case_read,
            on_error=lambda exc: None,  # gone or out of sight: the form keeps what it shows
            owner=self,
            key="case-news-open-case",
        )

    def _open_case_read(self, view: CaseView) -> None:
        """The stored case behind the form, read after news of it: show it when the form has
        nothing unsaved; otherwise leave the edits alone and say the case changed elsewhere."""
        form = self.form
        if form is None or form.view is None or form.view.id != view.id:
            return  # the officer moved on meanwhile
        if form.is_saving:  # the news may be this save's own: look again once it is done
            self._cases_changed.add(view.id)
            self._case_news_timer.start()
            return
        base = form.base_version if form.base_version is not None else form.view.version
        newer = view.version > base
        shown = {entry.id for entry in form.view.timeline}
        added = any(entry.id not in shown for entry in view.timeline)
        if not newer and not added:
            return  # nothing this form does not show (often our own save)
        who = view.timeline[0].actor_name if view.timeline else ""
        if form.is_dirty:
            # The fields stay as typed; the timeline beside them shows what is stored.
            self.timeline.show_case(view)
            if newer:
                form.changed_elsewhere(view)
                self.statusBar().showMessage(
                    self.tr("{reference} was changed elsewhere; your changes are kept.").format(
                        reference=view.reference
                    ),
                    10000,
                )
            return
        form.show_case(view)
        if who and newer:
            text = self.tr("Updated: {who} changed this case.").format(who=who)
        elif who:
            text = self.tr("Updated: {who} added to this case.").format(who=who)
        else:
            text = self.tr("This case was changed elsewhere; it shows the newest version.")
        self.statusBar().showMessage(text, 10000)

    def _session_refreshed(self, session: StaffSession | None) -> None:
        if session is None or session == self.session:
            return
        language_changed = session.language != (self.session.language if self.session else "")
        self.session = session
        self._update_status_labels()
        self._show_admin_for(session)
        if language_changed:
            self.script_panel.set_language(session.language or QLocale().name())
        self.ops.changed.emit()

    def _stop_listening(self) -> None:
        listener = getattr(self, "_listener", None)
        if listener is not None:
            listener.stop()
            self._listener = None

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
        self.offline_status = OfflineStatus(self.ops, self.statusBar(), self)
        self.offline_status.sent.connect(self._offline_sent)
        self.offline_status.problemsFound.connect(self._offline_problems)
        self.offline_status.openCase.connect(self.open_case)
        self.offline_status.reported.connect(lambda text: self.statusBar().showMessage(text, 30000))
        self.offline_status.report_opening()
        self.offline_status.check()
        self.offline_status.refresh_cache()
        self.tabs.addTab(self.splitter, self.tr("&Case"))
        self.tabs.addTab(self.case_list, self.tr("Case &list"))
        self._build_decision_tabs(reference)
        self.pages.addWidget(self.tabs)
        if not self._locked:
            self.pages.setCurrentWidget(self.tabs)

        self.case_list.openRequested.connect(self.open_case)
        self.form.caseShown.connect(self._case_shown)
        self.form.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.script_panel.insertPhrase.connect(self.form.append_to_understanding)
        self.form.caseShown.connect(self.script_panel.refresh)
        self._share_case_with_script_panel()
        self.case_list.model.set_query(self.case_list.current_query())
        for action in (
            self.new_action,
            self.save_action,
            self.find_action,
            self.print_action,
            self.grant_action,
            self.review_action,
            self.reply_action,
            self.compliment_action,
        ):
            action.setEnabled(True)
        self._start_listening()
        self.safety_banner.refresh()
        self.recognition_banner.refresh()
        if self._locked:  # locked while the lists were loading: the screens wait behind the lock
            self._keep_screens_locked()
        else:
            self.form.customer_search.setFocus()
        self.ready.emit()
        if self._offer_drafts_when_ready:
            self.offer_draft_recovery()

    def _build_decision_tabs(self, reference: ReferenceData) -> None:
        """Supervisors' decisions waiting for them; everyone's requests sent for a decision."""
        from desk.domain.authority import Permission

        session = self.session
        if session is not None and session.can(Permission.DECIDE_APPROVALS):
            self.inbox = InboxWidget(self.ops, reference.currency)
            self.inbox.openCaseRequested.connect(self.open_case)
            self.inbox.countsChanged.connect(self._inbox_counts)
            self.inbox.set_library(self.script_panel.library)
            self.script_panel.libraryLoaded.connect(self.inbox.set_library)
            self.tabs.addTab(self.inbox, self.tr("Decisions"))
            self.notifier = Notifier(self)
            self.notifier.shown.connect(self._shown_from_tray)
        if session is not None and (
            session.can(Permission.DECIDE_APPROVALS) or session.can(Permission.VET_REPLIES)
        ):
            self.items_inbox = ItemsInboxWidget(self.ops)
            self.items_inbox.openCaseRequested.connect(self.open_case)
            self.items_inbox.countsChanged.connect(self._items_counts)
            self.tabs.addTab(self.items_inbox, self.tr("Reviews"))
        self.sent = SentForDecisionWidget(self.ops, reference.currency)
        self.sent.openCaseRequested.connect(self.open_case)
        self.tabs.addTab(self.sent, self.tr("Sent for decision"))
        self.items_sent = ItemsSentWidget(self.ops)
        self.items_sent.openCaseRequested.connect(self.open_case)
        self.tabs.addTab(self.items_sent, self.tr("My raised items"))
        self.inbox_action.setEnabled(self.inbox is not None)
        self.inbox_action.setVisible(self.inbox is not None)
        self.items_action.setEnabled(self.items_inbox is not None)
        self.items_action.setVisible(self.items_inbox is not None)
        self.sent_action.setEnabled(True)

    def _inbox_counts(self, waiting: int, overdue: int) -> None:
        if self.inbox is None:
            return
        index = self.tabs.indexOf(self.inbox)
        text = self.tr("Decisions ({n})").format(n=waiting) if waiting else self.tr("Decisions")
        if overdue:
            text += " " + self.tr("· {n} overdue").format(n=overdue)
        self.tabs.setTabText(index, text)
        self._count_for_notifier(waiting)

    def _items_counts(self, waiting: int) -> None:
        if self.items_inbox is None:
            return
        index = self.tabs.indexOf(self.items_inbox)
        self.tabs.setTabText(
            index, self.tr("Reviews ({n})").format(n=waiting) if waiting else self.tr("Reviews")
        )
        self._items_waiting = waiting
        self._tell_notifier()

    # --- telling a person whose window is not in front -----------------------------------

    def _count_for_notifier(self, waiting: int) -> None:
        """The notifier counts everything waiting: the tab's count leaves out what the filters
        hide, so while a filter is on, the whole count is read apart."""
        notifier, inbox = self.notifier, self.inbox
        if notifier is None or inbox is None:
            return
        query = inbox.model.query
        hidden = (query.centre_id, query.officer_id, query.min_amount_minor, query.max_amount_minor)
        if all(f is None for f in hidden):  # the kind filter does not change the counts
            self._approvals_waiting = waiting
            self._tell_notifier()
            return
        from desk.services.inbox import inbox_of

        self.ops.query(
            lambda d: inbox_of(d).counts().total,
            on_success=self._approvals_counted,
            on_error=lambda exc: None,  # the tab says what went wrong; the next news reads again
            owner=self,
            key="notifier-waiting",
        )

    def _approvals_counted(self, waiting: int) -> None:
        self._approvals_waiting = waiting
        self._tell_notifier()

    def _tell_notifier(self) -> None:
        """Everything waiting for this person: approval requests and the other items."""
        if self.notifier is not None:
            self.notifier.set_waiting(self._approvals_waiting + self._items_waiting)

    def _safety_alerts_arrived(self, alerts: list[SafetyAlertView]) -> None:
        me = self.session.username if self.session is not None else ""
        others = [a for a in alerts if a.raised_by_username != me]  # not one's own alert
        if self.notifier is not None and others:
            self.notifier.safety_alerts(others)

    def _shown_from_tray(self, what: str) -> None:
        """The person clicked a message in the tray: the window came back, at what it told."""
        if self._locked:
            return
        if what == INBOX:
            self.show_inbox()
        elif what == SAFETY and self.safety_banner.isVisible():
            self.safety_banner.acknowledge_button.setFocus()

    def show_inbox(self) -> None:
        if self.inbox is not None:
            self.tabs.setCurrentWidget(self.inbox)
            self.inbox.table.setFocus()

    def show_items(self) -> None:
        if self.items_inbox is not None:
            self.tabs.setCurrentWidget(self.items_inbox)
            self.items_inbox.current_table().setFocus()

    def show_sent(self) -> None:
        if self.sent is not None:
            self.tabs.setCurrentWidget(self.sent)
            self.sent.table.setFocus()

    def _case_shown(self, view: CaseView | None) -> None:
        if view is None:
            self.timeline.clear()
            self.timeline_title.setText(self.tr("Timeline (the case is not saved yet)"))
            self._set_title(self.tr("Desk — new case"))
        else:
            self.timeline.show_case(view)
            self.timeline_title.setText(
                self.tr("Timeline of {reference} · {status}").format(
                    reference=view.reference, status=label(view.status)
                )
            )
            self._set_title(self.tr("Desk — {reference}").format(reference=view.reference))

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

    def _offline_sent(self, count: int) -> None:
        self.statusBar().showMessage(
            self.tr("Connection back: 1 change made offline sent to the server.")
            if count == 1
            else self.tr("Connection back: {n} changes made offline sent to the server.").format(
                n=count
            ),
            10000,
        )

    def _offline_problems(self, problems: list[str]) -> None:
        self.statusBar().showMessage(
            self.tr("A change made offline needs you: {problem} (Ctrl+Shift+J)").format(
                problem=problems[0]
            ),
            15000,
        )

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

    # --- locking -------------------------------------------------------------------------

    def _build_lock(self) -> None:
        """The idle lock (an organisation setting, read at login) and Lock now."""
        self._locked = False
        self._unlocking = False
        self._leaving = False
        self._locked_title = self.tr("Desk — locked")
        self._title_when_unlocked = self.windowTitle()
        self._enabled_before_lock: dict[QAction, bool] = {}
        self._docks_before_lock: list[QDockWidget] = []
        self._focus_before_lock: QWidget | None = None
        self.lock_screen = LockScreen()
        self.pages.addWidget(self.lock_screen)
        self.lock_screen.unlockRequested.connect(self._unlock_requested)
        self.lock_screen.logoutRequested.connect(self._logout_from_lock)
        self.unlock_dialog: UnlockDialog | None = None  # made when a modal dialog needs it
        self.covers = WindowCovers(self)
        self.covers.skip(self)
        self.covers.modalWindowsChanged.connect(self._place_lock_screen)
        desk = self.ops.desk
        minutes = desk.idle_lock_minutes if desk is not None else 0
        self.idle_watcher = IdleWatcher(IdleWatcher.minutes_to_ms(minutes), self)
        self.idle_watcher.idle.connect(self._idle)
        self.idle_watcher.start()
        # Lock now also from a floating dock (a window of its own).
        for dock in self.findChildren(QDockWidget):
            dock.addAction(self.lock_action)
        # Whatever changes the title or the status bar while locked shows nothing of a customer.
        self.windowTitleChanged.connect(self._title_changed)
        self.statusBar().messageChanged.connect(self._status_message_changed)

    @property
    def is_locked(self) -> bool:
        return self._locked

    def lock_now(self) -> None:
        """File → Lock now (Ctrl+Shift+L): an officer leaving the counter locks at once."""
        self.lock()

    def _idle(self) -> None:
        minutes = round(self.idle_watcher.interval_ms / 60_000)
        if minutes == 1:
            reason = self.tr("Locked automatically after a minute without use.")
        elif minutes > 1:
            reason = self.tr("Locked automatically after {minutes} minutes without use.").format(
                minutes=minutes
            )
        else:
            reason = self.tr("Locked automatically: nobody used Desk for a while.")
        self.lock(reason=reason)

    def lock(self, *, reason: str = "") -> None:
        """Hide everything of the customer until the same person unlocks with their password.
        The case form keeps what was typed (and it is on disk as a draft at once); windows that
        were open stay open under a cover and come back as they were."""
        if self._locked or self._leaving:
            return
        self._locked = True
        self.idle_watcher.stop()
        if self.form is not None:
            self.form.save_draft()
        focus = QApplication.focusWidget()
        self._focus_before_lock = focus if focus is not None and self.isAncestorOf(focus) else None
        self._title_when_unlocked = self._plain_title()
        self.setWindowTitle(self._locked_title)
        self.statusBar().clearMessage()
        # Other windows first, while their focus is still where the person left it.
        self.covers.cover_all(
            self.tr("Desk is locked. This window comes back as it was after unlocking.")
        )
        self._enabled_before_lock = {}
        self._keep_screens_locked()
        self.menuBar().setEnabled(False)
        self._docks_before_lock = [d for d in self.findChildren(QDockWidget) if not d.isHidden()]
        for dock in self._docks_before_lock:
            dock.hide()
        session = self.ops.desk.session if self.ops.desk is not None else self.session
        for screen in self._lock_screens():
            screen.reset()
            screen.set_person(session.full_name if session is not None else "")
            screen.set_reason(reason)
        self.pages.setCurrentWidget(self.lock_screen)
        self._place_lock_screen()
        if self.ops.desk is not None and self.ops.desk.session is not None:
            self.ops.write(lambda d: d.lock(), owner=self)

    def _keep_screens_locked(self) -> None:
        """Every action off (remembering which were on), the screens disabled: nothing behind the
        lock takes the keyboard or a shortcut (Ctrl+P would print a customer's slip)."""
        for action in self.actions():
            if action not in self._enabled_before_lock or action.isEnabled():
                self._enabled_before_lock[action] = action.isEnabled()
            action.setEnabled(False)
        for index in range(self.pages.count()):
            page = self.pages.widget(index)
            if page is not self.lock_screen:
                page.setEnabled(False)

    def _lock_screens(self) -> list[LockScreen]:
        screens = [self.lock_screen]
        if self.unlock_dialog is not None:
            screens.append(self.unlock_dialog.screen_widget)
        return screens

    def _place_lock_screen(self) -> None:
        """The lock screen goes where the keyboard reaches it: in this window; or, while a
        covered dialog is modal (it would keep the keyboard from this window), in a dialog of
        its own in front of it."""
        if not self._locked:
            return
        if self.covers.has_modal_window():
            if self.unlock_dialog is None:
                self.unlock_dialog = UnlockDialog(self)
                self.covers.skip(self.unlock_dialog)
                dialog_screen = self.unlock_dialog.screen_widget
                dialog_screen.unlockRequested.connect(self._unlock_requested)
                dialog_screen.logoutRequested.connect(self._logout_from_lock)
            screen = self.unlock_dialog.screen_widget
            if not self.unlock_dialog.isVisible():
                screen.reset()
                screen.set_person(self.lock_screen.person)
                screen.set_reason(self.lock_screen.reason.text())
            screen.set_busy(self._unlocking)
            if QApplication.activeModalWidget() is not self.unlock_dialog:
                self.unlock_dialog.bring_to_front()
            return
        if self.unlock_dialog is not None and self.unlock_dialog.isVisible():
            self.unlock_dialog.hide()
            self.activateWindow()  # the keyboard comes back to this window's lock screen
        self.lock_screen.set_busy(self._unlocking)
        self.lock_screen.focus_password()

    def active_lock_screen(self) -> LockScreen:
        if self.unlock_dialog is not None and self.unlock_dialog.isVisible():
            return self.unlock_dialog.screen_widget
        return self.lock_screen

    def _unlock_requested(self, password: str) -> None:
        if not self._locked or self._unlocking or self._leaving or self.ops.desk is None:
            return
        self._unlocking = True
        for screen in self._lock_screens():
            screen.set_busy(True)
        # On the worker: argon2id (and the lockout count) on SQLite, a fresh connection as the
        # person's own login role on PostgreSQL.
        self.ops.write(
            lambda d: d.unlock(password),
            on_success=lambda _session: self._unlocked(),
            on_error=self._unlock_failed,
            owner=self,
            label=self.tr("Checking the password…"),
        )

    def _unlock_failed(self, exc: BaseException) -> None:
        self._unlocking = False
        for screen in self._lock_screens():
            screen.set_busy(False)
        message = str(exc) if is_user_error(exc) else bug_message()
        self.active_lock_screen().show_error(message)

    def _unlocked(self) -> None:
        self._unlocking = False
        if not self._locked or self._leaving:
            return
        self._locked = False
        if self.unlock_dialog is not None:
            self.unlock_dialog.hide()
        for screen in self._lock_screens():
            screen.reset()
        self.menuBar().setEnabled(True)
        for action, enabled in self._enabled_before_lock.items():
            action.setEnabled(enabled)
        self._enabled_before_lock = {}
        for index in range(self.pages.count()):
            self.pages.widget(index).setEnabled(True)
        self.pages.setCurrentWidget(self.tabs if self.form is not None else self.pages.widget(0))
        for dock in self._docks_before_lock:
            dock.show()
        self._docks_before_lock = []
        self.setWindowTitle(self._title_when_unlocked)
        self.covers.uncover_all()
        focus, self._focus_before_lock = self._focus_before_lock, None
        if focus is not None and shiboken6.isValid(focus) and focus.isVisible():
            focus.setFocus(Qt.FocusReason.OtherFocusReason)
        elif self.form is not None:
            self.form.customer_search.setFocus()
        waiting = QApplication.activeModalWidget()
        if waiting is not None:  # a dialog still waits for an answer: the keyboard goes back there
            waiting.raise_()
            waiting.activateWindow()
        self.idle_watcher.start()

    def _logout_from_lock(self) -> None:
        """Someone else at the counter: log the person out. Their unsaved case goes to a draft
        (offered back when they log in again); dialogs left open are cancelled."""
        if not self._locked or self._leaving:
            return
        self._leaving = True
        if self.form is not None:
            self.form.save_draft()
        for screen in self._lock_screens():
            screen.setEnabled(False)
        if self.unlock_dialog is not None:
            self.unlock_dialog.hide()
        self.covers.close_all()
        self.logoutRequested.emit()

    def _set_title(self, title: str) -> None:
        if self._locked:
            self._title_when_unlocked = title
        else:
            self.setWindowTitle(title)

    def _plain_title(self, title: str | None = None) -> str:
        """The title without the notifier's badge ("(3) Desk — …")."""
        if self.notifier is not None:
            return self.notifier.plain_title(title)
        return self.windowTitle() if title is None else title

    def _title_changed(self, title: str) -> None:
        title = self._plain_title(title)
        if self._locked and title != self._locked_title:
            self._title_when_unlocked = title
            self.setWindowTitle(self._locked_title)

    def _status_message_changed(self, message: str) -> None:
        if self._locked and message:
            self.statusBar().clearMessage()

    # --- closing -------------------------------------------------------------------------

    def close_for_logout(self) -> None:
        self._for_logout = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.idle_watcher.stop()
        self._stop_listening()
        if self.notifier is not None:
            self.notifier.stop()
        if self.offline_status is not None:
            self.offline_status.stop()
        if self._locked:
            self._leaving = True
            if self.unlock_dialog is not None:
                self.unlock_dialog.hide()
            self.covers.close_all()
        if self.form is not None:
            if self.form.is_dirty:
                self.form.save_draft()
            self.form.stop_autosave()
        self.script_panel.store_runs()  # a run on a saved case still under way is kept
        event.accept()
        if not self._for_logout:
            self.quitRequested.emit()
