"""Who may grant what: the permission catalogue and the authority-limit rule, as pure values.

The same rule is what the database enforces on the shared PostgreSQL; this one explains a refusal in
a sentence before the database would refuse it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from desk.domain.money import DEFAULT_CURRENCY, Currency


class Permission(enum.StrEnum):
    """The catalogue, defined once in code; roles are data that hold some of these."""

    CREATE_CASES = "create_cases"
    VIEW_CENTRE_CASES = "view_centre_cases"
    VIEW_ALL_CASES = "view_all_cases"
    REASSIGN = "reassign"
    GRANT_WAIVERS = "grant_waivers"
    GRANT_CLAIMS = "grant_claims"
    DECIDE_APPROVALS = "decide_approvals"
    VET_REPLIES = "vet_replies"
    VIEW_REPORTS = "view_reports"
    MANAGE_STAFF = "manage_staff"
    MANAGE_ROLES = "manage_roles"
    MANAGE_LIMITS = "manage_limits"
    MANAGE_SCRIPTS = "manage_scripts"
    VIEW_AUDIT = "view_audit"
    REVEAL_IDENTIFIERS = "reveal_identifiers"


class RequestKind(enum.StrEnum):
    """The kinds shipped by default; admins may add others (stored as plain names)."""

    WAIVER = "waiver"
    CLAIM = "claim"
    REFUND = "refund"


KIND_LABELS: dict[str, str] = {
    RequestKind.WAIVER: "fee waivers",
    RequestKind.CLAIM: "claims",
    RequestKind.REFUND: "refunds",
}


@dataclass(frozen=True)
class RoleLimit:
    """A role on the ladder and the largest amount (minor units) it grants alone, per kind."""

    name: str
    rank: int
    limits: Mapping[str, int]

    def limit_for(self, kind: str) -> int:
        return self.limits.get(kind, 0)


@dataclass(frozen=True)
class GrantRequest:
    kind: str
    amount_minor: int
    decider_id: int
    decider_role: str
    # The customer's total already granted for this kind within the rolling window.
    prior_total_minor: int = 0
    # Who asked for it: None when the officer grants it themselves at the counter.
    requester_id: int | None = None


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str
    # The lowest role whose limit covers the request (None: nobody's does, or it was allowed).
    needs_role: str | None = None


def decide_authority(
    request: GrantRequest,
    roles: Sequence[RoleLimit],
    currency: Currency = DEFAULT_CURRENCY,
) -> Verdict:
    """May this person grant this amount, given the customer's rolling total? Say why if not."""
    if request.amount_minor < 0:
        return Verdict(False, "The amount cannot be negative.")
    if request.requester_id is not None and request.requester_id == request.decider_id:
        return Verdict(False, "Nobody decides their own request; another person must decide it.")
    by_name = {role.name: role for role in roles}
    decider = by_name.get(request.decider_role)
    if decider is None:
        return Verdict(False, f"The role {request.decider_role!r} does not exist.")
    total = request.prior_total_minor + request.amount_minor
    limit = decider.limit_for(request.kind)
    if total <= limit:
        return Verdict(True, "Within your authority.")
    kind_label = KIND_LABELS.get(request.kind, f"{request.kind} requests")
    covering = sorted(
        (r for r in roles if r.limit_for(request.kind) >= total), key=lambda r: (r.rank, r.name)
    )
    needs = covering[0].name if covering else None
    reason = f"Your limit for {kind_label} is {currency.format(limit)}"
    if request.prior_total_minor:
        reason += (
            f" and this customer has already received "
            f"{currency.format(request.prior_total_minor)} in the period"
        )
    if needs:
        article = "an" if needs[:1].lower() in "aeiou" else "a"
        reason += f"; {article} {needs} must decide this."
    else:
        reason += (
            f"; {currency.format(total)} is above every role's limit, "
            "so it goes to the top of the chain of command."
        )
    return Verdict(False, reason, needs)
