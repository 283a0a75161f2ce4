"""Wires configuration, the database and the services together: the window and the command
line both start here.

On the embedded SQLite file the application opens the file, migrates it (after copying it aside)
and checks argon2id password hashes. On a shared PostgreSQL server nothing is opened before login:
the person's own login role is the connection, so the server authenticates them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import object_session
from sqlalchemy.pool import NullPool

from desk.adapters import orm
from desk.adapters.database import (
    SchemaState,
    backend_of,
    connect,
    describe_connection_error,
    make_engine,
    refuse_newer_schema,
    schema_state,
)
from desk.adapters.database import (
    upgrade as upgrade_schema,  # Desk.open's `upgrade` flag shadows the name
)
from desk.adapters.outbox_store import OutboxStore
from desk.adapters.pg_roles import RoleNameError, login_role_name
from desk.adapters.unit_of_work import UnitOfWork
from desk.domain.audit import BrokenLink
from desk.domain.passwords import LockoutPolicy, password_problems
from desk.services import audit, org_settings
from desk.services.admin import AdminService
from desk.services.dto import ReferenceData, StaffSession
from desk.services.errors import (
    DatabaseUnavailable,
    DeskError,
    LoginFailed,
    PasswordRefused,
    SchemaMismatch,
)
from desk.services.grants import GrantService
from desk.services.inbox import InboxService
from desk.services.leave import LeaveService
from desk.services.offline import Offline, OfflineCases, OfflineCustomers, ReplayReport
from desk.services.permissions import held_permissions
from desk.services.reference import ReferenceService, read_settings
from desk.services.safety_alerts import SafetyAlertService
from desk.services.script_library import ScriptLibraryService
from desk.services.work_items import WorkItemService

log = logging.getLogger(__name__)
_hasher = PasswordHasher()

LOGIN_REFUSED = "The user name or password is not right, or the account is not active."
UNLOCK_REFUSED = "That password is not right, or the account is no longer active."
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
UNKNOWN_ADDRESS = (
    "{url} is not a database address Desk can use. Use sqlite:///path/to/file.sqlite3 for this "
    "computer, or postgresql://host/database for a shared server."
)

Progress = Callable[[str], None]


def hash_password(password: str) -> str:
    return _hasher.hash(password)


class Desk:
    """One open database and the person logged in to it."""

    def __init__(self, url: str | URL, *, outbox_dir: Path | None = None) -> None:
        """``outbox_dir``: where the window keeps the offline outbox and reading cache (the
        command line has none: an operator's command fails rather than waits)."""
        try:
            self.url = make_url(url)
        except ArgumentError as exc:
            raise DatabaseUnavailable(UNKNOWN_ADDRESS.format(url=url)) from exc
        self.backend = backend_of(self.url)
        if self.backend not in SUPPORTED_BACKENDS:
            raise DatabaseUnavailable(UNKNOWN_ADDRESS.format(url=self.url))
        self._engine: Engine | None = None
        self._session: StaffSession | None = None
        self._lock = threading.Lock()
        # Read at login (an organisation setting); the window locks after this many idle minutes.
        self.idle_lock_minutes = org_settings.IDLE_LOCK_MINUTES.default
        self.outbox_dir = outbox_dir
        self.offline = Offline()
        self.cases = OfflineCases(
            self._unit_of_work, self._actor, self.offline, self.reference_data
        )
        self.customers = OfflineCustomers(self._unit_of_work, self._actor, self.offline)
        self.grants = GrantService(self._unit_of_work, self._actor)
        self.admin = AdminService(self._unit_of_work, self._actor)
        self.inbox = InboxService(self._unit_of_work, self._actor)
        self.scripts = ScriptLibraryService(self._unit_of_work, self._actor)
        self.safety = SafetyAlertService(self._unit_of_work, self._actor)
        self.leave = LeaveService(self._unit_of_work, self._actor)
        self.items = WorkItemService(self._unit_of_work, self._actor)
        self.reference = ReferenceService(self._unit_of_work)

    # --- opening ------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        url: str | URL,
        *,
        upgrade: bool = True,
        progress: Progress | None = None,
        outbox_dir: Path | None = None,
    ) -> Desk:
        """Open the database. A new embedded database gets the schema and the demo organisation."""
        desk = cls(url, outbox_dir=outbox_dir)
        if desk.backend == "sqlite":
            try:
                desk._engine = make_engine(desk.url)
                desk._prepare_embedded(upgrade=upgrade, progress=progress)
            except OSError as exc:
                desk.close()
                raise DatabaseUnavailable(
                    f"The database file {desk.url.database} cannot be created or opened: "
                    f"{exc.strerror or exc}."
                ) from exc
            except DeskError:
                desk.close()
                raise
        return desk

    def _prepare_embedded(self, *, upgrade: bool, progress: Progress | None) -> None:
        engine = self.engine
        state = schema_state(engine)
        refuse_newer_schema(state)
        if state.is_empty and _has_tables(engine):
            raise DatabaseUnavailable(
                f"{self.url.database} already holds another program's data, not a Desk "
                "database. Choose another file; this one was left as it was."
            )
        if not state.up_to_date:
            if not upgrade:
                raise SchemaMismatch(_older_schema_message(state))
            upgrade_schema(engine, progress=progress)
        if state.is_empty:
            from desk.services.demo import generate_demo

            if progress:
                progress("Creating the demo organisation and about 200 demo cases…")
            generate_demo(engine, cases=200, seed=1)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise LoginFailed("Log in first.")
        return self._engine

    @property
    def display_url(self) -> str:
        if self.backend == "sqlite":
            return f"this computer ({self.url.database})"
        return f"{self.url.host or 'localhost'}:{self.url.port or 5432}/{self.url.database}"

    def demo_logins(self) -> list[tuple[str, str, str]]:
        if self._engine is None:
            return []
        from desk.services.demo import demo_logins

        try:
            return demo_logins(self._engine)
        except DatabaseUnavailable:
            return []

    # --- logging in ---------------------------------------------------------------------------

    @property
    def session(self) -> StaffSession | None:
        return self._session

    def login(self, username: str, password: str) -> StaffSession:
        username = username.strip()
        if not username or not password:
            raise LoginFailed("Enter your user name and password.")
        if self.backend == "postgresql":
            self._session = self._login_postgresql(username, password)
        else:
            self._session = self._login_embedded(username, password)
        log.info("%s logged in to %s", self._session.username, self.display_url)
        self.idle_lock_minutes = self._read_idle_lock_minutes()
        self._open_outbox(self._session)
        return self._session

    def _open_outbox(self, session: StaffSession) -> None:
        """The person's own outbox on this database (their changes made offline, waiting)."""
        if self.outbox_dir is None:
            return
        from desk.drafts import database_key, draft_scope

        key = database_key(self.url.render_as_string(hide_password=False))
        path = self.outbox_dir / f"outbox-{key}-{draft_scope(key, session.username)}.sqlite3"
        try:
            self.offline.open(OutboxStore(path), session)
        except (OSError, DeskError) as exc:  # the window works on without it, and says so
            log.error("The offline outbox %s cannot be opened: %s", path, exc)
            self.offline.last_error = str(exc)

    def refresh_offline_cache(self) -> int:
        """Keep the officer's open cases and the reference data for reading offline."""
        if self.offline.store is None:
            return 0
        session = self._actor()
        reference = self.reference.load()
        centre = self.cases.centre_info(session.centre_id)
        return self.offline.refresh_cache(self.cases, reference, centre)

    def replay_outbox(self) -> ReplayReport:
        """Send the changes made offline, in order (the window calls this when it may)."""
        return self.offline.replay(self.cases, self.customers)

    def _read_idle_lock_minutes(self) -> int:
        try:
            return org_settings.idle_lock_minutes(self._unit_of_work)
        except DeskError as exc:  # the login itself worked: lock after the default time
            log.warning("The idle lock setting could not be read: %s", exc)
            return org_settings.IDLE_LOCK_MINUTES.default

    def _session_of(self, staff: orm.Staff) -> StaffSession:
        db = object_session(staff)
        assert db is not None, "the staff row is read inside a unit of work"
        permissions = held_permissions(db, staff.id)
        return StaffSession(
            staff_id=staff.id,
            username=staff.username,
            full_name=staff.full_name,
            role_name=staff.role.name,
            centre_id=staff.centre_id,
            centre_name=staff.centre.name,
            backend=self.backend,
            permissions=permissions,
            must_change_password=staff.must_change_password,
            language=staff.language,
        )

    def _login_embedded(
        self, username: str, password: str, *, action: str = "login"
    ) -> StaffSession:
        now = dt.datetime.now(dt.UTC)
        with self._unit_of_work() as uow:
            policy = _lockout_policy(read_settings(uow))
            staff = uow.session.scalar(
                select(orm.Staff).where(func.lower(orm.Staff.username) == username.lower())
            )
            if staff is not None and policy.is_locked(staff.locked_until, now):
                _hasher_delay(password)
                assert staff.locked_until is not None
                audit.record(
                    uow,
                    actor=None,
                    actor_name=username[:200],
                    action="login.refused_locked",
                    entity="staff",
                    entity_id=staff.id,
                    at=now,
                )
                uow.commit()
                raise LoginFailed(
                    "This account is locked for a while after too many wrong passwords. "
                    f"Try again after {staff.locked_until.astimezone():%H:%M}, "
                    "or ask an administrator."
                )
            verified = False
            if staff is None or not staff.active or not staff.password_hash:
                _hasher_delay(password)
            else:
                with contextlib.suppress(VerificationError, InvalidHashError):
                    verified = _hasher.verify(staff.password_hash, password)
            if staff is None or not verified:
                details: dict[str, object] = {"username": username[:200]}
                if staff is not None:
                    staff.failed_logins, staff.locked_until = policy.after_failure(
                        staff.failed_logins, now
                    )
                    if staff.locked_until is not None:
                        details["locked_until"] = staff.locked_until.isoformat()
                audit.record(
                    uow,
                    actor=None,
                    actor_name=username[:200],
                    action="login.failed",
                    entity="staff",
                    entity_id=staff.id if staff is not None else username[:64],
                    details=details,
                    at=now,
                )
                uow.commit()
                raise LoginFailed(LOGIN_REFUSED)
            session = self._session_of(staff)
            staff.failed_logins, staff.locked_until = 0, None
            if _hasher.check_needs_rehash(staff.password_hash or ""):
                staff.password_hash = _hasher.hash(password)
            audit.record(uow, actor=session, action=action, entity="staff", entity_id=staff.id)
            uow.commit()
            return session

    def _login_postgresql(self, username: str, password: str) -> StaffSession:
        try:
            role = login_role_name(self.url.database or "", username)
        except RoleNameError as exc:
            raise LoginFailed(LOGIN_REFUSED) from exc
        engine = make_engine(self.url.set(username=role, password=password))
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except OperationalError as exc:
            engine.dispose()
            detail = str(exc.orig or exc)
            if (
                "authentication failed" in detail
                or ("role" in detail and "does not exist" in detail)
                or "is not permitted to log in" in detail  # an account an admin disabled
            ):
                raise LoginFailed(LOGIN_REFUSED) from exc
            raise DatabaseUnavailable(describe_connection_error(engine, exc)) from exc
        try:
            state = schema_state(engine)
            refuse_newer_schema(state)
            if not state.up_to_date:
                raise SchemaMismatch(_older_schema_message(state))
            with UnitOfWork(engine) as uow:
                staff = uow.session.scalar(
                    select(orm.Staff).where(orm.Staff.db_role == func.session_user())
                )
                if staff is None or not staff.active:
                    raise LoginFailed(LOGIN_REFUSED)
                session = self._session_of(staff)
                audit.record(uow, actor=session, action="login", entity="staff", entity_id=staff.id)
                uow.commit()
        except BaseException:
            engine.dispose()  # nothing of this person's connection outlives a failed login
            raise
        # Only now swap: a failure above leaves the previous person's state untouched.
        previous, self._engine = self._engine, engine
        if previous is not None:
            previous.dispose()
        return session

    # --- the locked window -------------------------------------------------------------------

    def lock(self) -> None:
        """Note in the audit trail that the window was locked; never fails (the window is locked
        whether or not the server can be reached)."""
        session = self._actor()
        try:
            with self._unit_of_work() as uow:
                audit.record(
                    uow, actor=session, action="lock", entity="staff", entity_id=session.staff_id
                )
                uow.commit()
        except DeskError as exc:
            log.warning("Lock by %s not audited: %s", session.username, exc)

    def unlock(self, password: str) -> StaffSession:
        """The person logged in proves with their password that it is still them.

        Embedded database: the same argon2id check as a login, so wrong passwords count toward
        the account's lockout and are audited. PostgreSQL: a fresh connection as their own login
        role with this password, so the server (or the directory behind pg_hba) decides.
        Raises LoginFailed for a wrong password, DatabaseUnavailable when the server cannot say.
        """
        session = self._actor()
        if not password:
            raise LoginFailed("Enter your password.")
        if self.backend == "postgresql":
            self._check_postgresql_password(session, password)
            with self._unit_of_work() as uow:
                audit.record(
                    uow, actor=session, action="unlock", entity="staff", entity_id=session.staff_id
                )
                uow.commit()
        else:
            try:
                checked = self._login_embedded(session.username, password, action="unlock")
            except LoginFailed as exc:
                if str(exc) == LOGIN_REFUSED:
                    raise LoginFailed(UNLOCK_REFUSED) from exc
                raise  # locked out after too many wrong passwords: that message says until when
            if checked.staff_id != session.staff_id:  # the user name now belongs to someone else
                raise LoginFailed(UNLOCK_REFUSED)
        log.info("%s unlocked the window", session.username)
        return session

    def _check_postgresql_password(self, session: StaffSession, password: str) -> None:
        try:
            role = login_role_name(self.url.database or "", session.username)
        except RoleNameError as exc:
            raise LoginFailed(UNLOCK_REFUSED) from exc
        # Its own connection, not pooled: nothing of this check outlives it.
        engine = make_engine(self.url.set(username=role, password=password), poolclass=NullPool)
        try:
            with engine.connect() as conn:
                staff = conn.execute(
                    select(orm.Staff.id, orm.Staff.active).where(
                        orm.Staff.db_role == func.session_user()
                    )
                ).first()
        except OperationalError as exc:
            detail = str(exc.orig or exc)
            if (
                "authentication failed" in detail
                or ("role" in detail and "does not exist" in detail)
                or "is not permitted to log in" in detail  # disabled meanwhile
            ):
                raise LoginFailed(UNLOCK_REFUSED) from exc
            raise DatabaseUnavailable(describe_connection_error(engine, exc)) from exc
        finally:
            engine.dispose()
        if staff is None or not staff.active or staff.id != session.staff_id:
            raise LoginFailed(UNLOCK_REFUSED)

    def change_password(self, new_password: str) -> StaffSession:
        """The logged-in person chooses their own password (required after an admin set one)."""
        session = self._actor()
        problems = password_problems(session.username, new_password)
        if problems:
            raise PasswordRefused(" ".join(problems))
        postgres = self.backend == "postgresql"
        with self._unit_of_work() as uow:
            if postgres:
                from desk.adapters.pg_scram import scram_verifier

                # Clears "must change" too; the server stores only the verifier.
                uow.session.execute(
                    text("SELECT desk_set_password(:u, :v)"),
                    {"u": session.username, "v": scram_verifier(new_password)},
                )
            else:
                staff = uow.session.get(orm.Staff, session.staff_id)
                assert staff is not None
                staff.password_hash = _hasher.hash(new_password)
                staff.must_change_password = False
            audit.record(
                uow,
                actor=session,
                action="password_changed",
                entity="staff",
                entity_id=session.staff_id,
            )
            uow.commit()
        if postgres:  # new connections must present the new password
            previous, self._engine = (
                self._engine,
                make_engine(self.url.set(username=self.engine.url.username, password=new_password)),
            )
            if previous is not None:
                previous.dispose()
        self._session = replace(session, must_change_password=False)
        return self._session

    def refresh_session(self) -> StaffSession | None:
        """Re-read the person's role and permissions, so an admin's change reaches an open
        window without a restart. Returns the session, changed or not."""
        if self._session is None:
            return None
        with self._unit_of_work(read_only=True) as uow:
            staff = uow.session.get(orm.Staff, self._session.staff_id)
            if staff is None:
                return self._session
            fresh = self._session_of(staff)
        if fresh != self._session:
            self._session = fresh
        return self._session

    def logout(self) -> None:
        """Log out; always succeeds, even when the server can no longer be reached."""
        if self._session is not None and self._engine is not None:
            try:
                with self._unit_of_work() as uow:
                    audit.record(
                        uow,
                        actor=self._session,
                        action="logout",
                        entity="staff",
                        entity_id=self._session.staff_id,
                    )
                    uow.commit()
            except DeskError as exc:
                log.warning("Logout of %s not audited: %s", self._session.username, exc)
        self._session = None
        self.offline.close()
        if self.backend == "postgresql" and self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def close(self) -> None:
        self._session = None
        self.offline.close()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # --- services -----------------------------------------------------------------------------

    def verify_audit_trail(self) -> tuple[int, BrokenLink | None]:
        """Check every audit entry's hash and link; returns the count and the first break."""
        return audit.verify(self._unit_of_work)

    def reference_data(self) -> ReferenceData:
        """The lists the form offers; while the server is away, the copy kept at login."""
        if self.offline.store is None:
            return self.reference.load()
        try:
            data = self.reference.load()
        except DatabaseUnavailable as exc:
            cached = self.offline.cached_reference()
            if cached is None:
                raise
            self.offline.went_offline(exc)
            return cached
        return data

    def _unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(self.engine, read_only=read_only)

    def _actor(self) -> StaffSession:
        if self._session is None:
            raise LoginFailed("Log in first.")
        return self._session


def _lockout_policy(settings: dict[str, str]) -> LockoutPolicy:
    """The organisation's lockout settings, or the defaults when unset or unreadable."""
    default = LockoutPolicy()
    try:
        return LockoutPolicy(
            max_failures=max(1, int(settings.get("login_max_failures", default.max_failures))),
            lock_minutes=max(1, int(settings.get("login_lock_minutes", default.lock_minutes))),
        )
    except ValueError:
        return default


def _has_tables(engine: Engine) -> bool:
    with connect(engine) as conn:
        return bool(inspect(conn).get_table_names())


def _older_schema_message(state: SchemaState) -> str:
    return (
        f"This database has an older schema ({state.current or 'empty'}) than this version of "
        f"Desk needs ({state.head}). Ask your administrator to run `desk db upgrade`."
    )


def _hasher_delay(password: str) -> None:
    """Take as long as a real check, so a wrong user name is no faster than a wrong password."""
    with contextlib.suppress(VerificationError, InvalidHashError):
        _hasher.verify(_dummy_hash(), password)


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("not a real password")
