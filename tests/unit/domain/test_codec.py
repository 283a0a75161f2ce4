"""Values to JSON and back: what the outbox and the reading cache keep comes back equal."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desk.domain.case import CaseDetails, TransactionReference
from desk.domain.codec import CodecError, from_json, to_json
from desk.domain.customer import CustomerDetails
from desk.domain.model import (
    CaseKind,
    CaseStatus,
    Channel,
    IdentifierKind,
    Priority,
    ResolutionMethod,
)
from desk.services.dto import CaseRow, CentreInfo, CustomerSummary

texts = st.text(max_size=40)
moments = st.datetimes(timezones=st.just(dt.UTC))

case_details = st.builds(
    CaseDetails,
    customer_id=st.one_of(st.none(), st.integers(-5, 10**9)),
    kind=st.sampled_from(CaseKind),
    channel=st.sampled_from(Channel),
    priority=st.sampled_from(Priority),
    category_id=st.one_of(st.none(), st.integers(1, 100)),
    customer_words=texts,
    customer_confirmed=st.booleans(),
    transactions=st.lists(
        st.builds(
            TransactionReference,
            reference=texts,
            amount_minor=st.one_of(st.none(), st.integers(-(10**12), 10**12)),
            occurred_on=st.one_of(st.none(), st.dates()),
        ),
        max_size=3,
    ).map(tuple),
    customer_comfortable=st.one_of(st.none(), st.booleans()),
    resolution_method=st.one_of(st.none(), st.sampled_from(ResolutionMethod)),
)


@given(case_details)
def test_case_details_come_back_equal(details: CaseDetails) -> None:
    assert from_json(CaseDetails, to_json(details)) == details


@given(texts, st.dictionaries(st.sampled_from(IdentifierKind), texts))
def test_a_customer_comes_back_equal(name: str, identifiers: dict[IdentifierKind, str]) -> None:
    details = CustomerDetails(full_name=name, identifiers=identifiers)
    assert from_json(CustomerDetails, to_json(details)) == details
    summary = CustomerSummary(-3, name, "", identifiers, "", "", "", None, "")
    assert from_json(CustomerSummary, to_json(summary)) == summary


@given(moments)
def test_a_case_row_and_its_time_come_back_equal(opened: dt.datetime) -> None:
    row = CaseRow(
        1,
        "C-2026-000001",
        opened,
        "A",
        CaseKind.COMPLAINT,
        Channel.PHONE,
        CaseStatus.NEW,
        Priority.HIGH,
        "",
        "",
        "Centre",
        "words",
    )
    assert from_json(CaseRow, to_json(row)) == row


def test_json_edited_into_the_wrong_shape_is_refused_not_guessed() -> None:
    good = to_json(CentreInfo(1, "North", "", "", "", ""))
    with pytest.raises(CodecError):
        from_json(CentreInfo, {**good, "id": "one"})
    with pytest.raises(CodecError):
        from_json(CentreInfo, {**good, "surprise": 1})
    with pytest.raises(CodecError):
        from_json(uuid.UUID, 5)
