"""The local file behind the offline outbox and the reading cache: one SQLite file per database and
user, in the user's data directory.

Plain ``sqlite3`` rather than SQLAlchemy: the file is the client's own, small, and must open even
when the shared database's driver cannot connect. Every entry carries a checksum of its content;
an entry that no longer matches (a damaged page, an edit by hand) is set aside, written out as a
file beside the outbox for IT, and reported, and the others are still sent. A file that is not a
database any more is renamed, not deleted, and whatever can still be read from it is carried over.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desk.domain.outbox import EntryState, OpKind, OutboxEntry, checksum
from desk.services.errors import DeskError

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    op_uuid TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    checksum TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'waiting',
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    result TEXT
);
CREATE TABLE IF NOT EXISTS local_ids (
    local_id INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    uuid TEXT NOT NULL UNIQUE,
    server_id INTEGER
);
CREATE TABLE IF NOT EXISTS cache (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    saved_at TEXT NOT NULL
);
"""

FORMAT_VERSION = 1


class OutboxFull(DeskError):
    """The local disk is full: the change could not be kept offline (it is still on the form)."""


class OutboxUnusable(DeskError):
    """The outbox file cannot be written at all (permissions, a read-only disk)."""


@dataclass
class OpenReport:
    """What opening the file found wrong, for the officer's and IT's attention."""

    moved_aside: Path | None = None
    quarantined: list[Path] = field(default_factory=list)
    carried_over: int = 0

    @property
    def anything(self) -> bool:
        return self.moved_aside is not None or bool(self.quarantined)


