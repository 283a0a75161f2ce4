"""What the officer tells the customer about a decision someone else took on their request.

A waiver, claim or refund above the officer's authority is decided up the chain of command; the
officer then passes the outcome on. These are suggested words, in the practice the officers are
trained in: use the customer's name, say what was decided and why, never promise what someone
else decides, offer the right to a supervisor's review of a decision that did not give them what
they asked for, and look at alternatives with them.
"""

from __future__ import annotations

import enum

from desk.domain.money import Currency


class RequestStatus(enum.StrEnum):
    """The states of an approval request, as stored."""

    PENDING = "pending"
    GRANTED = "granted"  # on the spot, by the officer
    APPROVED = "approved"  # possibly a lower amount than asked
    REJECTED = "rejected"
    RETURNED = "returned"  # back to the officer for more information
    WITHDRAWN = "withdrawn"


OPEN_STATUSES = frozenset({RequestStatus.PENDING, RequestStatus.RETURNED})


def is_partial(status: str, asked_minor: int, decided_minor: int | None) -> bool:
    """Approved, but for less than was asked."""
    return (
        status == RequestStatus.APPROVED
        and decided_minor is not None
        and decided_minor < asked_minor
    )


def customer_wording(
    *,
    customer_name: str,
    kind_label: str,
    status: str,
    asked_minor: int,
    decided_minor: int | None,
    reason: str,
    currency: Currency,
) -> str:
    """Suggested words for telling the customer where their request stands.

    ``kind_label`` is the kind's name as the organisation writes it ("Fee waiver", "Claim");
    ``reason`` is the decider's reason (kept out of the words for a plain approval, where it is
    an internal note)."""
    what = _with_article(kind_label)
    asked = currency.format(asked_minor)
    first = _first_name(customer_name)
    reason_sentence = _reason(reason)
    review = (
        "If you would like this decision to be reviewed by a supervisor, you have the right to "
        "ask for that, and I can arrange it."
    )
    if status == RequestStatus.PENDING:
        text = (
            f"your request for {what} of {asked} has been passed to the person who decides it. "
            "We will let you know the outcome as soon as we hear back."
        )
    elif status == RequestStatus.GRANTED:
        text = f"your request for {what} of {asked} has been granted."
    elif is_partial(status, asked_minor, decided_minor):
        assert decided_minor is not None
        text = (
            f"your request for {what} has been approved in part: "
            f"{currency.format(decided_minor)} of the {asked} you asked for. "
            f"{reason_sentence}{review}"
        )
    elif status == RequestStatus.APPROVED:
        text = f"good news: your request for {what} of {asked} has been approved."
    elif status == RequestStatus.REJECTED:
        text = (
            f"I am sorry, your request for {what} of {asked} was not approved. "
            f"{reason_sentence}{review} Let us look together at what else we can do for you."
        )
    elif status == RequestStatus.RETURNED:
        text = (
            f"before your request for {what} of {asked} can be decided, we need a little more "
            f"from you. {reason_sentence}Once we have it, we will pass your request on again."
        )
    elif status == RequestStatus.WITHDRAWN:
        text = f"your request for {what} of {asked} has been withdrawn, so it is not decided."
    else:
        text = f"your request for {what} of {asked} is {status.replace('_', ' ')}."
    if first:
        return f"{first}, {text}"
    return text[:1].upper() + text[1:]


def _first_name(full_name: str) -> str:
    parts = full_name.split()
    return parts[0] if parts else ""


def _with_article(kind_label: str) -> str:
    words = " ".join(kind_label.split()).lower() or "request"
    article = "an" if words[:1] in "aeiou" else "a"
    return f"{article} {words}"


def _reason(reason: str) -> str:
    """The reason as a sentence followed by a space, or nothing when none was given."""
    text = " ".join(reason.split())
    if not text:
        return ""
    text = text[:1].upper() + text[1:]
    if not text.endswith((".", "!", "?")):
        text += "."
    return f"The reason: {text} "
