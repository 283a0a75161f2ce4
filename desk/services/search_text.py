"""The text a case is found by: one place builds it, so the index and the demo data agree."""

from __future__ import annotations

from collections.abc import Iterable


def build_search_text(
    *,
    reference: str,
    customer_name: str,
    customer_number: str = "",
    identifiers: Iterable[str] = (),
    phone: str = "",
    texts: Iterable[str] = (),
    transaction_refs: Iterable[str] = (),
) -> str:
    """Reference, customer name and identifiers, and the case's own words, space-joined.

    The reference is also given split at its dashes, so "000123" or "2026-000123" find it.
    """
    parts = [reference, reference.replace("-", " "), customer_name, customer_number]
    parts.extend(identifiers)
    digits = "".join(ch for ch in phone if ch.isdigit())
    if digits:
        parts.append(digits)
    parts.extend(transaction_refs)
    parts.extend(texts)
    return " ".join(p for p in parts if p)
