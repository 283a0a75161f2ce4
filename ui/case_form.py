"""The case form: what the officer fills in while the customer is at the counter.

Keyboard first: every field is reached with Tab in the order of the conversation (customer, what
they say, what they expect, our understanding, confirm back, next steps), labels carry mnemonics,
and Save is Ctrl+S. The domain validates before anything is sent, and each message is shown
beside the field it concerns. What was typed survives crashes as a draft on disk.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desk.domain import safety
from desk.domain.case import CaseDetails, initial_status
from desk.domain.conflict import CaseContent, Conflict, Side
from desk.domain.model import (
    CaseKind,
    CaseStatus,
    Channel,
    EventKind,
    Priority,
    ResolutionMethod,
)
from desk.domain.run_log import RecordError, is_safety_incident, record_from_dict
from desk.domain.scripts import Mood
from desk.domain.validation import ValidationError
from desk.domain.wording import confirm_back_summary, find_promises, promise_message
from desk.drafts import DraftStore, draft_scope
from desk.services.dto import (
    CaseView,
    CustomerSummary,
    ReferenceData,
    ScriptRunToSave,
    ScriptRunView,
    StaffSession,
)
from desk.services.errors import ConflictError, DeskError
from ui.conflict_dialog import FORM_STATE_KEYS, ConflictDialog
from ui.customer_editor import CustomerEditor
from ui.entry_dialog import EntryDialog
from ui.incident_dialog import IncidentDialog
from ui.labels import contact_phrase, label, local_time
from ui.operations import Operations, bug_message, is_user_error
from ui.slip import print_slip, save_slip_pdf
from ui.transactions import TransactionsEditor
from ui.widgets import FieldError, TextBox, enum_data, set_role

log = logging.getLogger(__name__)

DRAFT_FORMAT = 2  # 2: drafts say whose (database, username) they are; cases by uuid
AUTOSAVE_INTERVAL_MS = 3000
DRAFT_DEBOUNCE_MS = 800
SEARCH_DEBOUNCE_MS = 200

_TEXT_FIELDS = (
    "customer_words",
    "customer_expectation",
    "officer_understanding",
    "actions_agreed",
    "next_steps",
    "resolution",
    "root_cause",
    "social_platform",
    "social_handle",
    "social_post_url",
    "referral_reason",
)


def _customer_ref(customer: CustomerSummary) -> dict[str, Any]:
    """What a draft keeps of the customer: the id, and enough to check it is still them."""
    return {
        "id": customer.id,
        "full_name": customer.full_name,
        "customer_number": customer.customer_number,
    }


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


_IDENTITY_KEYS = (
    "format",
    "client_uuid",
    "case_id",
    "case_uuid",
    "reference",
    "base_version",
    "script_runs",  # kept by the script panel, not typed on the form
)


def _content(state: dict[str, Any]) -> dict[str, Any]:
    """The part of the form's state the officer typed (not which case or version it is)."""
    return {k: v for k, v in state.items() if k not in _IDENTITY_KEYS}


def _customer_line(customer: CustomerSummary) -> str:
    """How a customer reads in the look-up list: enough to tell two namesakes apart."""
    parts = [customer.full_name]
    if customer.customer_number:
        parts.append(f"#{customer.customer_number}")
    if customer.phone:
        parts.append(customer.phone)
    return " · ".join(parts)


def _enum_combo(
    name: str, accessible: str, values: list[Any], *, none: str | None = None
) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setAccessibleName(accessible)
    if none is not None:
        combo.addItem(none, None)
    for value in values:
        combo.addItem(label(value), value)
    return combo


def _select_data(combo: QComboBox, value: Any) -> None:
    index = combo.findData(value)
    combo.setCurrentIndex(index if index >= 0 else 0)


class RunSource(Protocol):
    """Where the guided-script runs of the case on show are kept (the script panel)."""

    def case_runs(self, case_key: uuid.UUID | None = None) -> list[ScriptRunToSave]: ...

    def unsaved_runs(self, case_key: uuid.UUID | None = None) -> list[ScriptRunToSave]: ...

    def runs_stored(self, runs: Sequence[ScriptRunToSave]) -> None: ...

    def adopt_runs(self, case_key: uuid.UUID, runs: Sequence[ScriptRunToSave]) -> None: ...

    def script_title(self, script_id: str) -> str: ...


