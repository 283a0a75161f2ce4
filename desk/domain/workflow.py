"""The case workflow, defined once: which status may follow which.

Services refuse any other move and the case form offers only these.
"""

from __future__ import annotations

from desk.domain.model import CaseStatus

_S = CaseStatus

ALLOWED_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    _S.NEW: frozenset(
        {_S.IN_PROGRESS, _S.AWAITING_CUSTOMER, _S.AWAITING_TEAM, _S.AWAITING_DECISION, _S.RESOLVED}
    ),
    _S.IN_PROGRESS: frozenset(
        {_S.AWAITING_CUSTOMER, _S.AWAITING_TEAM, _S.AWAITING_DECISION, _S.RESOLVED}
    ),
    _S.AWAITING_CUSTOMER: frozenset({_S.IN_PROGRESS, _S.AWAITING_TEAM, _S.RESOLVED}),
    _S.AWAITING_TEAM: frozenset({_S.IN_PROGRESS, _S.AWAITING_CUSTOMER, _S.RESOLVED}),
    _S.AWAITING_DECISION: frozenset({_S.IN_PROGRESS, _S.RESOLVED}),
    _S.RESOLVED: frozenset({_S.CLOSED, _S.IN_PROGRESS}),
    _S.CLOSED: frozenset({_S.IN_PROGRESS}),
}

STATUS_LABELS: dict[CaseStatus, str] = {
    _S.NEW: "New",
    _S.IN_PROGRESS: "In progress",
    _S.AWAITING_CUSTOMER: "Awaiting customer",
    _S.AWAITING_TEAM: "Awaiting team",
    _S.AWAITING_DECISION: "Awaiting decision",
    _S.RESOLVED: "Resolved",
    _S.CLOSED: "Closed",
}


class TransitionRefused(ValueError):
    """A status change the workflow does not allow; the message is for the user."""


def allowed_next(status: CaseStatus) -> frozenset[CaseStatus]:
    return ALLOWED_TRANSITIONS[status]


def is_reopen(current: CaseStatus, target: CaseStatus) -> bool:
    return current in (_S.RESOLVED, _S.CLOSED) and target is _S.IN_PROGRESS


def check_transition(current: CaseStatus, target: CaseStatus, *, has_resolution: bool) -> None:
    """Raise TransitionRefused with a sentence the officer can act on."""
    if current == target:
        return
    if target not in ALLOWED_TRANSITIONS[current]:
        allowed = ", ".join(STATUS_LABELS[s] for s in sorted(ALLOWED_TRANSITIONS[current]))
        raise TransitionRefused(
            f"A case that is {STATUS_LABELS[current].lower()} cannot move to "
            f"{STATUS_LABELS[target].lower()}. It can move to: {allowed}."
        )
    if target in (_S.RESOLVED, _S.CLOSED) and not has_resolution:
        raise TransitionRefused(
            "Describe the resolution and how it was resolved before resolving the case."
        )
