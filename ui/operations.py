"""The one door from widgets to services.

Every database call runs on one dedicated worker thread (so access to the Desk is serialised and
the SQLite connection stays on the thread that opened it), and the result or the error comes back
on the GUI thread through a signal. Widgets never touch the database and the worker never touches
a widget. After a successful write one application-wide ``changed`` signal tells every screen to
refresh itself (the pattern of Anki's ``CollectionOp``/``QueryOp``).

Errors come in two kinds. What the user or the environment caused (``DeskError``, the domain's
``ValidationError``, ``TransitionRefused`` and ``AmountError``) carries a message written for the
person at the counter: it is handed to the caller's ``on_error`` or shown as is. Anything else is
our bug: it is logged with its traceback and the user sees where the details are; the caller's
``on_error`` is called for it too (so the screen leaves its waiting state), and can tell it is a bug
with ``is_user_error``.
"""

from __future__ import annotations

import gc
import itertools
import logging
import queue
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication

if TYPE_CHECKING:
    from desk.bootstrap import Desk

log = logging.getLogger(__name__)


def user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions whose message is meant for the user. The domain modules are imported on
    first use, not at start-up (the login window is shown before any of them is needed)."""
    from desk.domain.money import AmountError
    from desk.domain.validation import ValidationError
    from desk.domain.workflow import TransitionRefused
    from desk.services.errors import DeskError

    return (DeskError, ValidationError, TransitionRefused, AmountError)


def is_user_error(exc: BaseException) -> bool:
    """True when the exception's message is meant for the user (not a bug of ours)."""
    return isinstance(exc, user_errors())


def log_file_path() -> Path:
    """Where the rotating log file lives; shown in the 'something went wrong' message."""
    from desk.config import log_dir

    return log_dir() / "desk.log"


def bug_message() -> str:
    return QCoreApplication.translate(
        "Operations", "Something went wrong. Details are in {path}"
    ).format(path=log_file_path())


class _Work:
    """What the worker thread sees: the call and its outcome, never a widget or a callback
    (a Qt object whose last reference dropped on the worker would be destroyed there).

    Plain classes rather than dataclasses: the login window is shown without that module."""

    __slots__ = ("done_event", "failure", "fn", "id", "result")

    def __init__(self, id: int, fn: Callable[[], Any]) -> None:
        self.id = id
        self.fn = fn
        self.done_event = threading.Event()
        self.result: Any = None
        self.failure: tuple[BaseException, str] | None = None


class _Job:
    """The GUI thread's side of one operation."""

    __slots__ = ("key", "label", "on_error", "on_success", "owner", "work", "write")

    def __init__(
        self,
        work: _Work,
        on_success: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], None] | None,
        owner: QObject | None,
        write: bool,
        key: str | None,
        label: str,
    ) -> None:
        self.work = work
        self.on_success = on_success
        self.on_error = on_error
        self.owner = owner
        self.write = write
        self.key = key
        self.label = label


