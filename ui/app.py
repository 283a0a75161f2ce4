"""Start the window: logging, the Qt application, opening the database, login, the main window."""

from __future__ import annotations

import logging
import logging.handlers
import sys
import traceback
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QLibraryInfo, QLocale, QObject, Qt, QTranslator, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog, QWidget

from desk import config
from desk.services.errors import DatabaseUnavailable, SchemaMismatch
from ui.operations import Operations, bug_message, is_user_error, log_file_path

if TYPE_CHECKING:
    from desk.bootstrap import Desk
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)

_THEME = """
QMainWindow, QDialog { background: #f6f7f9; }
QGroupBox { font-weight: 600; border: 1px solid #d5d9e0; border-radius: 6px;
            margin-top: 14px; padding: 10px 8px 8px 8px; background: #ffffff; }
QGroupBox::title { subcontrol-origin: margin; left: 10px; padding: 0 4px; color: #1f3a5f; }
QLineEdit, QPlainTextEdit, QTextEdit, QComboBox, QDateEdit, QSpinBox {
    border: 1px solid #b8c0cc; border-radius: 4px; padding: 3px 5px; background: #ffffff; }
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus, QComboBox:focus, QDateEdit:focus,
QSpinBox:focus { border: 2px solid #2f6fd6; }
QPushButton { border: 1px solid #9aa5b5; border-radius: 4px; padding: 5px 12px;
              background: #ffffff; }
QPushButton:default { border: 2px solid #2f6fd6; }
QPushButton:focus { border: 2px solid #2f6fd6; }
QPushButton:hover { background: #eef3fb; }
QLabel[role="error"] { color: #b00020; }
QLabel[role="warning"] { color: #8a5300; background: #fff4e0; border-radius: 3px;
                         padding: 2px 4px; }
QLabel[role="hint"] { color: #4a5566; }
QLabel[role="title"] { font-size: 15pt; font-weight: 600; color: #1f3a5f; }
QTableView { gridline-color: #e3e6eb; selection-background-color: #2f6fd6;
             alternate-background-color: #f3f6fa; }
QHeaderView::section { background: #eef1f5; border: none; border-right: 1px solid #d5d9e0;
                       padding: 4px 6px; font-weight: 600; }
"""


def setup_logging(directory: Path | None = None) -> Path:
    """A rotating log file in the user log directory, so a bug report has its traceback."""
    directory = directory or config.log_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "desk.log"
    root = logging.getLogger()
    if not any(
        isinstance(h, logging.handlers.RotatingFileHandler)
        and Path(h.baseFilename) == path.resolve()
        for h in root.handlers
    ):
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
        )
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
        )
        root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return path


def install_excepthook() -> None:
    """An uncaught exception (a bug of ours) is logged and shown politely, never as a traceback."""

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        if is_user_error(exc):
            log.warning("Unhandled user-facing error: %s", text)
            message = str(exc)
        else:
            log.error("Uncaught exception:\n%s", text)
            message = bug_message()
        if QApplication.instance() is not None:
            box = QMessageBox(QMessageBox.Icon.Warning, "Desk", message)
            box.setObjectName("errorMessage")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()

    sys.excepthook = hook


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setStyleSheet(_THEME)


def install_translations(app: QApplication) -> list[QTranslator]:
    """Load Qt's own and Desk's translations for the system locale, when a .qm file exists."""
    translators: list[QTranslator] = []
    locale = QLocale.system()
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    ours = Path(__file__).resolve().parent.parent / "resources" / "translations"
    for prefix, directory in (("qtbase", qt_dir), ("desk", str(ours))):
        translator = QTranslator(app)
        if translator.load(locale, prefix, "_", directory):
            app.installTranslator(translator)
            translators.append(translator)
    return translators


def show_error(parent: QWidget | None, message: str, *, is_bug: bool = False) -> QMessageBox:
    """A non-blocking message box (tests and the counter keep running while it is shown)."""
    box = QMessageBox(
        QMessageBox.Icon.Critical if is_bug else QMessageBox.Icon.Warning,
        QApplication.translate("App", "Desk"),
        message,
        QMessageBox.StandardButton.Ok,
        parent,
    )
    box.setObjectName("errorMessage")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


class _Progress(QObject):
    """Carries progress text from the worker thread (Desk.open) to the dialog on the GUI thread."""

    message = Signal(str)


