"""Money as integer minor units of one currency: never a float."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# The largest amount any single transaction or request may carry (in major units).
MAX_MAJOR_UNITS = Decimal("1000000000")

_AMOUNT_TEXT = re.compile(r"^\s*[-+]?\s*(\d[\d,\s]*)?(\.\d*)?\s*$")


@dataclass(frozen=True, slots=True)
class Currency:
    code: str
    symbol: str
    decimals: int

    def format(self, minor_units: int) -> str:
        sign = "-" if minor_units < 0 else ""
        value = abs(minor_units)
        if self.decimals == 0:
            return f"{sign}{self.symbol}{value:,}"
        major, minor = divmod(value, 10**self.decimals)
        return f"{sign}{self.symbol}{major:,}.{minor:0{self.decimals}d}"


DEFAULT_CURRENCY = Currency(code="USD", symbol="$", decimals=2)


class AmountError(ValueError):
    """An amount the user typed that we cannot accept; the message says why."""


def parse_amount(text: str, currency: Currency = DEFAULT_CURRENCY) -> int:
    """Turn what the officer typed ("1,234.50") into minor units, or say what is wrong."""
    cleaned = text.strip().replace(currency.symbol, "").strip()
    if not cleaned:
        raise AmountError("Enter an amount.")
    if not _AMOUNT_TEXT.match(cleaned):
        raise AmountError("Enter the amount as a number, for example 12.50.")
    try:
        value = Decimal(cleaned.replace(",", "").replace(" ", ""))
    except InvalidOperation as exc:
        raise AmountError("Enter the amount as a number, for example 12.50.") from exc
    if not value.is_finite():
        raise AmountError("Enter the amount as a number, for example 12.50.")
    if value < 0:
        raise AmountError("The amount cannot be negative.")
    if value > MAX_MAJOR_UNITS:
        raise AmountError(
            "The amount cannot be more than "
            f"{currency.format(to_minor(MAX_MAJOR_UNITS, currency))}."
        )
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > currency.decimals:
        if currency.decimals == 0:
            raise AmountError(f"{currency.code} amounts have no decimal places.")
        raise AmountError(
            f"{currency.code} amounts have at most {currency.decimals} decimal places."
        )
    return to_minor(value, currency)


def to_minor(value: Decimal, currency: Currency = DEFAULT_CURRENCY) -> int:
    return int(value.scaleb(currency.decimals))


def to_major_text(minor_units: int, currency: Currency = DEFAULT_CURRENCY) -> str:
    """Plain text for an edit field (no symbol, no grouping), the inverse of parse_amount."""
    if currency.decimals == 0:
        return str(minor_units)
    major, minor = divmod(minor_units, 10**currency.decimals)
    return f"{major}.{minor:0{currency.decimals}d}"
