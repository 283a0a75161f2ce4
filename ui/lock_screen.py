"""What a locked Desk shows: the lock screen (only the person who locked it unlocks it, with their
password; anyone else can log them out), and covers over every other Desk window.

Nothing here talks to the database: the main window hands the password to the worker thread and
tells the screen the outcome.

Other windows (a message box, a dialog waiting for an answer) cannot simply be hidden while
locked: hiding a dialog that is running ``exec()`` ends it as if Cancel was pressed, and what was
typed in it would be lost. So they stay open, with their contents hidden under a cover and the
window disabled, and come back as they were after unlocking. Such a dialog is usually modal, and
Qt lets the keyboard reach only the front-most modal window: then the lock screen is shown in a
dialog of its own in front (``UnlockDialog``) instead of inside the main window.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import shiboken6
from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from ui.widgets import FieldError


class LockScreen(QWidget):
    """The locked window's face: who locked it, their password, Unlock and Log out."""

    unlockRequested = Signal(str)  # the password typed
    logoutRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockScreen")
        self.setAccessibleName(self.tr("Desk is locked"))
        self._full_name = ""
        self._busy = False

        card = QFrame()
        card.setObjectName("lockCard")
        card.setStyleSheet(
            "QFrame#lockCard { background: #ffffff; border: 1px solid #d5d9e0; "
            "border-radius: 8px; }"
        )
        card.setMaximumWidth(520)
        card.setMinimumWidth(380)

        self.title = QLabel(self.tr("Desk is locked"))
        self.title.setObjectName("lockTitle")
        self.title.setProperty("role", "title")
        self.who = QLabel()
        self.who.setObjectName("lockedBy")
        self.who.setWordWrap(True)
        self.reason = QLabel()
        self.reason.setObjectName("lockReason")
        self.reason.setProperty("role", "hint")
        self.reason.setWordWrap(True)

        self.password = QLineEdit()
        self.password.setObjectName("unlockPassword")
        self.password.setAccessibleName(self.tr("Password"))
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        password_label = QLabel(self.tr("&Password:"))
        password_label.setBuddy(self.password)
        self.error = FieldError("unlockError")
        self.status = QLabel()
        self.status.setObjectName("unlockStatus")
        self.status.setProperty("role", "hint")
        self.status.hide()

        self.unlock_button = QPushButton(self.tr("&Unlock"))
        self.unlock_button.setObjectName("unlockButton")
        self.unlock_button.setAccessibleName(self.tr("Unlock"))
        self.unlock_button.setDefault(True)
        self.logout_button = QPushButton(self.tr("Log &out"))
        self.logout_button.setObjectName("lockLogoutButton")
        self.logout_button.setAccessibleName(self.tr("Log out"))
        self.others = QLabel()
        self.others.setObjectName("lockOthersHint")
        self.others.setProperty("role", "hint")
        self.others.setWordWrap(True)

        form = QFormLayout()
        form.addRow(password_label, self.password)
        buttons = QHBoxLayout()
        buttons.addWidget(self.logout_button)
        buttons.addStretch(1)
        buttons.addWidget(self.unlock_button)

        inner = QVBoxLayout(card)
        inner.setContentsMargins(24, 20, 24, 20)
        inner.setSpacing(10)
        inner.addWidget(self.title)
        inner.addWidget(self.who)
        inner.addWidget(self.reason)
        inner.addSpacing(6)
        inner.addLayout(form)
        inner.addWidget(self.error)  # right under the field, only when there is something to say
        inner.addWidget(self.status)
        inner.addLayout(buttons)
        inner.addSpacing(6)
        inner.addWidget(self.others)

        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card, 3)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

        self.setTabOrder(self.password, self.unlock_button)
        self.setTabOrder(self.unlock_button, self.logout_button)
        self.password.returnPressed.connect(self._submit)
        self.unlock_button.clicked.connect(self._submit)
        self.logout_button.clicked.connect(self.logoutRequested)
        self.setFocusProxy(self.password)

    @property
    def person(self) -> str:
        return self._full_name

    def set_person(self, full_name: str) -> None:
        """Whose window this is (their name only: nothing of any customer)."""
        self._full_name = full_name
        self.who.setText(
            self.tr("{name} locked Desk. Only {name} can unlock it, with their password.").format(
                name=full_name
            )
        )
        self.others.setText(
            self.tr(
                "Someone else? Log out first, then log in as yourself. An unsaved case is kept "
                "as a draft for {name}."
            ).format(name=full_name)
        )

    def set_reason(self, text: str) -> None:
        self.reason.setText(text)
        self.reason.setVisible(bool(text))

    # --- typing the password ------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._busy

    def reset(self) -> None:
        """A fresh lock: nothing typed, no message."""
        self.password.clear()
        self.error.clear_message()
        self.set_busy(False)

    def focus_password(self) -> None:
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)
        self.password.selectAll()

    def set_busy(self, busy: bool) -> None:
        """While the password is being checked (read-only, so the keyboard stays in the field)."""
        self._busy = busy
        self.password.setReadOnly(busy)
        self.unlock_button.setEnabled(not busy)
        self.status.setText(self.tr("Checking the password…") if busy else "")
        self.status.setVisible(busy)

    def show_error(self, message: str) -> None:
        self.set_busy(False)
        self.error.show_message(message)
        self.focus_password()

    def _submit(self) -> None:
        if self._busy:
            return
        password = self.password.text()
        if not password:
            self.show_error(self.tr("Enter your password."))
            return
        self.error.clear_message()
        self.unlockRequested.emit(password)


