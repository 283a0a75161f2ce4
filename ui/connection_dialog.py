"""Where the database is: this computer (embedded) or a shared PostgreSQL server.

The settings file never receives a password; the password field here exists only to test the
connection.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desk import config
from ui.operations import Operations, bug_message, is_user_error

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


class ConnectionDialog(QDialog):
    """Edits and saves ``desk.config.Settings``; ``database_url()`` is what to open next."""

    def __init__(
        self, ops: Operations, settings: config.Settings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.saved_settings = settings
        self.setObjectName("connectionDialog")
        self.setWindowTitle(self.tr("Desk — where is the database?"))
        self.setMinimumWidth(480)

        self.embedded = QRadioButton(self.tr("On &this computer (single desk)"))
        self.embedded.setObjectName("embeddedRadio")
        self.embedded.setAccessibleName(self.tr("Database on this computer"))
        self.server = QRadioButton(self.tr("On a shared &server (PostgreSQL)"))
        self.server.setObjectName("serverRadio")
        self.server.setAccessibleName(self.tr("Shared PostgreSQL server"))
        group = QButtonGroup(self)
        group.addButton(self.embedded)
        group.addButton(self.server)

        self.sqlite_path = QLineEdit()
        self.sqlite_path.setObjectName("sqlitePath")
        self.sqlite_path.setAccessibleName(self.tr("Database file"))
        browse = QPushButton(self.tr("&Browse…"))
        browse.setObjectName("browseButton")
        browse.clicked.connect(self._browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.sqlite_path, 1)
        file_row.addWidget(browse)
        self.embedded_box = QGroupBox(self.tr("This computer"))
        embedded_form = QFormLayout(self.embedded_box)
        file_label = QLabel(self.tr("Database &file:"))
        file_label.setBuddy(self.sqlite_path)
        embedded_form.addRow(file_label, file_row)

        self.host = QLineEdit()
        self.host.setObjectName("host")
        self.host.setAccessibleName(self.tr("Server host"))
        self.port = QSpinBox()
        self.port.setObjectName("port")
        self.port.setAccessibleName(self.tr("Server port"))
        self.port.setRange(1, 65535)
        self.database = QLineEdit()
        self.database.setObjectName("databaseName")
        self.database.setAccessibleName(self.tr("Database name"))
        self.username = QLineEdit()
        self.username.setObjectName("serverUsername")
        self.username.setAccessibleName(self.tr("Username for testing"))
        self.password = QLineEdit()
        self.password.setObjectName("serverPassword")
        self.password.setAccessibleName(self.tr("Password for testing (not saved)"))
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(self.tr("only to test; never saved"))
        self.sslmode = QComboBox()
        self.sslmode.setObjectName("sslmode")
        self.sslmode.setAccessibleName(self.tr("Encryption (SSL mode)"))
        self.sslmode.addItems(SSL_MODES)
        self.server_box = QGroupBox(self.tr("Shared server"))
        server_form = QFormLayout(self.server_box)
        for text, widget in (
            (self.tr("&Host:"), self.host),
            (self.tr("P&ort:"), self.port),
            (self.tr("&Database:"), self.database),
            (self.tr("&Username:"), self.username),
            (self.tr("Pass&word:"), self.password),
            (self.tr("&Encryption:"), self.sslmode),
        ):
            lab = QLabel(text)
            lab.setBuddy(widget)
            server_form.addRow(lab, widget)

        self.shared = QCheckBox(self.tr("Shared &workstation (remember nothing)"))
        self.shared.setObjectName("sharedWorkstation")
        self.shared.setAccessibleName(self.tr("Shared workstation, remember nothing"))

        self.test_button = QPushButton(self.tr("Test &connection"))
        self.test_button.setObjectName("testConnectionButton")
        self.test_button.clicked.connect(self._test)
        self.test_result = QLabel()
        self.test_result.setObjectName("testResult")
        self.test_result.setWordWrap(True)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setObjectName("saveConnection")
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.embedded)
        layout.addWidget(self.embedded_box)
        layout.addWidget(self.server)
        layout.addWidget(self.server_box)
        layout.addWidget(self.shared)
        layout.addLayout(test_row)
        layout.addWidget(buttons)

        self._load(settings)
        self.embedded.toggled.connect(self._update_enabled)
        self._update_enabled()

    def _load(self, settings: config.Settings) -> None:
        server = settings.server or config.ServerSettings()
        self.host.setText(server.host)
        self.port.setValue(server.port)
        self.database.setText(server.database)
        self.username.setText(server.username)
        self.sslmode.setCurrentText(server.sslmode or "prefer")
        path = str(config.default_sqlite_path())
        if settings.database_url.startswith("sqlite:///"):
            path = settings.database_url.removeprefix("sqlite:///")
        self.sqlite_path.setText(path)
        self.shared.setChecked(settings.shared_workstation)
        (self.server if settings.server is not None else self.embedded).setChecked(True)

    def _update_enabled(self) -> None:
        embedded = self.embedded.isChecked()
        self.embedded_box.setEnabled(embedded)
        self.server_box.setEnabled(not embedded)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Database file"),
            self.sqlite_path.text(),
            self.tr("Desk database (*.sqlite3);;All files (*)"),
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.sqlite_path.setText(path)

    def server_settings(self) -> config.ServerSettings:
        return config.ServerSettings(
            host=self.host.text().strip() or "localhost",
            port=self.port.value(),
            database=self.database.text().strip() or "desk",
            username=self.username.text().strip(),
            sslmode=self.sslmode.currentText(),
        )

    def database_url(self, *, password: str | None = None) -> str:
        """The URL to open; a password is only ever put in for a connection test."""
        if self.embedded.isChecked():
            return f"sqlite:///{self.sqlite_path.text().strip()}"
        url = self.server_settings().url(password=password or None)
        return str(url.render_as_string(hide_password=False))

    def _test(self) -> None:
        """Embedded: is the file usable? Server: log in once with the name and password given
        (on the shared server the staff member's own login role is the connection)."""
        from desk.bootstrap import Desk

        if self.embedded.isChecked():
            path = Path(self.sqlite_path.text().strip()).expanduser()
            if not path.exists():
                folder = next((p for p in path.parents if p.exists()), None)
                if folder is not None and os.access(folder, os.W_OK):
                    self._set_result(
                        self.tr("The file does not exist yet: Desk will create it."), "hint"
                    )
                else:
                    self._set_result(self.tr("Desk cannot create a file there."), "error")
                return
            url = self.database_url()

            def check() -> str:
                desk = Desk.open(url, upgrade=False)
                try:
                    return str(desk.display_url)
                finally:
                    desk.close()
        else:
            username = self.username.text().strip()
            password = self.password.text()
            if not username or not password:
                self._set_result(
                    self.tr("Enter a username and password to test the server."), "error"
                )
                (self.username if not username else self.password).setFocus()
                return
            url = self.database_url()

            def check() -> str:
                desk = Desk.open(url)
                try:
                    desk.login(username, password)
                    return str(desk.display_url)
                finally:
                    desk.close()

        self.test_button.setEnabled(False)
        self._set_result(self.tr("Connecting…"), "hint")
        self.ops.call(check, on_success=self._tested, on_error=self._test_failed, owner=self)

    def _tested(self, display_url: str) -> None:
        self.test_button.setEnabled(True)
        self._set_result(self.tr("Connected to {url}.").format(url=display_url), "hint")

    def _test_failed(self, exc: BaseException) -> None:
        self.test_button.setEnabled(True)
        self._set_result(str(exc) if is_user_error(exc) else bug_message(), "error")

    def _set_result(self, text: str, role: str) -> None:
        self.test_result.setProperty("role", role)
        self.test_result.style().unpolish(self.test_result)
        self.test_result.style().polish(self.test_result)
        self.test_result.setText(text)

    def _save(self) -> None:
        settings = self.saved_settings
        settings.shared_workstation = self.shared.isChecked()
        if self.embedded.isChecked():
            settings.server = None
            settings.database_url = self.database_url()
        else:
            settings.server = self.server_settings()
            settings.database_url = ""
        settings.save()
        self.saved_settings = settings
        self.accept()
