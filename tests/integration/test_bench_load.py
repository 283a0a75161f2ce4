"""The load test of bench/bench_load.py, run small: two counters and one supervisor, each in a
process of its own, for a few seconds on a fresh PostgreSQL database. Whatever the timings, every
operation a client logged as done must be in the database exactly once. No time is asserted."""

from __future__ import annotations

from typing import Any

import pytest

from bench.bench_load import CONTACT, CREATE, DECIDE, OPERATIONS, REQUEST, report, run_load

pytestmark = pytest.mark.postgres


def test_a_short_load_reconciles_exactly_once(postgres: Any) -> None:
    name = postgres.create_database("desk_load_test")
    messages: list[str] = []
    result = run_load(
        postgres.url(name),
        clients=2,
        supervisors=1,
        seconds=4,
        demo_cases=200,
        fresh=False,  # the fixture made it empty, and drops it and its roles at the end
        floor=True,
        progress=messages.append,
    )
    text = report(result, "pytest")
    assert result.ok, text
    assert result.app.bugs() == [], text
    done = {s.op: s.done for s in result.app.stats()}
    assert all(done[op] >= 1 for op in (CREATE, CONTACT, REQUEST, DECIDE)), done
    assert set(done) == set(OPERATIONS)
    assert result.floor is not None
    assert all(s.done >= 1 for s in result.floor.stats()), text
    assert "Reconciliation (app): clean." in text
    assert "Reconciliation (floor): clean." in text
