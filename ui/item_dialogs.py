"""The officer's side of the supervisor inbox, over a saved case: ask for a supervisor's review,
send a sensitive reply to be vetted, record a customer's compliment about a member of staff; and,
from "My raised items", send a returned item again or mark an approved reply as sent.

Each dialog makes its client key when it opens, so a retried Send never raises two items. A
refusal appears beside the field it concerns and the text stays as typed; Ctrl+Enter sends from
anywhere in the dialog; Esc cancels, and asks first when something was typed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desk.domain.work_items import ReviewOrigin
from ui.labels import local_time
from ui.operations import bug_message, is_user_error
from ui.widgets import FieldError, TextBox, set_role

if TYPE_CHECKING:
    from desk.bootstrap import Desk
    from desk.services.work_items import WorkItemView
    from ui.operations import Operations

Call = Callable[["Desk"], Any]


def _label(text: str, buddy: QWidget | None = None, *, role: str = "") -> QLabel:
    """A caption (with a buddy: one line, its mnemonic moves there) or a wrapped sentence."""
    label = QLabel(text)
    label.setWordWrap(buddy is None)
    if buddy is not None:
        label.setBuddy(buddy)
    if role:
        label.setProperty("role", role)
    return label


def _plain(text: str, object_name: str, *, role: str = "") -> QLabel:
    """Text from the database: never read as markup."""
    label = QLabel(text)
    label.setObjectName(object_name)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    if role:
        label.setProperty("role", role)
    return label


class _SendingDialog(QDialog):
    """What the dialogs share: one client key per opening, Ctrl+Enter sends, Esc asks before
    throwing typed text away, a refusal lands beside its field (``ItemRefused.field``)."""

    done = Signal(object)  # the WorkItemView the service returned

    send_label = ""  # the busy label of the operation

    def __init__(self, ops: Operations, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.ops = ops
        # One key per opening of the dialog: a retried Send returns the item already raised.
        self.client_uuid = uuid.uuid4()
        self.sending = False
        self.confirm: QMessageBox | None = None
        self.field_errors: dict[str, FieldError] = {}
        self.focus_of: dict[str, QWidget] = {}
        self.error = FieldError("itemSendError")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("itemCancelButton")
        self.cancel_button.setAccessibleName(self.tr("Cancel"))
        self.cancel_button.setAutoDefault(False)
        self.send_button = QPushButton()
        self.buttons.addButton(self.send_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.send_button.setDefault(True)
        self.buttons.accepted.connect(self.send)
        self.buttons.rejected.connect(self.reject)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(self.send)

    def _name_send(self, text: str, object_name: str, accessible: str) -> None:
        self.send_button.setText(text)
        self.send_button.setObjectName(object_name)
        self.send_button.setAccessibleName(accessible)

    def _ctrl_enter_hint(self) -> QLabel:
        return _label(self.tr("Ctrl+Enter sends; Esc cancels."), role="hint")

    # --- what each dialog says ------------------------------------------------------------

    def _call(self) -> Call | None:
        """The service call, or None after saying beside a field what is missing."""
        raise NotImplementedError

    def has_typed(self) -> bool:
        """Something typed that Esc would throw away."""
        raise NotImplementedError

    # --- sending ------------------------------------------------------------------------

    def send(self) -> None:
        if self.sending:
            return  # the first click is on its way; its answer is the answer
        for error in self.field_errors.values():
            error.clear_message()
        self.error.clear_message()
        call = self._call()
        if call is None:
            return
        self._set_sending(True)
        self.ops.write(
            call, on_success=self._sent, on_error=self._failed, owner=self, label=self.send_label
        )

    def _sent(self, view: WorkItemView) -> None:
        self._set_sending(False)
        self.done.emit(view)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        """Keep everything typed; say what went wrong beside the field it concerns."""
        self._set_sending(False)
        if not is_user_error(exc):
            self.error.show_message(bug_message())
            return
        field = str(getattr(exc, "field", "") or "")
        self.refuse(field, str(exc))

    def refuse(self, field: str, message: str) -> None:
        """Show ``message`` beside ``field`` (or above the buttons) and go there."""
        error = self.field_errors.get(field)
        if error is None:
            self.error.show_message(message)
            return
        error.show_message(message)
        target = self.focus_of.get(field)
        if target is not None:
            target.setFocus()

    def _set_sending(self, sending: bool) -> None:
        self.sending = sending
        self.send_button.setEnabled(not sending)

    # --- leaving ------------------------------------------------------------------------

    def reject(self) -> None:
        if self.sending:
            return  # an item on its way is not abandoned half-way
        if not self.has_typed() or not self.isVisible():
            super().reject()
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Discard what you typed?"),
            self.tr("Close without sending? What you typed here is not kept."),
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setObjectName("itemDiscardConfirm")
        box.setAccessibleName(self.tr("Discard what you typed?"))
        discard = box.addButton(self.tr("&Discard"), QMessageBox.ButtonRole.DestructiveRole)
        discard.setObjectName("itemDiscardButton")
        discard.setAccessibleName(self.tr("Discard what you typed"))
        keep = box.addButton(self.tr("&Keep editing"), QMessageBox.ButtonRole.RejectRole)
        keep.setObjectName("itemKeepEditingButton")
        keep.setAccessibleName(self.tr("Keep editing"))
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.finished.connect(
            lambda _result: self.discard() if box.clickedButton() is discard else None
        )
        self.confirm = box
        box.open()

    def discard(self) -> None:
        """Close without sending (after the person said so)."""
        QDialog.reject(self)


class _CaseItemDialog(_SendingDialog):
    """A dialog that raises an item on a saved case."""

    def __init__(
        self,
        ops: Operations,
        case_id: int,
        case_reference: str,
        parent: QWidget | None = None,
        *,
        prefill: str = "",
    ) -> None:
        super().__init__(ops, parent)
        self.case_id = case_id
        self.case_reference = case_reference
        self.prefill = prefill
        self.setMinimumWidth(560)

    def _body_box(self, object_name: str, accessible: str, placeholder: str, lines: int) -> TextBox:
        box = TextBox(object_name, accessible, placeholder=placeholder, lines=lines)
        box.setPlainText(self.prefill)
        self.body = box
        self.body_error = FieldError(object_name + "Error")
        self.field_errors["body"] = self.body_error
        self.focus_of["body"] = box
        return box

    def _body_text(self, missing: str) -> str | None:
        text = self.body.text()
        if not text.strip():
            self.refuse("body", missing)
            return None
        return text

    def has_typed(self) -> bool:
        return self.body.text().strip() != self.prefill.strip()


class ReviewRequestDialog(_CaseItemDialog):
    """The customer asks for a supervisor's review, or the officer cannot resolve the case."""

    def __init__(
        self,
        ops: Operations,
        case_id: int,
        case_reference: str,
        parent: QWidget | None = None,
        *,
        prefill: str = "",
    ) -> None:
        super().__init__(ops, case_id, case_reference, parent, prefill=prefill)
        self.setObjectName("reviewRequestDialog")
        self.setWindowTitle(
            self.tr("Ask for a supervisor's review of {reference}").format(reference=case_reference)
        )
        self.setAccessibleName(self.windowTitle())
        self.send_label = self.tr("Asking for a review…")

        intro = _label(
            self.tr(
                "It goes to your supervisor, or to whoever decides while they are away. Their "
                "decision, and words for telling the customer, appear under My raised items."
            ),
            role="hint",
        )
        who = QGroupBox(self.tr("Who asks"))
        who.setObjectName("reviewWho")
        self.customer_asks = QRadioButton(self.tr("The &customer asks for a supervisor's review"))
        self.customer_asks.setObjectName("reviewCustomerAsks")
        self.customer_asks.setAccessibleName(self.tr("The customer asks for a supervisor's review"))
        self.cannot_resolve = QRadioButton(self.tr("&I cannot resolve this case"))
        self.cannot_resolve.setObjectName("reviewCannotResolve")
        self.cannot_resolve.setAccessibleName(self.tr("I cannot resolve this case"))
        self.customer_asks.setChecked(True)
        self.origin = QButtonGroup(self)
        self.origin.addButton(self.customer_asks)
        self.origin.addButton(self.cannot_resolve)
        who_layout = QVBoxLayout(who)
        who_layout.addWidget(self.customer_asks)
        who_layout.addWidget(self.cannot_resolve)

        body = self._body_box(
            "reviewReason",
            self.tr("Reason for the review"),
            self.tr(
                "What was decided, what the customer disagrees with and why; or what stops you "
                "resolving the case."
            ),
            lines=6,
        )
        self._name_send(self.tr("&Send"), "reviewSendButton", self.tr("Send the review request"))

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(who)
        layout.addWidget(_label(self.tr("&Reason:"), body))
        layout.addWidget(body)
        layout.addWidget(self.body_error)
        layout.addWidget(self._ctrl_enter_hint())
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setTabOrder(self.customer_asks, self.cannot_resolve)
        self.setTabOrder(self.cannot_resolve, body)
        body.setFocus()

    def chosen_origin(self) -> ReviewOrigin:
        if self.cannot_resolve.isChecked():
            return ReviewOrigin.CANNOT_RESOLVE
        return ReviewOrigin.CUSTOMER_ASKED

    def _call(self) -> Call | None:
        reason = self._body_text(self.tr("Say what should be reviewed, and why."))
        if reason is None:
            return None
        case_id, origin, key = self.case_id, self.chosen_origin(), self.client_uuid
        return lambda d: d.items.ask_review(case_id, reason, origin=origin, client_uuid=key)


