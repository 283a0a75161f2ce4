"""Errors a user can act on. Their messages are written for the person at the counter."""

from __future__ import annotations

import datetime as dt


class DeskError(Exception):
    """Something the environment or the user's request caused; the message is shown as is."""


class NotFound(DeskError):
    pass


class LoginFailed(DeskError):
    pass


class PermissionRefused(DeskError):
    pass


class DatabaseUnavailable(DeskError):
    """The server could not be reached or dropped the connection; nothing was changed."""


class NotKeptOffline(DatabaseUnavailable):
    """The server is away and what was asked for is not in this computer's offline copy."""


class SchemaMismatch(DeskError):
    """The database's schema is not the one this version of Desk was built for."""


class ConflictError(DeskError):
    """Someone else saved a newer version of the record first."""

    def __init__(
        self, message: str, *, changed_by: str = "", changed_at: dt.datetime | None = None
    ):
        super().__init__(message)
        self.changed_by = changed_by
        self.changed_at = changed_at


class PasswordRefused(DeskError):
    """A new password that breaks the rules; the message lists what to change."""
