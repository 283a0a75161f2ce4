"""Engines, schema versions and migrations: the embedded SQLite file and the shared PostgreSQL."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    """An engine with the settings each backend needs to behave as one shared database."""
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
    connect_args.setdefault("connect_timeout", 10)
    connect_args.setdefault("application_name", "desk")
    engine = create_engine(parsed, connect_args=connect_args, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_idle_connections(engine)
    return engine


# A pooled connection unused for longer than this is checked before use (the server may have
# restarted or a firewall dropped it); a connection used a moment ago is not, which saves a
# round trip on every case-list page.
IDLE_PING_SECONDS = 5.0


def _ping_idle_connections(engine: Engine) -> None:
    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["desk_idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("desk_idle_since")
        if idle_since is not None and time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure means: this connection is gone
            raise DisconnectionError("pooled connection no longer answers") from exc

    event.listen(engine.pool, "checkin", checkin)
    event.listen(engine.pool, "checkout", checkout)


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

    command.upgrade(alembic_config(engine), revision)
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
