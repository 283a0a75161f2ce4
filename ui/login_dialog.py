"""The login dialog: who is at the counter, and which database they work in.

It is the first window of the application and appears before the database is open: the fields
can be used at once while ``AppController`` opens the database on the worker thread. Until then a
status line shows the progress and the Log in button is disabled; a login asked for earlier (Enter)
runs as soon as the database is ready.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk import config
from ui.operations import Operations, bug_message, is_user_error

if TYPE_CHECKING:  # the DTO module loads the domain: not needed before the first window
    from concurrent.futures import Future, ThreadPoolExecutor

    from desk.services.dto import StaffSession

log = logging.getLogger(__name__)


class KeyringAccess(QObject):
    """The OS keyring, on a thread of its own.

    Importing ``keyring`` and asking the platform's secret store costs ~0.2 s (and can wait on
    D-Bus); it has nothing to do with the database, so it runs neither on the GUI thread (typing
    would stall) nor on the database worker (the main window's first queries would wait behind
    it). Only strings cross threads; results come back through ``recalled`` (queued)."""

    recalled = Signal(int, str)  # the request's token, the password ("" when none is kept)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor: ThreadPoolExecutor | None = None  # made on first use
        self._last: Future[Any] | None = None
        self._lock = threading.Lock()
        self._tokens = itertools.count(1)

    def _submit(self, fn: Callable[[], Any]) -> None:
        def run() -> None:
            try:
                fn()
            except Exception:  # a keyring that misbehaves must never take the login down
                log.exception("Keyring access failed")

        with self._lock:
            if self._executor is None:
                from concurrent.futures import ThreadPoolExecutor

                # Not a daemon thread: a password being stored is finished before the process
                # exits.
                self._executor = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="desk-keyring"
                )
            self._last = self._executor.submit(run)

    def recall(self, url: str, username: str) -> int:
        """Look the password up; ``recalled`` brings it back with the token returned here."""
        token = next(self._tokens)

        def run() -> None:
            password = ""
            try:
                password = config.recall_password(url, username) or ""
            finally:
                with contextlib.suppress(RuntimeError):  # the application is closing
                    self.recalled.emit(token, password)

        self._submit(run)
        return token

    def remember(self, url: str, username: str, password: str) -> None:
        self._submit(lambda: config.remember_password(url, username, password))

    def forget(self, url: str, username: str) -> None:
        self._submit(lambda: config.forget_password(url, username))

    def wait(self, timeout: float = 10.0) -> None:
        """Until everything asked so far is done (tests; never needed by the window)."""
        with self._lock:
            last = self._last
        if last is not None:
            last.result(timeout)


_keyring: KeyringAccess | None = None


def keyring_access() -> KeyringAccess:
    """The application's one keyring thread (made on the GUI thread, lives as long as the app)."""
    global _keyring
    if _keyring is None:
        _keyring = KeyringAccess(QCoreApplication.instance())
    return _keyring


def describe_database(url: str | None) -> tuple[str, str]:
    """(backend, where) for the "Database:" line before the database is open, without SQLAlchemy;
    the same words as ``Desk.display_url``, which replaces it once the database is open."""
    if not url:
        return "", ""
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme == "sqlite":
        path = url.split(":///", 1)[1] if ":///" in url else ""
        return "sqlite", f"this computer ({path.split('?', 1)[0]})"
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return scheme, ""
    return scheme, f"{host or 'localhost'}:{port or 5432}/{parts.path.lstrip('/')}"


