"""A case as recorded on the form, and the rules it must meet before it is saved."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

from desk.domain.model import CaseKind, CaseStatus, Channel, Priority, ResolutionMethod
from desk.domain.money import DEFAULT_CURRENCY, MAX_MAJOR_UNITS, Currency, to_minor
from desk.domain.validation import (
    LONG_TEXT_MAX,
    SHORT_TEXT_MAX,
    TRANSACTION_REF_PATTERN,
    URL_PATTERN,
    Checker,
    normalise_text,
)
from desk.domain.wording import find_promises, promise_message

REFERENCE_PATTERN = re.compile(r"^C-(\d{4})-(\d{6,})$")


def format_reference(year: int, number: int) -> str:
    """The short human reference printed on the slip, unique across every client."""
    return f"C-{year:04d}-{number:06d}"


@dataclass(frozen=True)
class TransactionReference:
    """A bill, payment or account transaction the problem is about."""

    reference: str
    amount_minor: int | None = None
    occurred_on: dt.date | None = None


@dataclass(frozen=True)
class CaseDetails:
    """Everything the officer records about a case; the same shape for create and update."""

    customer_id: int | None
    kind: CaseKind = CaseKind.COMPLAINT
    channel: Channel = Channel.WALK_IN
    priority: Priority = Priority.NORMAL
    category_id: int | None = None
    subcategory_id: int | None = None
    customer_words: str = ""
    customer_expectation: str = ""
    officer_understanding: str = ""
    customer_confirmed: bool = False
    social_platform: str = ""
    social_handle: str = ""
    social_post_url: str = ""
    transactions: tuple[TransactionReference, ...] = field(default_factory=tuple)
    actions_agreed: str = ""
    next_steps: str = ""
    customer_comfortable: bool | None = None
    root_cause: str = ""
    resolution: str = ""
    resolution_method: ResolutionMethod | None = None

    def normalised(self) -> CaseDetails:
        return replace(
            self,
            customer_words=normalise_text(self.customer_words),
            customer_expectation=normalise_text(self.customer_expectation),
            officer_understanding=normalise_text(self.officer_understanding),
            social_platform=normalise_text(self.social_platform),
            social_handle=normalise_text(self.social_handle),
            social_post_url=normalise_text(self.social_post_url),
            transactions=tuple(
                replace(t, reference=normalise_text(t.reference)) for t in self.transactions
            ),
            actions_agreed=normalise_text(self.actions_agreed),
            next_steps=normalise_text(self.next_steps),
            root_cause=normalise_text(self.root_cause),
            resolution=normalise_text(self.resolution),
        )

    def validate(
        self, *, currency: Currency = DEFAULT_CURRENCY, today: dt.date | None = None
    ) -> CaseDetails:
        """Return the normalised case, or raise ValidationError naming each bad field."""
        case = self.normalised()
        check = Checker()
        if case.customer_id is None:
            check.add("customer", "Find the customer or add a new one.")
        check.required("customer_words", case.customer_words, "The customer's own words")
        for name, label in (
            ("customer_words", "The customer's own words"),
            ("customer_expectation", "What the customer expects"),
            ("officer_understanding", "Your understanding"),
            ("actions_agreed", "Actions agreed"),
            ("next_steps", "Next steps"),
            ("root_cause", "Root cause"),
            ("resolution", "Resolution"),
        ):
            check.max_length(name, getattr(case, name), LONG_TEXT_MAX, label)
        if case.customer_confirmed and not case.officer_understanding:
            check.add(
                "officer_understanding",
                "Write down your understanding before recording that the customer agreed with it.",
            )
        if case.subcategory_id is not None and case.category_id is None:
            check.add("category", "Choose a category for the subcategory.")
        if case.channel is Channel.SOCIAL_MEDIA:
            check.required("social_platform", case.social_platform, "The platform")
            check.max_length("social_platform", case.social_platform, 60, "The platform")
            check.max_length("social_handle", case.social_handle, 100, "The handle")
            check.pattern(
                "social_post_url",
                case.social_post_url,
                URL_PATTERN,
                "Paste the link to the post, starting with https://.",
            )
            check.max_length("social_post_url", case.social_post_url, SHORT_TEXT_MAX, "The link")
        today = today or dt.date.today()
        seen: set[str] = set()
        for index, txn in enumerate(case.transactions):
            key = f"transactions.{index}"
            if not txn.reference:
                check.add(key, "Enter the transaction, bill or account reference.")
            elif not TRANSACTION_REF_PATTERN.match(txn.reference):
                check.add(
                    key,
                    "A transaction reference has 2 to 40 letters, digits, - / . or _.",
                )
            elif txn.reference.upper() in seen:
                check.add(key, f"{txn.reference} is listed twice.")
            seen.add(txn.reference.upper())
            if txn.amount_minor is not None and not (
                0 <= txn.amount_minor <= to_minor(MAX_MAJOR_UNITS, currency)
            ):
                check.add(key, "The amount must be between zero and one billion.")
            if txn.occurred_on is not None and txn.occurred_on > today:
                check.add(key, "The transaction date cannot be in the future.")
        if case.resolution_method is not None and not case.resolution:
            check.add("resolution", "Describe the resolution.")
        promises = find_promises(case.next_steps)
        if promises:
            check.add("next_steps", promise_message(promises))
        if case.kind is CaseKind.COMPLIMENT and case.transactions:
            check.add("transactions", "A compliment has no transactions.")
        check.raise_if_any()
        return case


def has_resolution(case: CaseDetails) -> bool:
    return bool(case.resolution) and case.resolution_method is not None


def initial_status(case: CaseDetails) -> CaseStatus:
    """A case settled at first contact is saved resolved; others start new."""
    if has_resolution(case) and case.resolution_method is ResolutionMethod.FIRST_CONTACT:
        return CaseStatus.RESOLVED
    return CaseStatus.NEW
