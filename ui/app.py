"""Start the window: the Qt application, the login dialog while the database opens behind it,
then the main window.

Start-up imports nothing of the database stack on the GUI thread: the login dialog is on screen
(and usable) within a bare window's start-up time, while the worker thread imports SQLAlchemy and
opens the database. Nor does it wait for what the first window does not need: the log file is
opened on the worker thread once the window is shown (what is logged before is held and written
first), and what only errors need is imported when one happens.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QLibraryInfo, QLocale, QObject, Qt, QTimer, QTranslator, Signal
from PySide6.QtWidgets import QApplication, QWidget

from desk import config
from ui.operations import Operations, bug_message, is_user_error, log_file_path

if TYPE_CHECKING:
    import logging.handlers
    from collections.abc import Sequence

    from PySide6.QtWidgets import QMessageBox

    from desk.bootstrap import Desk
    from ui.login_dialog import LoginDialog
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


_LOG_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"


def _rotating_file(path: Path) -> logging.handlers.RotatingFileHandler:
    import logging.handlers  # with socket and pickle: ~10 ms the first window does not need

    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(_LOG_FORMAT))
    return handler


def _log_level_at_least_info(root: logging.Logger) -> None:
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


class LogFile(logging.Handler):
    """The root logger's way into the log file, from the first moment of start-up.

    Opening the file needs ``logging.handlers`` (with ``socket`` and ``pickle``), which showing
    the login window does not; so the window opens it on the worker thread once it is on
    screen (``open``). Records logged before then are held and written first, in order; after
    that every record goes straight to the rotating file."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._held: list[logging.LogRecord] = []
        self._file: logging.Handler | None = None

    @property
    def is_open(self) -> bool:
        return self._file is not None

    def emit(self, record: logging.LogRecord) -> None:  # called with self.lock held
        if self._file is None:
            self._held.append(record)
        else:
            self._file.handle(record)

    def open(self) -> None:
        """Open the file and write what was held (a file that cannot be opened: stderr)."""
        if self._file is not None:
            return
        failure: OSError | None = None
        target: logging.Handler
        try:
            target = _rotating_file(self.path)
        except OSError as exc:
            failure = exc
            target = logging.StreamHandler()
            target.setFormatter(logging.Formatter(_LOG_FORMAT))
        self.acquire()
        try:
            first = self._file is None
            if first:
                for record in self._held:
                    target.handle(record)
                self._held.clear()
                self._file = target
        finally:
            self.release()
        if not first:  # opened meanwhile by another thread
            target.close()
        if failure is not None:
            log.warning("The log file %s cannot be written: %s", self.path, failure)

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is None and self._held:
            self.open()  # the process ends before the file was opened: write what was held
        if self._file is not None:
            self._file.close()
        super().close()


def log_to_file(directory: Path | None = None) -> LogFile:
    """The log file for a run of the window, in the user log directory: every record from now
    on reaches it, though the file itself is opened later by ``LogFile.open``."""
    path = (directory or config.log_dir()) / "desk.log"
    root = logging.getLogger()
    _log_level_at_least_info(root)
    for existing in root.handlers:
        if isinstance(existing, LogFile) and existing.path == path:
            return existing
    handler = LogFile(path)
    root.addHandler(handler)
    return handler


def setup_logging(directory: Path | None = None) -> Path:
    """A rotating log file in the user log directory, so a bug report has its traceback
    (opened before returning; the window uses ``log_to_file``)."""
    import logging.handlers

    directory = directory or config.log_dir()
    path = directory / "desk.log"
    root = logging.getLogger()
    if not any(
        (
            isinstance(h, logging.handlers.RotatingFileHandler)
            and Path(h.baseFilename) == path.resolve()
        )
        or (isinstance(h, LogFile) and h.path == path)
        for h in root.handlers
    ):
        root.addHandler(_rotating_file(path))
    _log_level_at_least_info(root)
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
            show_error(None, message, is_bug=False)

    sys.excepthook = hook


def apply_theme(app: QApplication, *, style: bool = True) -> None:
    """Fusion (the same look on every platform) and Desk's style sheet; ``style=False`` for an
    application made by ``create_application`` (Fusion already)."""
    if style:
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
    from PySide6.QtWidgets import QMessageBox  # not needed to show the first window

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

    message = Signal(int, str)  # which opening (a newer one makes older messages stale), text


