"""Engines, schema versions and migrations: the embedded SQLite file and the shared PostgreSQL."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DatabaseError, DBAPIError, DisconnectionError, OperationalError

from desk.adapters.migrations import HEAD_REVISION
from desk.services.errors import DatabaseUnavailable, SchemaMismatch

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Objects the migrations create by hand for free-text search, unknown to the ORM models.
SEARCH_OBJECTS = frozenset(
    {
        "cases_fts",
        "search_vector",
        "ix_cases_search_vector",
        "ix_cases_centre_search",
        "ix_customers_name_key_pattern",
    }
)


def backend_of(url: str | URL) -> str:
    return make_url(url).get_backend_name()


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine with the settings each backend needs to behave as one shared database.

    On PostgreSQL a request gets ``response_timeout`` seconds (RESPONSE_TIMEOUT_SECONDS; None:
    no limit) for its answer before the connection is given up as lost."""
    response_timeout = kwargs.pop("response_timeout", RESPONSE_TIMEOUT_SECONDS)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 15}, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    connect_args = kwargs.pop("connect_args", {})
    defaults = {
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "application_name": "desk",
        # A server or network that went away without a word is noticed within about 25 s
        # (the system default is two hours), whether a request waits or the connection rests
        # in the pool (where the checkout then sees it).
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
    }
    for key, value in defaults.items():
        if key not in parsed.query:  # connect_args would override the address's own choice
            connect_args.setdefault(key, value)
    options = connect_args.get("options", parsed.query.get("options", ""))
    if IDLE_IN_TRANSACTION_SECONDS and isinstance(options, str) and "idle_in_tr" not in options:
        milliseconds = int(IDLE_IN_TRANSACTION_SECONDS * 1000)
        setting = f"-c idle_in_transaction_session_timeout={milliseconds}"
        connect_args["options"] = f"{options} {setting}".strip()
    engine = create_engine(parsed, connect_args=connect_args, **kwargs)
    if engine.dialect.driver == "psycopg" and not engine.dialect.is_async:
        _guard_connections(engine, float(response_timeout) if response_timeout else None)
    if not kwargs.get("pool_pre_ping"):
        _ping_idle_connections(engine)
    return engine


# A connection attempt gives up after this long (a server that accepts but never answers).
CONNECT_TIMEOUT_SECONDS = 10

# How long to wait for the server's answer to one request (a statement, a commit, a rollback)
# before giving the connection up as dead. Without it, a server or a network device between us
# that keeps the connection open but stopped answering (a hung proxy or VPN, a frozen server)
# leaves a save waiting forever and the window's worker with it; TCP keepalives cannot see that,
# as the device in between answers them. Every statement of the window takes well under a second,
# so half a minute means the server is gone, not slow. Schema upgrades wait as long as they need
# (see ``upgrade``). ``make_engine(url, response_timeout=None)`` turns it off.
RESPONSE_TIMEOUT_SECONDS: float | None = 30.0

# The server rolls back a transaction whose client has said nothing for this long: a client
# whose network went away in the middle of a save (it never sends its COMMIT, and the server's
# TCP keepalive takes two hours to notice) would otherwise keep the rows it locked, this year's
# case-number counter among them, and every other officer's new case would wait for it. A unit
# of work never pauses between statements, so this only ends transactions nobody will finish;
# it is shorter than RESPONSE_TIMEOUT_SECONDS so the others' saves wait rather than fail.
IDLE_IN_TRANSACTION_SECONDS: float | None = 15.0

# Set while a schema upgrade runs: its statements may rightly take minutes on a big database.
_UNLIMITED = ContextVar("desk_unlimited_wait", default=False)


