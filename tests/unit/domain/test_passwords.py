from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from desk.domain.passwords import LockoutPolicy, password_problems

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


def test_a_long_varied_password_is_accepted() -> None:
    assert password_problems("ana", "correct horse battery") == []


def test_short_passwords_and_the_user_name_are_refused() -> None:
    assert "at least 12" in password_problems("ana", "short")[0]
    assert any("user name" in p for p in password_problems("anabel", "my-ANABEL-password"))
    assert any("different characters" in p for p in password_problems("ana", "aaaaaaaaaaaaaaa"))


def test_fifth_failure_locks_for_fifteen_minutes_and_the_lock_ends() -> None:
    policy = LockoutPolicy()
    failures, locked_until = 0, None
    for _ in range(4):
        failures, locked_until = policy.after_failure(failures, NOW)
        assert locked_until is None
    failures, locked_until = policy.after_failure(failures, NOW)
    assert locked_until == NOW + dt.timedelta(minutes=15)
    assert policy.is_locked(locked_until, NOW + dt.timedelta(minutes=14))
    assert not policy.is_locked(locked_until, NOW + dt.timedelta(minutes=15))


@given(st.integers(1, 20), st.integers(1, 120))
def test_it_takes_exactly_max_failures_to_lock(max_failures: int, minutes: int) -> None:
    policy = LockoutPolicy(max_failures, minutes)
    failures, locked = 0, None
    for attempt in range(1, max_failures + 1):
        failures, locked = policy.after_failure(failures, NOW)
        assert (locked is not None) == (attempt == max_failures)