class _OpenFailure:
    """What the worker hands back when opening failed (so that every failure, a bug of ours
    included, comes back to the controller and the login dialog never waits forever)."""

    __slots__ = ("error", "traceback")

    def __init__(self, error: BaseException, traceback: str) -> None:
        self.error = error
        self.traceback = traceback


def _light_database_url(settings: config.Settings) -> tuple[str | None, str]:
    """The database to open and where that came from, without importing SQLAlchemy: a configured
    server's URL is built with SQLAlchemy, so that one is left (None) to the worker thread."""
    if not os.environ.get(config.ENV_DATABASE_URL) and settings.server is not None:
        return None, "settings"
    return config.resolve_database_url(settings=settings)


class AppController(QObject):
    """Shows the login dialog at once, opens the database behind it on the worker thread, then
    the main window after login, and the login dialog again on log out."""

    def __init__(self, database_url: str | None, source: str, parent: QObject | None = None):
        super().__init__(parent)
        self.settings = config.Settings.load()
        self.database_url: str | None
        if database_url:
            self.database_url, self.source = database_url, source
        else:
            self.database_url, self.source = _light_database_url(self.settings)
        self.ops = Operations(parent=self)
        self.ops.errorReported.connect(self._on_error_reported)
        self.window: MainWindow | None = None
        self.login_dialog: LoginDialog | None = None
        self._progress = _Progress(self)
        self._progress.message.connect(self._on_progress)
        self._opening = 0  # the number of the latest opening; older outcomes are stale

    # --- opening -------------------------------------------------------------------------

    def start(self) -> None:
        """The login dialog first (nothing heavy is imported yet), then open the database.

        The opening starts from the event loop's first turn, once the dialog is on screen: the
        worker's imports hold Python's GIL most of the time, and would slow the dialog down if
        they started while it is being shown."""
        self.show_login()
        url = self.database_url
        QTimer.singleShot(0, self, lambda: self._open_first(url))

    def _open_first(self, url: str | None) -> None:
        if self._opening == 0:  # nothing (connection settings) opened another one meanwhile
            self.open_database(url)

    def open_database(self, url: str | None) -> None:
        """Open ``url`` (None: the configured server) on the worker thread; the login dialog
        stays usable meanwhile and shows the progress."""
        self._opening += 1
        opening = self._opening
        if url is not None:
            self.database_url = url
        if self.login_dialog is None:
            self.show_login()
        assert self.login_dialog is not None
        self.login_dialog.database_opening(url)
        progress_signal = self._progress.message
        settings = self.settings

        def open_desk() -> tuple[str, Desk] | _OpenFailure:
            # On the worker: SQLAlchemy, Alembic and the ORM are imported here, not on the GUI
            # thread, so the login dialog is on screen before any of them is loaded.
            try:
                from desk.bootstrap import Desk

                target = url or config.resolve_database_url(settings=settings)[0]
                return target, Desk.open(
                    target,
                    upgrade=True,
                    progress=lambda text: progress_signal.emit(opening, text),
                    outbox_dir=config.outbox_dir(),
                )
            except Exception as exc:
                return _OpenFailure(exc, traceback.format_exc())

        self.ops.call(
            open_desk,
            on_success=lambda outcome: self._opened(opening, outcome),
            owner=self,
            label=self.tr("Preparing the database…"),
        )

    def _on_progress(self, opening: int, text: str) -> None:
        if opening == self._opening and self.login_dialog is not None:
            self.login_dialog.show_progress(text)

    def _opened(self, opening: int, outcome: tuple[str, Desk] | _OpenFailure) -> None:
        if opening != self._opening:  # superseded by another opening meanwhile
            if not isinstance(outcome, _OpenFailure):
                self.ops.call(outcome[1].close, owner=self)
            return
        if isinstance(outcome, _OpenFailure):
            self._open_failed(outcome)
            return
        url, desk = outcome
        self.database_url = url
        self.ops.desk = desk
        log.info("Opened %s database %s", desk.backend, desk.display_url)
        if self.login_dialog is None:
            self.show_login()
        else:
            self.login_dialog.database_ready(url)

    def _open_failed(self, failure: _OpenFailure) -> None:
        from PySide6.QtWidgets import QMessageBox

        from desk.services.errors import DatabaseUnavailable, SchemaMismatch

        exc = failure.error
        if is_user_error(exc):
            log.warning("Opening the database failed: %s: %s", type(exc).__name__, exc)
            detail = str(exc)
        else:
            log.error("Unexpected error while opening the database:\n%s", failure.traceback)
            detail = bug_message()
        if self.login_dialog is not None:
            self.login_dialog.database_failed()
        if isinstance(exc, SchemaMismatch):
            title = self.tr("This database needs a different version of Desk")
        elif isinstance(exc, DatabaseUnavailable):
            title = self.tr("The database cannot be reached")
        else:
            title = self.tr("The database could not be opened")
        box = QMessageBox(
            QMessageBox.Icon.Warning, self.tr("Desk"), title, parent=self.login_dialog
        )
        box.setObjectName("openFailedMessage")
        box.setInformativeText(detail)
        settings_button = box.addButton(
            self.tr("&Connection settings…"), QMessageBox.ButtonRole.AcceptRole
        )
        settings_button.setObjectName("connectionSettingsButton")
        retry = box.addButton(self.tr("&Retry"), QMessageBox.ButtonRole.ActionRole)
        retry.setObjectName("retryButton")
        quit_button = box.addButton(self.tr("&Quit"), QMessageBox.ButtonRole.RejectRole)
        quit_button.setObjectName("quitButton")
        box.setDefaultButton(settings_button)
        box.exec()
        clicked = box.clickedButton()
        box.deleteLater()
        if clicked is settings_button:
            self.show_connection_dialog(on_cancel=QApplication.quit, parent=self.login_dialog)
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
            if self.login_dialog is not None:
                self.login_dialog.settings = self.settings
            self._reopen(dialog.database_url())
        elif on_cancel is not None:
            on_cancel()
        dialog.deleteLater()

    def _reopen(self, url: str) -> None:
        """Another database: close the open one and open the new one behind the login dialog."""
        old = self.ops.desk
        self.ops.desk = None
        if old is not None:
            self.ops.call(old.close, owner=self)
        self.source = "settings"
        self.open_database(url)

    # --- login and the window ------------------------------------------------------------

    def show_login(self) -> None:
        """The login dialog: at start-up before the database is open, after log out with it."""
        from ui.login_dialog import LoginDialog

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
        self.login_dialog = None
        session = self.ops.desk.session if self.ops.desk is not None else None
        if session is not None and session.must_change_password:
            # An admin set the password: the person chooses their own before any customer data.
            from ui.password_dialog import ChangePasswordDialog

            dialog = ChangePasswordDialog(self.ops, session.username)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.accepted.connect(self._open_window)
            dialog.rejected.connect(
                lambda: self.ops.write(
                    lambda d: d.logout(), on_success=lambda _r: self.show_login(), owner=self
                )
            )
            dialog.show()
            return
        self._open_window()

    def _open_window(self) -> None:
        from ui.main_window import MainWindow

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
        show_error(self.window or self.login_dialog, message, is_bug=is_bug)

    def shutdown(self) -> None:
        self.ops.shutdown()


