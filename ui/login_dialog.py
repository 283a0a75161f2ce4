"""The login dialog: who is at the counter, and which database they work in."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk import config
from desk.services.dto import StaffSession
from desk.services.errors import LoginFailed
from ui.operations import Operations


class LoginDialog(QDialog):
    """Asks for username and password; logs in through the services off the GUI thread."""

    loggedIn = Signal(object)  # StaffSession
    serverRequested = Signal()

    def __init__(
        self,
        ops: Operations,
        settings: config.Settings,
        database_url: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.settings = settings
        self.database_url = database_url
        self.setObjectName("loginDialog")
        self.setWindowTitle(self.tr("Desk — log in"))
        self.setMinimumWidth(420)

        title = QLabel(self.tr("Log in to Desk"))
        title.setProperty("role", "title")
        where = QLabel(self._where_text())
        where.setObjectName("databaseLabel")
        where.setProperty("role", "hint")
        where.setWordWrap(True)

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
        if settings.shared_workstation:
            self.remember.setChecked(False)
            self.remember.setEnabled(False)
            self.remember.setToolTip(
                self.tr("This is a shared workstation: nothing is remembered.")
            )
        else:
            self.remember.setChecked(settings.remember_password)
            self.username.setText(settings.last_username)

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

        buttons = QDialogButtonBox()
        self.login_button = buttons.addButton(
            self.tr("&Log in"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.login_button.setObjectName("loginButton")
        self.login_button.setDefault(True)
        self.server_button = QPushButton(self.tr("&Server…"))
        self.server_button.setObjectName("serverButton")
        self.server_button.setAccessibleName(self.tr("Connection settings"))
        buttons.addButton(self.server_button, QDialogButtonBox.ButtonRole.ResetRole)
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("cancelButton")
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)
        self.server_button.clicked.connect(self.serverRequested)

        layout = QVBoxLayout(self)
        # Grow when the error or the demo logins appear, instead of squashing the fields.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        layout.addWidget(title)
        layout.addWidget(where)
        layout.addLayout(form)
        layout.addWidget(self.demo_hint)
        layout.addWidget(buttons)

        self.setTabOrder(self.username, self.password)
        self.setTabOrder(self.password, self.remember)
        self.setTabOrder(self.remember, self.login_button)
        self.username.editingFinished.connect(self._recall_password)
        if self.username.text():
            self._recall_password()
            self.password.setFocus()
        else:
            self.username.setFocus()
        ops.query(lambda d: d.demo_logins(), on_success=self._show_demo_logins, owner=self)

    def _where_text(self) -> str:
        desk = self.ops.desk
        if desk is None:
            return ""
        if desk.backend == "sqlite":
            return self.tr("Database: {url}").format(url=desk.display_url)
        return self.tr("Shared server: {url}").format(url=desk.display_url)

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

    def _recall_password(self) -> None:
        if self.settings.shared_workstation or self.password.text():
            return
        username = self.username.text().strip()
        if username:
            remembered = config.recall_password(self.database_url, username)
            if remembered:
                self.password.setText(remembered)
                self.remember.setChecked(True)

    def _submit(self) -> None:
        username = self.username.text().strip()
        password = self.password.text()
        if not username:
            self._show_error(self.tr("Enter your username."), self.username)
            return
        if not password:
            self._show_error(self.tr("Enter your password."), self.password)
            return
        self.error.hide()
        self.login_button.setEnabled(False)
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
        self.login_button.setEnabled(True)
        self.password.selectAll()
        message = str(exc) if str(exc) else self.tr("The username or password is not right.")
        if not isinstance(exc, LoginFailed):
            message = str(exc)
        self._show_error(message, self.password)

    def _logged_in(self, session: StaffSession, username: str, password: str) -> None:
        self.login_button.setEnabled(True)
        settings = self.settings
        if not settings.shared_workstation:
            settings.last_username = username
            remember = self.remember.isChecked()
            settings.remember_password = remember
            if remember:
                config.remember_password(self.database_url, username, password)
            else:
                config.forget_password(self.database_url, username)
            settings.save()
        self.password.clear()
        self.loggedIn.emit(session)
        self.accept()
