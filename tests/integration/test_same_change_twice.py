"""The same new case or approval request sent twice at the same moment (a retry racing the first
attempt, two replays of one outbox) is recorded once, and both callers get it back: neither is
told that someone else's record clashes with theirs."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.test_cases_service import new_customer, unique_word, walk_in_case

pytestmark = pytest.mark.postgres


def _twice_at_once(call: Callable[[Any], Any], desks: list[Any]) -> list[Any]:
    start = threading.Barrier(len(desks))
    results: list[Any] = [None] * len(desks)

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = call(desks[index])
        except Exception as exc:  # the assertion below shows it
            results[index] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(desks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.parametrize("backend", ["postgresql"])
def test_one_case_sent_twice_at_once_is_recorded_once_for_both(desk_factory: Any) -> None:
    desks = [desk_factory("officer"), desk_factory("officer")]
    customer = new_customer(desks[0])
    details = walk_in_case(desks[0], customer.id, f"Twice {unique_word()}")
    for _ in range(5):
        case_uuid = uuid.uuid4()
        results = _twice_at_once(
            lambda d, u=case_uuid: d.cases.create(details, client_uuid=u), desks
        )
        assert all(not isinstance(r, Exception) for r in results), results
        assert results[0].id == results[1].id
        assert results[0].reference == results[1].reference


@pytest.mark.parametrize("backend", ["postgresql"])
def test_one_request_sent_twice_at_once_is_recorded_once_for_both(desk_factory: Any) -> None:
    desks = [desk_factory("officer"), desk_factory("officer")]
    customer = new_customer(desks[0])
    case = desks[0].cases.create(walk_in_case(desks[0], customer.id, f"Req {unique_word()}"))
    kind = desks[0].grants.kinds()[0].code
    for _ in range(5):
        request_uuid = uuid.uuid4()
        results = _twice_at_once(
            lambda d, u=request_uuid: d.grants.request(
                case.id, kind, 1_000_000, reason="Above my limit", client_uuid=u
            ),
            desks,
        )
        assert all(not isinstance(r, Exception) for r in results), results
        assert results[0].id == results[1].id