class ReplyVettingDialog(_CaseItemDialog):
    """A sensitive or complex reply, read by a supervisor before it may go to the customer."""

    def __init__(
        self,
        ops: Operations,
        case_id: int,
        case_reference: str,
        parent: QWidget | None = None,
        *,
        prefill: str = "",
    ) -> None:
        super().__init__(ops, case_id, case_reference, parent, prefill=prefill)
        self.setObjectName("replyVettingDialog")
        self.setWindowTitle(
            self.tr("Send a reply on {reference} for vetting").format(reference=case_reference)
        )
        self.setAccessibleName(self.windowTitle())
        self.send_label = self.tr("Sending the reply for vetting…")
        self.setMinimumWidth(620)

        explain = _label(
            self.tr(
                "A supervisor reads this reply first. It cannot be sent to the customer until "
                "they approve it, and they may edit it. Once approved, My raised items shows "
                "you the text to send."
            ),
            role="warning",
        )
        explain.setObjectName("replyExplain")
        body = self._body_box(
            "replyDraft",
            self.tr("The draft reply"),
            self.tr("The reply as the customer will read it."),
            lines=12,
        )
        self._name_send(
            self.tr("&Send for vetting"), "replySendButton", self.tr("Send the reply for vetting")
        )
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addWidget(_label(self.tr("The &draft reply:"), body))
        layout.addWidget(body)
        layout.addWidget(self.body_error)
        layout.addWidget(self._ctrl_enter_hint())
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        body.setFocus()

    def _call(self) -> Call | None:
        draft = self._body_text(self.tr("Write the reply to vet."))
        if draft is None:
            return None
        case_id, key = self.case_id, self.client_uuid
        return lambda d: d.items.submit_reply(case_id, draft, client_uuid=key)


