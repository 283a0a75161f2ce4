"""A customer as the officer records them, and the rules their details must meet."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from desk.domain.model import ContactMethod, IdentifierKind
from desk.domain.validation import (
    CUSTOMER_NUMBER_PATTERN,
    EMAIL_PATTERN,
    IDENTIFIER_PATTERNS,
    NAME_MAX,
    PHONE_PATTERN,
    SHORT_TEXT_MAX,
    Checker,
    normalise_identifier,
    normalise_text,
)


@dataclass(frozen=True)
class CustomerDetails:
    """What the officer typed about a customer (new or edited)."""

    full_name: str
    customer_number: str = ""
    identifiers: dict[IdentifierKind, str] = field(default_factory=dict)
    phone: str = ""
    email: str = ""
    address: str = ""
    preferred_contact_method: ContactMethod | None = None
    preferred_language: str = ""

    def normalised(self) -> CustomerDetails:
        return replace(
            self,
            full_name=" ".join(normalise_text(self.full_name).split()),
            customer_number=normalise_identifier(self.customer_number),
            identifiers={
                kind: normalise_identifier(value)
                for kind, value in self.identifiers.items()
                if normalise_identifier(value)
            },
            phone=normalise_text(self.phone),
            email=normalise_text(self.email).lower(),
            address=normalise_text(self.address),
            preferred_language=normalise_text(self.preferred_language),
        )

    def validate(self) -> CustomerDetails:
        """Return the normalised details, or raise ValidationError naming each bad field."""
        details = self.normalised()
        check = Checker()
        check.required("full_name", details.full_name, "The customer's name")
        check.max_length("full_name", details.full_name, NAME_MAX, "The customer's name")
        check.pattern(
            "customer_number",
            details.customer_number,
            CUSTOMER_NUMBER_PATTERN,
            "A customer number has 6 to 10 digits.",
        )
        for kind, value in details.identifiers.items():
            pattern, message = IDENTIFIER_PATTERNS[kind]
            check.pattern(f"identifier.{kind.value}", value, pattern, message)
        check.pattern(
            "phone", details.phone, PHONE_PATTERN, "Enter a phone number such as +1 555 0100."
        )
        check.pattern(
            "email",
            details.email,
            EMAIL_PATTERN,
            "Enter an email address such as name@example.org.",
        )
        check.max_length("email", details.email, NAME_MAX, "The email address")
        check.max_length("address", details.address, SHORT_TEXT_MAX, "The address")
        check.max_length("preferred_language", details.preferred_language, 40, "The language")
        if details.preferred_contact_method is ContactMethod.EMAIL and not details.email:
            check.add("email", "Email is the preferred contact method: enter an email address.")
        if (
            details.preferred_contact_method in (ContactMethod.PHONE, ContactMethod.SMS)
            and not details.phone
        ):
            check.add("phone", "Phone is the preferred contact method: enter a phone number.")
        check.raise_if_any()
        return details


MASK = "•"
VISIBLE_TAIL = 4


def mask_identifier(value: str) -> str:
    """What lists and search results show of a national ID or account number: the last four
    characters, enough to confirm with the customer, never enough to misuse."""
    value = value.strip()
    if not value:
        return ""
    tail = value[-VISIBLE_TAIL:] if len(value) > VISIBLE_TAIL else ""
    return MASK * (len(value) - len(tail)) + tail


def is_masked(value: str) -> bool:
    return MASK in value
