from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from desk.domain.authority import GrantRequest, RoleLimit, decide_authority

LADDER = [
    RoleLimit("Counter Officer", 1, {"waiver": 5_000, "claim": 0}),
    RoleLimit("Senior Officer", 2, {"waiver": 20_000, "claim": 10_000}),
    RoleLimit("Supervisor", 3, {"waiver": 100_000, "claim": 50_000}),
    RoleLimit("Manager", 4, {"waiver": 1_000_000, "claim": 500_000}),
]


def test_officer_grants_a_small_waiver_on_the_spot() -> None:
    verdict = decide_authority(GrantRequest("waiver", 2_000, 1, "Counter Officer"), LADDER)
    assert verdict.allowed


def test_officer_cannot_grant_waiver_above_limit_and_is_told_who_can() -> None:
    verdict = decide_authority(
        GrantRequest("waiver", 3_000, 1, "Counter Officer", prior_total_minor=3_000), LADDER
    )
    assert not verdict.allowed
    assert verdict.needs_role == "Senior Officer"
    assert verdict.reason == (
        "Your limit for fee waivers is $50.00 and this customer has already received $30.00 "
        "in the period; a Senior Officer must decide this."
    )


def test_splitting_a_large_amount_does_not_get_under_the_limit() -> None:
    granted = 0
    for _ in range(3):
        verdict = decide_authority(
            GrantRequest("waiver", 2_000, 1, "Counter Officer", prior_total_minor=granted), LADDER
        )
        if verdict.allowed:
            granted += 2_000
    assert granted == 4_000


def test_nobody_decides_their_own_request() -> None:
    verdict = decide_authority(GrantRequest("waiver", 1, 7, "Manager", requester_id=7), LADDER)
    assert not verdict.allowed and "own request" in verdict.reason


def test_above_every_limit_goes_to_the_top() -> None:
    verdict = decide_authority(GrantRequest("claim", 900_000, 1, "Supervisor"), LADDER)
    assert not verdict.allowed and verdict.needs_role is None
    assert "above every role's limit" in verdict.reason


def test_a_kind_without_a_limit_means_no_authority() -> None:
    verdict = decide_authority(GrantRequest("parking_refund", 1, 1, "Manager"), LADDER)
    assert not verdict.allowed and "parking_refund requests" in verdict.reason


@given(
    role=st.sampled_from(LADDER),
    kind=st.sampled_from(["waiver", "claim", "refund"]),
    amount=st.integers(min_value=-10, max_value=2_000_000),
    prior=st.integers(min_value=0, max_value=2_000_000),
    requester=st.one_of(st.none(), st.integers(1, 3)),
    decider=st.integers(1, 3),
)
def test_allowed_exactly_when_total_within_own_limit_and_not_own_request(
    role: RoleLimit, kind: str, amount: int, prior: int, requester: int | None, decider: int
) -> None:
    verdict = decide_authority(
        GrantRequest(kind, amount, decider, role.name, prior, requester), LADDER
    )
    expected = amount >= 0 and requester != decider and prior + amount <= role.limit_for(kind)
    assert verdict.allowed == expected
    if not verdict.allowed and verdict.needs_role is not None:
        needed = next(r for r in LADDER if r.name == verdict.needs_role)
        assert needed.limit_for(kind) >= prior + amount
        assert all(r.limit_for(kind) < prior + amount for r in LADDER if r.rank < needed.rank)