class GuiThreadCollector(QObject):
    """Runs Python's cyclic garbage collector on the GUI thread only.

    Left automatic, a collection can start on the worker thread and destroy Qt objects that
    were part of a reference cycle there, which crashes. So automatic collection is switched
    off and a timer on the GUI thread collects instead (the usual PyQt/PySide remedy).
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setInterval(500)
        self.timer.timeout.connect(self.check)
        gc.disable()
        self.timer.start()

    def check(self) -> None:
        threshold0, threshold1, threshold2 = gc.get_threshold()
        count0, count1, count2 = gc.get_count()
        if count0 > threshold0:
            gc.collect(0)
            if count1 > threshold1:
                gc.collect(1)
                if count2 > threshold2:
                    gc.collect(2)


_collector: GuiThreadCollector | None = None


def ensure_gui_thread_collector() -> None:
    """Install the collector once per application (needs a running QCoreApplication)."""
    global _collector
    app = QCoreApplication.instance()
    if _collector is None and app is not None:
        _collector = GuiThreadCollector(app)
    if _collector is not None:
        gc.disable()  # again: someone (a test harness) may have switched it back on


class _Bridge(QObject):
    """Lives on the GUI thread; the worker emits on it, so delivery is queued to the GUI."""

    # Only the job travels (never None: PySide6 mis-counts references of a queued None).
    finished = Signal(object)


class Operations(QObject):
    """Runs service calls off the GUI thread, one at a time, and reports back on the GUI thread."""

    changed = Signal()
    busyChanged = Signal(bool)
    # A message for the user that nobody handled (user error) or the bug message.
    errorReported = Signal(str, bool)  # message, is_bug
    idle = Signal()

    def __init__(self, desk: Desk | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.desk: Desk | None = desk
        self._ids = itertools.count(1)
        self._pending: list[_Job] = []
        self._running: _Job | None = None
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        ensure_gui_thread_collector()
        self._bridge = _Bridge()
        self._bridge.finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self._thread = threading.Thread(target=self._work, name="desk-db", daemon=True)
        self._thread.start()
        self._stopped = False
        self._cursor_overridden = False
        self.current_label = ""

    # --- what widgets call ---------------------------------------------------------------

    def query(
        self,
        fn: Callable[[Desk], Any],
        *,
        on_success: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        owner: QObject | None = None,
        key: str | None = None,
        label: str = "",
    ) -> int:
        """Read something through the services; ``key`` coalesces superseded requests
        (type-ahead: only the newest search with the same key that has not started yet runs)."""
        desk = self._require_desk()
        return self._submit(
            lambda: fn(desk),
            on_success=on_success,
            on_error=on_error,
            owner=owner,
            write=False,
            key=key,
            label=label,
        )

    def write(
        self,
        fn: Callable[[Desk], Any],
        *,
        on_success: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        owner: QObject | None = None,
        label: str = "",
    ) -> int:
        """Change something; on success every screen is told through ``changed``."""
        desk = self._require_desk()
        return self._submit(
            lambda: fn(desk),
            on_success=on_success,
            on_error=on_error,
            owner=owner,
            write=True,
            key=None,
            label=label,
        )

    def call(
        self,
        fn: Callable[[], Any],
        *,
        on_success: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        owner: QObject | None = None,
        label: str = "",
    ) -> int:
        """Run work that needs no open Desk (opening the database, testing a connection)."""
        return self._submit(
            fn,
            on_success=on_success,
            on_error=on_error,
            owner=owner,
            write=False,
            key=None,
            label=label,
        )

    @property
    def stopped(self) -> bool:
        """True once shut down: nothing more can be asked."""
        return self._stopped

    @property
    def busy(self) -> bool:
        return self._running is not None or bool(self._pending)

    def shutdown(self, *, close_desk: bool = True, timeout: float = 15.0) -> None:
        """Close the Desk on the worker thread (where it was opened) and stop the thread."""
        if self._stopped:
            return
        self._stopped = True
        desk = self.desk
        self._pending.clear()
        if desk is not None and close_desk:
            self._queue.put(_Work(0, desk.close))
        self._queue.put(None)
        self._thread.join(timeout)
        self.desk = None
        self._restore_cursor()

    # --- machinery -----------------------------------------------------------------------

    def _require_desk(self) -> Desk:
        if self.desk is None:
            raise RuntimeError("No database is open yet")
        return self.desk

    def _submit(
        self,
        fn: Callable[[], Any],
        *,
        on_success: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], None] | None,
        owner: QObject | None,
        write: bool,
        key: str | None,
        label: str,
    ) -> int:
        if self._stopped:
            raise RuntimeError("Operations have been shut down")
        job = _Job(_Work(next(self._ids), fn), on_success, on_error, owner, write, key, label)
        if key is not None:
            self._pending = [p for p in self._pending if p.key != key]
        self._pending.append(job)
        self._pump()
        return job.work.id

    def _pump(self) -> None:
        was_busy = self._running is not None
        if self._running is None and self._pending:
            self._running = self._pending.pop(0)
            self.current_label = self._running.label
            self._queue.put(self._running.work)
        if self.busy and not was_busy:
            self._set_cursor()
            self.busyChanged.emit(True)

    def _work(self) -> None:
        """The worker thread: runs jobs in order and hands each outcome to the GUI thread."""
        while True:
            work = self._queue.get()
            if work is None:
                return
            try:
                work.result = work.fn()
            except BaseException as exc:  # reported on the GUI thread, never swallowed
                work.failure = (exc, traceback.format_exc())
            finally:
                work.done_event.set()
            if work.id and not self._stopped:
                try:
                    self._bridge.finished.emit(work)
                except RuntimeError:  # the bridge was deleted while the app was closing
                    return
            del work

    def _on_finished(self, work: _Work) -> None:
        result, outcome = work.result, work.failure
        work.result = work.failure = None
        job = self._running
        if job is None or job.work is not work:
            return
        self._running = None
        self.current_label = ""
        try:
            alive = job.owner is None or shiboken6.isValid(job.owner)
            if outcome is None:
                if alive and job.on_success is not None:
                    self._guarded(job.on_success, result)
                if job.write:
                    self.changed.emit()
            else:
                exc, tb_text = outcome
                if job.write:
                    exc = self._needs_the_server(exc)
                self._report(exc, tb_text, job.on_error if alive else None)
        finally:
            self._pump()
            if not self.busy:
                self._restore_cursor()
                self.busyChanged.emit(False)
                self.idle.emit()

    def _needs_the_server(self, exc: BaseException) -> BaseException:
        """A change that could not wait in the offline outbox (a decision, an admin change, a
        grant) failed because the server is away: say why it did not wait like a case does."""
        from desk.services.errors import DatabaseUnavailable, NotKeptOffline

        desk = self.desk
        if not isinstance(exc, DatabaseUnavailable) or isinstance(exc, NotKeptOffline):
            return exc
        if desk is None:
            return exc
        if getattr(desk.offline, "store", None) is None:
            return exc
        return DatabaseUnavailable(
            QCoreApplication.translate(
                "Operations",
                "{problem} This needs the server: decisions, approvals, grants and admin "
                "changes are checked by it, so they cannot wait on this computer like new "
                "cases, changes and contacts do. Try again when the connection is back.",
            ).format(problem=str(exc))
        )

    def _guarded(self, callback: Callable[[Any], None], value: Any) -> None:
        """A callback that fails is a bug of ours: log it and tell the user, keep running."""
        try:
            callback(value)
        except Exception as exc:
            self._report(exc, traceback.format_exc(), None)

    def _report(
        self,
        exc: BaseException,
        tb_text: str,
        on_error: Callable[[BaseException], None] | None,
    ) -> None:
        if is_user_error(exc):
            log.info("Operation refused: %s: %s", type(exc).__name__, exc)
            if on_error is not None:
                self._guarded(on_error, exc)
            else:
                self.errorReported.emit(str(exc), False)
            return
        log.error("Unexpected error in an operation:\n%s", tb_text)
        self.errorReported.emit(bug_message(), True)
        # The screen that asked must still hear of it, or it stays waiting (Save disabled, a
        # list "loading" forever); it tells a bug from a refusal with ``is_user_error``.
        if on_error is not None:
            self._guarded(on_error, exc)

    def _set_cursor(self) -> None:
        if not self._cursor_overridden and isinstance(QCoreApplication.instance(), QGuiApplication):
            QGuiApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
            self._cursor_overridden = True

    def _restore_cursor(self) -> None:
        if self._cursor_overridden:
            QGuiApplication.restoreOverrideCursor()
            self._cursor_overridden = False
