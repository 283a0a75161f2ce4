"""A decider on leave, and the deputy who decides meanwhile: the rule for setting it, and whom an
item waits for today. Pure: plain values, no database, no clock.

Leave is a span of whole calendar days (both ends included). While a person is away, what would
wait for them waits for their deputy; a deputy who is away in turn passes it on to their own
deputy, and so on, never round in a loop and never to the person who asked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass

# The longest leave one setting covers; longer absences are a matter of changing the structure.
MAX_LEAVE_DAYS = 366


@dataclass(frozen=True)
class Presence:
    """What the rule needs to know of one person."""

    id: int
    name: str
    active: bool = True
    may_decide: bool = True
    away_from: dt.date | None = None
    away_until: dt.date | None = None
    deputy_id: int | None = None

    def away_on(self, day: dt.date) -> bool:
        return (
            self.away_from is not None
            and self.away_until is not None
            and self.away_from <= day <= self.away_until
        )

    def overlaps(self, first: dt.date, last: dt.date) -> bool:
        return (
            self.away_from is not None
            and self.away_until is not None
            and self.away_from <= last
            and first <= self.away_until
        )


def leave_problems(
    person: Presence,
    away_from: dt.date | None,
    away_until: dt.date | None,
    deputy: Presence | None,
    *,
    today: dt.date,
) -> dict[str, str]:
    """Why this leave cannot be set, field by field (empty: it can). No dates clears it."""
    problems: dict[str, str] = {}
    if away_from is None and away_until is None:
        return problems
    if away_from is None:
        problems["away_from"] = "Enter the first day of the leave."
    if away_until is None:
        problems["away_until"] = "Enter the last day of the leave."
    if away_from is None or away_until is None:
        return problems
    if away_until < away_from:
        problems["away_until"] = "The last day of the leave is before the first."
    elif away_until < today:
        problems["away_until"] = "This leave is over already; nothing would change."
    elif (away_until - away_from).days + 1 > MAX_LEAVE_DAYS:
        problems["away_until"] = f"Leave is set for at most {MAX_LEAVE_DAYS} days at a time."
    if deputy is None:
        problems["deputy"] = "Name the deputy who decides while this person is away."
    elif deputy.id == person.id:
        problems["deputy"] = "A person cannot be their own deputy."
    elif not deputy.active:
        problems["deputy"] = f"{deputy.name}'s account is disabled; choose someone at work."
    elif not deputy.may_decide:
        problems["deputy"] = f"{deputy.name}'s role cannot decide approvals; choose a decider."
    elif "away_until" not in problems and deputy.overlaps(away_from, away_until):
        problems["deputy"] = (
            f"{deputy.name} is on leave themselves from {deputy.away_from:%d %b %Y} to "
            f"{deputy.away_until:%d %b %Y}; choose someone who is at work then."
        )
    return problems


def stand_in(
    person_id: int,
    people: Mapping[int, Presence],
    day: dt.date,
    *,
    excluding: Collection[int] = (),
) -> int | None:
    """Who decides in ``person_id``'s place on ``day``: the person, if at work; else their deputy
    (and the deputy's, while away). None when the chain ends in someone away with no deputy, in
    a loop, in someone who cannot decide, or at a person in ``excluding`` (the requester)."""
    seen: set[int] = set()
    current = people.get(person_id)
    while current is not None and current.id not in seen:
        seen.add(current.id)
        if current.id in excluding or not current.active:
            return None
        if not current.away_on(day):
            return current.id if current.may_decide or current.id == person_id else None
        if current.deputy_id is None:
            return None
        current = people.get(current.deputy_id)
    return None


def covered_by(deputy_id: int, people: Mapping[int, Presence], day: dt.date) -> frozenset[int]:
    """The people away on ``day`` whose items ``deputy_id`` decides (their inboxes join theirs)."""
    return frozenset(
        p.id
        for p in people.values()
        if p.id != deputy_id and p.away_on(day) and stand_in(p.id, people, day) == deputy_id
    )
