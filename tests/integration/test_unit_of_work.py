"""A unit of work commits only what a service committed, even for statements run directly."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import text

from desk.adapters.unit_of_work import UnitOfWork

INSERT = "INSERT INTO reference_counters (year, last_number) VALUES (:year, 1)"


def _counters(desk: Any, year: int) -> int:
    with desk.engine.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM reference_counters WHERE year = :year"), {"year": year}
        ).scalar_one()
    return int(count)


def test_a_direct_statement_without_commit_is_rolled_back(desk: Any) -> None:
    year = random.randint(1000, 1899)  # a year no real case has, distinct per test
    with UnitOfWork(desk.engine) as uow:
        uow.session.execute(text(INSERT), {"year": year})
    assert _counters(desk, year) == 0


def test_a_committed_statement_stays(desk: Any) -> None:
    year = random.randint(1000, 1899)
    with UnitOfWork(desk.engine) as uow:
        uow.session.execute(text(INSERT), {"year": year})
        uow.commit()
    assert _counters(desk, year) == 1
