"""Idle detection: says when nobody has used the keyboard or the mouse in the application for a
while, so the main window can lock itself (counter PCs are shared).

An application-wide event filter restarts a single-shot timer on every input event, in any window
of the application; the timer's timeout is ``idle``. Everything else the application does
(painting, timers, results arriving from the database) is not input and does not postpone it.
The interval is given in milliseconds, so tests use a tiny one; 0 switches the lock off.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal

MINUTE_MS = 60_000

_INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.KeyRelease,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TouchUpdate,
        QEvent.Type.TouchEnd,
        QEvent.Type.TabletPress,
        QEvent.Type.TabletMove,
        QEvent.Type.InputMethod,
    }
)


class IdleWatcher(QObject):
    """Emits ``idle`` once after ``interval_ms`` without keyboard or mouse input anywhere in the
    application. ``stop()`` while the window is locked, ``start()`` again after unlocking."""

    idle = Signal()

    def __init__(self, interval_ms: int = 0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("idleWatcher")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        # One timer: precision costs nothing, and makes "counting from now" exact.
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.idle)
        self._watching = False
        self.input_events = 0  # how many input events restarted the countdown (for tests)
        self.set_interval_ms(interval_ms)
        app = QCoreApplication.instance()
        if app is None:
            raise RuntimeError("IdleWatcher needs a running QApplication")
        # Removed by Qt when this object is deleted (the application keeps a guarded pointer).
        app.installEventFilter(self)

    @staticmethod
    def minutes_to_ms(minutes: int) -> int:
        return max(0, minutes) * MINUTE_MS

    @property
    def interval_ms(self) -> int:
        return self._interval

    @property
    def enabled(self) -> bool:
        """False when the organisation switched the idle lock off (0 minutes)."""
        return self._interval > 0

    @property
    def watching(self) -> bool:
        return self._watching and self.enabled

    def set_interval_ms(self, interval_ms: int) -> None:
        """A new interval (0: never idle); the countdown starts again if it is running."""
        self._interval = max(0, int(interval_ms))
        if self._interval:
            self._timer.setInterval(self._interval)
        if self._watching:
            self.start()

    def start(self) -> None:
        """Start (or restart) counting down from now."""
        self._watching = True
        if self.enabled:
            self._timer.start()
        else:
            self._timer.stop()

    def stop(self) -> None:
        """Stop counting (the window is locked already, or is closing)."""
        self._watching = False
        self._timer.stop()

    def remaining_ms(self) -> int:
        """Milliseconds until ``idle`` (-1 when not counting)."""
        return self._timer.remainingTime() if self._timer.isActive() else -1

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Called for every event of the application: keep it to a set lookup.
        if self._watching and event.type() in _INPUT_EVENTS and self._interval:
            self.input_events += 1
            self._timer.start()
        return False
