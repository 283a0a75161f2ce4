"""The admin console's settings tab: the idle lock and the rolling window for limits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desk.services.admin import GRANT_WINDOW_DAYS, AdminInputError, OrganisationSettings
from desk.services.org_settings import IDLE_LOCK_MINUTES
from ui.admin_common import MessageLine, button, error_text, labelled
from ui.widgets import FieldError

if TYPE_CHECKING:
    from ui.operations import Operations


class SettingsTab(QWidget):
    """Each setting is shown only to someone whose role may change it."""

    loadingChanged = Signal(bool)
    loaded = Signal()
    saved = Signal()

    def __init__(
        self,
        ops: Operations,
        *,
        idle_lock: bool,
        grant_window: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setObjectName("adminSettingsTab")
        self.loading = False
        self.shows_idle_lock, self.shows_grant_window = idle_lock, grant_window
        self.current: OrganisationSettings | None = None
        self._pending = 0
        self._failed = False

        self.idle_lock = self._number_field(
            "settingIdleLock",
            self.tr("Idle lock, minutes"),
            self.tr("minutes, {low} to {high}; 0: never").format(
                low=IDLE_LOCK_MINUTES.minimum, high=IDLE_LOCK_MINUTES.maximum
            ),
        )
        self.idle_lock_error = FieldError("settingIdleLockError")
        self.window_days = self._number_field(
            "settingGrantWindow",
            self.tr("Rolling window for limits, days"),
            self.tr("days, {low} to {high}").format(
                low=GRANT_WINDOW_DAYS.minimum, high=GRANT_WINDOW_DAYS.maximum
            ),
        )
        self.window_days_error = FieldError("settingGrantWindowError")
        self.fields = {
            IDLE_LOCK_MINUTES.key: (self.idle_lock, self.idle_lock_error),
            GRANT_WINDOW_DAYS.key: (self.window_days, self.window_days_error),
        }

        form = QFormLayout()
        if idle_lock:
            hint = QLabel(
                self.tr(
                    "Counter PCs are shared: after this many minutes without input the window "
                    "hides customer data until the same person unlocks it (0: never). Takes "
                    "effect at each person's next login."
                )
            )
            hint.setWordWrap(True)
            hint.setProperty("role", "hint")
            labelled(
                form,
                self.tr("&Idle lock after (minutes):"),
                self.idle_lock,
                self.idle_lock_error,
                hint,
            )
        if grant_window:
            hint = QLabel(
                self.tr(
                    "A customer's grants of one kind within this many days count together "
                    "toward a limit, so a large amount cannot be split into small ones."
                )
            )
            hint.setWordWrap(True)
            hint.setProperty("role", "hint")
            labelled(
                form,
                self.tr("&Rolling window for limits (days):"),
                self.window_days,
                self.window_days_error,
                hint,
            )
        self.save_button = button(self.tr("&Save settings"), "settingsSaveButton", "")
        self.save_button.setAccessibleName(self.tr("Save settings"))
        self.save_button.clicked.connect(self.save)
        self.message = MessageLine("settingsMessage")
        actions = QHBoxLayout()
        actions.addWidget(self.save_button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addLayout(actions)
        layout.addStretch(1)

    def _number_field(self, object_name: str, accessible_name: str, hint: str) -> QLineEdit:
        """Whole numbers as typed: the service checks them and says what is wrong beside the
        field (a spin box would silently clamp what was typed)."""
        field = QLineEdit()
        field.setObjectName(object_name)
        field.setAccessibleName(accessible_name)
        field.setPlaceholderText(hint)
        field.setMaximumWidth(260)
        field.returnPressed.connect(self.save)
        return field

    def reload(self) -> None:
        if self._pending:
            return  # a save is under way; its own reload follows
        self.loading = True
        self.loadingChanged.emit(True)
        self.ops.query(
            lambda d: d.admin.settings(),
            on_success=self._loaded,
            on_error=self._load_failed,
            owner=self,
            label=self.tr("Loading settings…"),
        )

    def _loaded(self, current: OrganisationSettings) -> None:
        """Fresh values; a value the admin is changing (not saved yet) stays as typed."""
        before, self.current = self.current, current
        pairs = (
            (self.idle_lock, current.idle_lock_minutes, before and before.idle_lock_minutes),
            (self.window_days, current.grant_window_days, before and before.grant_window_days),
        )
        for widget, new, old in pairs:
            if before is None or widget.text().strip() == str(old):
                widget.setText(str(new))
        self.loading = False
        self.loadingChanged.emit(False)
        self.loaded.emit()

    def _load_failed(self, exc: BaseException) -> None:
        self.loading = False
        self.loadingChanged.emit(False)
        self.message.error(error_text(exc))

    def save(self) -> None:
        current = self.current
        if current is None or self._pending:
            return
        for _, error in self.fields.values():
            error.clear_message()
        self.message.clear_message()
        minutes, days = self.idle_lock.text().strip(), self.window_days.text().strip()
        writes = []
        if self.shows_idle_lock and minutes != str(current.idle_lock_minutes):
            writes.append(lambda d: d.admin.set_idle_lock_minutes(minutes))
        if self.shows_grant_window and days != str(current.grant_window_days):
            writes.append(lambda d: d.admin.set_grant_window_days(days))
        if not writes:
            self.message.info(self.tr("Nothing was changed."))
            return
        self._pending, self._failed = len(writes), False
        self.save_button.setEnabled(False)
        for write in writes:
            self.ops.write(write, on_success=self._one_saved, on_error=self._one_failed, owner=self)

    def _one_saved(self, _value: int) -> None:
        self._settle()

    def _one_failed(self, exc: BaseException) -> None:
        self._failed = True
        field = exc.field if isinstance(exc, AdminInputError) else ""
        if field in self.fields:
            widget, error = self.fields[field]
            error.show_message(error_text(exc))
            widget.setFocus()
        else:
            self.message.error(error_text(exc))
        self._settle()

    def _settle(self) -> None:
        self._pending -= 1
        if self._pending:
            return
        self.save_button.setEnabled(True)
        if not self._failed:
            self.message.info(self.tr("The settings are saved."))
        self.saved.emit()
        self.reload()
