"""Personal identifiers are masked in lists and search results; revealing one needs the
permission and leaves an entry in the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desk.domain.customer import MASK, mask_identifier
from desk.domain.model import IdentifierKind
from desk.services.errors import PermissionRefused
from tests.integration.test_cases_service import new_customer


@given(st.text(min_size=1, max_size=40).filter(lambda s: s.strip() == s and s))
def test_a_mask_shows_at_most_the_last_four_characters(value: str) -> None:
    masked = mask_identifier(value)
    assert len(masked) == len(value)
    visible = masked.replace(MASK, "")
    assert len(visible) <= 4 and value.endswith(visible)
    if len(value) <= 4:
        assert visible == ""


def test_search_results_show_identifiers_masked(desk: Any) -> None:
    customer = new_customer(desk)
    national_id = f"NX{customer.customer_number}"
    found = desk.customers.search(national_id)
    assert [c.id for c in found] == [customer.id]
    shown = found[0].identifiers[IdentifierKind.NATIONAL_ID]
    assert shown == mask_identifier(national_id) and national_id not in shown
    assert desk.customers.get(customer.id).identifiers[IdentifierKind.NATIONAL_ID] == shown


def test_an_officer_may_not_reveal_but_a_supervisor_may_and_it_is_audited(
    desk: Any, desk_factory: Any
) -> None:
    customer = new_customer(desk)
    with pytest.raises(PermissionRefused, match="may not reveal"):
        desk.customers.reveal(customer.id, IdentifierKind.NATIONAL_ID)
    supervisor = desk_factory("supervisor")
    before, _ = supervisor.verify_audit_trail()
    value = supervisor.customers.reveal(customer.id, IdentifierKind.NATIONAL_ID)
    assert value == f"NX{customer.customer_number}"
    after, broken = supervisor.verify_audit_trail()
    assert broken is None and after == before + 1


def test_saving_an_edit_with_masked_identifiers_keeps_the_stored_ones(desk: Any) -> None:
    from dataclasses import replace

    from desk.domain.customer import CustomerDetails

    customer = new_customer(desk)
    shown = desk.customers.get(customer.id)
    details = CustomerDetails(
        full_name=shown.full_name + " Jr",
        customer_number=shown.customer_number,
        identifiers=dict(shown.identifiers),  # masked, as the edit form shows them
        phone=shown.phone,
    )
    desk.customers.update(customer.id, details)
    national_id = f"NX{customer.customer_number}"
    assert [c.id for c in desk.customers.search(national_id)] == [customer.id]
    changed = replace(details, identifiers={IdentifierKind.NATIONAL_ID: "NZ999888"})
    desk.customers.update(customer.id, changed)
    assert desk.customers.search(national_id) == []
