"""The other items of a supervisor's inbox: review requests, replies to vet, compliments. What
each may become, who may decide it, and what must be written with a decision. Pure.

The database holds the same rule (schema revision 0009) for a modified client; this one explains
a refusal in a sentence first.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from desk.domain.authority import Permission


class ItemKind(enum.StrEnum):
    REVIEW = (
        "review"  # a supervisor's review of a decision, or of a case the officer cannot resolve
    )
    REPLY = "reply"  # a sensitive or complex reply, vetted before it is sent
    COMPLIMENT = "compliment"  # about a member of staff, to their supervisor


class ItemStatus(enum.StrEnum):
    PENDING = "pending"
    RETURNED = "returned"  # for more information: the requester adds it and resubmits
    DONE = "done"
    WITHDRAWN = "withdrawn"


class ReviewOrigin(enum.StrEnum):
    CUSTOMER_ASKED = "customer_asked"
    CANNOT_RESOLVE = "cannot_resolve"


class Decision(enum.StrEnum):
    UPHOLD = "upheld"  # review: the decision stands
    CHANGE = "changed"  # review: the decision changes (the response says how)
    APPROVE = "approved"  # reply: may be sent as approved (possibly edited)
    ACKNOWLEDGE = "acknowledged"  # compliment: thanked, with a note for the staff member
    RETURN = "returned"  # any: back to the requester for more information


DECISIONS: dict[ItemKind, tuple[Decision, ...]] = {
    ItemKind.REVIEW: (Decision.UPHOLD, Decision.CHANGE, Decision.RETURN),
    ItemKind.REPLY: (Decision.APPROVE, Decision.RETURN),
    ItemKind.COMPLIMENT: (Decision.ACKNOWLEDGE,),
}

KIND_LABELS: dict[ItemKind, str] = {
    ItemKind.REVIEW: "Review request",
    ItemKind.REPLY: "Reply to vet",
    ItemKind.COMPLIMENT: "Compliment",
}

DECISION_LABELS: dict[Decision, str] = {
    Decision.UPHOLD: "decision upheld",
    Decision.CHANGE: "decision changed",
    Decision.APPROVE: "reply approved",
    Decision.ACKNOWLEDGE: "compliment acknowledged",
    Decision.RETURN: "returned for more information",
}

MAX_TEXT = 20_000


def permission_for(kind: ItemKind) -> Permission:
    """Who may decide an item of this kind (and be sent one)."""
    return Permission.VET_REPLIES if kind is ItemKind.REPLY else Permission.DECIDE_APPROVALS


@dataclass(frozen=True)
class Refusal:
    message: str
    field: str = "response"


def decision_refusal(
    kind: ItemKind,
    decision: Decision,
    response: str,
    *,
    decider_id: int,
    requester_id: int,
    subject_id: int | None,
    decider_permissions: frozenset[str],
) -> Refusal | None:
    """Why this decision cannot be taken (None: it can)."""
    if decision not in DECISIONS[kind]:
        allowed = ", ".join(DECISION_LABELS[d] for d in DECISIONS[kind])
        return Refusal(f"A {KIND_LABELS[kind].lower()} is decided as: {allowed}.", "decision")
    if decider_id == requester_id:
        return Refusal("Nobody decides an item they raised; another person must.", "decision")
    if subject_id is not None and decider_id == subject_id:
        return Refusal("A compliment about you is acknowledged by your supervisor.", "decision")
    needed = permission_for(kind)
    if needed.value not in decider_permissions:
        return Refusal(
            f"Deciding this needs the permission {needed.value!r}, which your role does not have.",
            "decision",
        )
    text = response.strip()
    if len(text) > MAX_TEXT:
        return Refusal(f"Keep it under {MAX_TEXT:,} characters.")
    if not text:
        if decision is Decision.APPROVE:
            return Refusal("The reply to send cannot be empty.")
        if decision is Decision.ACKNOWLEDGE:
            return Refusal("Write the note of recognition that reaches the member of staff.")
        if decision is Decision.RETURN:
            return Refusal("Say what more is needed: the officer reads it.")
        return Refusal("Give the reason: the officer tells the customer.")
    return None


def customer_wording(kind: ItemKind, decision: Decision, response: str, name: str) -> str:
    """Suggested words for telling the customer the outcome of a review."""
    first = name.split()[0] if name.strip() else ""
    if kind is not ItemKind.REVIEW:
        return ""
    if decision is Decision.UPHOLD:
        text = (
            "a supervisor has looked at the decision again, carefully, and it stays as "
            f"it was. The reason is: {_sentence(response)} If you are still unhappy, I can tell "
            "you how to take it further."
        )
    elif decision is Decision.CHANGE:
        text = (
            f"a supervisor has reviewed the decision and changed it: {_sentence(response)} "
            "Thank you for asking us to look again."
        )
    else:
        return ""
    return f"{first}, {text}" if first else text[:1].upper() + text[1:]


def _sentence(text: str) -> str:
    """The decider's words as a sentence: a capital first letter and a full stop."""
    text = " ".join(text.split())
    if not text:
        return ""
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
