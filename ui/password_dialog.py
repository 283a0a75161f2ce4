"""Choose your own password: required at the first login after an admin created the account or
reset its password, and never shown with anyone's customer data behind it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk.domain.passwords import MIN_PASSWORD_LENGTH, password_problems
from ui.widgets import FieldError, set_role

if TYPE_CHECKING:
    from desk.services.dto import StaffSession
    from ui.operations import Operations


class ChangePasswordDialog(QDialog):
    """Accepted once the new password is stored; ``changed(StaffSession)`` carries the session."""

    changed = Signal(object)

    def __init__(self, ops: Operations, username: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.username = username
        self.setObjectName("changePasswordDialog")
        self.setWindowTitle(self.tr("Choose your password"))
        self.setMinimumWidth(440)
        intro = QLabel(
            self.tr(
                "Your password was set by an administrator. Choose your own now: at least "
                "{n} characters, not containing your user name. Nobody else will know it."
            ).format(n=MIN_PASSWORD_LENGTH)
        )
        intro.setWordWrap(True)
        self.new = QLineEdit()
        self.new.setObjectName("newPassword")
        self.new.setAccessibleName(self.tr("New password"))
        self.new.setEchoMode(QLineEdit.EchoMode.Password)
        self.again = QLineEdit()
        self.again.setObjectName("newPasswordAgain")
        self.again.setAccessibleName(self.tr("New password again"))
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        self.rules = QLabel()
        self.rules.setObjectName("passwordRules")
        self.rules.setWordWrap(True)
        self.error = FieldError("newPasswordError")
        form = QFormLayout()
        for text, widget in (
            (self.tr("&New password:"), self.new),
            (self.tr("A&gain:"), self.again),
        ):
            caption = QLabel(text)
            caption.setBuddy(widget)
            form.addRow(caption, widget)
        form.addRow("", self.rules)
        form.addRow("", self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = QPushButton(self.tr("&Save password"))
        self.save_button.setObjectName("savePasswordButton")
        self.save_button.setAccessibleName(self.tr("Save password"))
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setText(self.tr("&Log out"))
        cancel.setObjectName("cancelPasswordButton")
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.save_button.setDefault(True)  # Enter saves (set once the box has its buttons)
        self.new.textChanged.connect(self._show_rules)
        self.again.textChanged.connect(lambda _text: self.error.clear_message())
        self._show_rules("")
        self.new.setFocus()

    def _show_rules(self, text: str) -> None:
        """The rules, live, in the same words the server side uses to refuse."""
        problems = password_problems(self.username, text)
        if not text:
            self.rules.setText(self.tr("Type a new password."))
            set_role(self.rules, "hint")
        elif problems:
            self.rules.setText(" ".join(problems))
            set_role(self.rules, "warning")
        else:
            self.rules.setText(self.tr("That password is fine."))
            set_role(self.rules, "hint")

    def _save(self) -> None:
        new, again = self.new.text(), self.again.text()
        problems = password_problems(self.username, new)
        if problems:
            self.error.show_message(" ".join(problems))
            self.new.setFocus()
            return
        if new != again:
            self.error.show_message(self.tr("The two passwords differ; type the same one twice."))
            self.again.selectAll()
            self.again.setFocus()
            return
        self.error.clear_message()
        self.save_button.setEnabled(False)
        self.ops.write(
            lambda d: d.change_password(new),
            on_success=self._saved,
            on_error=self._failed,
            owner=self,
            label=self.tr("Saving your password…"),
        )

    def _saved(self, session: StaffSession) -> None:
        self.changed.emit(session)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        from ui.operations import bug_message, is_user_error

        self.save_button.setEnabled(True)
        self.error.show_message(str(exc) if is_user_error(exc) else bug_message())
