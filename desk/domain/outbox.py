"""The offline outbox's rules: what may wait for the server, in which order it is sent, and what a
change sent while its case is in trouble must wait for.

An officer whose connection dropped keeps recording: new customers, new cases, changes to cases,
contacts and updates. Each becomes an entry, numbered in the order it was made, carrying the
client's UUID of the operation, so that sending it twice (a crash after the server committed but
before the entry was marked sent) records it once. Anything that needs the server's authority
(decisions, admin changes, granting money) is refused offline instead of waiting, because the
answer might be no and the customer is at the counter now.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


class OpKind(enum.StrEnum):
    CUSTOMER_CREATE = "customer.create"
    CASE_CREATE = "case.create"
    CASE_SAVE = "case.save"
    CASE_ENTRY = "case.entry"


class EntryState(enum.StrEnum):
    WAITING = "waiting"  # not on the server yet
    DONE = "done"  # on the server (or merged by hand by the officer)
    CONFLICT = "conflict"  # someone saved the case first: the officer compares and decides
    FAILED = "failed"  # the server refused it (a rule, a retired category): the officer decides
    DISCARDED = "discarded"  # the officer chose to drop it (kept for the record, never sent)
    QUARANTINED = "quarantined"  # unreadable or altered on disk: kept aside, never sent


NEEDS_ATTENTION = frozenset({EntryState.CONFLICT, EntryState.FAILED, EntryState.QUARANTINED})
_STOPS_LATER_SAVES = frozenset({EntryState.CONFLICT, EntryState.FAILED, EntryState.QUARANTINED})


# --- provisional references and local ids ----------------------------------------------------

PROVISIONAL_PATTERN = re.compile(r"^P-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def provisional_reference(case_uuid: uuid.UUID) -> str:
    """The reference printed on a slip made offline: 50 bits of the case's UUID in Crockford's
    base 32 (no I, L, O or U to misread), so two counters never hand out the same one in
    practice, and the customer can quote it later: the case stays findable by it after sync."""
    bits = case_uuid.int >> (128 - 50)
    chars = []
    for _ in range(10):
        chars.append(_CROCKFORD[bits & 31])
        bits >>= 5
    text = "".join(reversed(chars))
    return f"P-{text[:5]}-{text[5:]}"


def is_provisional_reference(text: str) -> bool:
    return bool(PROVISIONAL_PATTERN.match(text.strip().upper()))


def is_local_id(record_id: int) -> bool:
    """Customers and cases made offline have negative ids until the server gives them real ones."""
    return record_id < 0


# --- entries ---------------------------------------------------------------------------------


def checksum(op_uuid: uuid.UUID, kind: str, payload_text: str) -> str:
    """What an entry's content hashes to; an entry whose stored content no longer matches was
    damaged or edited by hand, and is set aside rather than sent."""
    digest = hashlib.sha256()
    for part in (str(op_uuid), kind, payload_text):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


@dataclass(frozen=True)
class OutboxEntry:
    seq: int
    op_uuid: uuid.UUID
    kind: OpKind
    payload: dict[str, Any]
    recorded_at: dt.datetime  # the client's clock, UTC: shown, never stored as the case's time
    state: EntryState = EntryState.WAITING
    attempts: int = 0
    error: str = ""
    # What the server gave back (the case's id and version after a save), for entries after it.
    result: dict[str, Any] | None = None

    @property
    def case_uuid(self) -> uuid.UUID | None:
        value = self.payload.get("case_uuid")
        return uuid.UUID(value) if value else None

    @property
    def customer_uuid(self) -> uuid.UUID | None:
        """The provisional customer this entry needs on the server first, if any."""
        value = self.payload.get("customer_uuid")
        return uuid.UUID(value) if value else None


def blocked_reason(entry: OutboxEntry, earlier: Sequence[OutboxEntry]) -> str:
    """Why ``entry`` must not be sent yet, given the entries before it; empty when it may go.

    A case that was never created holds back everything about it; a change that conflicted or
    was refused holds back the later changes to the same case (each is built on it), but not the
    contacts and updates, which add to the case's timeline whatever its fields say. A customer
    that was never created holds back the cases for them.
    """
    for before in earlier:
        if before.state not in _STOPS_LATER_SAVES:
            continue
        if before.kind is OpKind.CUSTOMER_CREATE:
            if entry.customer_uuid is not None and entry.customer_uuid == before.customer_uuid:
                return "its customer is not on the server yet"
            continue
        if entry.case_uuid is None or entry.case_uuid != before.case_uuid:
            continue
        if before.kind is OpKind.CASE_CREATE:
            return "its case is not on the server yet"
        if entry.kind is OpKind.CASE_SAVE:
            return "an earlier change to this case needs your attention"
    return ""


def chained_after(kind: OpKind, case_uuid: uuid.UUID, waiting: Iterable[OutboxEntry]) -> str:
    """The op UUID of the last create or save of the case still waiting, which a new save is
    built on: its expected version is the version that one leaves, known only once it is sent."""
    last = ""
    if kind is not OpKind.CASE_SAVE:
        return last
    for entry in waiting:
        if (
            entry.case_uuid == case_uuid
            and entry.kind in (OpKind.CASE_CREATE, OpKind.CASE_SAVE)
            and entry.state in (EntryState.WAITING, *NEEDS_ATTENTION)
        ):
            last = str(entry.op_uuid)
    return last


def describe(entry: OutboxEntry) -> str:
    """One line for the list of changes waiting, in the officer's words."""
    reference = entry.payload.get("reference") or entry.payload.get("provisional_reference") or ""
    what = {
        OpKind.CUSTOMER_CREATE: "New customer {name}",
        OpKind.CASE_CREATE: "New case {reference}",
        OpKind.CASE_SAVE: "Changes to {reference}",
        OpKind.CASE_ENTRY: "{entry_label} on {reference}",
    }[entry.kind]
    return what.format(
        name=entry.payload.get("name", ""),
        reference=reference,
        entry_label={"contact": "Contact", "customer_update": "Update", "note": "Note"}.get(
            str(entry.payload.get("entry_kind", "")), "Entry"
        ),
    )
