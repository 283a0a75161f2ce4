"""Writing to and checking the audit trail. An entry is written in the same unit of work as the
change it records, so a change and its entry commit together or not at all."""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

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

# Who wrote an export when no staff member is logged in (the operator's command line).
OPERATOR_NAME = "operator (command line)"
EXPORT_ACTION = "audit_export"
PAGE_SIZE_MAX = 1_000

# Any constant: every writer of the trail takes this transaction-level lock on PostgreSQL, so
# two entries never claim the same predecessor. (SQLite writers are already one at a time.)
_CHAIN_LOCK = 7_351_002


def record(
    uow: UnitOfWork,
    *,
    actor: StaffSession | None,
    action: str,
    entity: str,
    entity_id: str | int | Callable[[], str],
    details: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
    actor_name: str | None = None,
) -> None:
    """Append one entry, chained to the newest one, when the unit of work commits.

    The chain is one line for the whole organisation, so writing an entry holds a lock until
    the transaction ends; taking it only at the commit keeps that moment short however long
    the rest of the work was (every counter's saves would queue behind it otherwise).
    ``entity_id`` may be a function: a case's reference, given only just before the commit."""
    session = uow.session
    pending: list[tuple[Any, ...]] = session.info.setdefault(_PENDING, [])
    if not pending:
        uow.before_commit(lambda: _write_pending(session))
    name = actor_name if actor_name is not None else (actor.full_name if actor else "")
    pending.append(
        (
            at or dt.datetime.now(dt.UTC),
            actor.staff_id if actor else None,
            name,
            action,
            entity,
            entity_id,
            canonical_details(details or {}),
        )
    )


_PENDING = "desk_audit_pending"


def _write_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    previous = session.scalar(
        select(orm.AuditEvent.hash).order_by(orm.AuditEvent.id.desc()).limit(1)
    )
    prev_hash = previous or GENESIS_HASH
    for at, actor_id, name, action, entity, entity_id, details_text in pending:
        entry_uuid = uuid.uuid4()
        entity_text = str(entity_id() if callable(entity_id) else entity_id)
        digest = entry_hash(
            prev_hash=prev_hash,
            uuid=str(entry_uuid),
            at=at,
            actor_id=actor_id,
            actor_name=name,
            action=action,
            entity=entity,
            entity_id=entity_text,
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
                entity_id=entity_text,
                details=details_text,
                prev_hash=prev_hash,
                hash=digest,
            )
        )
        session.flush()  # one after another: each id follows the one it is chained to
        prev_hash = digest


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


@dataclass(frozen=True)
class AuditFilter:
    """What the audit viewer asks for; empty values do not filter."""

    since: dt.datetime | None = None  # aware; entries at or after this instant
    until: dt.datetime | None = None  # aware; entries before this instant
    action: str = ""  # exactly this action ("login", "staff_changed", "case.created")
    actor: str = ""  # part of the name of who did it, in any case
    entity: str = ""  # exactly this kind of thing ("case", "staff", "role")
    entity_id: str = ""  # exactly this id or reference


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: dt.datetime  # aware, UTC
    actor_id: int | None
    actor_name: str
    action: str
    entity: str
    entity_id: str
    details: str  # canonical JSON, as stored


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    # Pass as ``before_id`` for the next, older page; None when this was the last one.
    next_before_id: int | None


@dataclass(frozen=True)
class AuditFacets:
    """The actions and kinds of entity that occur in the trail (for the viewer's filters)."""

    actions: tuple[str, ...]
    entities: tuple[str, ...]


def query(
    uow_factory: Callable[..., UnitOfWork],
    wanted: AuditFilter,
    *,
    before_id: int | None = None,
    limit: int = 100,
) -> AuditPage:
    """One page of entries, newest first (keyset on the id, so a page costs the same however
    far back it is); ``before_id`` continues after the last entry of the previous page."""
    limit = max(1, min(limit, PAGE_SIZE_MAX))
    event = orm.AuditEvent
    statement = select(
        event.id,
        event.at,
        event.actor_id,
        event.actor_name,
        event.action,
        event.entity,
        event.entity_id,
        event.details,
    )
    if before_id is not None:
        statement = statement.where(event.id < before_id)
    if wanted.since is not None:
        statement = statement.where(event.at >= _aware(wanted.since))
    if wanted.until is not None:
        statement = statement.where(event.at < _aware(wanted.until))
    if wanted.action.strip():
        statement = statement.where(event.action == wanted.action.strip())
    if wanted.actor.strip():
        statement = statement.where(
            func.lower(event.actor_name).contains(wanted.actor.strip().lower(), autoescape=True)
        )
    if wanted.entity.strip():
        statement = statement.where(event.entity == wanted.entity.strip())
    if wanted.entity_id.strip():
        statement = statement.where(event.entity_id == wanted.entity_id.strip())
    statement = statement.order_by(event.id.desc()).limit(limit + 1)
    with uow_factory(read_only=True) as uow:
        found = uow.rows(statement)
    rows = [
        AuditRow(
            id=r.id,
            at=_aware(r.at),
            actor_id=r.actor_id,
            actor_name=r.actor_name,
            action=r.action,
            entity=r.entity,
            entity_id=r.entity_id,
            details=r.details,
        )
        for r in found[:limit]
    ]
    more = len(found) > limit
    return AuditPage(rows, rows[-1].id if more and rows else None)


def facets(uow_factory: Callable[..., UnitOfWork]) -> AuditFacets:
    with uow_factory(read_only=True) as uow:
        actions = uow.rows(select(orm.AuditEvent.action).distinct().order_by(orm.AuditEvent.action))
        entities = uow.rows(
            select(orm.AuditEvent.entity).distinct().order_by(orm.AuditEvent.entity)
        )
    return AuditFacets(tuple(r[0] for r in actions), tuple(r[0] for r in entities))


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def export_csv(
    uow_factory: Callable[[], UnitOfWork],
    path: Path,
    *,
    actor: StaffSession | None = None,
    actor_name: str | None = None,
) -> int:
    """Write every entry, oldest first, as CSV (with its hashes, so the copy can be checked).

    The export is itself an entry of the trail (action ``audit_export``), written once the file
    is complete and before it takes its final name: a copy never leaves without its entry. The
    entry is not part of the file it describes."""
    columns = ["id", "at", "actor_id", "actor_name", "action", "entity", "entity_id", "details"]
    count = 0
    last_id = 0
    tmp = path.with_suffix(path.suffix + ".part")
    try:
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
                last_id = entry.id
        with uow_factory() as uow:
            record(
                uow,
                actor=actor,
                actor_name=actor_name if actor_name is not None or actor else OPERATOR_NAME,
                action=EXPORT_ACTION,
                entity="audit_events",
                entity_id=last_id,
                details={"entries": count, "file": path.name, "up_to_entry": last_id},
            )
            uow.commit()
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count
