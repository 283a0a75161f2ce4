from __future__ import annotations

import pytest

from desk.domain.model import CaseKind
from desk.domain.wording import confirm_back_summary, find_promises


@pytest.mark.parametrize(
    "text",
    [
        "We guarantee a refund",
        "It will definitely be sorted",
        "Your waiver will be approved",
        "I promise you'll get it back",
        "100% you will be refunded",
    ],
)
def test_promises_are_found(text: str) -> None:
    assert find_promises(text)


@pytest.mark.parametrize(
    "text",
    [
        "A supervisor will review the decision and let you know.",
        "We cannot guarantee the outcome.",
        "We can't promise anything today.",
        "",
    ],
)
def test_honest_wording_passes(text: str) -> None:
    assert find_promises(text) == []


def test_confirm_back_uses_the_first_name_and_every_part() -> None:
    summary = confirm_back_summary(
        customer_name="Ana María López",
        kind=CaseKind.COMPLAINT,
        understanding="You were charged twice for the March water bill",
        expectation="a refund of the second charge",
        transactions=["INV-2026-0042", "PAY-77"],
        next_steps="The billing team will look into it",
    )
    assert summary.startswith("Ana, let me check")
    assert "charged twice for the March water bill." in summary
    assert "INV-2026-0042 and PAY-77" in summary
    assert "you are unhappy about" in summary
    assert summary.endswith("Have I got that right?")