class OutboxStore:
    """The outbox entries, the ids handed out offline, and the cached reading copies."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.report = OpenReport()
        self._lock = threading.RLock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = self._open()

    # --- opening, and what to do with a damaged file ------------------------------------------

    def _open(self) -> sqlite3.Connection:
        try:
            conn = self._connect(self.path)
            self._check(conn)
            return conn
        except sqlite3.DatabaseError as exc:
            with contextlib.suppress(NameError, sqlite3.Error):
                conn.close()
            return self._replace_damaged_file(exc)

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")  # an entry that was confirmed is on the disk
        conn.executescript(_SCHEMA)
        conn.execute(f"PRAGMA user_version={FORMAT_VERSION}")
        return conn

    @staticmethod
    def _check(conn: sqlite3.Connection) -> None:
        verdict = conn.execute("PRAGMA quick_check").fetchone()
        if verdict is None or verdict[0] != "ok":
            raise sqlite3.DatabaseError(f"quick_check: {verdict[0] if verdict else 'no answer'}")

    def _replace_damaged_file(self, exc: Exception) -> sqlite3.Connection:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.stem}.damaged-{stamp}{self.path.suffix}")
        log.error("The outbox %s is damaged (%s); moved aside to %s", self.path, exc, aside)
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self.path}{suffix}")
            if source.exists():
                os.replace(source, Path(f"{aside}{suffix}"))
        self.report.moved_aside = aside
        conn = self._connect(self.path)
        self.report.carried_over = self._salvage(aside, conn)
        return conn

    def _salvage(self, damaged: Path, conn: sqlite3.Connection) -> int:
        """Copy every entry still readable with a matching checksum out of the damaged file."""
        carried = 0
        try:
            old = sqlite3.connect(f"file:{damaged}?mode=ro", uri=True)
        except sqlite3.Error:
            return 0
        try:
            rows = old.execute(
                "SELECT op_uuid, kind, payload, checksum, recorded_at, state, attempts, error, "
                "result FROM entries ORDER BY seq"
            ).fetchall()
            ids = old.execute("SELECT local_id, entity, uuid, server_id FROM local_ids").fetchall()
        except sqlite3.Error as exc:
            log.error("Nothing could be read from the damaged outbox %s: %s", damaged, exc)
            return 0
        finally:
            old.close()
        for row in rows:
            try:
                conn.execute(
                    "INSERT INTO entries (op_uuid, kind, payload, checksum, recorded_at, state, "
                    "attempts, error, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                carried += 1
            except sqlite3.Error as exc:
                log.error("An entry of the damaged outbox could not be carried over: %s", exc)
        for id_row in ids:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("INSERT OR IGNORE INTO local_ids VALUES (?, ?, ?, ?)", id_row)
        return carried

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One transaction; a full disk becomes a message the officer can act on."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    if self._conn.in_transaction:  # SQLite ends it by itself on a full disk
                        self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if self._conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                if "full" in str(exc).lower() or getattr(exc, "sqlite_errorcode", 0) == 13:
                    raise OutboxFull(
                        "This computer's disk is full, so the change could not be kept until the "
                        "server is back. It is still on your screen: free some space, or wait "
                        "for the connection, then save again."
                    ) from exc
                raise OutboxUnusable(
                    f"The offline outbox ({self.path}) cannot be written: {exc}. The change is "
                    "still on your screen."
                ) from exc

    # --- entries ------------------------------------------------------------------------------

    def add(self, kind: OpKind, payload: dict[str, Any], *, op_uuid: uuid.UUID) -> OutboxEntry:
        text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
        recorded_at = dt.datetime.now(dt.UTC)
        with self._writing() as conn:
            cursor = conn.execute(
                "INSERT INTO entries (op_uuid, kind, payload, checksum, recorded_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    str(op_uuid),
                    kind.value,
                    text,
                    checksum(op_uuid, kind.value, text),
                    recorded_at.isoformat(),
                ),
            )
            seq = int(cursor.lastrowid or 0)
        return OutboxEntry(seq, op_uuid, kind, payload, recorded_at)

    def entries(self, *, states: frozenset[EntryState] | None = None) -> list[OutboxEntry]:
        """The entries in the order they were made; damaged ones are quarantined on the way."""
        query = (
            "SELECT seq, op_uuid, kind, payload, checksum, recorded_at, state, attempts, "
            "error, result FROM entries"
        )
        wanted = sorted(state.value for state in states or ())
        if states is not None:  # the sent ones pile up: leave them on the disk
            query += f" WHERE state IN ({', '.join('?' * len(wanted))})"
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY seq", wanted).fetchall()
        return [entry for entry in map(self._entry, rows) if entry is not None]

    def sent_result(self, op_uuid: uuid.UUID) -> dict[str, Any] | None:
        """What the server gave back for an entry sent already (None: not sent)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT result FROM entries WHERE op_uuid = ? AND state = ?",
                (str(op_uuid), EntryState.DONE.value),
            ).fetchone()
        if row is None or not row[0]:
            return None
        found = json.loads(row[0])
        return found if isinstance(found, dict) else None

    def _entry(self, row: tuple[Any, ...]) -> OutboxEntry | None:
        seq, op_text, kind, payload, stored_sum, recorded_at, state, attempts, error, result = row
        if state == EntryState.QUARANTINED.value:
            return OutboxEntry(
                seq,
                _uuid_or_nil(op_text),
                OpKind.CASE_ENTRY,
                {},
                _when(recorded_at),
                EntryState.QUARANTINED,
                attempts,
                error,
            )
        try:
            op_uuid = uuid.UUID(op_text)
            if checksum(op_uuid, kind, payload) != stored_sum:
                raise ValueError("its content does not match its checksum")
            data = json.loads(payload)
            if not isinstance(data, dict):
                raise ValueError("its content is not a change")
            return OutboxEntry(
                seq,
                op_uuid,
                OpKind(kind),
                data,
                _when(recorded_at),
                EntryState(state),
                int(attempts),
                str(error),
                json.loads(result) if result else None,
            )
        except (ValueError, TypeError) as exc:
            self._quarantine(row, str(exc))
            return None

    def _quarantine(self, row: tuple[Any, ...], why: str) -> None:
        seq = row[0]
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        folder = self.path.parent / "quarantine"
        target = folder / f"{self.path.stem}-entry-{seq}-{stamp}.json"
        names = ("seq", "op_uuid", "kind", "payload", "checksum", "recorded_at", "state")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target.write_text(
                json.dumps({**dict(zip(names, row, strict=False)), "why": why}, indent=1),
                encoding="utf-8",
            )
        except OSError as exc:
            log.error("Could not write the quarantined entry %s out: %s", seq, exc)
        message = f"Set aside, not sent: {why}. A copy is in {target}."
        log.error("Outbox entry %s quarantined: %s", seq, why)
        with self._writing() as conn:
            conn.execute(
                "UPDATE entries SET state = ?, error = ? WHERE seq = ?",
                (EntryState.QUARANTINED.value, message, seq),
            )
        self.report.quarantined.append(target)

    def mark(
        self,
        seq: int,
        state: EntryState,
        *,
        error: str = "",
        result: dict[str, Any] | None = None,
        attempted: bool = False,
    ) -> None:
        with self._writing() as conn:
            conn.execute(
                "UPDATE entries SET state = ?, error = ?, result = COALESCE(?, result), "
                "attempts = attempts + ? WHERE seq = ?",
                (
                    state.value,
                    error,
                    json.dumps(result) if result is not None else None,
                    1 if attempted else 0,
                    seq,
                ),
            )

    def note_attempt(self, seq: int, error: str) -> None:
        with self._writing() as conn:
            conn.execute(
                "UPDATE entries SET attempts = attempts + 1, error = ? WHERE seq = ?", (error, seq)
            )

    def count(self, state: EntryState) -> int:
        with self._lock:
            row = self._conn.execute(
                "SELECT count(*) FROM entries WHERE state = ?", (state.value,)
            ).fetchone()
        return int(row[0])

    # --- ids handed out offline ---------------------------------------------------------------

    def new_local_id(self, entity: str, record_uuid: uuid.UUID) -> int:
        with self._writing() as conn:
            row = conn.execute("SELECT min(local_id) FROM local_ids").fetchone()
            local_id = min(int(row[0] or 0), 0) - 1
            conn.execute(
                "INSERT INTO local_ids (local_id, entity, uuid) VALUES (?, ?, ?)",
                (local_id, entity, str(record_uuid)),
            )
        return local_id

    def local_uuid(self, local_id: int) -> uuid.UUID | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT uuid FROM local_ids WHERE local_id = ?", (local_id,)
            ).fetchone()
        return uuid.UUID(row[0]) if row else None

    def server_id(self, local_id: int) -> int | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT server_id FROM local_ids WHERE local_id = ?", (local_id,)
            ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def set_server_id(self, record_uuid: uuid.UUID, server_id: int) -> None:
        with self._writing() as conn:
            conn.execute(
                "UPDATE local_ids SET server_id = ? WHERE uuid = ?", (server_id, str(record_uuid))
            )

    # --- the reading cache --------------------------------------------------------------------

    def cache_put(self, values: dict[str, Any]) -> None:
        """Store several cached values in one transaction (all of a refresh, or none)."""
        now = dt.datetime.now(dt.UTC).isoformat()
        with self._writing() as conn:
            conn.executemany(
                "INSERT INTO cache (key, value, saved_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "saved_at = excluded.saved_at",
                [
                    (key, json.dumps(value, ensure_ascii=False), now)
                    for key, value in values.items()
                ],
            )

    def cache_get(self, key: str) -> tuple[Any, dt.datetime] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT value, saved_at FROM cache WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        try:
            return json.loads(row[0]), _when(row[1])
        except ValueError:
            return None

    def cache_keys(self, prefix: str) -> list[str]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT key FROM cache WHERE key >= ? AND key < ? ORDER BY key",
                (prefix, prefix + "\uffff"),
            ).fetchall()
        return [row[0] for row in rows]

    def cache_drop(self, prefix: str) -> None:
        with self._writing() as conn:
            conn.execute(
                "DELETE FROM cache WHERE key >= ? AND key < ?", (prefix, prefix + "\uffff")
            )

    # For tests of a full disk: cap the file's size in pages.
    def limit_pages(self, pages: int) -> None:
        with self._lock:
            self._conn.execute(f"PRAGMA max_page_count = {int(pages)}")


def _when(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _uuid_or_nil(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except (ValueError, TypeError):
        return uuid.UUID(int=0)
