"""Adding a customer inline, without leaving the case the officer is recording."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk.domain.customer import CustomerDetails
from desk.domain.model import ContactMethod, IdentifierKind
from desk.domain.validation import ValidationError
from desk.services.dto import CustomerSummary
from ui.labels import label
from ui.operations import Operations, bug_message, is_user_error
from ui.widgets import FieldError, enum_data


class CustomerEditor(QGroupBox):
    """All a customer's details, with validation messages beside each field."""

    created = Signal(object)  # CustomerSummary
    cancelled = Signal()

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("New customer"), parent)
        self.ops = ops
        self.setObjectName("customerEditor")
        self.fields: dict[str, QLineEdit | QComboBox] = {}
        self.errors: dict[str, FieldError] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        def line(key: str, name: str, text: str, accessible: str, placeholder: str = "") -> None:
            edit = QLineEdit()
            edit.setObjectName(name)
            edit.setAccessibleName(accessible)
            edit.setPlaceholderText(placeholder)
            self._add(form, key, name, text, edit)

        line("full_name", "newCustomerName", self.tr("Full &name:"), self.tr("Customer full name"))
        line(
            "customer_number",
            "newCustomerNumber",
            self.tr("Customer n&umber:"),
            self.tr("Customer number"),
            self.tr("6 to 10 digits"),
        )
        line(
            "identifier.national_id",
            "newCustomerNationalId",
            self.tr("Nat&ional ID:"),
            self.tr("National ID"),
        )
        line(
            "identifier.account_number",
            "newCustomerAccount",
            self.tr("Acco&unt number:"),
            self.tr("Account number"),
        )
        line(
            "phone",
            "newCustomerPhone",
            self.tr("P&hone:"),
            self.tr("Phone"),
            self.tr("+1 555 0100"),
        )
        line("email", "newCustomerEmail", self.tr("E&mail:"), self.tr("Email"))
        line("address", "newCustomerAddress", self.tr("Add&ress:"), self.tr("Address"))
        method = QComboBox()
        method.setObjectName("newCustomerContactMethod")
        method.setAccessibleName(self.tr("Preferred contact method"))
        method.addItem(self.tr("Not stated"), None)
        for value in ContactMethod:
            method.addItem(label(value), value)
        self._add(form, "preferred_contact_method", "", self.tr("Prefers &contact by:"), method)
        line(
            "preferred_language",
            "newCustomerLanguage",
            self.tr("Preferred lan&guage:"),
            self.tr("Preferred language"),
        )

        self.general_error = FieldError("newCustomerError")
        self.add_button = QPushButton(self.tr("&Add customer"))
        self.add_button.setObjectName("addCustomerButton")
        self.add_button.setAccessibleName(self.tr("Add this customer"))
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setObjectName("cancelCustomerButton")
        self.cancel_button.setAccessibleName(self.tr("Cancel adding a customer"))
        self.add_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self._cancel)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.add_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addLayout(buttons)
        for edit in self.fields.values():
            if isinstance(edit, QLineEdit):
                edit.returnPressed.connect(self.submit)

    def _add(
        self, form: QFormLayout, key: str, name: str, text: str, widget: QLineEdit | QComboBox
    ) -> None:
        lab = QLabel(text)
        lab.setBuddy(widget)
        error = FieldError(f"{widget.objectName()}Error")
        box = QVBoxLayout()
        box.setSpacing(1)
        box.addWidget(widget)
        box.addWidget(error)
        form.addRow(lab, box)
        self.fields[key] = widget
        self.errors[key] = error

    def text(self, key: str) -> str:
        widget = self.fields[key]
        assert isinstance(widget, QLineEdit)
        return widget.text()

    def details(self) -> CustomerDetails:
        identifiers = {
            kind: self.text(f"identifier.{kind.value}")
            for kind in IdentifierKind
            if self.text(f"identifier.{kind.value}").strip()
        }
        method = self.fields["preferred_contact_method"]
        assert isinstance(method, QComboBox)
        return CustomerDetails(
            full_name=self.text("full_name"),
            customer_number=self.text("customer_number"),
            identifiers=identifiers,
            phone=self.text("phone"),
            email=self.text("email"),
            address=self.text("address"),
            preferred_contact_method=enum_data(method, ContactMethod),
            preferred_language=self.text("preferred_language"),
        )

    def start(self, name_hint: str = "") -> None:
        """Show the empty editor; what the officer typed in the search becomes the name."""
        for key, widget in self.fields.items():
            if isinstance(widget, QLineEdit):
                widget.clear()
            else:
                widget.setCurrentIndex(0)
            self.errors[key].clear_message()
        self.general_error.clear_message()
        hint = name_hint.strip()
        if hint.isdigit():
            self.fields["customer_number"].setText(hint)  # type: ignore[union-attr]
        else:
            self.fields["full_name"].setText(hint)  # type: ignore[union-attr]
        self.show()
        self.fields["full_name"].setFocus()

    def show_errors(self, errors: dict[str, str]) -> None:
        first: QWidget | None = None
        leftovers = []
        for key, error in self.errors.items():
            error.show_message(errors.get(key, ""))
            if key in errors and first is None:
                first = self.fields[key]
        for key, message in errors.items():
            if key not in self.errors:
                leftovers.append(message)
        self.general_error.show_message(" ".join(leftovers))
        if first is not None:
            first.setFocus()

    def submit(self) -> None:
        try:
            details = self.details().validate()
        except ValidationError as exc:
            self.show_errors(dict(exc.errors))
            return
        self.show_errors({})
        self.add_button.setEnabled(False)
        self.ops.write(
            lambda d: d.customers.create(details),
            on_success=self._created,
            on_error=self._failed,
            owner=self,
            label=self.tr("Adding the customer…"),
        )

    def _created(self, summary: CustomerSummary) -> None:
        self.add_button.setEnabled(True)
        self.hide()
        self.created.emit(summary)

    def _failed(self, exc: BaseException) -> None:
        self.add_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self.show_errors(dict(exc.errors))
        elif is_user_error(exc):
            self.general_error.show_message(str(exc))
        else:
            self.general_error.show_message(bug_message())

    def _cancel(self) -> None:
        self.hide()
        self.cancelled.emit()