_FUSION_CHOSEN = "deskFusionChosen"  # a dynamic property of an application made here


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication as Desk makes it: with Fusion chosen at creation, Qt makes no other style
    first, and Python never has to wrap a style object, as switching an existing application to
    Fusion does (PySide6 builds the hundreds of QStyle enum members on first use, ~10 ms)."""
    args = list(sys.argv if argv is None else argv) or ["desk"]
    app = QApplication([*args, "-style", "Fusion"])
    app.setProperty(_FUSION_CHOSEN, True)
    return app


def main(database_url: str | None, source: str) -> int:
    """Run the window until the user quits; returns the process exit status."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = create_application()
    app.setApplicationName("Desk")
    app.setApplicationDisplayName("Desk")
    app.setOrganizationName(config.APP_AUTHOR)
    # Everything logged from here on reaches the log file (opened once the window is shown).
    log_file = log_to_file()
    assert log_file.path == log_file_path()
    apply_theme(app, style=not app.property(_FUSION_CHOSEN))
    install_translations(app)
    install_excepthook()
    app.setQuitOnLastWindowClosed(False)
    controller = AppController(database_url, source)
    app.aboutToQuit.connect(controller.shutdown)
    controller.start()
    # The file is opened on the worker thread, just before the database: the login window does
    # not wait for logging.handlers, and what was logged meanwhile is written first.
    controller.ops.call(log_file.open, owner=controller)
    log.info("Desk starting (database from %s); log file %s", source, log_file.path)
    status = app.exec()
    log.info("Desk stopped with status %s", status)
    return int(status)