class CaseForm(QWidget):
    """Records a new case or edits an existing one; saves through the services off-thread."""

    saved = Signal(object)  # CaseView
    caseShown = Signal(object)  # CaseView | None (None: a new, empty case)
    message = Signal(str)  # for the status bar
    draftSaved = Signal(str)  # draft id
    moodChanged = Signal(object)  # Mood | None, whenever the mood on the form changes
    runsUpdated = Signal(object)  # CaseView: the stored script runs of the case changed

    def __init__(
        self,
        ops: Operations,
        reference: ReferenceData,
        session: StaffSession | None,
        *,
        drafts: DraftStore | None = None,
        database_key: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.reference = reference
        self.session = session
        self.drafts = drafts
        # Whose drafts these are: one database (its key, no password) and one officer.
        self.database_key = database_key
        who = ops.desk.session if ops.desk is not None else None
        who = who or session
        self.username = who.username if who is not None else ""
        # The version of the stored case the officer's edits started from: every save is
        # checked against it, so a colleague's change in between is never overwritten unseen.
        self._base_version: int | None = None
        self._saving = False
        self._sent: dict[str, Any] | None = None
        self._generation = 0  # moves on whenever the form shows another case
        self._save_generation = 0
        self._saving_draft_id = ""
        self.setObjectName("caseForm")
        self.view: CaseView | None = None
        self.customer: CustomerSummary | None = None
        self.client_uuid = uuid.uuid4()
        self._filling = False
        self._dirty = False
        self._draft_pending = False
        self._search_results: dict[str, CustomerSummary] = {}
        self.field_errors: dict[str, FieldError] = {}
        self.field_widgets: dict[str, QWidget] = {}
        # The guided-script runs of the case, kept by the script panel (set by the window).
        self.run_source: RunSource | None = None
        self._sent_runs: list[ScriptRunToSave] = []
        self._incident_dialog: IncidentDialog | None = None

        self._build()
        self._connect()
        self.new_case()

        self._autosave = QTimer(self)
        self._autosave.setInterval(AUTOSAVE_INTERVAL_MS)
        self._autosave.timeout.connect(self._autosave_tick)
        self._autosave.start()
        self._draft_debounce = QTimer(self)
        self._draft_debounce.setSingleShot(True)
        self._draft_debounce.setInterval(DRAFT_DEBOUNCE_MS)
        self._draft_debounce.timeout.connect(self.save_draft)

    # --- building ------------------------------------------------------------------------

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        lab = QLabel(text)
        lab.setBuddy(buddy)
        return lab

    def _add_field(
        self, layout: QFormLayout, label: str, key: str, widget: QWidget, *extra: QWidget
    ) -> None:
        """A labelled row whose label jumps to the field, with the field's message under it."""
        layout.addRow(self._label(label, widget), self._with_error(key, widget, *extra))

    def _with_error(self, key: str, widget: QWidget, *extra: QWidget) -> QWidget:
        """A field with its red message right underneath."""
        error = FieldError(f"{widget.objectName()}Error")
        self.field_errors[key] = error
        self.field_widgets[key] = widget
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(widget)
        for other in extra:
            layout.addWidget(other)
        layout.addWidget(error)
        return box

    def _build(self) -> None:
        ref = self.reference
        # Header: which case, its status, and the "saved" banner.
        self.reference_label = QLabel()
        self.reference_label.setObjectName("caseReference")
        self.reference_label.setProperty("role", "title")
        self.status = QComboBox()
        self.status.setObjectName("status")
        self.status.setAccessibleName(self.tr("Case status"))
        self.status_label = self._label(self.tr("S&tatus:"), self.status)
        self.banner = QLabel()
        self.banner.setObjectName("savedBanner")
        self.banner.setProperty("role", "hint")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.general_error = FieldError("formError")
        header = QHBoxLayout()
        header.addWidget(self.reference_label, 1)
        header.addWidget(self.status_label)
        header.addWidget(self.status)

        # Customer.
        self.customer_search = QLineEdit()
        self.customer_search.setObjectName("customerSearch")
        self.customer_search.setAccessibleName(self.tr("Find customer"))
        self.customer_search.setPlaceholderText(
            self.tr("name, customer number, national ID, account or phone")
        )
        self.completer_model = QStringListModel(self)
        self.completer = QCompleter(self.completer_model, self)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setMaxVisibleItems(10)
        popup = self.completer.popup()
        assert popup is not None
        popup.setObjectName("customerResults")
        popup.setAccessibleName(self.tr("Matching customers"))
        self.customer_search.setCompleter(self.completer)
        self.customer_chosen = QLabel()
        self.customer_chosen.setObjectName("customerChosen")
        self.customer_chosen.setWordWrap(True)
        self.customer_chosen.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.new_customer_button = QPushButton(self.tr("New customer…"))
        self.new_customer_button.setObjectName("newCustomerButton")
        self.new_customer_button.setAccessibleName(self.tr("Add a new customer"))
        self.customer_editor = CustomerEditor(self.ops)
        self.customer_editor.hide()
        # National IDs and account numbers come masked; a role with the permission may reveal
        # them for this customer (each reveal is recorded in the audit trail).
        self.reveal_button = QPushButton(self.tr("Show IDs"))
        self.reveal_button.setObjectName("revealIdentifiersButton")
        self.reveal_button.setAccessibleName(self.tr("Show the customer's full identifiers"))
        self.reveal_button.setToolTip(
            self.tr("Shows the full national ID and account number; the reveal is recorded.")
        )
        self.reveal_button.hide()
        self.reveal_button.clicked.connect(self.reveal_identifiers)
        self._revealed: dict[Any, str] = {}
        search_row = QHBoxLayout()
        search_row.addWidget(self.customer_search, 1)
        search_row.addWidget(self.reveal_button)
        search_row.addWidget(self.new_customer_button)
        search_box = QWidget()
        search_box.setObjectName("customerSearchRow")
        search_box.setLayout(search_row)
        search_row.setContentsMargins(0, 0, 0, 0)
        customer_group = QGroupBox(self.tr("Customer"))
        customer_form = QFormLayout(customer_group)
        customer_form.addRow(
            self._label(self.tr("Find c&ustomer:"), self.customer_search),
            self._with_error("customer", search_box, self.customer_chosen),
        )
        customer_form.addRow(self.customer_editor)
        self.field_widgets["customer"] = self.customer_search

        # The case itself.
        self.kind = _enum_combo("kind", self.tr("Kind of case"), list(CaseKind))
        self.channel = _enum_combo("channel", self.tr("Channel"), list(Channel))
        self.priority = _enum_combo("priority", self.tr("Priority"), list(Priority))
        _select_data(self.priority, Priority.NORMAL)
        self.category = QComboBox()
        self.category.setObjectName("category")
        self.category.setAccessibleName(self.tr("Category"))
        self.category.addItem(self.tr("Not chosen"), None)
        for option in ref.categories:
            self.category.addItem(option.name, option.id)
        self.subcategory = QComboBox()
        self.subcategory.setObjectName("subcategory")
        self.subcategory.setAccessibleName(self.tr("Subcategory"))
        self.social_platform = QLineEdit()
        self.social_platform.setObjectName("socialPlatform")
        self.social_platform.setAccessibleName(self.tr("Social media platform"))
        self.social_handle = QLineEdit()
        self.social_handle.setObjectName("socialHandle")
        self.social_handle.setAccessibleName(self.tr("Customer's handle"))
        self.social_post_url = QLineEdit()
        self.social_post_url.setObjectName("socialPostUrl")
        self.social_post_url.setAccessibleName(self.tr("Link to the post"))
        self.social_post_url.setPlaceholderText("https://")
        self.mood = QComboBox()
        self.mood.setObjectName("customerMood")
        self.mood.setAccessibleName(self.tr("Customer's mood"))
        self.mood.addItem(self.tr("Not set"), None)
        for mood, mood_label in self._mood_labels().items():
            self.mood.addItem(mood_label, mood.value)
        self.mood.setToolTip(
            self.tr("How the customer comes across; the guided script panel suggests a script.")
        )
        case_group = QGroupBox(self.tr("Case"))
        grid = QGridLayout(case_group)
        grid.addWidget(self._label(self.tr("&Kind:"), self.kind), 0, 0)
        grid.addWidget(self.kind, 0, 1)
        grid.addWidget(self._label(self.tr("Ch&annel:"), self.channel), 0, 2)
        grid.addWidget(self.channel, 0, 3)
        grid.addWidget(self._label(self.tr("P&riority:"), self.priority), 0, 4)
        grid.addWidget(self.priority, 0, 5)
        grid.addWidget(self._label(self.tr("Categor&y:"), self.category), 1, 0)
        grid.addWidget(self._with_error("category", self.category), 1, 1, 1, 2)
        grid.addWidget(self._label(self.tr("Subcategory:"), self.subcategory), 1, 3)
        grid.addWidget(self.subcategory, 1, 4, 1, 2)
        self.social_box = QWidget()
        self.social_box.setObjectName("socialMediaFields")
        social = QFormLayout(self.social_box)
        social.setContentsMargins(0, 0, 0, 0)
        self._add_field(social, self.tr("Platform:"), "social_platform", self.social_platform)
        self._add_field(social, self.tr("Handle:"), "social_handle", self.social_handle)
        self._add_field(
            social, self.tr("Link to the post:"), "social_post_url", self.social_post_url
        )
        grid.addWidget(self.social_box, 2, 0, 1, 6)
        # Every letter of "mood" is taken: J it is, from the officer's judgement.
        mood_row = QHBoxLayout()
        mood_row.setContentsMargins(0, 0, 0, 0)
        mood_row.addWidget(self._label(self.tr("Customer's mood (your &judgement):"), self.mood))
        mood_row.addWidget(self.mood)
        mood_hint = QLabel(self.tr("The guided script panel suggests a script for it."))
        mood_hint.setProperty("role", "hint")
        mood_hint.setWordWrap(True)
        mood_row.addWidget(mood_hint, 1)
        grid.addLayout(mood_row, 3, 0, 1, 6)
        for column in (1, 3, 5):
            grid.setColumnStretch(column, 1)

        # What the customer says and what we understood.
        self.customer_words = TextBox(
            "customerWords",
            self.tr("The customer's own words"),
            placeholder=self.tr("Write down what the customer says, in their words."),
            lines=4,
        )
        self.customer_expectation = TextBox(
            "customerExpectation", self.tr("What the customer expects"), lines=2
        )
        self.officer_understanding = TextBox(
            "officerUnderstanding",
            self.tr("Your understanding"),
            placeholder=self.tr("Your understanding of the problem, to read back to the customer."),
            lines=3,
        )
        story_group = QGroupBox(self.tr("Listen"))
        story = QFormLayout(story_group)
        story.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._add_field(
            story, self.tr("The customer's own &words:"), "customer_words", self.customer_words
        )
        self._add_field(
            story, self.tr("What they e&xpect:"), "customer_expectation", self.customer_expectation
        )
        self._add_field(
            story,
            self.tr("Your u&nderstanding:"),
            "officer_understanding",
            self.officer_understanding,
        )

        # Transactions.
        self.transactions = TransactionsEditor(ref.currency)
        self.transactions.tab_anchor = self.officer_understanding
        txn_group = QGroupBox(self.tr("Transactions"))
        QVBoxLayout(txn_group).addWidget(self.transactions)
        self.field_widgets["transactions"] = self.transactions.add_button

        # Confirm back.
        self.confirm_summary = QLabel()
        self.confirm_summary.setObjectName("confirmBackSummary")
        self.confirm_summary.setAccessibleName(self.tr("Summary to read back to the customer"))
        self.confirm_summary.setWordWrap(True)
        self.confirm_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.confirm_summary.setFrameShape(QFrame.Shape.StyledPanel)
        self.confirm_summary.setStyleSheet("QLabel { background: #f3f7ff; padding: 8px; }")
        self.customer_agreed = QCheckBox(self.tr("The customer a&greed with this summary"))
        self.customer_agreed.setObjectName("customerAgreed")
        self.customer_agreed.setAccessibleName(self.tr("The customer agreed with this summary"))
        self.confirm_hint = QLabel()
        self.confirm_hint.setObjectName("confirmBackHint")
        self.confirm_hint.setProperty("role", "warning")
        self.confirm_hint.setWordWrap(True)
        self.confirm_hint.hide()
        confirm_group = QGroupBox(self.tr("Confirm back"))
        confirm = QVBoxLayout(confirm_group)
        read = QLabel(self.tr("Read this to the customer:"))
        read.setProperty("role", "hint")
        confirm.addWidget(read)
        confirm.addWidget(self.confirm_summary)
        confirm.addWidget(self.customer_agreed)
        confirm.addWidget(self.confirm_hint)

        # Next steps and what was agreed.
        self.template = QComboBox()
        self.template.setObjectName("nextStepTemplate")
        self.template.setAccessibleName(self.tr("Next-step template"))
        self.template.addItem(self.tr("Choose a template to start from…"), None)
        for text in ref.next_step_templates:
            self.template.addItem(text, text)
        self.template.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.template.setMinimumContentsLength(30)
        self.next_steps = TextBox(
            "nextSteps",
            self.tr("Next steps"),
            placeholder=self.tr("What happens next in our process; never promise an outcome."),
            lines=3,
        )
        self.promise_warning = QLabel()
        self.promise_warning.setObjectName("promiseWarning")
        self.promise_warning.setProperty("role", "warning")
        self.promise_warning.setWordWrap(True)
        self.promise_warning.hide()
        self.customer_comfortable = QCheckBox(
            self.tr("Customer is comfortable with the next steps")
        )
        self.customer_comfortable.setObjectName("customerComfortable")
        self.customer_comfortable.setAccessibleName(
            self.tr("Customer is comfortable with the next steps (not asked, yes or no)")
        )
        self.customer_comfortable.setTristate(True)
        self.comfortable_hint = QLabel()
        self.comfortable_hint.setProperty("role", "hint")
        self.actions_agreed = TextBox("actionsAgreed", self.tr("Actions agreed"), lines=2)
        steps_group = QGroupBox(self.tr("Next steps"))
        steps = QFormLayout(steps_group)
        steps.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        steps.addRow(self._label(self.tr("Template:"), self.template), self.template)
        self._add_field(
            steps, self.tr("Next ste&ps:"), "next_steps", self.next_steps, self.promise_warning
        )
        comfortable_row = QHBoxLayout()
        comfortable_row.addWidget(self.customer_comfortable)
        comfortable_row.addWidget(self.comfortable_hint, 1)
        steps.addRow("", comfortable_row)
        self._add_field(steps, self.tr("Actions agreed:"), "actions_agreed", self.actions_agreed)

        # Referral.
        self.referral_team = QComboBox()
        self.referral_team.setObjectName("referralTeam")
        self.referral_team.setAccessibleName(self.tr("Refer to a specialist team"))
        self.referral_team.addItem(self.tr("No referral"), None)
        for option in ref.teams:
            self.referral_team.addItem(option.name, option.id)
        self.referral_reason = QLineEdit()
        self.referral_reason.setObjectName("referralReason")
        self.referral_reason.setAccessibleName(self.tr("Why it is referred"))
        self.assigned_label = QLabel()
        self.assigned_label.setObjectName("assignedTo")
        self.assigned_label.setProperty("role", "hint")
        referral_group = QGroupBox(self.tr("Pass on"))
        referral = QFormLayout(referral_group)
        referral.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._add_field(referral, self.tr("Refer to tea&m:"), "referral_team", self.referral_team)
        self._add_field(referral, self.tr("Reason:"), "referral_reason", self.referral_reason)
        referral.addRow("", self.assigned_label)

        # Resolution.
        self.resolution = TextBox("resolution", self.tr("Resolution"), lines=2)
        self.resolution_method = _enum_combo(
            "resolutionMethod",
            self.tr("How it was resolved"),
            list(ResolutionMethod),
            none=self.tr("Not resolved yet"),
        )
        self.root_cause = TextBox("rootCause", self.tr("Root cause"), lines=2)
        resolution_group = QGroupBox(self.tr("Resolution"))
        resolution = QFormLayout(resolution_group)
        resolution.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._add_field(resolution, self.tr("R&esolution:"), "resolution", self.resolution)
        self._add_field(
            resolution, self.tr("How resolved:"), "resolution_method", self.resolution_method
        )
        self._add_field(resolution, self.tr("R&oot cause:"), "root_cause", self.root_cause)

        # Buttons.
        def button(name: str, text: str, accessible: str, tip: str = "") -> QPushButton:
            b = QPushButton(text)
            b.setObjectName(name)
            b.setAccessibleName(accessible)
            b.setAutoDefault(False)
            if tip:
                b.setToolTip(tip)
            return b

        self.save_button = button("saveButton", self.tr("Save"), self.tr("Save the case"), "Ctrl+S")
        self.new_button = button("newButton", self.tr("New case"), self.tr("New case"), "Ctrl+N")
        self.print_button = button(
            "printSlipButton", self.tr("Print slip…"), self.tr("Print the slip"), "Ctrl+P"
        )
        self.pdf_button = button(
            "pdfSlipButton", self.tr("Slip as PDF…"), self.tr("Save the slip as PDF")
        )
        self.add_contact_button = button(
            "addContactButton", self.tr("Add contact…"), self.tr("Add a contact")
        )
        self.add_update_button = button(
            "addUpdateButton",
            self.tr("Add update for the customer…"),
            self.tr("Add an update for the customer"),
        )
        self.add_note_button = button("addNoteButton", self.tr("Add note…"), self.tr("Add a note"))
        self.save_button.setProperty("primary", True)
        self.save_button.setStyleSheet(
            "QPushButton { background: #2f6fd6; color: white; font-weight: 600; }"
            "QPushButton:focus { border: 2px solid #0b2e6b; }"
        )
        entries = QHBoxLayout()
        entries.addWidget(self.add_contact_button)
        entries.addWidget(self.add_update_button)
        entries.addWidget(self.add_note_button)
        entries.addStretch(1)
        actions = QHBoxLayout()
        actions.addWidget(self.new_button)
        actions.addStretch(1)
        actions.addWidget(self.print_button)
        actions.addWidget(self.pdf_button)
        actions.addWidget(self.save_button)

        # A safety incident waiting for its report.
        self.incident_warning = QLabel()
        self.incident_warning.setObjectName("incidentWarning")
        self.incident_warning.setWordWrap(True)
        self.incident_warning.setProperty("role", "warning")
        self.report_incident_button = button(
            "reportIncidentButton",
            self.tr("Report the incident…"),
            self.tr("Write the safety incident report"),
        )
        self.safety_box = QFrame()
        self.safety_box.setObjectName("safetyIncidentBox")
        self.safety_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.safety_box.setStyleSheet(
            "QFrame#safetyIncidentBox { background: #fde8e8; border: 1px solid #a4161a; }"
        )
        safety_row = QHBoxLayout(self.safety_box)
        safety_row.addWidget(self.incident_warning, 1)
        safety_row.addWidget(self.report_incident_button)
        self.safety_box.hide()

        content = QWidget()
        content.setObjectName("caseFormContent")
        body = QVBoxLayout(content)
        body.addWidget(self.banner)
        body.addWidget(self.general_error)
        body.addWidget(self.safety_box)
        for group in (
            customer_group,
            case_group,
            story_group,
            txn_group,
            confirm_group,
            steps_group,
            referral_group,
            resolution_group,
        ):
            body.addWidget(group)
        body.addStretch(1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("caseFormScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setWidget(content)
        self.scroll_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.scroll_area, 1)
        layout.addLayout(entries)
        layout.addLayout(actions)

        order: list[QWidget] = [
            self.customer_search,
            self.new_customer_button,
            self.kind,
            self.channel,
            self.priority,
            self.category,
            self.subcategory,
            self.social_platform,
            self.social_handle,
            self.social_post_url,
            self.mood,
            self.customer_words,
            self.customer_expectation,
            self.officer_understanding,
            self.transactions.add_button,
            self.customer_agreed,
            self.template,
            self.next_steps,
            self.customer_comfortable,
            self.actions_agreed,
            self.referral_team,
            self.referral_reason,
            self.resolution,
            self.resolution_method,
            self.root_cause,
            self.status,
            self.report_incident_button,
            self.save_button,
            self.print_button,
            self.pdf_button,
            self.add_contact_button,
            self.add_update_button,
            self.add_note_button,
            self.new_button,
        ]
        for first, second in itertools.pairwise(order):
            QWidget.setTabOrder(first, second)

    def _connect(self) -> None:
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self._search_customers)
        self.customer_search.textEdited.connect(lambda _t: self._search_timer.start())
        self.customer_search.returnPressed.connect(self._search_return)
        self.completer.activated.connect(self._customer_activated)
        self.new_customer_button.clicked.connect(
            lambda: self.customer_editor.start(self.customer_search.text())
        )
        self.customer_editor.created.connect(self._customer_created)
        self.customer_editor.cancelled.connect(self.customer_search.setFocus)
        self.channel.currentIndexChanged.connect(lambda _i: self._update_social())
        self.category.currentIndexChanged.connect(lambda _i: self._fill_subcategories())
        self.template.activated.connect(self._apply_template)
        self.next_steps.textChanged.connect(self._update_promises)
        self.customer_comfortable.checkStateChanged.connect(lambda _s: self._update_comfortable())
        self.transactions.changed.connect(self._transactions_changed)

        for widget in (
            self.customer_words,
            self.customer_expectation,
            self.officer_understanding,
            self.next_steps,
            self.actions_agreed,
            self.resolution,
            self.root_cause,
        ):
            widget.textChanged.connect(self._edited)
        for line in (
            self.social_platform,
            self.social_handle,
            self.social_post_url,
            self.referral_reason,
        ):
            line.textEdited.connect(lambda _t: self._edited())
        for combo in (
            self.kind,
            self.channel,
            self.priority,
            self.category,
            self.subcategory,
            self.referral_team,
            self.resolution_method,
            self.status,
            self.mood,
        ):
            combo.currentIndexChanged.connect(lambda _i: self._edited())
        self.mood.currentIndexChanged.connect(lambda _i: self.moodChanged.emit(self.current_mood()))
        self.status.currentIndexChanged.connect(lambda _i: self._status_chosen())
        self.report_incident_button.clicked.connect(self.report_incident)
        for box in (self.customer_agreed, self.customer_comfortable):
            box.checkStateChanged.connect(lambda _s: self._edited())
        self.kind.currentIndexChanged.connect(self._summary_inputs_changed)
        self.customer_expectation.textChanged.connect(self._summary_inputs_changed)
        self.officer_understanding.textChanged.connect(self._summary_inputs_changed)
        # Next steps show in the summary but are agreed separately ("comfortable" below), so
        # changing them does not withdraw the customer's agreement with the understanding.
        self.next_steps.textChanged.connect(self.update_summary)

        self.save_button.clicked.connect(self.save)
        self.new_button.clicked.connect(self.request_new_case)
        self.print_button.clicked.connect(self.print_slip)
        self.pdf_button.clicked.connect(lambda: self.save_slip_pdf())
        self.add_contact_button.clicked.connect(lambda: self.add_entry(EventKind.CONTACT))
        self.add_update_button.clicked.connect(lambda: self.add_entry(EventKind.CUSTOMER_UPDATE))
        self.add_note_button.clicked.connect(lambda: self.add_entry(EventKind.NOTE))

    # --- state ---------------------------------------------------------------------------

    @property
    def is_dirty(self) -> bool:
        return self._dirty

    @property
    def draft_id(self) -> str:
        case = self.view.uuid if self.view is not None else self.client_uuid
        return f"{case}-{draft_scope(self.database_key, self.username)}"

    @property
    def is_saving(self) -> bool:
        return self._saving

    @property
    def base_version(self) -> int | None:
        """The stored version the edits on the form started from (None for a new case)."""
        return self._base_version

    def _edited(self) -> None:
        if self._filling:
            return
        self._dirty = True
        self._draft_pending = True
        self._draft_debounce.start()
        self.banner.hide()

    def _summary_inputs_changed(self) -> None:
        self.update_summary()
        if not self._filling and self.customer_agreed.isChecked():
            self.customer_agreed.setChecked(False)
            self.confirm_hint.setText(
                self.tr("The summary changed: read it back again and ask the customer.")
            )
            self.confirm_hint.show()

    def _transactions_changed(self) -> None:
        self._summary_inputs_changed()
        self._edited()

    def new_case(self) -> None:
        """An empty form for the next customer."""
        self._filling = True
        self._generation += 1
        try:
            self.view = None
            self._base_version = None
            self.client_uuid = uuid.uuid4()
            self.set_customer(None)
            self.customer_search.clear()
            self.customer_editor.hide()
            _select_data(self.kind, CaseKind.COMPLAINT)
            _select_data(self.channel, Channel.WALK_IN)
            _select_data(self.priority, Priority.NORMAL)
            self.category.setCurrentIndex(0)
            self._fill_subcategories()
            for name in _TEXT_FIELDS:
                getattr(self, name).setText("")
            self.transactions.clear()
            self.customer_agreed.setChecked(False)
            self.template.setCurrentIndex(0)
            self.customer_comfortable.setCheckState(Qt.CheckState.PartiallyChecked)
            self.referral_team.setCurrentIndex(0)
            self.resolution_method.setCurrentIndex(0)
            self.mood.setCurrentIndex(0)
            self.assigned_label.clear()
            self.confirm_hint.hide()
            self.banner.hide()
            self.clear_errors()
            self._show_status_choices(None)
            self.reference_label.setText(self.tr("New case"))
            self._update_social()
            self._update_promises()
            self._update_comfortable()
            self._update_buttons()
            self.update_summary()
        finally:
            self._filling = False
        self._dirty = False
        self._draft_pending = False
        self.refresh_safety()
        self.caseShown.emit(None)

    def request_new_case(self) -> None:
        """Ctrl+N: start the next case. Unsaved work stays in its draft until restored or
        discarded, so nothing typed is ever lost silently."""
        if self._dirty:
            self.save_draft()
            self.message.emit(
                self.tr("The unsaved case was kept as a draft; it is offered again at next login.")
            )
        self.new_case()
        self.customer_search.setFocus()

    def _may_reveal(self) -> bool:
        from desk.domain.authority import Permission

        who = self.ops.desk.session if self.ops.desk is not None else self.session
        return who is not None and who.can(Permission.REVEAL_IDENTIFIERS)

    def reveal_identifiers(self) -> None:
        customer = self.customer
        if customer is None or not customer.identifiers:
            return
        kinds = list(customer.identifiers)
        self.reveal_button.setEnabled(False)

        def reveal(d: Any) -> dict[Any, str]:
            return {kind: d.customers.reveal(customer.id, kind) for kind in kinds}

        def shown(values: dict[Any, str]) -> None:
            self.reveal_button.setEnabled(True)
            if self.customer is not None and self.customer.id == customer.id:
                self._revealed = values
                self.set_customer(self.customer, keep_revealed=True)

        self.ops.write(
            reveal,
            on_success=shown,
            on_error=lambda _exc: self.reveal_button.setEnabled(True),
            owner=self,
            label=self.tr("Revealing identifiers…"),
        )

    def set_customer(
        self, customer: CustomerSummary | None, *, keep_revealed: bool = False
    ) -> None:
        if not keep_revealed:
            self._revealed = {}  # shown for this customer only, never kept in the form's data
        self.customer = customer
        self.reveal_button.setVisible(
            customer is not None
            and bool(customer.identifiers)
            and self._may_reveal()
            and not self._revealed
        )
        if customer is None:
            self.customer_chosen.setText(self.tr("No customer chosen yet."))
            set_role(self.customer_chosen, "hint")
        else:
            details = [f"<b>{_esc(customer.full_name)}</b>"]
            if customer.customer_number:
                details.append(self.tr("customer no. {n}").format(n=_esc(customer.customer_number)))
            for kind, value in customer.identifiers.items():
                shown = self._revealed.get(kind, value)
                details.append(f"{_esc(label(kind))} {_esc(shown)}")
            if customer.phone:
                details.append(_esc(customer.phone))
            if customer.email:
                details.append(_esc(customer.email))
            if customer.preferred_contact_method is not None:
                details.append(
                    self.tr("prefers {method}").format(
                        method=_esc(contact_phrase(customer.preferred_contact_method))
                    )
                )
            self.customer_chosen.setText(" · ".join(details))
            set_role(self.customer_chosen, "")
            self.field_errors["customer"].clear_message()
        self.update_summary()

    def _fill_subcategories(self) -> None:
        category_id = self.category.currentData()
        current = self.subcategory.currentData()
        self.subcategory.blockSignals(True)
        self.subcategory.clear()
        self.subcategory.addItem(self.tr("Not chosen"), None)
        for option in self.reference.subcategories:
            if category_id is not None and option.parent_id == category_id:
                self.subcategory.addItem(option.name, option.id)
        _select_data(self.subcategory, current)
        self.subcategory.blockSignals(False)
        self.subcategory.setEnabled(self.subcategory.count() > 1)

    def _update_social(self) -> None:
        self.social_box.setVisible(enum_data(self.channel, Channel) is Channel.SOCIAL_MEDIA)

    def _update_promises(self) -> None:
        promises = find_promises(self.next_steps.text())
        set_role(self.promise_warning, "warning")
        if promises:
            self.promise_warning.setText("⚠ " + promise_message(promises))
            self.promise_warning.show()
        else:
            self.promise_warning.clear()
            self.promise_warning.hide()

    def _update_comfortable(self) -> None:
        state = self.customer_comfortable.checkState()
        texts = {
            Qt.CheckState.PartiallyChecked: self.tr("(not asked yet)"),
            Qt.CheckState.Checked: self.tr("yes"),
            Qt.CheckState.Unchecked: self.tr("no: note their concern in the actions agreed"),
        }
        self.comfortable_hint.setText(texts[state])

    def _team_name(self) -> str:
        if self.referral_team.currentData() is not None:
            return self.referral_team.currentText()
        if self.view is not None and self.view.assigned_team_name:
            return self.view.assigned_team_name
        return self.tr("specialist")

    def _apply_template(self, index: int) -> None:
        text = self.template.itemData(index)
        if not text:
            return
        method = self.customer.preferred_contact_method if self.customer else None
        filled = (
            str(text)
            .replace("{contact_method}", contact_phrase(method))
            .replace("{team}", self._team_name())
        )
        current = self.next_steps.text().strip()
        self.next_steps.setText(f"{current} {filled}".strip() if current else filled)
        cursor = self.next_steps.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.next_steps.setTextCursor(cursor)
        self.next_steps.setFocus()

    def update_summary(self) -> None:
        """Recompose the confirm-back summary from what is on the form right now."""
        summary = confirm_back_summary(
            customer_name=self.customer.full_name if self.customer else "",
            kind=enum_data(self.kind, CaseKind) or CaseKind.COMPLAINT,
            understanding=self.officer_understanding.text().strip(),
            expectation=self.customer_expectation.text().strip(),
            transactions=self.transactions.labels(),
            next_steps=self.next_steps.text().strip(),
        )
        self.confirm_summary.setText(summary)

    def _show_status_choices(self, view: CaseView | None) -> None:
        self.status.blockSignals(True)
        self.status.clear()
        if view is None:
            self.status.addItem(self.tr("New (set when saved)"), None)
            self.status.setEnabled(False)
        else:
            self.status.addItem(label(view.status), view.status)
            for status in CaseStatus:
                if status in view.allowed_next and status != view.status:
                    self.status.addItem(label(status), status)
            self.status.setEnabled(self.status.count() > 1)
        self.status.blockSignals(False)

    def _update_buttons(self) -> None:
        saved = self.view is not None
        for b in (
            self.print_button,
            self.pdf_button,
            self.add_contact_button,
            self.add_update_button,
            self.add_note_button,
        ):
            b.setEnabled(saved)

    # --- customer look-up ----------------------------------------------------------------

    def _search_customers(self) -> None:
        text = self.customer_search.text().strip()
        if len(text) < 2:
            self.completer_model.setStringList([])
            return
        self.ops.query(
            lambda d: d.customers.search(text, limit=10),
            on_success=lambda found: self._show_customers(text, found),
            owner=self,
            key=f"customer-search-{id(self)}",
            label=self.tr("Looking up customers…"),
        )

    def _show_customers(self, text: str, found: list[CustomerSummary]) -> None:
        if text != self.customer_search.text().strip():
            return  # the officer typed on; a newer search is on its way
        self._search_results = {}
        for customer in found:
            line = _customer_line(customer)
            if line in self._search_results:
                line = f"{line} ({customer.id})"
            self._search_results[line] = customer
        lines = list(self._search_results)
        if not lines:
            lines = []
            self.field_errors["customer"].show_message(
                self.tr("No customer matches “{text}”. Press “New customer…” to add them.").format(
                    text=text
                )
            )
        else:
            self.field_errors["customer"].clear_message()
        self.completer_model.setStringList(lines)
        if lines and self.window().focusWidget() is self.customer_search:
            self.completer.complete()

    def _search_return(self) -> None:
        """Enter in the look-up with exactly one match takes it."""
        if len(self._search_results) == 1:
            self._customer_activated(next(iter(self._search_results)))

    def _customer_activated(self, line: str) -> None:
        customer = self._search_results.get(line)
        if customer is None:
            return
        self.set_customer(customer)
        self._edited()
        popup = self.completer.popup()
        if popup is not None:
            popup.hide()
        # QCompleter writes the chosen line into the field after this signal; put the name back.
        QTimer.singleShot(0, lambda: self.customer_search.setText(customer.full_name))
        QTimer.singleShot(0, self.kind.setFocus)

    def _customer_created(self, customer: CustomerSummary) -> None:
        self.set_customer(customer)
        self.customer_search.setText(customer.full_name)
        self._edited()
        self.message.emit(self.tr("Added customer {name}").format(name=customer.full_name))
        self.kind.setFocus()

    # --- reading and validating the form -------------------------------------------------

    def details(self) -> tuple[CaseDetails, dict[str, str]]:
        """The case as typed, and any messages found while reading it (amounts, dates)."""
        transactions, errors = self.transactions.values()
        state = self.customer_comfortable.checkState()
        comfortable = {
            Qt.CheckState.Checked: True,
            Qt.CheckState.Unchecked: False,
        }.get(state)
        details = CaseDetails(
            customer_id=self.customer.id if self.customer else None,
            kind=enum_data(self.kind, CaseKind) or CaseKind.COMPLAINT,
            channel=enum_data(self.channel, Channel) or Channel.WALK_IN,
            priority=enum_data(self.priority, Priority) or Priority.NORMAL,
            category_id=self.category.currentData(),
            subcategory_id=self.subcategory.currentData(),
            customer_words=self.customer_words.text(),
            customer_expectation=self.customer_expectation.text(),
            officer_understanding=self.officer_understanding.text(),
            customer_confirmed=self.customer_agreed.isChecked(),
            social_platform=self.social_platform.text() if self._social() else "",
            social_handle=self.social_handle.text() if self._social() else "",
            social_post_url=self.social_post_url.text() if self._social() else "",
            transactions=transactions,
            actions_agreed=self.actions_agreed.text(),
            next_steps=self.next_steps.text(),
            customer_comfortable=comfortable,
            root_cause=self.root_cause.text(),
            resolution=self.resolution.text(),
            resolution_method=enum_data(self.resolution_method, ResolutionMethod),
        )
        return details, errors

    def _social(self) -> bool:
        return enum_data(self.channel, Channel) is Channel.SOCIAL_MEDIA

    def validate(self) -> CaseDetails | None:
        """Check with the domain's rules; show every message beside its field."""
        details, errors = self.details()
        try:
            checked = details.validate(currency=self.reference.currency)
        except ValidationError as exc:
            checked = None
            errors = {**dict(exc.errors), **errors}
        team = self.referral_team.currentData()
        new_referral = team is not None and (
            self.view is None or team != self.view.assigned_team_id
        )
        if new_referral and not self.referral_reason.text().strip():
            errors["referral_reason"] = self.tr("Say why the case is passed to this team.")
        if errors:
            self.show_errors(errors)
            return None
        self.clear_errors()
        return checked

    def clear_errors(self) -> None:
        for error in self.field_errors.values():
            error.clear_message()
        self.transactions.show_errors({})
        self.general_error.clear_message()

    def show_errors(self, errors: dict[str, str]) -> None:
        """Messages beside their fields, focus on the first field to correct."""
        self.clear_errors()
        first: QWidget | None = None
        leftovers: list[str] = []
        order = list(self.field_errors)
        promise_text = self.promise_warning.text().removeprefix("⚠ ")
        for key in order:
            if key in errors:
                if key == "next_steps" and errors[key] == promise_text:
                    # The promise warning already says it, right under the field: make it red.
                    set_role(self.promise_warning, "error")
                else:
                    self.field_errors[key].show_message(errors[key])
                if first is None:
                    first = self.field_widgets.get(key)
        txn_first = self.transactions.show_errors(
            {k: v for k, v in errors.items() if k.startswith("transactions")}
        )
        known = set(order)
        for key, message in errors.items():
            if key not in known and not key.startswith("transactions"):
                leftovers.append(message)
        if leftovers:
            self.general_error.show_message(" ".join(leftovers))
        target = first or txn_first
        first_key = next((k for k in order if k in errors), None)
        if (
            txn_first is not None
            and first_key is not None
            # Focus whichever comes first on the form (transactions follow the understanding).
            and order.index(first_key) > order.index("officer_understanding")
        ):
            target = txn_first
        if target is not None:
            target.setFocus(Qt.FocusReason.OtherFocusReason)
            self.scroll_area.ensureWidgetVisible(target)
        self.message.emit(self.tr("Please correct the highlighted fields."))

    # --- saving --------------------------------------------------------------------------

    def save(self) -> None:
        """Ctrl+S. Ignored while a save is running (the button is disabled, the key is not)."""
        if self._saving:
            return
        details = self.validate()
        if details is None:
            return
        if not self._may_close(details):
            return
        team = self.referral_team.currentData()
        reason = self.referral_reason.text().strip()
        mood = self.current_mood()
        # The guided-script runs not stored yet go with the case, in the same transaction.
        runs = self.run_source.unsaved_runs(self.case_key) if self.run_source else []
        self._saving = True
        self.save_button.setEnabled(False)
        self._sent = _content(self.form_state())
        self._sent_runs = runs
        self._save_generation = self._generation
        self._saving_draft_id = self.draft_id
        if self.view is None:
            client_uuid = self.client_uuid
            self.ops.write(
                lambda d: d.cases.create(
                    details,
                    client_uuid=client_uuid,
                    refer_to_team_id=team,
                    referral_reason=reason,
                    customer_mood=mood,
                    runs=runs,
                ),
                on_success=self._saved,
                on_error=self._save_failed,
                owner=self,
                label=self.tr("Saving the case…"),
            )
            return
        view = self.view
        expected = self._base_version if self._base_version is not None else view.version
        status = enum_data(self.status, CaseStatus)
        new_status = status if status is not None and status != view.status else None
        refer = team if team is not None and team != view.assigned_team_id else None
        # Fields, status and referral in one transaction: all saved, or nothing.
        self.ops.write(
            lambda d: d.cases.save(
                view.id,
                details,
                expected_version=expected,
                status=new_status,
                refer_to_team_id=refer,
                referral_reason=reason if refer is not None else "",
                customer_mood=mood,
                runs=runs,
            ),
            on_success=self._saved,
            on_error=self._save_failed,
            owner=self,
            label=self.tr("Saving the case…"),
        )

    def _saved(self, view: CaseView) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        if self.run_source is not None:
            self.run_source.runs_stored(self._sent_runs)
        self._sent_runs = []
        sent, self._sent = self._sent, None
        old_draft = self._saving_draft_id
        if self._save_generation != self._generation:
            # The officer moved on to another case while this one was saving: leave the form.
            if self.drafts is not None:
                self.drafts.discard(old_draft)
                self.drafts.discard(f"{view.uuid}-{draft_scope(self.database_key, self.username)}")
            self.message.emit(self.tr("Saved {reference}").format(reference=view.reference))
            self.saved.emit(view)
            return
        later = self.form_state()
        typed_on = sent is not None and _content(later) != sent
        customer = self.customer
        self.show_case(view)
        if self.drafts is not None:
            self.drafts.discard(old_draft)
            if not typed_on:
                self.drafts.discard(self.draft_id)
        text = self.tr("Saved {reference}").format(reference=view.reference)
        self.banner.setText(
            self.tr(
                "Saved {reference}. Give the customer the acknowledgement slip: "
                "Print slip (Ctrl+P) or Slip as PDF."
            ).format(reference=view.reference)
        )
        if view.offline_pending:
            text = self.tr(
                "Kept on this computer: the server cannot be reached. {reference} will be sent "
                "by itself when the connection is back."
            ).format(reference=view.reference)
            self.banner.setText(
                text
                + " "
                + self.tr(
                    "The slip (Ctrl+P) can be printed now; a reference starting with P- is "
                    "provisional and says so."
                )
            )
        self.banner.show()
        if typed_on:
            # What was typed while saving goes back on top of the saved case, still unsaved.
            self._fill(later, customer)
            self._dirty = True
            self.save_draft()
            text = self.tr(
                "Saved {reference}; what you typed since is not saved yet (Ctrl+S)."
            ).format(reference=view.reference)
            self.banner.setText(text)
        self.message.emit(text)
        self.scroll_area.verticalScrollBar().setValue(0)
        self.saved.emit(view)
        if not typed_on:
            self.print_button.setFocus()

    def _save_failed(self, exc: BaseException) -> None:
        self._saving = False
        self._sent = None
        self._sent_runs = []
        self.save_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self.show_errors(dict(exc.errors))
            return
        # Everything stays on the form; the message says what to do.
        text = str(exc) if is_user_error(exc) else bug_message()
        self.general_error.show_message(text)
        self.scroll_area.ensureWidgetVisible(self.general_error)
        self.message.emit(text)
        if (
            isinstance(exc, ConflictError)
            and self.view is not None
            and self._save_generation == self._generation
        ):
            self.compare_with_theirs(exc)

    # --- a colleague saved first: the conflict view --------------------------------------

    # Created on first use (per form): the stored versions of the case on show that the form
    # has seen, so the version the edits started from is still known after a contact was added
    # (which shows the newer case but keeps the older base, see _entry_added).
    _seen_case_id: int | None = None
    _seen_versions: dict[int, CaseContent] | None = None
    _customer_names: dict[int, str] | None = None
    _conflict_dialog: ConflictDialog | None = None

    def _remember_version(self, view: CaseView) -> None:
        if self._seen_versions is None or self._seen_case_id != view.id:
            self._seen_versions = {}
            self._seen_case_id = view.id
        if self._customer_names is None:
            self._customer_names = {}
        self._seen_versions[view.version] = CaseContent(
            view.details, view.customer_mood, view.status
        )
        for old in sorted(self._seen_versions)[:-12]:  # a handful is plenty
            del self._seen_versions[old]
        self._customer_names[view.customer.id] = view.customer.full_name

    @property
    def conflict_dialog(self) -> ConflictDialog | None:
        """The conflict view while it is open."""
        return self._conflict_dialog

    def _base_content(self) -> CaseContent | None:
        """The stored version the edits on the form started from (None: not known here, as
        for a draft restored after a restart)."""
        if self.view is None or self._base_version is None or self._seen_case_id != self.view.id:
            return None
        return (self._seen_versions or {}).get(self._base_version)

    def _my_content(self, base: CaseContent | None, theirs: CaseContent) -> CaseContent:
        """What the form would save. The status counts as mine only when the officer chose a
        new one (the first choice is the status of the case on show)."""
        details, _errors = self.details()
        chosen = enum_data(self.status, CaseStatus) if self.status.currentIndex() > 0 else None
        unchanged = base.status if base is not None else theirs.status
        return CaseContent(details.normalised(), self.current_mood(), chosen or unchanged)

    def compare_with_theirs(self, exc: ConflictError) -> None:
        """A save was refused because someone saved the case first: fetch their version and
        open the conflict view. The form keeps everything typed meanwhile."""
        assert self.view is not None
        case_id, generation = self.view.id, self._generation

        def fetched(fresh: CaseView) -> None:
            if generation == self._generation and not self._saving:
                self._open_conflict(fresh, exc)

        def failed(error: BaseException) -> None:
            if generation != self._generation:
                return
            reason = str(error) if is_user_error(error) else bug_message()
            self.general_error.show_message(
                " ".join(
                    [
                        str(exc),
                        self.tr("Their version could not be fetched: {reason}").format(
                            reason=reason
                        ),
                    ]
                )
            )

        self.ops.query(
            lambda d: d.cases.get(case_id),
            on_success=fetched,
            on_error=failed,
            owner=self,
            label=self.tr("Fetching the newer version of the case…"),
        )

    def _open_conflict(self, fresh: CaseView, exc: ConflictError) -> None:
        if self.view is None or self.view.id != fresh.id or self._conflict_dialog is not None:
            return
        base = self._base_content()
        theirs = CaseContent(fresh.details, fresh.customer_mood, fresh.status)
        conflict = Conflict.between(base, self._my_content(base, theirs), theirs)
        names = dict(self._customer_names or {})
        names[fresh.customer.id] = fresh.customer.full_name
        if self.customer is not None:
            names[self.customer.id] = self.customer.full_name
        last = fresh.timeline[0] if fresh.timeline else None
        dialog = ConflictDialog(
            conflict,
            reference=self.reference,
            case_reference=fresh.reference,
            changed_by=exc.changed_by or (last.actor_name if last else ""),
            changed_at=exc.changed_at or (last.at if last else None),
            customers=names,
            parent=self,
        )
        dialog.finished.connect(lambda result: self._conflict_decided(dialog, fresh, result))
        self._conflict_dialog = dialog
        dialog.open()

    def _conflict_decided(self, dialog: ConflictDialog, fresh: CaseView, result: int) -> None:
        self._conflict_dialog = None
        dialog.deleteLater()
        self.activateWindow()  # the keyboard comes back to the form
        if result != ConflictDialog.DialogCode.Accepted:
            # Back to the form: exactly as typed; the message above it still says who changed
            # the case, and the next save compares again.
            self.message.emit(
                self.tr(
                    "Not saved: {who} changed {reference}; your changes are on the form."
                ).format(who=dialog.changed_by, reference=fresh.reference)
            )
            return
        if self.view is None or self.view.id != fresh.id:
            return
        if self._take_merge(fresh, dialog.choices(), dialog.merged()):
            self.save()

    def _take_merge(self, fresh: CaseView, choices: dict[str, Side], merged: CaseContent) -> bool:
        """Put the merged case on the form, made on their version: what the officer kept stays
        exactly as typed, what they took comes from the stored case. The guided-script runs and
        the referral stay as the form holds them (a referral the officer did not touch follows
        theirs)."""
        shown = self.view
        mine = self.form_state()
        customer = self.customer
        self.show_case(fresh)  # the base is now their version
        theirs = self.form_state()
        state = dict(mine)
        for key, side in choices.items():
            if side is Side.THEIRS:
                for name in FORM_STATE_KEYS[key]:
                    state[name] = theirs[name]
        if "status" not in choices or choices["status"] is Side.THEIRS:
            state["status"] = fresh.status.value
        elif merged.status is not None:
            state["status"] = merged.status.value
        if shown is not None and mine.get("referral_team_id") == shown.assigned_team_id:
            state["referral_team_id"] = fresh.assigned_team_id
        if choices.get("customer") is Side.THEIRS:
            customer = fresh.customer
        self._fill(state, customer)
        self._dirty = True
        self._draft_pending = True
        self.save_draft()
        status = enum_data(self.status, CaseStatus)
        if merged.status is not None and status is not merged.status:
            # The status kept cannot follow theirs: say so, and let the officer choose again.
            text = self.tr(
                "The case is now {theirs}; it cannot move to {mine} from there. Choose the "
                "status again, then save (Ctrl+S)."
            ).format(theirs=label(fresh.status), mine=label(merged.status))
            self.general_error.show_message(text)
            self.status.setFocus(Qt.FocusReason.OtherFocusReason)
            self.message.emit(text)
            return False
        return True

    # --- showing a stored case -----------------------------------------------------------

    def open_case(self, case_id: int) -> None:
        self._generation += 1
        self.ops.query(
            lambda d: d.cases.get(case_id),
            on_success=self.show_case,
            owner=self,
            label=self.tr("Opening the case…"),
        )

    def show_case(self, view: CaseView) -> None:
        """Fill the form with a stored case (after opening or saving it)."""
        d = view.details
        self._filling = True
        try:
            self.view = view
            self._base_version = view.version
            self._remember_version(view)
            self.customer_editor.hide()
            self.set_customer(view.customer)
            self.customer_search.setText(view.customer.full_name)
            _select_data(self.kind, d.kind)
            _select_data(self.channel, d.channel)
            _select_data(self.priority, d.priority)
            _select_data(self.category, d.category_id)
            self._fill_subcategories()
            _select_data(self.subcategory, d.subcategory_id)
            for name in _TEXT_FIELDS:
                if name != "referral_reason":
                    getattr(self, name).setText(getattr(d, name))
            self.referral_reason.clear()
            self.transactions.set_transactions(d.transactions)
            self.customer_agreed.setChecked(d.customer_confirmed)
            self.customer_comfortable.setCheckState(
                Qt.CheckState.PartiallyChecked
                if d.customer_comfortable is None
                else Qt.CheckState.Checked
                if d.customer_comfortable
                else Qt.CheckState.Unchecked
            )
            _select_data(self.referral_team, view.assigned_team_id)
            _select_data(self.resolution_method, d.resolution_method)
            self.set_mood(view.customer_mood)
            self.template.setCurrentIndex(0)
            assigned = view.assigned_team_name or view.assigned_officer_name
            self.assigned_label.setText(
                self.tr("Assigned to {who}. Opened {when} at {centre}.").format(
                    who=assigned or self.tr("nobody yet"),
                    when=local_time(view.opened_at),
                    centre=view.centre.name,
                )
            )
            self.reference_label.setText(
                self.tr("{reference} — {customer}").format(
                    reference=view.reference, customer=view.customer.full_name
                )
            )
            self._show_status_choices(view)
            self.confirm_hint.hide()
            self.banner.hide()
            self.clear_errors()
            self._update_social()
            self._update_promises()
            self._update_comfortable()
            self._update_buttons()
            self.update_summary()
        finally:
            self._filling = False
        self._dirty = False
        self._draft_pending = False
        self.refresh_safety()
        self.caseShown.emit(view)

    def prepare_referral(self, reason: str) -> None:
        """The guided script says to refer the case: the reason is written (unless the officer
        already wrote one) and the keyboard waits on the team to choose."""
        if not self.referral_reason.text().strip():
            self.referral_reason.setText(" ".join(reason.split())[:200])
        self.referral_team.setFocus(Qt.FocusReason.OtherFocusReason)

    def append_to_understanding(self, text: str) -> None:
        """Add a line (a phrase from the guided script) to "Your understanding", keeping what
        is there; the form becomes unsaved like after typing."""
        text = text.strip()
        if not text:
            return
        current = self.officer_understanding.text().rstrip()
        self.officer_understanding.setText(f"{current}\n{text}" if current else text)
        cursor = self.officer_understanding.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.officer_understanding.setTextCursor(cursor)

    # --- the customer's mood and the safety incident -----------------------------------------

    def _mood_labels(self) -> dict[Mood, str]:
        return {
            Mood.CALM: self.tr("Calm"),
            Mood.ANXIOUS: self.tr("Anxious"),
            Mood.FRUSTRATED: self.tr("Frustrated"),
            Mood.ANGRY: self.tr("Angry"),
            Mood.DISTRESSED: self.tr("Distressed"),
            Mood.AGGRESSIVE: self.tr("Aggressive"),
        }

    def current_mood(self) -> Mood | None:
        value = self.mood.currentData()
        return Mood(value) if value else None

    def set_mood(self, mood: Mood | None) -> None:
        """Set the customer's mood (from the script panel, or the stored case); a change by the
        officer makes the form unsaved like any other edit."""
        _select_data(self.mood, mood.value if mood else None)

    @property
    def case_key(self) -> uuid.UUID:
        """The case on show: its UUID, which is the client UUID until the first save."""
        return self.view.uuid if self.view is not None else self.client_uuid

    def safety_runs(self) -> list[safety.RunSafety]:
        """The runs of the case for the closing rule: stored ones with their reports, and the
        script panel's runs the database does not hold yet."""
        stored = {run.uuid: run.safety for run in (self.view.script_runs if self.view else ())}
        pending = self.run_source.case_runs(self.case_key) if self.run_source else []
        return safety.combined(
            stored, {run.uuid: is_safety_incident(run.record) for run in pending}
        )

    def runs_changed(self) -> None:
        """The script panel's runs moved on: the safety box follows, and on a case not saved
        yet the runs are unsaved work, kept in the draft like typing."""
        self.refresh_safety()
        source = self.run_source
        if (
            self.view is None
            and not self._filling
            and source is not None
            and source.unsaved_runs(self.case_key)
        ):
            self._dirty = True
            self._draft_pending = True

    def refresh_safety(self) -> None:
        """Show (or hide) the safety incident that waits for its report."""
        waiting = safety.unreported(self.safety_runs())
        self.safety_box.setVisible(waiting > 0)
        if not waiting:
            return
        if self.view is None:
            text = self.tr(
                "⚠ A safety incident happened with this customer. Save the case, then report "
                "the incident: the case cannot be resolved or closed before that."
            )
        else:
            text = self.tr(
                "⚠ A safety incident on this case has not been reported yet. The case cannot "
                "be resolved or closed until it is."
            )
        self.incident_warning.setText(text)
        self.incident_warning.setAccessibleName(text)
        self.report_incident_button.setVisible(self.view is not None)

    def _closing_refusal(self, target: CaseStatus | None) -> str:
        """Why moving to ``target`` is refused by the safety rule ("" when it is not)."""
        if target is None:
            return ""
        current = self.view.status if self.view is not None else None
        try:
            safety.check_may_close(current, target, self.safety_runs())
        except safety.IncidentNotReported as refused:
            if self.view is None:
                return self.tr(
                    "A safety incident happened with this customer and has not been reported. "
                    "Save the case without settling it at first contact, report the incident "
                    "(Report the incident…), then resolve it."
                )
            return str(refused)
        return ""

    def _status_chosen(self) -> None:
        """Choosing Resolved or Closed explains at once when the safety rule stands in the way."""
        if self._filling or self.view is None:
            return
        refusal = self._closing_refusal(enum_data(self.status, CaseStatus))
        if refusal:
            self.general_error.show_message(refusal)
        else:
            self.general_error.clear_message()

    def _may_close(self, details: CaseDetails) -> bool:
        target = enum_data(self.status, CaseStatus) if self.view else initial_status(details)
        refusal = self._closing_refusal(target)
        if not refusal:
            return True
        self.general_error.show_message(refusal)
        self.scroll_area.ensureWidgetVisible(self.general_error)
        self.refresh_safety()
        if self.report_incident_button.isVisible():
            self.report_incident_button.setFocus(Qt.FocusReason.OtherFocusReason)
        self.message.emit(refusal)
        return False

    def report_incident(self) -> IncidentDialog | None:
        """Open the small dialog where the officer writes the incident report."""
        view = self.view
        if view is None:
            self.message.emit(self.tr("Save the case first, then report the incident."))
            return None
        pending = self.run_source.unsaved_runs(view.uuid) if self.run_source else []
        title = self.run_source.script_title if self.run_source else (lambda s: s)
        incidents = [
            (title(run.script_id), run.started_at)
            for run in view.script_runs
            if run.safety.needs_report
        ]
        stored = {run.uuid for run in view.script_runs}
        incidents += [
            (title(run.record.script_id), run.record.started_at)
            for run in pending
            if run.uuid not in stored and is_safety_incident(run.record)
        ]
        dialog = IncidentDialog(
            self.ops,
            case_id=view.id,
            reference=view.reference,
            incidents=incidents,
            runs=pending,
            parent=self,
        )
        dialog.reported.connect(lambda runs: self._incident_reported(view.id, pending, runs))
        dialog.finished.connect(lambda _r: self._incident_dialog_closed())
        self._incident_dialog = dialog
        dialog.open()
        return dialog

    def _incident_dialog_closed(self) -> None:
        dialog, self._incident_dialog = self._incident_dialog, None
        if dialog is not None:
            dialog.deleteLater()
        self.activateWindow()  # the keyboard comes back to the form

    def _incident_reported(
        self, case_id: int, sent: list[ScriptRunToSave], runs: list[ScriptRunView]
    ) -> None:
        if self.run_source is not None:
            self.run_source.runs_stored(sent)
        self.update_runs(case_id, runs)
        self.general_error.clear_message()
        self.message.emit(self.tr("Incident report saved. The case can now be resolved."))
        self.status.setFocus(Qt.FocusReason.OtherFocusReason)

    def update_runs(self, case_id: int, runs: list[ScriptRunView]) -> None:
        """The stored runs of a case changed (stored by the panel, or reported): the case on
        show takes them without touching what the officer is typing."""
        if self.view is None or self.view.id != case_id:
            return
        self.view = dataclasses.replace(self.view, script_runs=tuple(runs))
        self.refresh_safety()
        self.runsUpdated.emit(self.view)

    # --- contacts, updates and notes -----------------------------------------------------

    def add_entry(
        self, kind: EventKind, *, text: str | None = None, channel: Channel | None = None
    ) -> None:
        """Ask for the text in a small dialog (or take it from the caller) and add it."""
        if self.view is None:
            self.message.emit(self.tr("Save the case first."))
            return
        if text is None:
            dialog = EntryDialog(kind, self)
            if dialog.exec() != EntryDialog.DialogCode.Accepted:
                return
            text, channel = dialog.text.text(), dialog.entry_channel()
        case_id = self.view.id
        entry_text = text
        self.ops.write(
            lambda d: d.cases.add_entry(case_id, kind=kind, text=entry_text, channel=channel),
            on_success=self._entry_added,
            on_error=lambda exc: self.general_error.show_message(
                str(exc) if is_user_error(exc) else bug_message()
            ),
            owner=self,
            label=self.tr("Adding to the case…"),
        )

    def _entry_added(self, view: CaseView) -> None:
        if self._dirty:
            # Keep what the officer is typing; only the timeline moves on. The edits still
            # started from the version they were made on, so a colleague's change in between
            # is reported as a conflict on Save rather than overwritten.
            state = self.form_state()
            base = self._base_version
            customer = self.customer
            self.show_case(view)
            self._fill(state, customer)
            self._base_version = base
            self._dirty = True
        else:
            self.show_case(view)
        self.message.emit(self.tr("Added to {reference}").format(reference=view.reference))

    # --- the case changed elsewhere (live news, ui/main_window.py) -----------------------

    _elsewhere_notice: QLabel | None = None
    _elsewhere: tuple[int, int] | None = None  # (case id, stored version) the notice tells of

    def changed_elsewhere(self, view: CaseView) -> None:
        """Someone else saved the case on show while the officer has unsaved edits here: say so
        above the form and leave the edits as they are (Save then compares them with theirs)."""
        if self.view is None or view.id != self.view.id:
            return
        notice = self._elsewhere_notice
        if notice is None:
            notice = QLabel()
            notice.setObjectName("caseChangedElsewhere")
            notice.setAccessibleName(self.tr("Case changed elsewhere"))
            notice.setWordWrap(True)
            notice.setProperty("role", "warning")
            layout = self.layout()
            assert isinstance(layout, QVBoxLayout)
            layout.insertWidget(layout.indexOf(self.scroll_area), notice)
            self._elsewhere_notice = notice
            self.caseShown.connect(self._elsewhere_case_shown)
        notice.setText(
            self.tr(
                "{reference} was changed elsewhere while you were editing; when you save, you "
                "will compare your changes with theirs."
            ).format(reference=view.reference)
        )
        notice.show()
        self._elsewhere = (view.id, view.version)

    def _elsewhere_case_shown(self, view: CaseView | None) -> None:
        elsewhere = self._elsewhere
        if view is None or elsewhere is None or view.id != elsewhere[0]:
            self._hide_elsewhere_notice()
            return
        # Adding a contact shows the newer case but keeps the edits' older base version (see
        # _entry_added): look once that is settled.
        QTimer.singleShot(0, self, self._elsewhere_settled)

    def _elsewhere_settled(self) -> None:
        elsewhere, base = self._elsewhere, self._base_version
        if elsewhere is None or self.view is None or self.view.id != elsewhere[0]:
            self._hide_elsewhere_notice()
        elif base is not None and base >= elsewhere[1]:
            self._hide_elsewhere_notice()  # saved, or reloaded: the form starts from theirs

    def _hide_elsewhere_notice(self) -> None:
        self._elsewhere = None
        if self._elsewhere_notice is not None:
            self._elsewhere_notice.hide()

    # --- the slip ------------------------------------------------------------------------

    def print_slip(self) -> None:
        if self.view is None:
            self.message.emit(self.tr("Save the case first; the slip shows the saved case."))
            return
        if print_slip(self.view, self.reference, self):
            self.message.emit(self.tr("Slip sent to the printer."))

    def save_slip_pdf(self, path: Path | str | None = None) -> Path | None:
        if self.view is None:
            self.message.emit(self.tr("Save the case first; the slip shows the saved case."))
            return None
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(
                self,
                self.tr("Save slip as PDF"),
                str(Path.home() / f"{self.view.reference}.pdf"),
                self.tr("PDF files (*.pdf)"),
            )
            if not chosen:
                return None
            path = chosen
        try:
            written = save_slip_pdf(self.view, self.reference, path)
        except OSError as exc:
            self.general_error.show_message(
                self.tr("The slip could not be saved: {error}").format(error=exc.strerror or exc)
            )
            return None
        self.message.emit(self.tr("Slip saved to {path}").format(path=written))
        return written

    # --- drafts --------------------------------------------------------------------------

    def form_state(self) -> dict[str, Any]:
        """Everything typed, as plain JSON values (for the draft file), with whose it is."""
        state: dict[str, Any] = {
            "format": DRAFT_FORMAT,
            "database": self.database_key,
            "username": self.username,
            "client_uuid": str(self.client_uuid),
            "case_id": self.view.id if self.view else None,
            "case_uuid": str(self.view.uuid) if self.view else None,
            "base_version": self._base_version if self.view else None,
            "reference": self.view.reference if self.view else "",
            "customer": _customer_ref(self.customer) if self.customer else None,
            "customer_search": self.customer_search.text(),
            "kind": self.kind.currentData(),
            "channel": self.channel.currentData(),
            "priority": self.priority.currentData(),
            "category_id": self.category.currentData(),
            "subcategory_id": self.subcategory.currentData(),
            "transactions": self.transactions.state(),
            "customer_agreed": self.customer_agreed.isChecked(),
            "customer_comfortable": {
                Qt.CheckState.Checked: True,
                Qt.CheckState.Unchecked: False,
            }.get(self.customer_comfortable.checkState()),
            "referral_team_id": self.referral_team.currentData(),
            "resolution_method": self.resolution_method.currentData(),
            "status": self.status.currentData(),
            "customer_mood": self.mood.currentData(),
            # Script runs not stored yet travel with the draft, so a crash loses none of them.
            "script_runs": [
                {"uuid": str(run.uuid), "record": run.record.as_dict()}
                for run in (self.run_source.unsaved_runs(self.case_key) if self.run_source else [])
            ],
        }
        for name in _TEXT_FIELDS:
            state[name] = getattr(self, name).text()
        return state

    def restore_state(self, state: dict[str, Any], *, draft_id: str | None = None) -> None:
        """Put a draft back on the form. The stored case and the customer are fetched again
        and checked against the draft (same case uuid, same customer name); what no longer
        matches is left out with a message, the typed text always comes back."""
        self._generation += 1
        case_id = state.get("case_id")
        customer = state.get("customer") or None
        customer_id = customer.get("id") if isinstance(customer, dict) else None

        def fetch(d: Any) -> tuple[CaseView | None, CustomerSummary | None]:
            view: CaseView | None = None
            found: CustomerSummary | None = None
            if case_id:
                try:
                    view = d.cases.get(int(case_id))
                except DeskError:
                    view = None
            if customer_id is not None:
                try:
                    found = d.customers.get(int(customer_id))
                except DeskError:
                    found = None
            return view, found

        generation = self._generation

        def fetched(result: tuple[CaseView | None, CustomerSummary | None]) -> None:
            if generation == self._generation:
                self._restore_fetched(state, result[0], result[1], draft_id)

        def failed(_exc: BaseException) -> None:
            if generation == self._generation:
                self._restore_fetched(state, None, None, draft_id)

        self.ops.query(
            fetch,
            on_success=fetched,
            on_error=failed,
            owner=self,
            label=self.tr("Opening the case…"),
        )

    def _restore_fetched(
        self,
        state: dict[str, Any],
        view: CaseView | None,
        customer: CustomerSummary | None,
        draft_id: str | None,
    ) -> None:
        notes: list[str] = []
        if state.get("case_id"):
            if view is None or str(view.uuid) != str(state.get("case_uuid")):
                view = None
                notes.append(
                    self.tr(
                        "The case {reference} of this draft is not in this database any more; "
                        "it is restored as a new case."
                    ).format(reference=state.get("reference") or "")
                )
        else:
            view = None
        wanted = state.get("customer") or None
        customer_note = ""
        if isinstance(wanted, dict):
            if customer is None or not _same_name(
                customer.full_name, str(wanted.get("full_name", ""))
            ):
                customer = None
                customer_note = self.tr(
                    "The customer {name} of this draft could not be found again: "
                    "find the customer before saving."
                ).format(name=wanted.get("full_name", ""))
        else:
            customer = None
        if view is not None:
            self.show_case(view)
            base = state.get("base_version")
            self._base_version = base if isinstance(base, int) else view.version
        else:
            self._filling = True
            try:
                self.view = None
                self._base_version = None
                self._show_status_choices(None)
                self.assigned_label.clear()
                self.banner.hide()
                self.clear_errors()
                self.reference_label.setText(self.tr("New case (restored draft)"))
                try:
                    self.client_uuid = uuid.UUID(str(state.get("client_uuid")))
                except ValueError:
                    self.client_uuid = uuid.uuid4()
            finally:
                self._filling = False
            self.caseShown.emit(None)
        self._fill(state, customer)
        self._adopt_draft_runs(state)
        self._dirty = True
        self._draft_pending = False
        if customer_note:
            self.field_errors["customer"].show_message(customer_note)
            notes.append(customer_note)
        if notes:
            self.general_error.show_message(" ".join(notes))
        if draft_id is not None and self.drafts is not None and draft_id != self.draft_id:
            # Now kept under its new identity (a new case, or this user's own draft name).
            self.save_draft()
            self.drafts.discard(draft_id)
        self.message.emit(" ".join([self.tr("Unsaved case restored."), *notes]))

    def _fill(self, state: dict[str, Any], customer: CustomerSummary | None) -> None:
        """Put typed values back on the form (the case shown, if any, stays as it is)."""
        self._filling = True
        try:
            self.set_customer(customer)
            self.customer_search.setText(str(state.get("customer_search", "")))
            _select_data(self.kind, CaseKind(state.get("kind", CaseKind.COMPLAINT.value)))
            _select_data(self.channel, Channel(state.get("channel", Channel.WALK_IN.value)))
            _select_data(self.priority, Priority(state.get("priority", Priority.NORMAL.value)))
            _select_data(self.category, state.get("category_id"))
            self._fill_subcategories()
            _select_data(self.subcategory, state.get("subcategory_id"))
            for name in _TEXT_FIELDS:
                getattr(self, name).setText(str(state.get(name, "")))
            self.transactions.set_state([list(map(str, r)) for r in state.get("transactions", [])])
            self.customer_agreed.setChecked(bool(state.get("customer_agreed")))
            comfortable = state.get("customer_comfortable")
            self.customer_comfortable.setCheckState(
                Qt.CheckState.PartiallyChecked
                if comfortable is None
                else Qt.CheckState.Checked
                if comfortable
                else Qt.CheckState.Unchecked
            )
            _select_data(self.referral_team, state.get("referral_team_id"))
            method = state.get("resolution_method")
            _select_data(self.resolution_method, ResolutionMethod(method) if method else None)
            _select_data(self.mood, state.get("customer_mood"))
            status = state.get("status")
            if status and self.view is not None:
                _select_data(self.status, CaseStatus(status))
            self._update_social()
            self._update_promises()
            self._update_comfortable()
            self._update_buttons()
            self.update_summary()
        finally:
            self._filling = False

    def has_content(self) -> bool:
        """Worth keeping as a draft: a customer, any text or a guided-script run not stored."""
        return (
            self.customer is not None
            or any(getattr(self, name).text().strip() for name in _TEXT_FIELDS)
            or bool(self.transactions.rows)
            or bool(self.run_source and self.run_source.unsaved_runs(self.case_key))
        )

    def _adopt_draft_runs(self, state: dict[str, Any]) -> None:
        """Hand the draft's script runs back to the panel (a run it still holds is newer)."""
        if self.run_source is None:
            return
        runs: list[ScriptRunToSave] = []
        for kept in state.get("script_runs") or []:
            try:
                runs.append(
                    ScriptRunToSave(uuid.UUID(str(kept["uuid"])), record_from_dict(kept["record"]))
                )
            except (KeyError, TypeError, ValueError, RecordError) as exc:
                log.warning("A script run of the draft could not be read: %s", exc)
        if runs:
            self.run_source.adopt_runs(self.case_key, runs)

    def save_draft(self) -> None:
        """Write the draft file now (called by the timer and after edits, debounced)."""
        self._draft_debounce.stop()
        if self.drafts is None or not self._dirty or not self.has_content():
            self._draft_pending = False
            return
        try:
            self.drafts.save(self.draft_id, self.form_state())
        except (OSError, ValueError) as exc:
            log.warning("Could not save the draft: %s", exc)
            self.message.emit(self.tr("The draft could not be saved: {error}").format(error=exc))
            return
        self._draft_pending = False
        self.draftSaved.emit(self.draft_id)

    def _autosave_tick(self) -> None:
        if self._draft_pending:
            self.save_draft()

    def stop_autosave(self) -> None:
        self._autosave.stop()
        self._draft_debounce.stop()


def _esc(text: str) -> str:
    from html import escape

    return escape(text)
