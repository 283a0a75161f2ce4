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
    MANAGE_ORGANISATION = "manage_organisation"  # centres, teams, categories, settings
    VIEW_AUDIT = "view_audit"
    REVEAL_IDENTIFIERS = "reveal_identifiers"


class RequestKind(enum.StrEnum):
    """The kinds shipped by default; admins may add others (stored as plain names)."""

    WAIVER = "waiver"
    CLAIM = "claim"
    REFUND = "refund"


ALL_PERMISSIONS: frozenset[str] = frozenset(p.value for p in Permission)

# The permission that lets a person grant a shipped kind on the spot (admins choose it for theirs).
DEFAULT_GRANT_PERMISSION: dict[str, str] = {
    RequestKind.WAIVER: Permission.GRANT_WAIVERS,
    RequestKind.CLAIM: Permission.GRANT_CLAIMS,
    RequestKind.REFUND: Permission.GRANT_CLAIMS,
}

_OFFICER = (
    Permission.CREATE_CASES,
    Permission.VIEW_CENTRE_CASES,
    Permission.GRANT_WAIVERS,
    Permission.GRANT_CLAIMS,
)
_SUPERVISOR = (
    *_OFFICER,
    Permission.REASSIGN,
    Permission.DECIDE_APPROVALS,
    Permission.VET_REPLIES,
    Permission.VIEW_REPORTS,
    Permission.REVEAL_IDENTIFIERS,
)

# The shipped competency ladder: role -> (permissions, limits in minor units per kind).
DEFAULT_LADDER: dict[str, tuple[tuple[Permission, ...], dict[str, int]]] = {
    "Counter Officer": (_OFFICER, {"waiver": 5_000, "claim": 10_000, "refund": 10_000}),
    "Senior Officer": (
        (*_OFFICER, Permission.REASSIGN),
        {"waiver": 20_000, "claim": 30_000, "refund": 30_000},
    ),
    "Supervisor": (_SUPERVISOR, {"waiver": 100_000, "claim": 200_000, "refund": 200_000}),
    "Manager": (
        (*_SUPERVISOR, Permission.VIEW_ALL_CASES, Permission.VIEW_AUDIT),
        {"waiver": 1_000_000, "claim": 2_000_000, "refund": 2_000_000},
    ),
    "Administrator": (
        (
            Permission.CREATE_CASES,
            Permission.VIEW_ALL_CASES,
            Permission.VIEW_REPORTS,
            Permission.MANAGE_STAFF,
            Permission.MANAGE_ROLES,
            Permission.MANAGE_LIMITS,
            Permission.MANAGE_SCRIPTS,
            Permission.MANAGE_ORGANISATION,
            Permission.VIEW_AUDIT,
            Permission.REVEAL_IDENTIFIERS,
        ),
        {},
    ),
}

KIND_LABELS: dict[str, str] = {
    RequestKind.WAIVER: "fee waivers",
    RequestKind.CLAIM: "claims",
    RequestKind.REFUND: "refunds",
}


PERMISSION_LABELS: dict[str, str] = {
    Permission.CREATE_CASES: "Create cases",
    Permission.VIEW_CENTRE_CASES: "View the centre's cases",
    Permission.VIEW_ALL_CASES: "View all cases",
    Permission.REASSIGN: "Reassign cases",
    Permission.GRANT_WAIVERS: "Grant waivers",
    Permission.GRANT_CLAIMS: "Grant claims and refunds",
    Permission.DECIDE_APPROVALS: "Decide approvals",
    Permission.VET_REPLIES: "Vet replies",
    Permission.VIEW_REPORTS: "View reports",
    Permission.MANAGE_STAFF: "Manage staff",
    Permission.MANAGE_ROLES: "Manage roles",
    Permission.MANAGE_LIMITS: "Manage authority limits",
    Permission.MANAGE_SCRIPTS: "Manage scripts",
    Permission.MANAGE_ORGANISATION: "Manage centres, teams and categories",
    Permission.VIEW_AUDIT: "View the audit trail",
    Permission.REVEAL_IDENTIFIERS: "Reveal personal identifiers",
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
    # What the decider's role holds, and the permission that grants this kind on the spot.
    decider_permissions: frozenset[str] = ALL_PERMISSIONS
    grant_permission: str = ""

    @property
    def needed_permission(self) -> str:
        """Granting on the spot needs the kind's permission; deciding another's request, the
        permission to decide approvals."""
        if self.requester_id is not None:
            return Permission.DECIDE_APPROVALS
        return self.grant_permission or DEFAULT_GRANT_PERMISSION.get(
            self.kind, Permission.GRANT_CLAIMS
        )


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
    *,
    kind_label: str | None = None,
) -> Verdict:
    """May this person grant this amount, given the customer's rolling total? Say why if not."""
    if request.amount_minor < 0:
        return Verdict(False, "The amount cannot be negative.")
    if request.requester_id is not None and request.requester_id == request.decider_id:
        return Verdict(False, "Nobody decides their own request; another person must decide it.")
    if request.needed_permission not in request.decider_permissions:
        label = PERMISSION_LABELS.get(request.needed_permission, request.needed_permission)
        return Verdict(False, f"Your role does not have the permission {label!r}.")
    by_name = {role.name: role for role in roles}
    decider = by_name.get(request.decider_role)
    if decider is None:
        return Verdict(False, f"The role {request.decider_role!r} does not exist.")
    total = request.prior_total_minor + request.amount_minor
    limit = decider.limit_for(request.kind)
    if total <= limit:
        return Verdict(True, "Within your authority.")
    kind_label = kind_label or KIND_LABELS.get(request.kind, f"{request.kind} requests")
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


@dataclass(frozen=True)
class Viewer:
    """The person looking, as far as the scope of cases is concerned."""

    staff_id: int
    centre_id: int
    permissions: frozenset[str]

    @property
    def sees_everything(self) -> bool:
        return Permission.VIEW_ALL_CASES in self.permissions

    @property
    def scope_centre(self) -> int | None:
        """The centre whose cases this person sees (None without the permission)."""
        return self.centre_id if Permission.VIEW_CENTRE_CASES in self.permissions else None


def sees_case(
    viewer: Viewer,
    *,
    centre_id: int,
    assigned_officer_id: int | None,
    created_by_id: int,
    awaiting_viewer: bool = False,
) -> bool:
    """Whose cases a person may read: everyone's with the permission, else their centre's (with
    that permission), the ones they hold or recorded, and those with a request waiting for them.

    PostgreSQL's row-level policy on ``cases`` (schema revision 0006) is this same rule.
    """
    return (
        viewer.sees_everything
        or (viewer.scope_centre is not None and centre_id == viewer.scope_centre)
        or assigned_officer_id == viewer.staff_id
        or created_by_id == viewer.staff_id
        or awaiting_viewer
    )
