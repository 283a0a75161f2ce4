"""Writing to and checking the audit trail. An entry is written in the same unit of work as the
change it records, so a change and its entry commit together or not at all."""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from desk.adapters import orm
from desk.adapters.unit_of_work import UnitOfWork
from desk.domain.audit import (
    GENESIS_HASH,
    AuditEntry,
    BrokenLink,
    canonical_details,
    entry_hash,
    verify_chain,
)
from desk.services.dto import StaffSession

# Any constant: every writer of the trail takes this transaction-level lock on PostgreSQL, so
# two entries never claim the same predecessor. (SQLite writers are already one at a time.)
_CHAIN_LOCK = 7_351_002


def record(
    uow: UnitOfWork,
    *,
    actor: StaffSession | None,
    action: str,
    entity: str,
    entity_id: str | int,
    details: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
    actor_name: str | None = None,
) -> None:
    """Append one entry, chained to the newest one."""
    session = uow.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    previous = session.scalar(
        select(orm.AuditEvent.hash).order_by(orm.AuditEvent.id.desc()).limit(1)
    )
    at = at or dt.datetime.now(dt.UTC)
    entry_uuid = uuid.uuid4()
    name = actor_name if actor_name is not None else (actor.full_name if actor else "")
    details_text = canonical_details(details or {})
    prev_hash = previous or GENESIS_HASH
    actor_id = actor.staff_id if actor else None
    digest = entry_hash(
        prev_hash=prev_hash,
        uuid=str(entry_uuid),
        at=at,
        actor_id=actor_id,
        actor_name=name,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        details=details_text,
    )
    session.add(
        orm.AuditEvent(
            uuid=entry_uuid,
            at=at,
            actor_id=actor_id,
            actor_name=name,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            details=details_text,
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    session.flush()


def _entries(uow: UnitOfWork, batch: int = 5_000) -> Iterator[AuditEntry]:
    last_id = 0
    while True:
        rows = uow.session.scalars(
            select(orm.AuditEvent)
            .where(orm.AuditEvent.id > last_id)
            .order_by(orm.AuditEvent.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            yield AuditEntry(
                id=row.id,
                uuid=str(row.uuid),
                at=row.at,
                actor_id=row.actor_id,
                actor_name=row.actor_name,
                action=row.action,
                entity=row.entity,
                entity_id=row.entity_id,
                details=row.details,
                prev_hash=row.prev_hash,
                hash=row.hash,
            )
        last_id = rows[-1].id
        uow.session.expunge_all()


def verify(uow_factory: Callable[[], UnitOfWork]) -> tuple[int, BrokenLink | None]:
    """How many entries were checked, and the first broken link (None: the chain is whole)."""
    with uow_factory() as uow:
        return verify_chain(_entries(uow))


def export_csv(uow_factory: Callable[[], UnitOfWork], path: Path) -> int:
    """Write every entry, oldest first, as CSV (with its hashes, so the copy can be checked)."""
    columns = ["id", "at", "actor_id", "actor_name", "action", "entity", "entity_id", "details"]
    count = 0
    tmp = path.with_suffix(path.suffix + ".part")
    with uow_factory() as uow, tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*columns, "prev_hash", "hash"])
        for entry in _entries(uow):
            writer.writerow(
                [
                    entry.id,
                    entry.at.isoformat(),
                    entry.actor_id if entry.actor_id is not None else "",
                    entry.actor_name,
                    entry.action,
                    entry.entity,
                    entry.entity_id,
                    entry.details,
                    entry.prev_hash,
                    entry.hash,
                ]
            )
            count += 1
    tmp.replace(path)
    return count
