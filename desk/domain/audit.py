"""The tamper-evident audit trail: each entry carries the hash of the one before it.

Changing an entry breaks its own hash; removing or inserting one breaks the link of the next.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """What is hashed: everything an entry says, in a canonical form."""

    id: int
    uuid: str
    at: dt.datetime
    actor_id: int | None
    actor_name: str
    action: str
    entity: str
    entity_id: str
    details: str  # the canonical JSON text, exactly as stored
    prev_hash: str
    hash: str


def canonical_details(details: Mapping[str, Any]) -> str:
    return json.dumps(
        details, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )


def entry_hash(
    *,
    prev_hash: str,
    uuid: str,
    at: dt.datetime,
    actor_id: int | None,
    actor_name: str,
    action: str,
    entity: str,
    entity_id: str,
    details: Mapping[str, Any] | str,
) -> str:
    if at.tzinfo is None:
        raise ValueError("audit times are UTC and aware")
    details_text = details if isinstance(details, str) else canonical_details(details)
    payload = json.dumps(
        [
            prev_hash,
            uuid,
            at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            actor_id,
            actor_name,
            action,
            entity,
            entity_id,
            details_text,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    entry_id: int
    reason: str

    def __str__(self) -> str:
        return f"Audit entry #{self.entry_id}: {self.reason}"


def verify_chain(entries: Iterable[AuditEntry]) -> tuple[int, BrokenLink | None]:
    """Walk the entries in order; return how many were checked and the first broken link."""
    previous = GENESIS_HASH
    checked = 0
    for entry in entries:
        checked += 1
        if entry.prev_hash != previous:
            return checked, BrokenLink(
                entry.id,
                "does not follow the entry before it: an entry was removed, inserted or "
                "reordered just before this one.",
            )
        expected = entry_hash(
            prev_hash=entry.prev_hash,
            uuid=entry.uuid,
            at=entry.at,
            actor_id=entry.actor_id,
            actor_name=entry.actor_name,
            action=entry.action,
            entity=entry.entity,
            entity_id=entry.entity_id,
            details=entry.details,
        )
        if expected != entry.hash:
            return checked, BrokenLink(
                entry.id,
                f"was changed after it was written ({entry.action} on {entry.entity} "
                f"{entry.entity_id} at {entry.at:%Y-%m-%d %H:%M:%S} UTC).",
            )
        previous = entry.hash
    return checked, None
