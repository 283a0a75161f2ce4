"""Unsaved case forms kept on disk, so a crash or a closed window never loses what was typed.

A draft is the form's state as plain JSON, keyed by the form's client uuid. A draft belongs to
one database and one user: the form records both (``database_key`` of the URL without its
password, and the username), and only drafts of the same database and user are offered back, since
the ids in a draft mean something else, or nothing, anywhere else. Writes are atomic
(temporary file + ``os.replace``) so a half-written draft never replaces a good one, and a file
that cannot be read is moved aside rather than stopping the application from starting.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_SUFFIX = ".json"
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
FORMAT_VERSION = 1


def database_key(database_url: str) -> str:
    """A stable, password-free identity of a database, for telling whose drafts are whose."""
    try:
        from desk.config import strip_password

        url = strip_password(database_url)
    except Exception:  # not a URL SQLAlchemy can parse: drop anything that looks like a password
        url = re.sub(r"//([^:/@]*):[^@/]*@", r"//\1@", database_url)
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:24]


def draft_scope(database: str, username: str) -> str:
    """A short tag for draft file names, so two users' drafts of one case never overwrite."""
    return hashlib.sha256(f"{database}\n{username}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Draft:
    """One unsaved form as found on disk."""

    draft_id: str
    saved_at: dt.datetime  # aware, UTC
    data: dict[str, Any]


class DraftStore:
    """A directory of draft files, one per unsaved form."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def _path(self, draft_id: str) -> Path:
        if not _SAFE_ID.match(draft_id):
            raise ValueError(f"Not a usable draft id: {draft_id!r}")
        return self.directory / f"{draft_id}{_SUFFIX}"

    def save(self, draft_id: str, data: dict[str, Any]) -> Draft:
        """Write the draft atomically; the previous version stays intact if this fails."""
        path = self._path(draft_id)
        self.directory.mkdir(parents=True, exist_ok=True)
        saved_at = dt.datetime.now(dt.UTC)
        payload = {
            "format": FORMAT_VERSION,
            "draft_id": draft_id,
            "saved_at": saved_at.isoformat(),
            "data": data,
        }
        fd, tmp_name = tempfile.mkstemp(prefix=f".{draft_id}.", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle, ensure_ascii=False, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return Draft(draft_id, saved_at, data)

    def load_all(self) -> list[Draft]:
        """Every readable draft, newest first; unreadable files are moved aside and logged."""
        if not self.directory.is_dir():
            return []
        drafts: list[Draft] = []
        for path in sorted(self.directory.glob(f"*{_SUFFIX}")):
            try:
                drafts.append(self._read(path))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                self._move_aside(path, exc)
        drafts.sort(key=lambda d: d.saved_at, reverse=True)
        return drafts

    def load_for(self, *, database: str, username: str) -> list[Draft]:
        """The drafts written on this database by this user, newest first. Drafts of other
        databases or users (and old drafts that do not say whose they are) are left alone."""
        return [
            d
            for d in self.load_all()
            if d.data.get("database") == database and d.data.get("username") == username
        ]

    def load(self, draft_id: str) -> Draft | None:
        path = self._path(draft_id)
        if not path.exists():
            return None
        try:
            return self._read(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self._move_aside(path, exc)
            return None

    def discard(self, draft_id: str) -> None:
        """Forget a draft (after the case was saved, or the user declined to restore it)."""
        self._path(draft_id).unlink(missing_ok=True)

    @staticmethod
    def _read(path: Path) -> Draft:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or not isinstance(raw.get("data"), dict):
            raise ValueError("not a draft")
        saved_at = dt.datetime.fromisoformat(str(raw["saved_at"]))
        if saved_at.tzinfo is None:
            saved_at = saved_at.replace(tzinfo=dt.UTC)
        return Draft(str(raw.get("draft_id") or path.stem), saved_at, raw["data"])

    def _move_aside(self, path: Path, exc: Exception) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        target = path.with_name(f"{path.name}.corrupt-{stamp}")
        log.warning("Draft %s is unreadable (%s); moved aside to %s", path, exc, target.name)
        try:
            os.replace(path, target)
        except OSError as move_exc:
            log.warning("Could not move the unreadable draft %s aside: %s", path, move_exc)
