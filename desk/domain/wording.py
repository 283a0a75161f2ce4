"""Plain-language helpers for what the officer says: next-step templates, promise checks, and the
"confirm back" summary read to the customer."""

from __future__ import annotations

import re
from dataclasses import dataclass

from desk.domain.model import CaseKind

# Phrases that promise an outcome someone else decides. Each pattern is a whole-word match.
_PROMISES: tuple[tuple[str, str], ...] = (
    (r"\bguarantee[sd]?\b", "guarantee"),
    (r"\bwill definitely\b", "will definitely"),
    (r"\bdefinitely will\b", "definitely will"),
    (r"\bwill be approved\b", "will be approved"),
    (r"\bwill be refunded\b", "will be refunded"),
    (r"\bwill be waived\b", "will be waived"),
    (r"\bwill be granted\b", "will be granted"),
    (r"\bpromise[sd]?\b", "promise"),
    (r"\bcertainly will\b", "certainly will"),
    (r"\bfor sure\b", "for sure"),
    (r"\b100 ?%", "100%"),
    (r"\bno doubt\b", "no doubt"),
)
_PROMISE_PATTERNS = tuple((re.compile(p, re.IGNORECASE), label) for p, label in _PROMISES)

NEXT_STEP_TEMPLATES: tuple[str, ...] = (
    "We will look into this and contact you by {contact_method} within 5 working days.",
    "Your case has been passed to our {team} team, who will contact you within 10 working days.",
    "A supervisor will review the decision and let you know the outcome.",
    "Please bring the documents we discussed to any service centre; we will then continue.",
    "We have resolved this today. No further action is needed from you.",
    "We will send you an update by {contact_method} as soon as we hear back.",
)


@dataclass(frozen=True)
class PromiseWarning:
    phrase: str
    start: int
    end: int


_NEGATION = re.compile(r"\b(not|cannot|can't|can’t|cant|no|never|unable to)\s+(\w+\s+)?$", re.I)


def find_promises(text: str) -> list[PromiseWarning]:
    """Wording that commits the organisation to an outcome the officer cannot decide alone.

    "We cannot guarantee" is honest, not a promise, so a negation just before is allowed.
    """
    found = [
        PromiseWarning(label, m.start(), m.end())
        for pattern, label in _PROMISE_PATTERNS
        for m in pattern.finditer(text)
        if not _NEGATION.search(text[: m.start()])
    ]
    return sorted(found, key=lambda w: w.start)


def promise_message(warnings: list[PromiseWarning]) -> str:
    phrases = ", ".join(f"“{w.phrase}”" for w in warnings)
    return (
        f"These next steps promise an outcome that someone else decides ({phrases}). "
        "Say what will happen in our process instead."
    )


_KIND_PHRASES = {
    CaseKind.COMPLAINT: "you are unhappy about",
    CaseKind.QUERY: "you would like to know about",
    CaseKind.REQUEST: "you are asking us for",
    CaseKind.COMPLIMENT: "you would like to thank us for",
}


def confirm_back_summary(
    *,
    customer_name: str,
    kind: CaseKind,
    understanding: str,
    expectation: str,
    transactions: list[str],
    next_steps: str,
) -> str:
    """The sentences the officer reads back so the customer can agree or correct them."""
    first_name = customer_name.split()[0] if customer_name.strip() else ""
    parts: list[str] = []
    greeting = f"{first_name}, let me check" if first_name else "Let me check"
    about = understanding or "(your understanding is not written yet)"
    parts.append(f"{greeting} I have understood you correctly. {_sentence(about)}")
    parts.append(f"In short, {_KIND_PHRASES[kind]} this.")
    if transactions:
        parts.append("This concerns " + _join(transactions) + ".")
    if expectation:
        parts.append(f"You would like: {_sentence(expectation)}")
    if next_steps:
        parts.append(f"What happens next: {_sentence(next_steps)}")
    parts.append("Have I got that right?")
    return " ".join(parts)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