class ComplimentDialog(_CaseItemDialog):
    """A customer's compliment about a member of staff, for that person's supervisor."""

    def __init__(
        self,
        ops: Operations,
        case_id: int,
        case_reference: str,
        parent: QWidget | None = None,
        *,
        prefill: str = "",
    ) -> None:
        super().__init__(ops, case_id, case_reference, parent, prefill=prefill)
        self.setObjectName("complimentDialog")
        self.setWindowTitle(
            self.tr("Record a compliment on {reference}").format(reference=case_reference)
        )
        self.setAccessibleName(self.windowTitle())
        self.send_label = self.tr("Recording the compliment…")
        self.choices: list[tuple[str, str, str]] | None = None

        intro = _label(
            self.tr("It reaches their supervisor, who thanks them with a note of recognition."),
            role="hint",
        )
        self.staff = QComboBox()
        self.staff.setObjectName("complimentStaff")
        self.staff.setAccessibleName(self.tr("About whom"))
        self.staff.setEditable(True)
        self.staff.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.staff.setMaxVisibleItems(12)
        line = self.staff.lineEdit()
        assert line is not None  # an editable combo box has one
        line.setPlaceholderText(self.tr("Type a name, then choose from the list"))
        completer = QCompleter(self.staff.model(), self.staff)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.staff.setCompleter(completer)
        self.staff_error = FieldError("complimentStaffError")
        self.field_errors["staff"] = self.staff_error
        self.focus_of["staff"] = self.staff
        body = self._body_box(
            "complimentWords",
            self.tr("What the customer said"),
            self.tr("The customer's words, as near as you can."),
            lines=5,
        )
        self._name_send(self.tr("&Record"), "complimentRecordButton", self.tr("Record it"))

        form = QFormLayout()
        form.addRow(_label(self.tr("&About whom:"), self.staff), self.staff)
        form.addRow("", self.staff_error)
        form.addRow(_label(self.tr("&What the customer said:"), body), body)
        form.addRow("", self.body_error)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self._ctrl_enter_hint())
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setTabOrder(self.staff, body)
        self.staff.setFocus()
        self.ops.query(
            lambda d: d.items.staff_choices(),
            on_success=self._choices_loaded,
            on_error=lambda exc: self.staff_error.show_message(
                str(exc) if is_user_error(exc) else bug_message()
            ),
            owner=self,
        )

    def _choices_loaded(self, choices: list[tuple[str, str, str]]) -> None:
        typed = self.staff.currentText()
        self.choices = list(choices)
        self.staff.blockSignals(True)
        self.staff.clear()
        for username, full_name, centre in choices:
            self.staff.addItem(f"{full_name} — {centre}", username)
        self.staff.setCurrentIndex(-1)
        self.staff.setEditText(typed)  # what was typed while the list loaded stays
        self.staff.blockSignals(False)

    def chosen_username(self) -> str | None:
        """The member of staff the text names, or None after saying why not."""
        text = " ".join(self.staff.currentText().split())
        if not text:
            self.refuse("staff", self.tr("Choose whom the compliment is about."))
            return None
        if self.choices is None:
            return text  # the list did not load: the service looks the name up
        wanted = text.casefold()
        for username, full_name, centre in self.choices:
            if wanted in (f"{full_name} — {centre}".casefold(), username.casefold()):
                return username
        found = [
            username
            for username, full_name, _centre in self.choices
            if wanted in full_name.casefold()
        ]
        if len(found) == 1:
            return found[0]
        if found:
            self.refuse(
                "staff",
                self.tr("Several people match “{text}”: choose one from the list.").format(
                    text=text
                ),
            )
        else:
            self.refuse(
                "staff",
                self.tr("Nobody on the staff list matches “{text}”.").format(text=text),
            )
        return None

    def has_typed(self) -> bool:
        return super().has_typed() or bool(self.staff.currentText().strip())

    def _call(self) -> Call | None:
        username = self.chosen_username()
        words = self._body_text(self.tr("Write what the customer said."))
        if username is None or words is None:
            if username is None:
                self.staff.setFocus()
            return None
        case_id, key = self.case_id, self.client_uuid
        return lambda d: d.items.record_compliment(case_id, username, words, client_uuid=key)