class LoginDialog(QDialog):
    """Asks for username and password; logs in through the services off the GUI thread."""

    loggedIn = Signal(object)  # StaffSession
    serverRequested = Signal()
    databaseReady = Signal()

    def __init__(
        self,
        ops: Operations,
        settings: config.Settings,
        database_url: str | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.settings = settings
        self.database_url = database_url or ""
        self._ready = False
        self._logging_in = False
        self._login_requested = False
        self._recall_wanted = False
        self._recalls: dict[int, tuple[str, str]] = {}  # token → (url, username) asked for
        self._progress_text = ""
        self._keyring = keyring_access()
        self._keyring.recalled.connect(self._recalled)
        self.setObjectName("loginDialog")
        self.setAccessibleName(self.tr("Log in to Desk"))
        self.setWindowTitle(self.tr("Desk — log in"))
        self.setMinimumWidth(420)

        title = QLabel(self.tr("Log in to Desk"))
        title.setObjectName("loginTitle")
        title.setProperty("role", "title")
        self.where = QLabel()
        self.where.setObjectName("databaseLabel")
        self.where.setProperty("role", "hint")
        self.where.setWordWrap(True)
        # The layout's minimum size wins over the dialog's own (SetMinimumSize below): keep the
        # dialog from shrinking to the width of the fields.
        self.where.setMinimumWidth(400)

        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.username.setAccessibleName(self.tr("Username"))
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setAccessibleName(self.tr("Password"))
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel()
        self.error.setObjectName("loginError")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()

        self.remember = QCheckBox(self.tr("&Remember password on this computer"))
        self.remember.setObjectName("rememberPassword")
        self.remember.setAccessibleName(self.tr("Remember password"))
        self._apply_workstation_policy(fill_username=True)

        form = QFormLayout()
        user_label = QLabel(self.tr("&Username:"))
        user_label.setBuddy(self.username)
        pass_label = QLabel(self.tr("&Password:"))
        pass_label.setBuddy(self.password)
        form.addRow(user_label, self.username)
        form.addRow(pass_label, self.password)
        form.addRow("", self.error)
        form.addRow("", self.remember)

        self.demo_hint = QLabel()
        self.demo_hint.setObjectName("demoLogins")
        self.demo_hint.setProperty("role", "hint")
        self.demo_hint.setWordWrap(True)
        self.demo_hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.demo_hint.hide()

        # While the database opens: a busy bar and what is happening.
        self.status = QLabel()
        self.status.setObjectName("databaseStatus")
        self.status.setAccessibleName(self.tr("Database status"))
        self.status.setProperty("role", "hint")
        self.status.setWordWrap(True)
        self.busy = QProgressBar()
        self.busy.setObjectName("databaseProgress")
        self.busy.setAccessibleName(self.tr("Preparing the database"))
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setFixedSize(72, 10)
        status_row = QHBoxLayout()
        status_row.addWidget(self.busy, 0, Qt.AlignmentFlag.AlignVCenter)
        status_row.addWidget(self.status, 1)

        buttons = QDialogButtonBox()
        self.login_button = buttons.addButton(
            self.tr("&Log in"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.login_button.setObjectName("loginButton")
        self.login_button.setAccessibleName(self.tr("Log in"))
        self.login_button.setDefault(True)
        self.server_button = QPushButton(self.tr("&Server…"))
        self.server_button.setObjectName("serverButton")
        self.server_button.setAccessibleName(self.tr("Connection settings"))
        buttons.addButton(self.server_button, QDialogButtonBox.ButtonRole.ResetRole)
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("cancelButton")
        cancel.setAccessibleName(self.tr("Cancel"))
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)
        self.server_button.clicked.connect(self.serverRequested)

        layout = QVBoxLayout(self)
        # Grow when the error or the demo logins appear, instead of squashing the fields.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        layout.addWidget(title)
        layout.addWidget(self.where)
        layout.addLayout(form)
        layout.addWidget(self.demo_hint)
        layout.addLayout(status_row)
        layout.addWidget(buttons)

        self.setTabOrder(self.username, self.password)
        self.setTabOrder(self.password, self.remember)
        self.setTabOrder(self.remember, self.login_button)
        self.username.editingFinished.connect(self._recall_password)
        if self.username.text():
            self.password.setFocus()
        else:
            self.username.setFocus()
        if ops.desk is not None:
            self.database_ready(self.database_url)
        else:
            self.database_opening(self.database_url)

    # --- the database behind the dialog --------------------------------------------------

    @property
    def ready(self) -> bool:
        """True once the database is open and a login can run."""
        return self._ready

    @property
    def login_requested(self) -> bool:
        """True while a login asked for before the database was ready is waiting for it."""
        return self._login_requested

    def database_opening(self, url: str | None) -> None:
        """The database (again) being opened: fields stay usable, Log in waits."""
        self._ready = False
        if url:
            self.database_url = url
        self._apply_workstation_policy(fill_username=False)
        backend, where = describe_database(url)
        self._set_where(backend, where)
        self._progress_text = self.tr("Preparing the database…")
        self.busy.setVisible(True)
        self._update_status()
        self._update_button()

    def show_progress(self, text: str) -> None:
        """A step of opening the database (e.g. creating the demo organisation on first start)."""
        if not self._ready:
            self._progress_text = text
            self._update_status()

    def database_ready(self, url: str | None = None) -> None:
        """The database is open: enable Log in, show the demo logins, run a waiting login."""
        desk = self.ops.desk
        if desk is None:
            raise RuntimeError("database_ready() before the database is open")
        if url:
            self.database_url = url
        self._ready = True
        self._set_where(desk.backend, desk.display_url)
        self.busy.hide()
        self._progress_text = ""
        self._update_status()
        self._update_button()
        self.ops.query(lambda d: d.demo_logins(), on_success=self._show_demo_logins, owner=self)
        if self.username.text() or self._recall_wanted:
            self._recall_password()
        self.databaseReady.emit()
        self._run_requested_login()

    def database_failed(self) -> None:
        """Opening failed (the application explains it in a message box)."""
        self._ready = False
        self._login_requested = False
        self.busy.hide()
        self._progress_text = self.tr("The database could not be opened.")
        self._update_status()
        self._update_button()

    def _set_where(self, backend: str, where: str) -> None:
        if not where:
            self.where.clear()
        elif backend == "sqlite":
            self.where.setText(self.tr("Database: {url}").format(url=where))
        else:
            self.where.setText(self.tr("Shared server: {url}").format(url=where))

    def _update_status(self) -> None:
        lines = [self._progress_text] if self._progress_text else []
        if self._login_requested and not self._ready:
            lines.append(self.tr("You will be logged in as soon as it is ready."))
        self.status.setText("\n".join(lines))
        self.status.setVisible(bool(lines))
        self.adjustSize()

    def _update_button(self) -> None:
        self.login_button.setEnabled(self._ready and not self._logging_in)

    def _apply_workstation_policy(self, *, fill_username: bool) -> None:
        settings = self.settings
        if settings.shared_workstation:
            self.remember.setChecked(False)
            self.remember.setEnabled(False)
            self.remember.setToolTip(
                self.tr("This is a shared workstation: nothing is remembered.")
            )
        else:
            self.remember.setEnabled(True)
            self.remember.setToolTip("")
            self.remember.setChecked(settings.remember_password)
            if fill_username:
                self.username.setText(settings.last_username)

    def _show_demo_logins(self, logins: list[tuple[str, str, str]]) -> None:
        if not logins:
            return
        parts = [
            self.tr("{user} / {password} ({role})").format(user=u, password=p, role=r)
            for u, p, r in logins
        ]
        self.demo_hint.setText(self.tr("Demo logins: ") + " · ".join(parts))
        self.demo_hint.show()
        self.adjustSize()

    # --- remembered passwords ------------------------------------------------------------

    def _recall_password(self) -> None:
        if self.settings.shared_workstation or self.password.text():
            return
        if not self._ready:
            self._recall_wanted = True  # the address is final (and SQLAlchemy loaded) when ready
            return
        self._recall_wanted = False
        username = self.username.text().strip()
        if username and self.database_url:
            token = self._keyring.recall(self.database_url, username)
            self._recalls[token] = (self.database_url, username)

    def _recalled(self, token: int, password: str) -> None:
        asked = self._recalls.pop(token, None)
        if asked is None:  # another dialog's question
            return
        url, username = asked
        if (
            password
            and url == self.database_url
            and username == self.username.text().strip()
            and not self.password.text()
        ):
            self.password.setText(password)
            self.remember.setChecked(True)
        self._run_requested_login()

    # --- logging in ----------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter before the database is ready (the Log in button is still disabled, so Qt would
        swallow it): remember the request."""
        if (
            event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and not self.login_button.isEnabled()
            and not self._logging_in
            and event.modifiers()
            in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
        ):
            event.accept()
            self._submit()
            return
        super().keyPressEvent(event)

    def _run_requested_login(self) -> None:
        if self._login_requested and self._ready and not self._recalls:
            self._login_requested = False
            self._update_status()
            self._submit()

    def _submit(self) -> None:
        if self._logging_in:
            return
        username = self.username.text().strip()
        password = self.password.text()
        if not username:
            self._login_requested = False
            self._update_status()
            self._show_error(self.tr("Enter your username."), self.username)
            return
        # Before the database is ready a remembered password may still arrive from the keyring.
        may_be_recalled = bool(self._recalls) or (
            not self._ready
            and not self.settings.shared_workstation
            and self.settings.remember_password
        )
        if not password and not may_be_recalled:
            self._login_requested = False
            self._update_status()
            self._show_error(self.tr("Enter your password."), self.password)
            return
        if not self._ready or self._recalls:
            self._login_requested = True
            self.error.hide()
            self._update_status()
            return
        if not password:
            self._show_error(self.tr("Enter your password."), self.password)
            return
        self.error.hide()
        self._logging_in = True
        self._update_button()
        self.ops.write(
            lambda d: d.login(username, password),
            on_success=lambda session: self._logged_in(session, username, password),
            on_error=self._failed,
            owner=self,
            label=self.tr("Logging in…"),
        )

    def _show_error(self, message: str, focus: QWidget) -> None:
        self.error.setText(message)
        self.error.show()
        self.adjustSize()
        focus.setFocus()

    def _failed(self, exc: BaseException) -> None:
        from desk.services.errors import LoginFailed

        self._logging_in = False
        self._update_button()
        self.password.selectAll()
        if not is_user_error(exc):  # a bug of ours: logged, and the user is told where
            message = bug_message()
        elif isinstance(exc, LoginFailed) and not str(exc):
            message = self.tr("The username or password is not right.")
        else:
            message = str(exc)
        self._show_error(message, self.password)

    def _logged_in(self, session: StaffSession, username: str, password: str) -> None:
        self._logging_in = False
        self._update_button()
        settings = self.settings
        if not settings.shared_workstation:
            settings.last_username = username
            remember = self.remember.isChecked()
            settings.remember_password = remember
            if remember:
                self._keyring.remember(self.database_url, username, password)
            else:
                self._keyring.forget(self.database_url, username)
            settings.save()
        self.password.clear()
        self.loggedIn.emit(session)
        self.accept()
