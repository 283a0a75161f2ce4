"""Password and lockout rules for the embedded database (PostgreSQL authenticates by itself)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

MIN_PASSWORD_LENGTH = 12

# A user name is also part of the person's PostgreSQL login role (``<database>__<username>``).
USERNAME_PATTERN = re.compile(r"^[a-z][a-z0-9._-]{0,29}$")


def username_problem(username: str) -> str | None:
    """Why a user name cannot be used, in a sentence; None when it can."""
    if not USERNAME_PATTERN.match(username) or "__" in username:
        return (
            "A user name starts with a letter and has at most 30 lower-case letters, digits, "
            "dots, dashes or single underscores."
        )
    return None


def password_problems(username: str, password: str) -> list[str]:
    """What is wrong with a new password, in sentences; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if username.strip() and username.strip().casefold() in password.casefold():
        problems.append("Do not put your user name in your password.")
    if password and len(set(password)) < 4:
        problems.append("Use more than a few different characters.")
    return problems


@dataclass(frozen=True)
class LockoutPolicy:
    """After ``max_failures`` wrong passwords in a row the account waits ``lock_minutes``."""

    max_failures: int = 5
    lock_minutes: int = 15

    def after_failure(self, failures: int, now: dt.datetime) -> tuple[int, dt.datetime | None]:
        """The new failure count, and until when the account is locked (None: not locked)."""
        failures += 1
        if failures >= self.max_failures:
            return 0, now + dt.timedelta(minutes=self.lock_minutes)
        return failures, None

    @staticmethod
    def is_locked(locked_until: dt.datetime | None, now: dt.datetime) -> bool:
        return locked_until is not None and now < locked_until
