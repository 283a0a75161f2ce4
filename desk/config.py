"""Where Desk keeps its files, and which database it opens.

The database URL comes from, in order: ``--database URL``, ``DESK_DATABASE_URL``, the settings file
in the user config directory, then the embedded SQLite default. Passwords never go to the settings
file: a remembered password lives in the OS keyring, and nothing is remembered on a shared
workstation.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import platformdirs

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

APP_NAME = "Desk"
APP_AUTHOR = "Desk"
ENV_DATABASE_URL = "DESK_DATABASE_URL"
KEYRING_SERVICE = "desk"

log = logging.getLogger(__name__)


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))


def drafts_dir() -> Path:
    return data_dir() / "drafts"


def outbox_dir() -> Path:
    """The offline outboxes and reading caches, one file per database and user."""
    return data_dir() / "outbox"


def settings_path() -> Path:
    return config_dir() / "settings.json"


def default_sqlite_path() -> Path:
    return data_dir() / "desk.sqlite3"


def default_database_url() -> str:
    return f"sqlite:///{default_sqlite_path()}"


class _Record:
    """Equality, repr and a dict of the fields named in ``_fields``: what a dataclass would give,
    without the dataclasses module (not needed to show the login window)."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self) or not isinstance(other, _Record):
            return NotImplemented
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass with eq

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({fields})"

    def as_dict(self) -> dict[str, Any]:
        return {
            name: value.as_dict() if isinstance(value, _Record) else value
            for name, value in zip(self._fields, self._values(), strict=True)
        }


class ServerSettings(_Record):
    """A shared PostgreSQL server as entered in the connection dialog (never a password)."""

    _fields = ("host", "port", "database", "username", "sslmode")
    __slots__ = ("database", "host", "port", "sslmode", "username")

    def __init__(
        self,
        host: str = "localhost",
        port: int = 5432,
        database: str = "desk",
        username: str = "",
        sslmode: str = "prefer",
    ) -> None:
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.sslmode = sslmode

    def url(self, *, username: str | None = None, password: str | None = None) -> URL:
        from sqlalchemy.engine import URL  # imported late: start-up does not need SQLAlchemy yet

        return URL.create(
            "postgresql+psycopg",
            username=username if username is not None else (self.username or None),
            password=password,
            host=self.host,
            port=self.port,
            database=self.database,
            query={"sslmode": self.sslmode} if self.sslmode else {},
        )


class Settings(_Record):
    """What the settings file holds."""

    _fields = (
        "database_url",
        "server",
        "shared_workstation",
        "remember_password",
        "last_username",
        "extra",
    )
    __slots__ = (
        "database_url",
        "extra",
        "last_username",
        "remember_password",
        "server",
        "shared_workstation",
    )

    def __init__(
        self,
        database_url: str = "",  # without password; empty means "use the default"
        server: ServerSettings | None = None,
        shared_workstation: bool = False,
        remember_password: bool = False,
        last_username: str = "",
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.database_url = database_url
        self.server = server
        self.shared_workstation = shared_workstation
        self.remember_password = remember_password
        self.last_username = last_username
        self.extra: dict[str, Any] = {} if extra is None else extra

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        path = path or settings_path()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:  # a first start: json is not even imported
            return cls()
        except (OSError, ValueError) as exc:  # ValueError: not UTF-8
            log.warning("Ignoring unreadable settings file %s: %s", path, exc)
            return cls()
        import json

        try:
            raw = json.loads(text)
        except ValueError as exc:
            log.warning("Ignoring unreadable settings file %s: %s", path, exc)
            return cls()
        server = raw.get("server")
        return cls(
            database_url=str(raw.get("database_url", "")),
            server=ServerSettings(**server) if isinstance(server, dict) else None,
            shared_workstation=bool(raw.get("shared_workstation", False)),
            remember_password=bool(raw.get("remember_password", False)),
            last_username=str(raw.get("last_username", "")),
            extra=dict(raw.get("extra", {})),
        )

    def save(self, path: Path | None = None) -> None:
        path = path or settings_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = self.as_dict()
        if self.database_url:
            data["database_url"] = strip_password(self.database_url)
        if self.shared_workstation:
            data["last_username"] = ""
            data["remember_password"] = False
        import json

        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        tmp.replace(path)


def strip_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    # URL.set() ignores None, so replace the field itself.
    return make_url(url)._replace(password=None).render_as_string(hide_password=False)


def resolve_database_url(
    cli_url: str | None = None,
    environ: dict[str, str] | None = None,
    settings: Settings | None = None,
) -> tuple[str, str]:
    """The URL to open and where it came from ("command line", "environment", ...)."""
    env = os.environ if environ is None else environ
    if cli_url:
        return cli_url, "command line"
    if env.get(ENV_DATABASE_URL):
        return env[ENV_DATABASE_URL], "environment"
    settings = settings if settings is not None else Settings.load()
    if settings.server is not None:
        return settings.server.url().render_as_string(hide_password=False), "settings"
    if settings.database_url:
        return settings.database_url, "settings"
    return default_database_url(), "default"


def load_organisation_defaults() -> dict[str, Any]:
    """The shipped default configuration (organisation name, currency, centre details)."""
    import tomllib  # only the demo and first start need it: kept off the start-up path
    from importlib import resources

    text = resources.files("resources.config").joinpath("defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


# --- passwords in the OS keyring -------------------------------------------------------------


def _keyring_account(url: str, username: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return f"{username}@{parsed.host or ''}:{parsed.port or ''}/{parsed.database or ''}"


def remember_password(url: str, username: str, password: str) -> bool:
    """Store in the OS keyring; returns False (and stores nothing anywhere) if there is none."""
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(KEYRING_SERVICE, _keyring_account(url, username), password)
    except (KeyringError, RuntimeError) as exc:
        log.warning("No usable keyring, the password is not remembered: %s", exc)
        return False
    return True


def recall_password(url: str, username: str) -> str | None:
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(KEYRING_SERVICE, _keyring_account(url, username))
    except (KeyringError, RuntimeError):
        return None


def forget_password(url: str, username: str) -> None:
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    with contextlib.suppress(PasswordDeleteError, KeyringError, RuntimeError):
        keyring.delete_password(KEYRING_SERVICE, _keyring_account(url, username))
