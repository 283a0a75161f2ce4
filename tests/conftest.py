"""Test-wide set-up: offscreen Qt, private user directories, a pinned keyring, and databases.

Database tests run on SQLite and on the real PostgreSQL server. A missing PostgreSQL fails the run:
it is never skipped. Point DESK_TEST_PG_URL at another server's maintenance database if needed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Before anything imports Qt, platformdirs or keyring.
_PRIVATE_HOME = Path(tempfile.mkdtemp(prefix="desk-tests-"))
os.environ["QT_QPA_PLATFORM"] = "offscreen"
for _name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
    os.environ[_name] = str(_PRIVATE_HOME / _name.lower())
os.environ["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
os.environ.pop("DESK_DATABASE_URL", None)

PG_ADMIN_URL = os.environ.get("DESK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DEMO_PASSWORD = "demo"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_PRIVATE_HOME, ignore_errors=True)


# --- PostgreSQL --------------------------------------------------------------------------------


class PostgresServer:
    """Creates and drops scratch databases (and their roles) on the test server."""

    def __init__(self, admin_url: str) -> None:
        from sqlalchemy.engine import make_url

        self.admin_url = make_url(admin_url).set(drivername="postgresql+psycopg")
        self.created: list[str] = []

    def _admin(self):  # type: ignore[no-untyped-def]
        import psycopg

        url = self.admin_url
        return psycopg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            dbname=url.database,
            autocommit=True,
        )

    def check(self) -> None:
        try:
            with self._admin() as conn:
                conn.execute("SELECT 1")
        except Exception as exc:
            pytest.fail(
                f"PostgreSQL is required for the tests and is not reachable at {self.admin_url}: "
                f"{exc}. Start it (see README) or set DESK_TEST_PG_URL.",
                pytrace=False,
            )

    def create_database(self, prefix: str = "desk_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return name

    def url(self, database: str, username: str | None = None, password: str | None = None) -> str:
        url = self.admin_url.set(database=database)
        if username is not None:
            url = url.set(username=username, password=password)
        return url.render_as_string(hide_password=False)

    def drop_database(self, name: str) -> None:
        from desk.adapters.database import make_engine
        from desk.adapters.pg_roles import drop_database_roles

        with self._admin() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        engine = make_engine(self.admin_url)
        try:
            with engine.connect() as conn:
                drop_database_roles(conn, name)
                conn.commit()
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer(PG_ADMIN_URL)
    server.check()
    yield server
    for name in list(server.created):
        server.drop_database(name)


def _prepare_demo_database(url: str, *, login_roles: bool) -> None:
    from desk.adapters.database import make_engine, upgrade
    from desk.adapters.pg_roles import create_login_role
    from desk.services.demo import generate_demo

    engine = make_engine(url)
    try:
        upgrade(engine)
        generate_demo(engine, cases=200, seed=7)
        if login_roles:
            from sqlalchemy import text

            with engine.connect() as conn:
                for (username,) in conn.execute(text("SELECT username FROM staff")):
                    create_login_role(conn, username, DEMO_PASSWORD)
                conn.commit()
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_demo_database(postgres: PostgresServer) -> str:
    """One migrated PostgreSQL database with the demo organisation, shared by the session."""
    name = postgres.create_database("desk_test_demo")
    _prepare_demo_database(postgres.url(name), login_roles=True)
    return name


@pytest.fixture(scope="session")
def sqlite_demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    _prepare_demo_database(f"sqlite:///{path}", login_roles=False)
    return path


@pytest.fixture
def sqlite_demo_url(sqlite_demo_template: Path, tmp_path: Path) -> str:
    """A private copy of the demo SQLite database for one test."""
    target = tmp_path / "desk.sqlite3"
    shutil.copyfile(sqlite_demo_template, target)
    return f"sqlite:///{target}"


DeskFactory = Callable[..., "object"]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """The demo database on each backend (SQLite: a private copy; PostgreSQL: the shared one)."""
    if backend == "sqlite":
        return str(request.getfixturevalue("sqlite_demo_url"))
    postgres: PostgresServer = request.getfixturevalue("postgres")
    name: str = request.getfixturevalue("pg_demo_database")
    return postgres.url(name)


@pytest.fixture
def desk_factory(database_url: str) -> Iterator[Callable[..., object]]:
    """Open the database and log in as a demo user: ``desk_factory("officer")``."""
    from desk.bootstrap import Desk

    opened: list[Desk] = []

    def factory(username: str = "officer", password: str = DEMO_PASSWORD) -> Desk:
        desk = Desk.open(database_url)
        desk.login(username, password)
        opened.append(desk)
        return desk

    yield factory
    for desk in opened:
        desk.close()


@pytest.fixture
def desk(desk_factory: Callable[..., object]) -> object:
    """The demo counter officer, logged in, on each backend."""
    return desk_factory("officer")


@pytest.fixture
def sqlite_desk(sqlite_demo_url: str) -> Iterator[object]:
    """The demo counter officer on a private SQLite demo database (for GUI tests)."""
    from desk.bootstrap import Desk

    desk = Desk.open(sqlite_demo_url)
    desk.login("officer", DEMO_PASSWORD)
    yield desk
    desk.close()


# --- a private PostgreSQL cluster that checks passwords ----------------------------------------


class PasswordCheckingCluster:
    """A throw-away cluster with scram-sha-256 authentication (the shared one trusts everyone)."""

    SUPERUSER_PASSWORD = "cluster-owner-secret"

    def __init__(self, directory: Path) -> None:
        import glob
        import socket

        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not candidates:
            pytest.fail(
                "initdb is needed for the password tests (install postgresql)", pytrace=False
            )
        self.bin = Path(candidates[-1]).parent
        self.directory = directory
        self.data = directory / "data"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]

    def _run(self, *args: str) -> None:
        import subprocess

        command = list(args)
        if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        import shutil as _shutil

        self.directory.mkdir(parents=True, exist_ok=True)
        pwfile = self.directory / "pw"
        pwfile.write_text(self.SUPERUSER_PASSWORD)
        if os.geteuid() == 0:
            _shutil.chown(self.directory, "postgres", "postgres")
            _shutil.chown(pwfile, "postgres", "postgres")
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
            "--no-sync",
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-w",
            "-l",
            str(self.directory / "log"),
            "-o",
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def admin_url(self) -> str:
        return f"postgresql://postgres:{self.SUPERUSER_PASSWORD}@127.0.0.1:{self.port}/postgres"


@pytest.fixture(scope="session")
def password_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A PostgreSQL server that really checks passwords, with a demo database ``desk_pw``."""
    directory = Path(tempfile.mkdtemp(prefix="desk-pg-"))
    cluster = PasswordCheckingCluster(directory)
    cluster.start()
    try:
        server = PostgresServer(cluster.admin_url())
        server.check()
        yield server
    finally:
        cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def password_demo_url(password_server: PostgresServer) -> str:
    """A demo database on the password-checking server; staff passwords are "demo"."""
    name = password_server.create_database("desk_pw")
    _prepare_demo_database(password_server.url(name), login_roles=True)
    url = password_server.admin_url._replace(database=name, username=None, password=None)
    return url.render_as_string(hide_password=False)


@pytest.fixture
def unused_tcp_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server_away(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    """``server_away(True)``: every unit of work fails to reach the database, as when the
    network drops (the real network faults, through a TCP proxy, are in test_faults.py)."""
    from desk.adapters.unit_of_work import UnitOfWork
    from desk.services.errors import DatabaseUnavailable

    real_enter = UnitOfWork.__enter__

    def refuse(self: UnitOfWork) -> UnitOfWork:
        raise DatabaseUnavailable("The server cannot be reached (the network is down).")

    def switch(away: bool) -> None:
        monkeypatch.setattr(UnitOfWork, "__enter__", refuse if away else real_enter)

    return switch
