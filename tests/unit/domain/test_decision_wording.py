"""Suggested words for telling the customer about a decision someone else took."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desk.domain.decision_wording import RequestStatus, customer_wording, is_partial
from desk.domain.money import Currency
from desk.domain.wording import find_promises

DOLLARS = Currency("USD", "$", 2)
YEN = Currency("JPY", "¥", 0)


def words(status: str, **changes: object) -> str:
    values: dict[str, object] = {
        "customer_name": "Ana María López",
        "kind_label": "Fee waiver",
        "status": status,
        "asked_minor": 80_000,
        "decided_minor": None,
        "reason": "",
        "currency": DOLLARS,
    }
    values.update(changes)
    return customer_wording(**values)  # type: ignore[arg-type]


def test_a_pending_request_is_with_the_decider_and_nothing_is_promised() -> None:
    text = words("pending")
    assert text.startswith("Ana, your request for a fee waiver of $800.00 has been passed")
    assert "let you know the outcome" in text
    assert find_promises(text) == []


def test_a_full_approval_gives_the_good_news_without_the_internal_note() -> None:
    text = words("approved", decided_minor=80_000, reason="checked with billing")
    assert text == "Ana, good news: your request for a fee waiver of $800.00 has been approved."


def test_a_partial_approval_says_how_much_why_and_offers_a_review() -> None:
    text = words("approved", decided_minor=60_000, reason="the second fee was correct")
    assert "approved in part: $600.00 of the $800.00 you asked for" in text
    assert "The reason: The second fee was correct." in text
    assert "reviewed by a supervisor" in text


def test_a_rejection_apologises_gives_the_reason_offers_a_review_and_alternatives() -> None:
    text = words("rejected", reason="The penalty was applied correctly.")
    assert text.startswith("Ana, I am sorry, your request for a fee waiver of $800.00 was not")
    assert "The reason: The penalty was applied correctly. " in text
    assert "reviewed by a supervisor" in text
    assert "what else we can do for you" in text


def test_a_returned_request_asks_the_customer_for_what_is_missing() -> None:
    text = words("returned", reason="a copy of the bank letter")
    assert "we need a little more from you. The reason: A copy of the bank letter." in text
    assert "pass your request on again" in text


def test_without_a_name_the_sentence_starts_with_a_capital() -> None:
    assert words("withdrawn", customer_name="   ").startswith("Your request for a fee waiver")


def test_kinds_take_the_right_article_and_currencies_their_decimals() -> None:
    assert "an extra refund of ¥1,500" in words(
        "granted", kind_label="Extra refund", asked_minor=1_500, currency=YEN
    )
    assert "a claim of $800.00" in words("pending", kind_label="Claim")


@pytest.mark.parametrize(
    ("status", "asked", "decided", "partial"),
    [
        ("approved", 100, 99, True),
        ("approved", 100, 0, True),
        ("approved", 100, 100, False),
        ("rejected", 100, None, False),
        ("granted", 100, 50, False),
    ],
)
def test_only_an_approval_below_the_asked_amount_is_partial(
    status: str, asked: int, decided: int | None, partial: bool
) -> None:
    assert is_partial(status, asked, decided) is partial


@given(
    status=st.sampled_from([s.value for s in RequestStatus]),
    asked=st.integers(min_value=1, max_value=10**11),
    fraction=st.floats(min_value=0, max_value=1),
    name=st.sampled_from(["", "  ", "Ana María López", "O'Neil", "Zhang Wei", "madonna"]),
    kind=st.sampled_from(["Fee waiver", "Claim", "Refund", "Parking charge", "  "]),
    reason=st.sampled_from(["", "the fee was correct", "We need the receipt.", "Policy 4.2"]),
)
def test_no_wording_ever_promises_an_outcome(
    status: str, asked: int, fraction: float, name: str, kind: str, reason: str
) -> None:
    decided = int(asked * fraction) if status in ("approved", "granted") else None
    text = words(
        status,
        customer_name=name,
        kind_label=kind,
        asked_minor=asked,
        decided_minor=decided,
        reason=reason,
    )
    assert text and text == text.strip()
    assert find_promises(text) == [], text
    assert DOLLARS.format(asked) in text
