"""Hearing about changes made elsewhere: a new or decided request, a change of permissions, a
script published or retired, a safety alert raised or acknowledged, a case saved or a line added to
its timeline.

On PostgreSQL a background connection LISTENs (the database's triggers NOTIFY, schema revisions
0006 and 0010), so news arrives within moments without polling tables. When that connection is
lost it connects again and LISTENs anew; what was said meanwhile is lost with it, so every channel
then gets one ``{"resync": True}`` note and the screens read everything again. The embedded
database is on one PC: there a light query every second notices the same changes.

A case's note carries ``{"case": id}`` (and ``"version"`` when the case row itself changed, and its
``"centre"`` on PostgreSQL). Too many cases at once (a bulk import) become one resync note.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, func, select, text

from desk.adapters import orm

log = logging.getLogger(__name__)

REQUESTS = "desk_requests"
CONFIGURATION = "desk_configuration"
SCRIPTS = "desk_scripts"  # a script published, retired, restored or given other moods
SAFETY = "desk_safety"  # a safety alert raised or acknowledged
CASES = "desk_cases"  # a case created or saved, or a line added to its timeline
CHANNELS = (REQUESTS, CONFIGURATION, SCRIPTS, SAFETY, CASES)
_COUNTED = (REQUESTS, CONFIGURATION, SCRIPTS, SAFETY)  # polled as counts and sums (SQLite)
POLL_SECONDS = 1.0
# More cases than this changed between two polls: one resync note instead of one note per case.
MAX_CASES_PER_POLL = 100
RESYNC: dict[str, Any] = {"resync": True}


@dataclass(frozen=True)
class Notification:
    channel: str
    payload: dict[str, Any] = field(default_factory=dict)


class Listener:
    """Calls ``deliver`` (on its own thread) for every change; ``stop()`` ends it."""

    def __init__(self, engine: Engine, deliver: Callable[[Notification], None]) -> None:
        self._engine = engine
        self._deliver = deliver
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._connection: Any = None
        self.backend_pid: int | None = None  # the LISTEN connection's server process (PostgreSQL)
        target = self._listen if engine.dialect.name == "postgresql" else self._poll
        self._thread = threading.Thread(target=target, name="desk-listen", daemon=True)

    def start(self) -> Listener:
        self._thread.start()
        return self

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """True once the listener hears changes (tests wait for this before making one)."""
        return self._ready.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._thread.join(timeout)

    # --- PostgreSQL ---------------------------------------------------------------------------

    def _listen(self) -> None:
        import psycopg

        url = self._engine.url
        heard_before = False
        delay = 1.0
        while not self._stopping.is_set():
            try:
                with psycopg.connect(
                    host=url.host,
                    port=url.port or 5432,
                    user=url.username,
                    password=url.password,
                    dbname=url.database,
                    autocommit=True,
                    application_name="desk-listener",
                    connect_timeout=10,
                    # A network that went away without a word is noticed within half a minute.
                    keepalives=1,
                    keepalives_idle=10,
                    keepalives_interval=5,
                    keepalives_count=3,
                ) as conn:
                    for channel in CHANNELS:
                        conn.execute(f"LISTEN {channel}")
                    self.backend_pid = conn.info.backend_pid
                    delay = 1.0
                    if heard_before:  # news sent while nobody listened is lost: read it all again
                        log.info("Listening for changes again")
                        for channel in CHANNELS:
                            self._deliver(Notification(channel, dict(RESYNC)))
                    heard_before = True
                    self._ready.set()
                    while not self._stopping.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._deliver(Notification(note.channel, _decode(note.payload)))
            except psycopg.Error as exc:  # the server or the network went away: try again
                log.warning("Listening for changes stopped (%s); retrying", exc)
                self._stopping.wait(delay)
                delay = min(delay * 2, 30.0)

    # --- the embedded database ----------------------------------------------------------------

    def _poll(self) -> None:
        last: tuple[Any, ...] | None = None
        cases = _CasePoll()
        while not self._stopping.is_set():
            try:
                with self._engine.connect() as conn:
                    requests = tuple(
                        conn.execute(
                            text(
                                "SELECT count(*), coalesce(max(id), 0), coalesce(sum(version), 0) "
                                "FROM approval_requests"
                            )
                        ).one()
                    )
                    configuration = tuple(
                        conn.execute(
                            text(
                                "SELECT (SELECT coalesce(sum(version), 0) FROM roles), "
                                "(SELECT count(*) FROM role_permissions), "
                                "(SELECT coalesce(sum(limit_minor), 0) FROM authority_limits), "
                                "(SELECT coalesce(sum(version), 0) FROM staff)"
                            )
                        ).one()
                    )
                    scripts = tuple(
                        conn.execute(
                            text(
                                "SELECT (SELECT count(*) FROM script_versions), "
                                "(SELECT coalesce(sum(revision), 0) FROM scripts)"
                            )
                        ).one()
                    )
                    safety = tuple(
                        conn.execute(
                            text(
                                "SELECT coalesce(max(id), 0), count(acknowledged_at) "
                                "FROM safety_alerts"
                            )
                        ).one()
                    )
                    changed_cases = cases.check(conn)
                current = (requests, configuration, scripts, safety)
                if last is not None:
                    for channel, now, before in zip(_COUNTED, current, last, strict=True):
                        if now != before:
                            self._deliver(Notification(channel))
                for payload in changed_cases:
                    self._deliver(Notification(CASES, payload))
                last = current
                self._ready.set()
            except Exception as exc:  # a locked or vanished file: try again
                log.warning("Checking for changes failed (%s)", exc)
            self._stopping.wait(POLL_SECONDS)


class _CasePoll:
    """Which cases changed since the last look, on the embedded database: cases saved since the
    newest ``updated_at`` seen, and cases whose timeline grew since the newest event id seen
    (each a single-aggregate read that SQLite answers from an index: ix_cases_updated, the
    primary key). Every save writes a line to the timeline, so a save whose time was taken
    before another's but committed after it is still told (by its line)."""

    def __init__(self) -> None:
        self._started = False
        self._newest: Any = None  # the newest updated_at seen
        self._event_id = 0

    def check(self, conn: Connection) -> list[dict[str, Any]]:
        c, e = orm.Case, orm.CaseEvent
        newest = conn.execute(select(func.max(c.updated_at))).scalar_one()
        event_id = conn.execute(select(func.coalesce(func.max(e.id), 0))).scalar_one()
        newest_before, event_before = self._newest, self._event_id
        self._newest, self._event_id = newest, event_id
        if not self._started:
            self._started = True
            return []
        limit = MAX_CASES_PER_POLL + 1
        saved: list[tuple[int, int]] = []
        if newest != newest_before:
            query = select(c.id, c.version).order_by(c.updated_at, c.id).limit(limit)
            if newest_before is not None:
                query = query.where(c.updated_at > newest_before)
            saved = [(r[0], r[1]) for r in conn.execute(query)]
        timeline: list[int] = []
        if event_id != event_before:
            lines = 4 * MAX_CASES_PER_POLL  # a save writes a line or two; read them by id
            timeline = list(
                conn.execute(
                    select(e.case_id).where(e.id > event_before).order_by(e.id).limit(lines + 1)
                ).scalars()
            )
            if len(timeline) > lines:
                return [dict(RESYNC)]
            timeline = list(dict.fromkeys(timeline))
        if len(saved) > MAX_CASES_PER_POLL or len(timeline) > MAX_CASES_PER_POLL:
            return [dict(RESYNC)]  # a bulk change: the screens read everything once
        notes = {case_id: {"case": case_id, "version": version} for case_id, version in saved}
        for case_id in timeline:
            notes.setdefault(case_id, {"case": case_id})
        return list(notes.values())


def _decode(payload: str) -> dict[str, Any]:
    try:
        value = json.loads(payload)
    except ValueError:
        return {"value": payload}
    return value if isinstance(value, dict) else {"value": value}