class AppController(QObject):
    """Walks through open database → login → main window, and back to login on log out."""

    def __init__(self, database_url: str | None, source: str, parent: QObject | None = None):
        super().__init__(parent)
        self.settings = config.Settings.load()
        if database_url:
            self.database_url, self.source = database_url, source
        else:
            self.database_url, self.source = config.resolve_database_url(settings=self.settings)
        self.ops = Operations(parent=self)
        self.ops.errorReported.connect(self._on_error_reported)
        self.window: MainWindow | None = None
        self.login_dialog: QWidget | None = None
        self._progress_dialog: QProgressDialog | None = None
        self._progress = _Progress(self)

    # --- opening -------------------------------------------------------------------------

    def start(self) -> None:
        self.open_database(self.database_url)

    def open_database(self, url: str) -> None:
        from desk.bootstrap import Desk

        self.database_url = url
        dialog = QProgressDialog(self.tr("Preparing the database…"), "", 0, 0)
        dialog.setObjectName("openProgress")
        dialog.setWindowTitle(self.tr("Desk"))
        dialog.setCancelButton(None)
        dialog.setMinimumDuration(300)
        dialog.setMinimumWidth(380)
        dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
        self._progress_dialog = dialog
        self._progress.message.connect(dialog.setLabelText)
        progress_signal = self._progress.message

        def report(text: str) -> None:
            progress_signal.emit(text)

        self.ops.call(
            lambda: Desk.open(url, upgrade=True, progress=report),
            on_success=self._opened,
            on_error=self._open_failed,
            owner=self,
            label=self.tr("Preparing the database…"),
        )

    def _close_progress(self) -> None:
        if self._progress_dialog is not None:
            self._progress.message.disconnect(self._progress_dialog.setLabelText)
            self._progress_dialog.reset()
            self._progress_dialog.deleteLater()
            self._progress_dialog = None

    def _opened(self, desk: Desk) -> None:
        self._close_progress()
        self.ops.desk = desk
        log.info("Opened %s database %s", desk.backend, desk.display_url)
        self.show_login()

    def _open_failed(self, exc: BaseException) -> None:
        self._close_progress()
        if isinstance(exc, SchemaMismatch):
            title = self.tr("This database needs a different version of Desk")
        elif isinstance(exc, DatabaseUnavailable):
            title = self.tr("The database cannot be reached")
        else:
            title = self.tr("The database could not be opened")
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("Desk"), title)
        box.setObjectName("openFailedMessage")
        box.setInformativeText(str(exc))
        settings_button = box.addButton(
            self.tr("&Connection settings…"), QMessageBox.ButtonRole.AcceptRole
        )
        retry = box.addButton(self.tr("&Retry"), QMessageBox.ButtonRole.ActionRole)
        box.addButton(self.tr("&Quit"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(settings_button)
        box.exec()
        clicked = box.clickedButton()
        if clicked is settings_button:
            self.show_connection_dialog(on_cancel=QApplication.quit)
        elif clicked is retry:
            self.open_database(self.database_url)
        else:
            QApplication.quit()

    def show_connection_dialog(
        self, *, on_cancel: Any = None, parent: QWidget | None = None
    ) -> None:
        from ui.connection_dialog import ConnectionDialog

        dialog = ConnectionDialog(self.ops, self.settings, parent)
        if dialog.exec() == ConnectionDialog.DialogCode.Accepted:
            self.settings = dialog.saved_settings
            url = dialog.database_url()
            if self.login_dialog is not None:
                self.login_dialog.close()
                self.login_dialog = None
            self._reopen(url)
        elif on_cancel is not None:
            on_cancel()

    def _reopen(self, url: str) -> None:
        old = self.ops.desk
        self.ops.desk = None
        if old is not None:
            self.ops.call(old.close, owner=self)
        self.source = "settings"
        self.open_database(url)

    # --- login and the window ------------------------------------------------------------

    def show_login(self) -> None:
        from ui.login_dialog import LoginDialog

        assert self.ops.desk is not None
        dialog = LoginDialog(self.ops, self.settings, self.database_url)
        dialog.loggedIn.connect(self._logged_in)
        dialog.serverRequested.connect(lambda: self.show_connection_dialog(parent=dialog))
        dialog.rejected.connect(self._login_cancelled)
        self.login_dialog = dialog
        dialog.show()

    def _login_cancelled(self) -> None:
        if self.window is None:
            QApplication.quit()

    def _logged_in(self) -> None:
        from ui.main_window import MainWindow

        self.login_dialog = None
        window = MainWindow(self.ops, database_url=self.database_url)
        window.logoutRequested.connect(self._logout)
        window.quitRequested.connect(QApplication.quit)
        self.window = window
        window.show()
        window.offer_draft_recovery()

    def _logout(self) -> None:
        if self.window is not None:
            self.window.close_for_logout()
            self.window.deleteLater()
            self.window = None
        self.ops.write(lambda d: d.logout(), on_success=lambda _r: self.show_login(), owner=self)

    def _on_error_reported(self, message: str, is_bug: bool) -> None:
        show_error(self.window, message, is_bug=is_bug)

    def shutdown(self) -> None:
        self.ops.shutdown()


def main(database_url: str | None, source: str) -> int:
    """Run the window until the user quits; returns the process exit status."""
    log_path = setup_logging()
    log.info("Desk starting (database from %s); log file %s", source, log_path)
    assert log_path == log_file_path()
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv)
    app.setApplicationName("Desk")
    app.setApplicationDisplayName("Desk")
    app.setOrganizationName(config.APP_AUTHOR)
    apply_theme(app)
    install_translations(app)
    install_excepthook()
    app.setQuitOnLastWindowClosed(False)
    controller = AppController(database_url, source)
    app.aboutToQuit.connect(controller.shutdown)
    controller.start()
    status = app.exec()
    log.info("Desk stopped with status %s", status)
    return int(status)