class UnlockDialog(QDialog):
    """The lock screen in a window of its own, in front of a dialog that was waiting for an
    answer when Desk locked (that dialog, modal, would keep the keyboard from the main window).
    Escape and the close button do nothing: it goes away on unlock or log out."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("unlockDialog")
        self.setAccessibleName(self.tr("Desk is locked"))
        self.setWindowTitle(self.tr("Desk — locked"))
        self.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.screen_widget = LockScreen(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.screen_widget)
        self.setMinimumSize(QSize(460, 320))

    def reject(self) -> None:
        """Escape: stay (only unlocking or logging out ends the lock)."""

    def closeEvent(self, event: QCloseEvent) -> None:
        event.ignore()

    def bring_to_front(self) -> None:
        """Show it, or show it again: the modal window shown last is the one that gets the
        keyboard, so a dialog that appeared meanwhile must not stay in front of it."""
        if self.isVisible():
            self.hide()
        self.show()
        self.raise_()
        self.activateWindow()
        self.screen_widget.focus_password()


@dataclass
class _Cover:
    """One covered window and what is needed to give it back as it was."""

    window: QWidget
    label: QLabel
    title: str
    frozen: QSize  # the size it keeps while covered
    minimum: QSize
    maximum: QSize
    hidden: list[QWidget] = field(default_factory=list)
    focus: QWidget | None = None
    was_enabled: bool = True


def _alive(widget: QWidget | None) -> bool:
    return widget is not None and shiboken6.isValid(widget)


class WindowCovers(QObject):
    """While Desk is locked, every other Desk window keeps what it holds but shows nothing of it:
    its contents are hidden under a plain cover and the window is disabled. Windows that open
    while locked are covered as they appear; menus and pop-up lists are closed.
    ``modalWindowsChanged`` says when a covered window appeared or went away, so the lock screen
    can move to where the keyboard reaches it."""

    modalWindowsChanged = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Weakly: a strong reference to the main window from its own child would keep the
        # window's Python wrapper alive after Qt deleted it (automatic collection is off).
        self._skipped: weakref.WeakSet[QWidget] = weakref.WeakSet()
        self._covers: dict[int, _Cover] = {}
        self._active = False
        self._text = ""
        self._title = self.tr("Desk — locked")
        self._notify = QTimer(self)
        self._notify.setSingleShot(True)
        self._notify.setInterval(0)
        self._notify.timeout.connect(self.modalWindowsChanged)

    @property
    def active(self) -> bool:
        return self._active

    def skip(self, window: QWidget) -> None:
        """Never cover this window (the main window, which shows the lock screen itself)."""
        self._skipped.add(window)

    def covered_windows(self) -> list[QWidget]:
        return [c.window for c in self._covers.values() if _alive(c.window)]

    def cover_all(self, text: str) -> None:
        """Cover every visible window but the skipped ones; keep covering new ones."""
        self._text = text
        self._close_popups()
        if not self._active:
            self._active = True
            app = QApplication.instance()
            if app is not None:
                app.installEventFilter(self)
        for window in QApplication.topLevelWidgets():
            if window.isVisible() and self._wanted(window):
                self._cover(window)

    def uncover_all(self) -> None:
        """Give every window back as it was (contents, focus, enabled)."""
        if self._active:
            self._active = False
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
        covers, self._covers = list(self._covers.values()), {}
        for cover in covers:
            self._uncover(cover)

    def close_all(self) -> None:
        """Log out: every covered window is closed (a dialog is cancelled) after uncovering."""
        windows = self.covered_windows()
        self.uncover_all()
        for window in windows:
            if not _alive(window):
                continue
            if isinstance(window, QDialog):
                window.reject()
            else:
                window.close()

    def has_modal_window(self) -> bool:
        """True when a covered window is modal (it keeps the keyboard from the main window)."""
        return any(w.isVisible() and w.isModal() for w in self.covered_windows())

    # --- machinery -----------------------------------------------------------------------

    def _wanted(self, window: QWidget) -> bool:
        if window in self._skipped or isinstance(window, QDockWidget):
            return False  # the main window hides its own docks
        kind = window.windowType()
        return kind not in (Qt.WindowType.Popup, Qt.WindowType.ToolTip, Qt.WindowType.Desktop)

    def _close_popups(self) -> None:
        QToolTip.hideText()
        for _ in range(10):  # a menu inside a menu: close from the innermost out
            popup = QApplication.activePopupWidget()
            if popup is None:
                break
            popup.close()

    def _cover(self, window: QWidget) -> None:
        if id(window) in self._covers:
            return
        cover = _Cover(
            window=window,
            label=QLabel(window),
            title=window.windowTitle(),
            frozen=window.size(),
            minimum=window.minimumSize(),
            maximum=window.maximumSize(),
            focus=window.focusWidget(),
            # Its own setting: a dialog of a disabled parent is disabled too, and comes back
            # with its parent.
            was_enabled=not window.testAttribute(Qt.WidgetAttribute.WA_ForceDisabled),
        )
        # The window keeps its size while its contents are hidden (a message box would shrink
        # itself to its now empty layout; see the Resize case of eventFilter).
        window.setFixedSize(cover.frozen)
        window.setWindowTitle(self._title)
        cover.hidden = [
            child
            for child in window.findChildren(
                QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly
            )
            if child is not cover.label and not child.isWindow() and not child.isHidden()
        ]
        for child in cover.hidden:
            child.hide()
        label = cover.label
        label.setObjectName("lockCover")
        label.setText(self._text)
        label.setAccessibleName(self._text)
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setAutoFillBackground(True)
        label.setMargin(16)
        label.setGeometry(window.rect())
        label.show()
        label.raise_()
        window.setEnabled(False)
        self._covers[id(window)] = cover

    def _uncover(self, cover: _Cover) -> None:
        window = cover.window
        if not _alive(window):
            return
        if _alive(cover.label):
            cover.label.hide()
            cover.label.deleteLater()
        for child in cover.hidden:
            if _alive(child):
                child.show()
        window.setMinimumSize(cover.minimum)
        window.setMaximumSize(cover.maximum)
        window.setWindowTitle(cover.title)
        window.setEnabled(cover.was_enabled)
        if _alive(cover.focus) and cover.focus is not None and cover.focus.isVisible():
            cover.focus.setFocus(Qt.FocusReason.OtherFocusReason)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.Show, QEvent.Type.Hide, QEvent.Type.Resize):
            return False
        if not isinstance(watched, QWidget) or not watched.isWindow():
            return False
        if kind == QEvent.Type.Resize:
            cover = self._covers.get(id(watched))
            if cover is not None and cover.window is watched:
                if watched.size() != cover.frozen:
                    watched.setFixedSize(cover.frozen)  # a message box resizing itself
                if _alive(cover.label):
                    cover.label.setGeometry(watched.rect())
            return False
        if kind == QEvent.Type.Show:
            if watched.windowType() == Qt.WindowType.Popup:
                # A menu or a pop-up list (customer names!) would also take the keyboard.
                QTimer.singleShot(0, watched, watched.close)
            elif self._wanted(watched):
                self._cover(watched)
                self._notify.start()
        elif id(watched) in self._covers:
            self._notify.start()
        return False