# --- from "My raised items" -------------------------------------------------------------------


class ResubmitItemDialog(_SendingDialog):
    """A review or reply returned for more information: edit the text, then send it again."""

    def __init__(self, ops: Operations, item: WorkItemView, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.item = item
        self.setObjectName("resubmitItemDialog")
        self.setWindowTitle(
            self.tr("Send the {kind} on {reference} again").format(
                kind=item.label.lower(), reference=item.case_reference
            )
        )
        self.setAccessibleName(self.windowTitle())
        self.send_label = self.tr("Sending it again…")
        self.setMinimumWidth(600)

        asked = _plain(
            self.tr("{who} returned it on {when}: {what}").format(
                who=item.decided_by or self.tr("A supervisor"),
                when=local_time(item.decided_at),
                what=item.response,
            ),
            "resubmitAsked",
            role="warning",
        )
        asked.setAccessibleName(self.tr("What is needed"))
        self.body = TextBox(
            "resubmitText",
            self.tr("The text to send again"),
            lines=12 if item.kind.value == "reply" else 7,
        )
        self.body.setPlainText(item.body)
        self.body_error = FieldError("resubmitTextError")
        self.field_errors["body"] = self.body_error
        self.focus_of["body"] = self.body
        self._name_send(self.tr("Send a&gain"), "resubmitSendButton", self.tr("Send it again"))

        layout = QVBoxLayout(self)
        layout.addWidget(asked)
        layout.addWidget(_label(self.tr("&Your text, with what was asked for:"), self.body))
        layout.addWidget(self.body)
        layout.addWidget(self.body_error)
        layout.addWidget(self._ctrl_enter_hint())
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.body.setFocus()
        self.body.moveCursor(QTextCursor.MoveOperation.End)

    def has_typed(self) -> bool:
        return self.body.text().strip() != self.item.body.strip()

    def _call(self) -> Call | None:
        text = self.body.text()
        if not text.strip():
            self.refuse("body", self.tr("Write what was asked for."))
            return None
        item_id, version = self.item.id, self.item.version
        return lambda d: d.items.resubmit(item_id, text, expected_version=version)


class MarkSentDialog(_SendingDialog):
    """The approved reply, to copy and send; then "Mark as sent" records it on the case."""

    def __init__(self, ops: Operations, item: WorkItemView, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.item = item
        self.setObjectName("markSentDialog")
        self.setWindowTitle(
            self.tr("The approved reply on {reference}").format(reference=item.case_reference)
        )
        self.setAccessibleName(self.windowTitle())
        self.send_label = self.tr("Marking the reply as sent…")
        self.setMinimumWidth(620)

        edited = item.response.strip() != item.body.strip()
        intro = _plain(
            self.tr("{who} approved this reply on {when}.").format(
                who=item.decided_by or self.tr("A supervisor"), when=local_time(item.decided_at)
            )
            + (" " + self.tr("They edited it: send this text, not your draft.") if edited else ""),
            "markSentIntro",
            role="warning" if edited else "hint",
        )
        self.text = QPlainTextEdit()
        self.text.setObjectName("markSentText")
        self.text.setAccessibleName(self.tr("The approved text to send"))
        self.text.setReadOnly(True)
        self.text.setTabChangesFocus(True)
        self.text.setPlainText(item.response)
        self.text.setMinimumHeight(self.text.fontMetrics().lineSpacing() * 12 + 14)
        self.copy_button = QPushButton(self.tr("Cop&y the text"))
        self.copy_button.setObjectName("markSentCopy")
        self.copy_button.setAccessibleName(self.tr("Copy the approved text"))
        self.copy_button.setAutoDefault(False)
        self.copy_button.clicked.connect(self.copy_text)
        self.buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self._name_send(
            self.tr("&Mark as sent"), "markSentButton", self.tr("Mark the reply as sent")
        )
        self.copied = _label("", role="hint")
        self.copied.setObjectName("markSentCopied")

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(_label(self.tr("The &approved text:"), self.text))
        layout.addWidget(self.text)
        layout.addWidget(
            _label(
                self.tr(
                    "Send it to the customer as it stands, then mark it as sent: the case keeps "
                    "the approved text."
                ),
                role="hint",
            )
        )
        layout.addWidget(self.copied)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.text.setFocus()

    def copy_text(self) -> None:
        QGuiApplication.clipboard().setText(self.item.response)
        self.copied.setText(self.tr("The approved text is copied."))
        set_role(self.copied, "hint")

    def has_typed(self) -> bool:
        return False

    def _call(self) -> Call | None:
        item_id = self.item.id
        return lambda d: d.items.mark_sent(item_id)
