from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desk.domain.case import CaseDetails, TransactionReference, format_reference, initial_status
from desk.domain.customer import CustomerDetails
from desk.domain.model import CaseStatus, Channel, ContactMethod, IdentifierKind, ResolutionMethod
from desk.domain.validation import ValidationError


def errors_of(details: CaseDetails | CustomerDetails) -> dict[str, str]:
    with pytest.raises(ValidationError) as raised:
        details.validate()
    return dict(raised.value.errors)


def test_customer_words_are_required_even_when_only_spaces() -> None:
    errors = errors_of(CaseDetails(customer_id=1, customer_words="   \n\t "))
    assert errors["customer_words"] == "The customer's own words is required."


def test_a_case_needs_a_customer() -> None:
    assert "customer" in errors_of(CaseDetails(customer_id=None, customer_words="x"))


def test_hundred_thousand_characters_is_refused_with_the_count() -> None:
    errors = errors_of(CaseDetails(customer_id=1, customer_words="a" * 100_000))
    assert "100,000 characters" in errors["customer_words"]


@pytest.mark.parametrize(
    "text",
    [
        "Mi factura está mal 😡😡",
        "الفاتورة خاطئة",  # right-to-left
        "'; DROP TABLE cases; --",
        "<b>bold</b><script>alert(1)</script>",
    ],
)
def test_unusual_text_is_kept_as_text(text: str) -> None:
    case = CaseDetails(customer_id=1, customer_words=text).validate()
    assert case.customer_words == text


def test_combining_characters_are_normalised_to_one_form() -> None:
    case = CaseDetails(customer_id=1, customer_words="e\u0301te\u0301").validate()
    assert case.customer_words == "été"


def test_promising_next_steps_are_flagged_before_saving() -> None:
    errors = errors_of(
        CaseDetails(customer_id=1, customer_words="x", next_steps="We guarantee a full refund.")
    )
    assert "guarantee" in errors["next_steps"]


def test_honest_next_steps_pass() -> None:
    CaseDetails(
        customer_id=1,
        customer_words="x",
        next_steps="We cannot guarantee the outcome; a supervisor decides within 5 days.",
    ).validate()


def test_social_media_case_needs_platform_and_a_real_link() -> None:
    errors = errors_of(
        CaseDetails(
            customer_id=1,
            customer_words="x",
            channel=Channel.SOCIAL_MEDIA,
            social_post_url="javascript:alert(1)",
        )
    )
    assert set(errors) >= {"social_platform", "social_post_url"}


def test_transactions_are_checked_row_by_row() -> None:
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    errors = errors_of(
        CaseDetails(
            customer_id=1,
            customer_words="x",
            transactions=(
                TransactionReference("INV-1", 100),
                TransactionReference("inv-1", 100),
                TransactionReference("bad ref!", -5, tomorrow),
            ),
        )
    )
    assert "twice" in errors["transactions.1"]
    assert "transactions.2" in errors


def test_confirming_needs_an_understanding_to_confirm() -> None:
    errors = errors_of(CaseDetails(customer_id=1, customer_words="x", customer_confirmed=True))
    assert "officer_understanding" in errors


def test_settled_at_first_contact_starts_resolved() -> None:
    case = CaseDetails(
        customer_id=1,
        customer_words="x",
        resolution="Explained the bill",
        resolution_method=ResolutionMethod.FIRST_CONTACT,
    )
    assert initial_status(case) is CaseStatus.RESOLVED
    assert initial_status(CaseDetails(customer_id=1, customer_words="x")) is CaseStatus.NEW


@given(st.integers(2000, 2999), st.integers(1, 10**7))
def test_references_sort_and_read_back(year: int, number: int) -> None:
    reference = format_reference(year, number)
    assert reference.startswith(f"C-{year}-")
    assert int(reference.rsplit("-", 1)[1]) == number


def test_customer_identifiers_are_checked_and_normalised() -> None:
    details = CustomerDetails(
        full_name="  Ana   María  ",
        customer_number="12 3456",
        identifiers={IdentifierKind.NATIONAL_ID: "ab 12345", IdentifierKind.ACCOUNT_NUMBER: ""},
        email="ANA@Example.ORG",
    ).validate()
    assert details.full_name == "Ana María"
    assert details.customer_number == "123456"
    assert details.identifiers == {IdentifierKind.NATIONAL_ID: "AB12345"}
    assert details.email == "ana@example.org"


def test_bad_customer_details_name_each_field() -> None:
    errors = errors_of(
        CustomerDetails(
            full_name=" ",
            customer_number="12",
            identifiers={IdentifierKind.ACCOUNT_NUMBER: "12-AB"},
            phone="call me",
            email="nope",
            preferred_contact_method=ContactMethod.EMAIL,
        )
    )
    assert set(errors) == {
        "full_name",
        "customer_number",
        "identifier.account_number",
        "phone",
        "email",
    }


def test_control_characters_are_dropped_but_line_breaks_kept() -> None:
    case = CaseDetails(customer_id=1, customer_words="a\x00b\x1bc\nd\te").validate()
    assert case.customer_words == "abc\nd\te"
