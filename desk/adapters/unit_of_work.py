"""One unit of work per user action: everything commits together or nothing does."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, Executable, Row, event
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from desk.adapters.database import describe_connection_error
from desk.services.errors import ConflictError, DatabaseUnavailable, DeskError, PermissionRefused


class UnitOfWork:
    """``with uow: ...; uow.commit()`` — rolled back unless committed.

    Database failures leave as DeskError subclasses with a sentence a person can act on.
    """

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        """``read_only``: a read that needs no transaction of its own. PostgreSQL runs it in
        autocommit (no BEGIN/COMMIT round trips); SQLite takes a plain, shared BEGIN instead of
        the writer's lock, so type-ahead and list pages never queue behind a save."""
        self.engine = engine
        self.read_only = read_only
        self._factory = _session_factory(engine, read_only)
        self._bind: Engine = self._factory.kw["bind"]
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside its with-block")
        return self._session

    @property
    def _wrote(self) -> bool:
        return bool(self.session.info.get(_WROTE))

    def __enter__(self) -> UnitOfWork:
        self._session = self._factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self._session
        if session is not None:
            wrote = self._wrote
            self._session = None
            try:
                if exc is None and not wrote and not _has_pending(session):
                    # A read ends with COMMIT: a ROLLBACK would make psycopg drop its
                    # prepared statements, and every list query would be planned again.
                    session.commit()
                else:
                    session.rollback()
            except DBAPIError as ending:
                if exc is None:  # the connection died as the work ended: say so
                    raise translate_error(self.engine, ending) from ending
            finally:
                session.close()
        if isinstance(exc, DBAPIError | StaleDataError) and not isinstance(exc, DeskError):
            raise translate_error(self.engine, exc) from exc

    def rows(self, statement: Executable) -> Sequence[Row[Any]]:
        """Run a read on a plain connection: a read-only unit of work needs none of the
        session's bookkeeping, which costs more than the query on a case-list page."""
        if not self.read_only:
            return self.session.execute(statement).all()
        with self._bind.connect() as conn:
            return conn.execute(statement).all()

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        session = self.session
        for step in session.info.pop(_BEFORE_COMMIT, []):
            step()
        session.commit()
        session.info[_WROTE] = False

    def before_commit(self, step: Callable[[], None]) -> None:
        """Run ``step`` as the last thing before this transaction commits (writes that take
        an organisation-wide lock go there, to hold it briefly). Dropped on a rollback."""
        self.session.info.setdefault(_BEFORE_COMMIT, []).append(step)

    def flush(self) -> None:
        self.session.flush()


_WROTE = "desk_wrote"
_BEFORE_COMMIT = "desk_before_commit"
_FACTORIES: weakref.WeakKeyDictionary[Engine, dict[bool, sessionmaker[Session]]] = (
    weakref.WeakKeyDictionary()
)


def _session_factory(engine: Engine, read_only: bool) -> sessionmaker[Session]:
    """One session factory per engine and mode, with its listeners registered once (registering
    them per unit of work cost a third of a millisecond on every case-list page)."""
    factories = _FACTORIES.setdefault(engine, {})
    if read_only not in factories:
        bind = engine
        if read_only:
            bind = (
                engine.execution_options(isolation_level="AUTOCOMMIT")
                if engine.dialect.name == "postgresql"
                else engine.execution_options(desk_read_only=True)
            )
        factory = sessionmaker(bind, expire_on_commit=False)
        event.listen(factory, "after_flush", _mark_written)
        event.listen(factory, "do_orm_execute", _note_statement)
        factories[read_only] = factory
    return factories[read_only]


def _mark_written(session: Session, *_args: object) -> None:
    session.info[_WROTE] = True


def _note_statement(state: ORMExecuteState) -> None:
    # A statement run directly (UPDATE … RETURNING, text()) is a write unless it is a SELECT.
    if not state.is_select:
        state.session.info[_WROTE] = True


def _has_pending(session: Session) -> bool:
    return bool(session.new or session.dirty or session.deleted)


def translate_error(engine: Engine, exc: Exception) -> DeskError | Exception:
    """Turn what the database said into the kind of error the window explains."""
    if isinstance(exc, StaleDataError):
        return ConflictError(
            "Someone else saved this record a moment ago. Reload it to see their change."
        )
    if isinstance(exc, OperationalError):
        return DatabaseUnavailable(
            describe_connection_error(engine, exc) + " Your work is kept on your screen."
        )
    if isinstance(exc, DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None)
        if sqlstate == "42501":  # insufficient_privilege
            return PermissionRefused(
                "The database refused this: your role is not allowed to do it. "
                "Ask a supervisor or your administrator."
            )
        if sqlstate and sqlstate.startswith("22"):  # data exception: a value the server refuses
            return DeskError(
                "The database refused a value in this record (for example an unusual character "
                "or a number out of range). Nothing was saved; your work is kept."
            )
        if sqlstate and sqlstate.startswith("P0"):  # raised by our own triggers
            message = str(exc.orig).strip().splitlines()[0]
            return PermissionRefused(message)
        if isinstance(exc, IntegrityError):
            return ConflictError(
                "This could not be saved because it clashes with a record saved by someone else. "
                "Reload and try again."
            )
    return exc
