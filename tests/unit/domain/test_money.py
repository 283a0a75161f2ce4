from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desk.domain.money import DEFAULT_CURRENCY, AmountError, Currency, parse_amount, to_major_text

YEN = Currency(code="JPY", symbol="¥", decimals=0)


@pytest.mark.parametrize(
    ("typed", "minor"),
    [("12.50", 1250), ("1,234.5", 123450), ("$7", 700), (" 0 ", 0), ("0.01", 1), (".5", 50)],
)
def test_typed_amounts_become_minor_units(typed: str, minor: int) -> None:
    assert parse_amount(typed) == minor


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an amount"),
        ("   ", "Enter an amount"),
        ("-5", "cannot be negative"),
        ("12.345", "at most 2 decimal places"),
        ("abc", "as a number"),
        ("1e5", "as a number"),
        ("NaN", "as a number"),
        ("99999999999", "cannot be more than"),
        ("1.2.3", "as a number"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(typed: str, message: str) -> None:
    with pytest.raises(AmountError, match=message):
        parse_amount(typed)


def test_currency_without_decimals_refuses_cents() -> None:
    assert parse_amount("500", YEN) == 500
    with pytest.raises(AmountError, match="no decimal places"):
        parse_amount("500.5", YEN)


@given(st.integers(min_value=0, max_value=100_000_000_000))
def test_formatting_and_parsing_round_trip(minor: int) -> None:
    assert parse_amount(to_major_text(minor)) == minor
    assert parse_amount(DEFAULT_CURRENCY.format(minor)) == minor


def test_amounts_are_never_floats() -> None:
    assert isinstance(parse_amount("0.1"), int)
    assert parse_amount("0.1") + parse_amount("0.2") == parse_amount("0.3")
    assert Decimal("0.30") == Decimal(parse_amount("0.3")) / 100
