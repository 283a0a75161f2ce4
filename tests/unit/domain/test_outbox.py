"""The outbox's rules without a database: provisional references, the order entries wait in."""

from __future__ import annotations

import datetime as dt
import uuid

from hypothesis import given
from hypothesis import strategies as st

from desk.domain.outbox import (
    EntryState,
    OpKind,
    OutboxEntry,
    blocked_reason,
    chained_after,
    checksum,
    is_provisional_reference,
    provisional_reference,
)

NOW = dt.datetime(2026, 11, 30, 14, 0, tzinfo=dt.UTC)


def entry(
    seq: int,
    kind: OpKind,
    case: uuid.UUID | None,
    state: EntryState = EntryState.WAITING,
    customer: uuid.UUID | None = None,
) -> OutboxEntry:
    payload: dict[str, str] = {}
    if case is not None:
        payload["case_uuid"] = str(case)
    if customer is not None:
        payload["customer_uuid"] = str(customer)
    return OutboxEntry(seq, uuid.uuid4(), kind, payload, NOW, state)


@given(st.uuids())
def test_a_provisional_reference_is_recognised_and_easy_to_read_back(case_uuid: uuid.UUID) -> None:
    reference = provisional_reference(case_uuid)
    assert is_provisional_reference(reference)
    assert is_provisional_reference(reference.lower())
    assert not set(reference) & set("ILOU")
    assert provisional_reference(case_uuid) == reference  # the same case, the same reference


def test_a_server_reference_is_not_provisional() -> None:
    assert not is_provisional_reference("C-2026-000123")


def test_a_later_change_to_a_case_waits_behind_a_change_that_conflicted() -> None:
    case = uuid.uuid4()
    conflicted = entry(1, OpKind.CASE_SAVE, case, EntryState.CONFLICT)
    assert blocked_reason(entry(2, OpKind.CASE_SAVE, case), [conflicted])
    # A contact adds to the timeline whatever the fields say: it goes.
    assert blocked_reason(entry(2, OpKind.CASE_ENTRY, case), [conflicted]) == ""
    # Another case is not held back.
    assert blocked_reason(entry(2, OpKind.CASE_SAVE, uuid.uuid4()), [conflicted]) == ""


def test_nothing_about_a_case_goes_before_the_case_itself() -> None:
    case = uuid.uuid4()
    refused = entry(1, OpKind.CASE_CREATE, case, EntryState.FAILED)
    assert blocked_reason(entry(2, OpKind.CASE_ENTRY, case), [refused])
    assert blocked_reason(entry(2, OpKind.CASE_SAVE, case), [refused])


def test_a_case_for_a_customer_made_offline_waits_for_that_customer() -> None:
    customer = uuid.uuid4()
    refused = entry(1, OpKind.CUSTOMER_CREATE, None, EntryState.QUARANTINED, customer=customer)
    waiting_case = entry(2, OpKind.CASE_CREATE, uuid.uuid4(), customer=customer)
    assert blocked_reason(waiting_case, [refused])
    assert blocked_reason(entry(3, OpKind.CASE_CREATE, uuid.uuid4()), [refused]) == ""


def test_a_new_save_is_built_on_the_last_create_or_save_of_its_case_still_waiting() -> None:
    case = uuid.uuid4()
    created = entry(1, OpKind.CASE_CREATE, case)
    contact = entry(2, OpKind.CASE_ENTRY, case)
    saved = entry(3, OpKind.CASE_SAVE, case)
    sent = entry(4, OpKind.CASE_SAVE, case, EntryState.DONE)
    assert chained_after(OpKind.CASE_SAVE, case, [created, contact]) == str(created.op_uuid)
    assert chained_after(OpKind.CASE_SAVE, case, [created, contact, saved, sent]) == str(
        saved.op_uuid
    )
    assert chained_after(OpKind.CASE_SAVE, uuid.uuid4(), [created]) == ""
    assert chained_after(OpKind.CASE_ENTRY, case, [created]) == ""


@given(st.text(), st.text())
def test_any_change_to_an_entry_changes_its_checksum(first: str, second: str) -> None:
    op = uuid.uuid4()
    same = checksum(op, "case.save", first) == checksum(op, "case.save", second)
    assert same == (first == second)
