"""Waivers and claims on both databases: granted on the spot within the officer's limit, refused
above it with a sentence that says why and who can, sent up the chain and decided exactly once."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from desk.services.errors import ConflictError, DeskError, NotFound
from desk.services.grants import AuthorityRefused, Outcome
from tests.integration.test_cases_service import new_customer, walk_in_case

Desk = Any


def fresh_case(desk: Desk) -> Any:
    customer = new_customer(desk)
    return desk.cases.create(walk_in_case(desk, customer.id, "The late fee is not fair"))


def test_an_officer_grants_a_small_waiver_at_the_counter(desk: Desk) -> None:
    case = fresh_case(desk)
    check = desk.grants.check(case.id, "waiver", 2_000)
    assert check.verdict.allowed and check.limit_minor == 5_000
    granted = desk.grants.grant(case.id, "waiver", 2_000, "Late fee caused by our system outage")
    assert granted.status == "granted" and granted.decided_amount_minor == 2_000
    assert [r.status for r in desk.grants.for_case(case.id)] == ["granted"]
    timeline = desk.cases.get(case.id).timeline
    assert any("Fee waiver of $20.00 granted at the counter" in e.summary for e in timeline)


def test_a_larger_waiver_is_refused_with_the_reason_and_who_can_decide(desk: Desk) -> None:
    case = fresh_case(desk)
    desk.grants.grant(case.id, "waiver", 3_000, "First part")
    check = desk.grants.check(case.id, "waiver", 3_000)
    assert not check.verdict.allowed
    assert check.verdict.reason == (
        "Your limit for fee waivers is $50.00 and this customer has already received $30.00 "
        "in the period; a Senior Officer must decide this."
    )
    with pytest.raises(AuthorityRefused, match="a Senior Officer must decide") as refused:
        desk.grants.grant(case.id, "waiver", 3_000, "Second part")
    assert refused.value.needs_role == "Senior Officer"
    assert [r.status for r in desk.grants.for_case(case.id)] == ["granted"], "nothing half-written"


def test_a_request_goes_to_the_lowest_person_whose_limit_covers_it(
    desk: Desk, desk_factory: Any
) -> None:
    case = fresh_case(desk)
    request = desk.grants.request(
        case.id,
        "waiver",
        80_000,
        "Penalty on a payment our bank lost",
        recommendation="Waive it in full",
        alternatives_offered="Payment plan",
    )
    assert request.status == "pending"
    assert request.assigned_to is not None
    assert desk.cases.get(case.id).status.value == "awaiting_decision"

    decider = next(
        d
        for d in (desk_factory(u) for u in ("senior", "supervisor", "manager"))
        if any(r.id == request.id for r in d.grants.awaiting_me())
    )
    assert decider.session.full_name == request.assigned_to
    decided = decider.grants.decide(request.id, Outcome.APPROVE, amount_minor=60_000, reason="Part")
    assert decided.status == "approved" and decided.decided_amount_minor == 60_000
    assert desk.cases.get(case.id).status.value == "in_progress"
    with pytest.raises(ConflictError, match="already decided"):
        decider.grants.decide(request.id, Outcome.REJECT, reason="Changed my mind")


def test_nobody_decides_their_own_request(desk_factory: Any) -> None:
    supervisor = desk_factory("supervisor")
    case = fresh_case(supervisor)
    request = supervisor.grants.request(case.id, "claim", 1_000, "Broken bin replaced late")
    with pytest.raises(AuthorityRefused, match="own request"):
        supervisor.grants.decide(request.id, Outcome.APPROVE)
    with pytest.raises(AuthorityRefused, match="own request"):
        supervisor.grants.decide(request.id, Outcome.REJECT, reason="No")


def test_an_officer_may_not_decide_requests(desk: Desk, desk_factory: Any) -> None:
    senior = desk_factory("senior")
    case = fresh_case(senior)
    request = senior.grants.request(case.id, "claim", 1_000, "Bin replaced late")
    with pytest.raises((AuthorityRefused, DeskError)):
        desk.grants.decide(request.id, Outcome.APPROVE)


def test_bad_decisions_are_refused_with_a_clear_message(desk: Desk, desk_factory: Any) -> None:
    case = fresh_case(desk)
    request = desk.grants.request(case.id, "waiver", 10_000, "Late fee")
    manager = desk_factory("manager")
    with pytest.raises(DeskError, match="Give a reason"):
        manager.grants.decide(request.id, Outcome.REJECT)
    with pytest.raises(DeskError, match="between zero and the amount asked"):
        manager.grants.decide(request.id, Outcome.APPROVE, amount_minor=20_000, reason="More")
    with pytest.raises(DeskError, match="Give a reason"):
        desk.grants.grant(case.id, "waiver", 100, "   ")
    with pytest.raises(DeskError, match="no kind of request"):
        desk.grants.grant(case.id, "bribe", 100, "Because")


def test_replaying_the_same_grant_records_it_once(desk: Desk) -> None:
    case = fresh_case(desk)
    key = uuid.uuid4()
    first = desk.grants.grant(case.id, "waiver", 1_000, "Outage", client_uuid=key)
    again = desk.grants.grant(case.id, "waiver", 1_000, "Outage", client_uuid=key)
    assert first.id == again.id
    assert len(desk.grants.for_case(case.id)) == 1


def test_every_grant_and_decision_is_in_the_audit_trail(desk: Desk, desk_factory: Any) -> None:
    case = fresh_case(desk)
    desk.grants.grant(case.id, "waiver", 1_000, "Outage")
    request = desk.grants.request(case.id, "claim", 50_000, "Damaged car at the depot")
    desk_factory("manager").grants.decide(request.id, Outcome.REJECT, reason="Not our vehicle")
    checked, broken = desk.verify_audit_trail()
    assert broken is None and checked >= 3


def test_two_deciders_at_the_same_moment_one_decision_stands(
    desk: Desk, desk_factory: Any, backend: str
) -> None:
    """Two supervisors press Approve and Reject at once, on two real connections: exactly one
    decision is recorded; the other is told who decided."""
    import threading

    case = fresh_case(desk)
    request = desk.grants.request(case.id, "claim", 5_000, "Bin lorry dented the fence")
    deciders = [desk_factory("manager"), desk_factory("supervisor")]
    start = threading.Barrier(2)
    results: list[object] = [None, None]

    def decide(index: int) -> None:
        start.wait()
        try:
            if index == 0:
                results[index] = deciders[0].grants.decide(request.id, Outcome.APPROVE)
            else:
                results[index] = deciders[1].grants.decide(
                    request.id, Outcome.REJECT, reason="Not our lorry"
                )
        except Exception as exc:  # the loser's error is the point of the test
            results[index] = exc

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    errors = [r for r in results if isinstance(r, Exception)]
    decided = [r for r in results if not isinstance(r, Exception)]
    assert len(decided) == 1 and len(errors) == 1, results
    assert isinstance(errors[0], ConflictError), errors[0]
    assert "already decided" in str(errors[0])
    statuses = [r.status for r in desk.grants.for_case(case.id)]
    assert statuses in (["approved"], ["rejected"])


def test_an_officer_lists_only_the_cases_in_scope_on_both_databases(
    desk: Desk, desk_factory: Any
) -> None:
    """The embedded database applies in the service the rule PostgreSQL's policy applies."""
    from desk.services.dto import CaseQuery, CaseScope

    me = desk.session
    rows = desk.cases.list(CaseQuery(scope=CaseScope.ALL, page_size=500)).rows
    assert rows
    assert all(r.centre_name == me.centre_name or r.assigned_to == me.full_name for r in rows)
    everything = desk_factory("manager").cases.list(CaseQuery(scope=CaseScope.ALL, page_size=500))
    other = next(
        r
        for r in everything.rows
        if r.centre_name != me.centre_name and r.assigned_to != me.full_name
    )
    with pytest.raises(NotFound):
        desk.cases.get(other.id)