def _guard_connections(engine: Engine, response_timeout: float | None) -> None:
    """Connect with psycopg classes that:

    - hang up a connection whose server has not answered a request within
      ``response_timeout`` seconds (the driver has no such limit of its own): they tell a
      watchdog thread when they start and stop waiting, and the watchdog shuts the socket down
      when the time is up, so the waiting call returns at once and fails as a lost connection
      (DatabaseUnavailable). Whether a COMMIT cut off so reached the server is unknown, as with
      any connection lost during a COMMIT; saves carry a client UUID so a retry records once.
    - report a transaction the server ended (IDLE_IN_TRANSACTION_SECONDS) as the lost
      connection it is, not as an internal error.
    """
    connection_class, cursor_class = _guarded_psycopg_classes()

    def connect(_dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        cparams.setdefault("cursor_factory", cursor_class)
        connection = connection_class.connect(*cargs, **cparams)
        connection.desk_response_timeout = response_timeout
        return connection

    event.listen(engine, "do_connect", connect)


class _Watchdog:
    """One thread that hangs up connections which waited too long for their server."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._waiting: dict[Any, float] = {}  # connection -> deadline (time.monotonic)
        self._wakes_at = float("inf")
        self._thread: threading.Thread | None = None

    def arm(self, connection: Any, seconds: float) -> bool:
        """Start the clock; False when it already runs (a request within a request)."""
        deadline = time.monotonic() + seconds
        with self._changed:
            if connection in self._waiting:
                return False
            self._waiting[connection] = deadline
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, name="desk-db-watchdog", daemon=True
                )
                self._thread.start()
            elif deadline < self._wakes_at:  # rare: the thread sleeps until a later time
                self._changed.notify()
        return True

    def disarm(self, connection: Any) -> None:
        """Stop the clock; once this returns, the watchdog no longer touches the socket."""
        with self._changed:
            self._waiting.pop(connection, None)

    def _watch(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                for connection, deadline in list(self._waiting.items()):
                    if deadline <= now:
                        del self._waiting[connection]
                        _hang_up(connection)
                self._wakes_at = min(self._waiting.values(), default=float("inf"))
                self._changed.wait(self._wakes_at - now if self._waiting else None)


_watchdog = _Watchdog()


def _hang_up(connection: Any) -> None:
    """Shut the connection's socket down (not close it: the driver still owns it), so the call
    waiting on it sees the connection end."""
    try:
        sock = socket.socket(fileno=connection.fileno())
    except Exception:  # already closed
        return
    connection.desk_hung_up = True
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.detach()


@functools.cache
def _guarded_psycopg_classes() -> tuple[Any, Any]:
    import psycopg

    def guarded(connection: Any, call: Callable[[], Any]) -> Any:
        seconds: float | None = connection.desk_response_timeout
        if _UNLIMITED.get():
            seconds = None
        armed = seconds is not None and _watchdog.arm(connection, seconds)
        try:
            return call()
        except psycopg.OperationalError as exc:
            if connection.desk_hung_up:
                raise psycopg.OperationalError(
                    f"the server did not answer within {connection.desk_response_timeout:g} seconds"
                ) from exc
            raise
        except psycopg.errors.IdleInTransactionSessionTimeout as exc:
            raise psycopg.OperationalError(
                "the server ended a transaction this computer left waiting too long"
            ) from exc
        finally:
            if armed:
                _watchdog.disarm(connection)

    class GuardedCursor(psycopg.Cursor[Any]):
        def execute(self, *args: Any, **kwargs: Any) -> Any:
            return guarded(
                self.connection, lambda: super(GuardedCursor, self).execute(*args, **kwargs)
            )

        def executemany(self, *args: Any, **kwargs: Any) -> Any:
            return guarded(
                self.connection, lambda: super(GuardedCursor, self).executemany(*args, **kwargs)
            )

    class GuardedConnection(psycopg.Connection[Any]):
        desk_response_timeout: float | None = None
        desk_hung_up = False

        def commit(self) -> None:
            guarded(self, super().commit)

        def rollback(self) -> None:
            guarded(self, super().rollback)

    return GuardedConnection, GuardedCursor


# A pooled connection unused for longer than this is checked before use (the server may have
# restarted or a firewall dropped it); a connection used a moment ago is not, which saves a
# round trip on every case-list page, unless the server said something to it meanwhile.
IDLE_PING_SECONDS = 5.0


def _ping_idle_connections(engine: Engine) -> None:
    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["desk_idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("desk_idle_since")
        if (
            idle_since is not None
            and time.monotonic() - idle_since < IDLE_PING_SECONDS
            and not _spoke_while_idle(dbapi_connection)
        ):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure means: this connection is gone
            raise DisconnectionError("pooled connection no longer answers") from exc

    event.listen(engine.pool, "checkin", checkin)
    event.listen(engine.pool, "checkout", checkout)


def _spoke_while_idle(dbapi_connection: Any) -> bool:
    """Whether anything arrived on a connection resting in the pool. Nothing should: a server
    that shuts down or restarts says goodbye and hangs up, a dropped connection is reset, and
    either leaves the socket readable. Looking costs no round trip, so it is done every time:
    a save right after a server restart then reconnects instead of failing once."""
    fileno = getattr(dbapi_connection, "fileno", None)
    if fileno is None:
        return False
    try:
        readable, _, _ = select.select([fileno()], [], [], 0)
    except Exception:  # closed, or not a socket: let the ping decide
        return True
    return bool(readable)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (pysqlite's own transaction handling is off).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock at the start, so two writers wait instead of deadlocking;
    # a read-only unit of work shares the database with everyone (WAL readers never block).
    if conn.get_execution_options().get("desk_read_only"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    """The newest revision according to Alembic's own reading of the migrations folder."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # None: an empty database
    head: str
    known: bool  # whether this version of Desk knows the current revision

    @property
    def is_empty(self) -> bool:
        return self.current is None

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def is_newer(self) -> bool:
        return self.current is not None and not self.known


def schema_state(engine: Engine) -> SchemaState:
    """Read the database's revision; Alembic is loaded only when it is not the newest one."""
    with connect(engine) as conn:
        current = _current_revision(conn)
    if current == HEAD_REVISION or current is None:
        return SchemaState(current=current, head=HEAD_REVISION, known=True)
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return SchemaState(current=current, head=HEAD_REVISION, known=_revision_known(script, current))


def _current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(versions) > 1:
        raise SchemaMismatch(
            "This database has several schema versions at once; ask your administrator."
        )
    return versions[0] if versions else None


def _revision_known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for an unknown id
        return False


@contextmanager
def connect(engine: Engine) -> Iterator[Any]:
    """A connection, with an unreachable server turned into a message a person can act on."""
    try:
        conn = engine.connect()
    except DBAPIError as exc:
        raise DatabaseUnavailable(describe_connection_error(engine, exc)) from exc
    try:
        yield conn
    except OperationalError as exc:
        raise DatabaseUnavailable(describe_connection_error(engine, exc)) from exc
    except DatabaseError as exc:
        if engine.url.get_backend_name() == "sqlite":  # "file is not a database" and friends
            raise DatabaseUnavailable(describe_connection_error(engine, exc)) from exc
        raise
    finally:
        conn.close()


def describe_connection_error(engine: Engine, exc: DBAPIError) -> str:
    url = engine.url
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    if url.get_backend_name() == "sqlite":
        return f"The database file {url.database} could not be opened: {detail}"
    where = f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"
    if "password authentication failed" in detail or "authentication failed" in detail:
        return f"The server {where} refused the user name or password."
    if "does not exist" in detail:
        return f"The server {where} says: {detail}"
    return (
        f"The database server {where} cannot be reached ({detail}). "
        "Check the network and the server address, or ask your IT contact."
    )


def refuse_newer_schema(state: SchemaState) -> None:
    if state.is_newer:
        raise SchemaMismatch(
            f"This database was last changed by a newer version of Desk (schema {state.current}; "
            f"this version knows up to {state.head}). Update Desk to open it. "
            "Nothing was changed."
        )


def backup_sqlite_file(engine: Engine) -> Path | None:
    """Copy the SQLite file aside before migrating it (kept next to it, dated)."""
    database = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    source = Path(database)
    if not source.exists() or source.stat().st_size == 0:
        return None
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = source.with_name(f"{source.stem}.before-migration-{stamp}{source.suffix}")
    counter = 1
    while target.exists():  # two migrations within one second
        counter += 1
        target = source.with_name(
            f"{source.stem}.before-migration-{stamp}-{counter}{source.suffix}"
        )
    raw = engine.raw_connection()  # VACUUM cannot run inside SQLAlchemy's transaction
    try:
        cursor = raw.cursor()
        cursor.execute(f"VACUUM INTO '{_sql_quote(str(target))}'")  # consistent, WAL included
        cursor.close()
    finally:
        raw.close()
    log.info("Copied %s to %s before migrating", source, target)
    return target


def _sql_quote(text: str) -> str:
    return text.replace("'", "''")


def upgrade(
    engine: Engine, revision: str = "head", progress: Callable[[str], None] | None = None
) -> SchemaState:
    """Bring the schema to ``revision``; refuses a database of a newer schema untouched."""
    state = schema_state(engine)
    refuse_newer_schema(state)
    if state.up_to_date and revision == "head":
        return state
    if not state.is_empty:
        if progress:
            progress("Keeping a copy of the database before updating it…")
        backup_sqlite_file(engine)
    if progress:
        progress("Updating the database schema…")
    from alembic import command

    unlimited = _UNLIMITED.set(True)  # a migration's statement may take minutes
    try:
        command.upgrade(alembic_config(engine), revision)
    finally:
        _UNLIMITED.reset(unlimited)
    return schema_state(engine)


def schema_differences(engine: Engine) -> list[Any]:
    """What the models have that the migrated database lacks, or the other way round."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from desk.adapters.orm import Base

    with connect(engine) as conn:
        context = MigrationContext.configure(
            conn,
            opts={"include_object": include_object, "compare_type": True},
        )
        return list(compare_metadata(context, Base.metadata))


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if name is None:
        return True
    if name in SEARCH_OBJECTS or name.startswith("cases_fts") or name.endswith("_trgm"):
        return False
    return name != "alembic_version"
