"""Field validation rules, written once and shown by the form beside the field they concern."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from desk.domain.model import IdentifierKind

# Field lengths (characters, after normalisation).
NAME_MAX = 200
SHORT_TEXT_MAX = 500
LONG_TEXT_MAX = 20_000
REFERENCE_MAX = 64

CUSTOMER_NUMBER_PATTERN = re.compile(r"^[0-9]{6,10}$")
IDENTIFIER_PATTERNS: dict[IdentifierKind, tuple[re.Pattern[str], str]] = {
    IdentifierKind.NATIONAL_ID: (
        re.compile(r"^[A-Z0-9]{6,20}$"),
        "A national ID has 6 to 20 letters and digits, without spaces.",
    ),
    IdentifierKind.ACCOUNT_NUMBER: (
        re.compile(r"^[0-9]{6,16}$"),
        "An account number has 6 to 16 digits.",
    ),
}
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ()\-]{5,24}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URL_PATTERN = re.compile(r"^https?://\S+$", re.IGNORECASE)
TRANSACTION_REF_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-/._]{1,39}$")


@dataclass
class ValidationError(ValueError):
    """One or more fields the user must correct; keys are field names, values the messages."""

    errors: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return " ".join(self.errors.values())


# Control characters (NUL from pasted PDFs and the like) that no database should store; tabs
# and line breaks stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalise_text(value: str | None) -> str:
    """NFC-normalise, drop control characters and strip; keeps emoji, right-to-left text and
    combining marks intact."""
    if value is None:
        return ""
    return _CONTROL.sub("", unicodedata.normalize("NFC", value)).strip()


class Checker:
    """Collects field messages so the form can show them all at once."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, field_name: str, message: str) -> None:
        self.errors.setdefault(field_name, message)

    def required(self, field_name: str, value: str, label: str) -> None:
        if not value:
            self.add(field_name, f"{label} is required.")

    def max_length(self, field_name: str, value: str, limit: int, label: str) -> None:
        if len(value) > limit:
            self.add(
                field_name,
                f"{label} is too long: {len(value):,} characters, at most {limit:,} allowed.",
            )

    def pattern(self, field_name: str, value: str, pattern: re.Pattern[str], message: str) -> None:
        if value and not pattern.match(value):
            self.add(field_name, message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(dict(self.errors))


def normalise_identifier(value: str) -> str:
    return normalise_text(value).upper().replace(" ", "")
