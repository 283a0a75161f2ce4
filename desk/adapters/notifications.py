"""Hearing about changes made elsewhere: a new or decided request, a change of permissions, a
script published or retired, a safety alert raised or acknowledged.

On PostgreSQL a background connection LISTENs (the database's triggers NOTIFY, schema revision
0006), so news arrives within moments without polling tables. The embedded database is on one PC:
there a light query every second notices the same changes.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

REQUESTS = "desk_requests"
CONFIGURATION = "desk_configuration"
SCRIPTS = "desk_scripts"  # a script published, retired, restored or given other moods
SAFETY = "desk_safety"  # a safety alert raised or acknowledged
CHANNELS = (REQUESTS, CONFIGURATION, SCRIPTS, SAFETY)
POLL_SECONDS = 1.0


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
                ) as conn:
                    for channel in CHANNELS:
                        conn.execute(f"LISTEN {channel}")
                    self._ready.set()
                    while not self._stopping.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._deliver(Notification(note.channel, _decode(note.payload)))
            except psycopg.Error as exc:  # the server went away: try again shortly
                log.warning("Listening for changes stopped (%s); retrying", exc)
                self._stopping.wait(2.0)

    # --- the embedded database ----------------------------------------------------------------

    def _poll(self) -> None:
        last: tuple[Any, ...] | None = None
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
                current = (requests, configuration, scripts, safety)
                if last is not None:
                    for channel, now, before in zip(CHANNELS, current, last, strict=True):
                        if now != before:
                            self._deliver(Notification(channel))
                last = current
                self._ready.set()
            except Exception as exc:  # a locked or vanished file: try again
                log.warning("Checking for changes failed (%s)", exc)
            self._stopping.wait(POLL_SECONDS)


def _decode(payload: str) -> dict[str, Any]:
    try:
        value = json.loads(payload)
    except ValueError:
        return {"value": payload}
    return value if isinstance(value, dict) else {"value": value}
