"""The case services on SQLite and on PostgreSQL: what an officer does at the counter."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from desk.domain.case import REFERENCE_PATTERN, CaseDetails, TransactionReference
from desk.domain.customer import CustomerDetails
from desk.domain.model import (
    CaseKind,
    CaseStatus,
    Channel,
    EventKind,
    IdentifierKind,
    ResolutionMethod,
)
from desk.domain.validation import ValidationError
from desk.domain.workflow import TransitionRefused
from desk.services.dto import CaseQuery, CaseScope, CaseSort
from desk.services.errors import ConflictError, NotFound

Desk = Any


def unique_word() -> str:
    return "zq" + uuid.uuid4().hex[:10]


def new_customer(desk: Desk, name: str | None = None) -> Any:
    number = str(uuid.uuid4().int)[:9]
    return desk.customers.create(
        CustomerDetails(
            full_name=name or f"Walk In {unique_word()}",
            customer_number=number,
            identifiers={IdentifierKind.NATIONAL_ID: f"NX{number}"},
            phone="+1 555 0100 " + number[:4],
        )
    )


def walk_in_case(desk: Desk, customer_id: int, words: str, **changes: Any) -> CaseDetails:
    values: dict[str, Any] = {
        "customer_id": customer_id,
        "kind": CaseKind.COMPLAINT,
        "channel": Channel.WALK_IN,
        "customer_words": words,
        "customer_expectation": "A corrected bill",
        "officer_understanding": "Charged twice for the March water bill",
        "customer_confirmed": True,
        "transactions": (TransactionReference("INV-2026-0042", 12_550, dt.date(2026, 3, 1)),),
        "next_steps": "The billing team will look into it and contact you within 5 working days.",
        "customer_comfortable": True,
    }
    values.update(changes)
    return CaseDetails(**values)


def test_officer_records_a_walk_in_case_and_finds_it_three_ways(desk: Desk) -> None:
    word = unique_word()
    customer = new_customer(desk, name=f"Mirela {word.capitalize()}Kovač")
    view = desk.cases.create(walk_in_case(desk, customer.id, f"My bill is wrong {word} again"))

    assert REFERENCE_PATTERN.match(view.reference)
    assert view.status is CaseStatus.NEW
    assert view.details.transactions[0].amount_minor == 12_550
    assert view.customer_confirmed_at is not None
    assert view.opened_at.tzinfo is not None
    assert [e.kind for e in view.timeline][-1] is EventKind.CREATED

    for text in (view.reference, view.reference.lower(), word, f"mirela {word[:6]}"):
        page = desk.cases.list(CaseQuery(scope=CaseScope.ALL, text=text))
        assert view.id in [row.id for row in page.rows], text
    assert desk.cases.find_by_reference(view.reference.lower()).id == view.id


def test_search_treats_sql_and_markup_as_plain_text(desk: Desk) -> None:
    customer = new_customer(desk)
    hostile = "'; DROP TABLE cases; -- <script>alert(1)</script> \" OR 1=1 NEAR( *"
    view = desk.cases.create(walk_in_case(desk, customer.id, hostile))
    assert desk.cases.get(view.id).details.customer_words == hostile
    for text in (hostile, "NEAR(", '"', "*", "DROP TABLE", "AND OR NOT"):
        desk.cases.list(CaseQuery(scope=CaseScope.ALL, text=text))  # never a syntax error


def test_unicode_text_round_trips(desk: Desk) -> None:
    customer = new_customer(desk, name="יעל כהן")
    words = "Facture erronée 😡 — الفاتورة خاطئة"
    view = desk.cases.create(walk_in_case(desk, customer.id, words))
    assert desk.cases.get(view.id).details.customer_words == words
    assert view.id in [
        r.id for r in desk.cases.list(CaseQuery(scope=CaseScope.ALL, text="erronée")).rows
    ]
    assert view.id in [
        r.id for r in desk.cases.list(CaseQuery(scope=CaseScope.ALL, text="יעל")).rows
    ]


def test_saving_twice_with_one_client_uuid_records_one_case(desk: Desk) -> None:
    customer = new_customer(desk)
    client_uuid = uuid.uuid4()
    first = desk.cases.create(walk_in_case(desk, customer.id, "once"), client_uuid=client_uuid)
    second = desk.cases.create(walk_in_case(desk, customer.id, "once"), client_uuid=client_uuid)
    assert first.id == second.id and first.reference == second.reference


def test_references_are_unique_and_increase(desk: Desk) -> None:
    customer = new_customer(desk)
    refs = [desk.cases.create(walk_in_case(desk, customer.id, f"r{i}")).reference for i in range(3)]
    numbers = [int(r.rsplit("-", 1)[1]) for r in refs]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3


def test_invalid_case_is_refused_and_nothing_is_written(desk: Desk) -> None:
    customer = new_customer(desk)
    before = desk.cases.list(CaseQuery(scope=CaseScope.MINE, page_size=500))
    with pytest.raises(ValidationError) as refused:
        desk.cases.create(
            walk_in_case(desk, customer.id, "   ", next_steps="Your refund will be approved.")
        )
    assert set(refused.value.errors) >= {"customer_words", "next_steps"}
    after = desk.cases.list(CaseQuery(scope=CaseScope.MINE, page_size=500))
    assert len(after.rows) == len(before.rows)


def test_update_records_what_changed_and_refuses_a_stale_version(desk_factory: Any) -> None:
    officer = desk_factory("officer")
    senior = desk_factory("senior")
    customer = new_customer(officer)
    view = officer.cases.create(walk_in_case(officer, customer.id, "first words"))

    changed = officer.cases.update(
        view.id,
        walk_in_case(officer, customer.id, "first words", next_steps="We will call you back."),
        expected_version=view.version,
    )
    assert changed.version == view.version + 1
    assert changed.timeline[0].kind is EventKind.CHANGED
    assert "next steps" in changed.timeline[0].summary

    senior.cases.update(
        view.id,
        walk_in_case(senior, customer.id, "senior's words"),
        expected_version=changed.version,
    )
    with pytest.raises(ConflictError) as conflict:
        officer.cases.update(
            view.id,
            walk_in_case(officer, customer.id, "officer's words"),
            expected_version=changed.version,
        )
    assert conflict.value.changed_by
    assert officer.cases.get(view.id).details.customer_words == "senior's words"


def test_workflow_is_enforced_by_the_service(desk: Desk) -> None:
    customer = new_customer(desk)
    view = desk.cases.create(walk_in_case(desk, customer.id, "status walk"))
    assert CaseStatus.CLOSED not in view.allowed_next
    with pytest.raises(TransitionRefused):
        desk.cases.change_status(view.id, CaseStatus.CLOSED)
    with pytest.raises(TransitionRefused, match="resolution"):
        desk.cases.change_status(view.id, CaseStatus.RESOLVED)

    view = desk.cases.change_status(view.id, CaseStatus.IN_PROGRESS, note="Looking at it")
    resolved_details = walk_in_case(
        desk,
        customer.id,
        "status walk",
        resolution="Second charge reversed",
        resolution_method=ResolutionMethod.FIRST_CONTACT,
    )
    view = desk.cases.update(view.id, resolved_details, expected_version=view.version)
    view = desk.cases.change_status(view.id, CaseStatus.RESOLVED)
    view = desk.cases.change_status(view.id, CaseStatus.CLOSED)
    assert view.status is CaseStatus.CLOSED
    reopened = desk.cases.change_status(view.id, CaseStatus.IN_PROGRESS, note="Customer came back")
    assert reopened.timeline[0].summary.startswith("Reopened")


def test_referral_moves_the_case_to_the_team(desk: Desk) -> None:
    team = desk.reference_data().teams[0]
    customer = new_customer(desk)
    with pytest.raises(ValidationError, match="reason"):
        desk.cases.create(
            walk_in_case(desk, customer.id, "needs billing"), refer_to_team_id=team.id
        )
    view = desk.cases.create(
        walk_in_case(desk, customer.id, "needs billing"),
        refer_to_team_id=team.id,
        referral_reason="Meter reading dispute",
    )
    assert view.status is CaseStatus.AWAITING_TEAM
    assert view.assigned_team_name == team.name
    assert any(e.kind is EventKind.REFERRAL and "Meter reading" in e.summary for e in view.timeline)


def test_contacts_notes_and_updates_join_the_timeline(desk: Desk) -> None:
    customer = new_customer(desk)
    view = desk.cases.create(walk_in_case(desk, customer.id, "timeline"))
    view = desk.cases.add_entry(
        view.id,
        kind=EventKind.CUSTOMER_UPDATE,
        text="Called: the team has the bill.",
        channel=Channel.PHONE,
    )
    view = desk.cases.add_entry(view.id, kind=EventKind.NOTE, text="Internal note")
    assert [e.kind for e in view.timeline[:2]] == [EventKind.NOTE, EventKind.CUSTOMER_UPDATE]
    assert view.timeline[1].channel is Channel.PHONE
    with pytest.raises(ValidationError):
        desk.cases.add_entry(view.id, kind=EventKind.NOTE, text="  ")


def test_case_list_pages_by_keyset_without_gaps_or_repeats(desk: Desk) -> None:
    for sort in CaseSort:
        seen: list[int] = []
        cursor = None
        while True:
            page = desk.cases.list(
                CaseQuery(scope=CaseScope.ALL, sort=sort, page_size=37), after=cursor
            )
            seen.extend(r.id for r in page.rows)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert len(seen) == len(set(seen)), sort
        whole = desk.cases.list(CaseQuery(scope=CaseScope.ALL, sort=sort, page_size=100_000))
        assert seen == [r.id for r in whole.rows], sort


def test_filters_narrow_the_list(desk: Desk) -> None:
    rows = desk.cases.list(
        CaseQuery(
            scope=CaseScope.ALL, statuses=(CaseStatus.CLOSED,), channel=Channel.PHONE, page_size=500
        )
    ).rows
    assert rows and all(r.status is CaseStatus.CLOSED and r.channel is Channel.PHONE for r in rows)
    mine = desk.cases.list(CaseQuery(scope=CaseScope.MINE, page_size=500)).rows
    assert all(r.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED) for r in mine)
    opened = desk.cases.list(CaseQuery(scope=CaseScope.ALL, page_size=1)).rows[0].opened_at
    local_day = opened.astimezone().date()
    same_day = desk.cases.list(
        CaseQuery(scope=CaseScope.ALL, opened_from=local_day, opened_to=local_day, page_size=500)
    ).rows
    assert same_day and all(r.opened_at.astimezone().date() == local_day for r in same_day)


def test_customer_type_ahead_finds_by_name_number_identifier_and_phone(desk: Desk) -> None:
    word = unique_word()
    customer = new_customer(desk, name=f"Oluwaseun {word}")
    for text in (
        customer.full_name[:6],
        word[:6],
        customer.customer_number[:5],
        f"nx{customer.customer_number}",  # the national ID, as typed by the officer
        customer.phone[-9:],
    ):
        assert customer.id in [c.id for c in desk.customers.search(text)], text


def test_duplicate_customer_number_is_refused_beside_the_field(desk: Desk) -> None:
    customer = new_customer(desk)
    with pytest.raises(ValidationError) as refused:
        desk.customers.create(
            CustomerDetails(full_name="Someone Else", customer_number=customer.customer_number)
        )
    assert customer.full_name in refused.value.errors["customer_number"]


def test_missing_case_says_so(desk: Desk) -> None:
    with pytest.raises(NotFound):
        desk.cases.find_by_reference("C-1999-000001")


def test_a_refused_status_change_leaves_the_whole_save_unwritten(desk: Desk) -> None:
    customer = new_customer(desk)
    view = desk.cases.create(walk_in_case(desk, customer.id, "one save"))
    with pytest.raises(TransitionRefused, match="resolution"):
        desk.cases.save(
            view.id,
            walk_in_case(desk, customer.id, "one save, edited"),
            expected_version=view.version,
            status=CaseStatus.RESOLVED,
        )
    unchanged = desk.cases.get(view.id)
    assert unchanged.version == view.version
    assert unchanged.details.customer_words == "one save"
    saved = desk.cases.save(
        view.id,
        walk_in_case(desk, customer.id, "one save, edited"),
        expected_version=view.version,
        status=CaseStatus.IN_PROGRESS,
        status_note="Checking the meter",
        refer_to_team_id=desk.reference_data().teams[0].id,
        referral_reason="Meter reading",
    )
    assert saved.status is CaseStatus.AWAITING_TEAM
    assert saved.details.customer_words == "one save, edited"
    assert [e.kind for e in saved.timeline[:3]] == [
        EventKind.REFERRAL,
        EventKind.STATUS_CHANGED,
        EventKind.CHANGED,
    ]


def test_names_with_sharp_s_and_dotted_i_are_found_as_typed(desk: Desk) -> None:
    customer = new_customer(desk, name=f"Jürgen Großmann {unique_word()}")
    view = desk.cases.create(walk_in_case(desk, customer.id, "Straße in İstanbul Kaplanoğlu"))
    for text in ("Großmann", "straße", "Kaplanoğlu"):
        rows = desk.cases.list(CaseQuery(scope=CaseScope.ALL, text=text)).rows
        assert view.id in [r.id for r in rows], text


def test_pasted_control_characters_are_dropped_not_refused(desk: Desk) -> None:
    customer = new_customer(desk)
    view = desk.cases.create(walk_in_case(desk, customer.id, "From the PDF:\x00 bill\x07 wrong\n"))
    assert desk.cases.get(view.id).details.customer_words == "From the PDF: bill wrong"


def test_editing_a_customer_does_not_make_their_open_cases_conflict(desk: Desk) -> None:
    customer = new_customer(desk)
    view = desk.cases.create(walk_in_case(desk, customer.id, "phone change"))
    desk.customers.update(
        customer.id,
        CustomerDetails(
            full_name=customer.full_name + " Jr",
            customer_number=customer.customer_number,
            phone="+1 555 0199 0000",
        ),
    )
    assert desk.cases.get(view.id).version == view.version
    saved = desk.cases.update(
        view.id,
        walk_in_case(desk, customer.id, "phone change, edited"),
        expected_version=view.version,
    )
    assert saved.version == view.version + 1
    rows = desk.cases.list(CaseQuery(scope=CaseScope.ALL, text=customer.full_name + " Jr")).rows
    assert view.id in [r.id for r in rows]


def test_type_ahead_puts_names_starting_with_the_text_first(desk: Desk) -> None:
    word = unique_word()
    later = new_customer(desk, name=f"Aaron {word.capitalize()}")
    first = new_customer(desk, name=f"{word.capitalize()} Zulu")
    found = [c.id for c in desk.customers.search(word)]
    assert found[:2] == [first.id, later.id]
